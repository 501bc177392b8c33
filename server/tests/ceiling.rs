//! The per-account ceiling and device cookies, attacked over HTTP: a botnet
//! (many forwarded addresses behind a trusted proxy) fails against alice's
//! account; her known browser still signs in, a new one waits, her signed-in
//! session still changes the password, and that change retires the device
//! cookies issued before it.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery";
const NEW_PW: &str = "mauve tractor lagoon";

/// Signs in as `name` with `password` from the forwarded address `from`.
async fn login_from(c: &mut Client, from: &str, name: &str, password: &str) -> StatusCode {
    c.request(Method::POST, "/api/auth/login")
        .header("x-forwarded-for", from)
        .json(&json!({ "username": name, "password": password }))
        .send()
        .await
        .status
}

#[tokio::test]
async fn strangers_hit_the_ceiling_the_owners_browser_does_not_and_a_new_password_retires_cookies()
{
    let app = spawn_app(&[("RATE_LIMIT", "on"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let mut laptop = Client::new(&app);
    let name = laptop.signed_in_user(PW).await;
    assert!(
        laptop.cookies.contains_key("portcullis-dev"),
        "a device cookie"
    );

    // Her own first sign-in came from a browser the account did not know yet,
    // so it counted: nine strangers, nine addresses, one wrong guess each,
    // reach the ceiling of ten.
    for n in 0..9 {
        let mut bot = Client::new(&app);
        let status = login_from(
            &mut bot,
            &format!("203.0.113.{n}"),
            &name,
            "wrong guess here",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let mut bot = Client::new(&app);
    assert_eq!(
        login_from(&mut bot, "203.0.113.200", &name, PW).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the next stranger is refused, even with the right password"
    );
    let mut new_browser = Client::new(&app);
    assert_eq!(
        login_from(&mut new_browser, "198.51.100.9", &name, PW).await,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits out the hour"
    );

    // The owner's browser, which signed in before, is not held to it.
    assert_eq!(
        login_from(&mut laptop, "198.51.100.1", &name, PW).await,
        StatusCode::OK
    );
    let old_cookie = laptop.cookies["portcullis-dev"].clone();

    // Her signed-in session can still change the password …
    let changed = laptop
        .send(
            Method::POST,
            "/api/auth/password",
            Some(
                json!({ "current_password": PW, "new_password": NEW_PW, "sign_out_others": false }),
            ),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);

    // … and that retires every device cookie issued before it.
    let mut stale = Client::new(&app);
    stale.cookies.insert("portcullis-dev".into(), old_cookie);
    assert_eq!(
        login_from(&mut stale, "198.51.100.1", &name, NEW_PW).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a cookie from before the password change is a stranger's"
    );
}
