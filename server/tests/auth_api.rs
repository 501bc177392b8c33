//! The JSON API and page guards, driven over HTTP against the real server.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client, ACCESS, REFRESH};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn a_user_registers_signs_in_sees_themself_and_signs_out() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);

    let reg = c.register("Alice", PW).await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text);
    assert_eq!(reg.body["username"], "Alice");
    assert_eq!(reg.body["role"], "user");
    assert!(uuid::Uuid::parse_str(reg.body["id"].as_str().unwrap()).is_ok());

    let login = c.login("alice", PW).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert!(
        !login.text.contains(&c.cookies[ACCESS]),
        "no token in the body"
    );
    assert!(
        !login.text.contains(&c.cookies[REFRESH]),
        "no token in the body"
    );
    assert_eq!(login.headers["cache-control"], "no-store");
    let cookies = login.set_cookies();
    assert_eq!(cookies.len(), 3, "access, refresh and device cookies");
    for cookie in &cookies {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    // Each cookie lives as long as its token: Max-Age is the time left until the
    // token's expiry, a second less when the clock ticked between the two.
    let max_age = |name: &str| -> i64 {
        let cookie = cookies.iter().find(|c| c.starts_with(name)).unwrap();
        let (_, rest) = cookie.split_once("Max-Age=").unwrap();
        rest.split(';').next().unwrap().parse().unwrap()
    };
    assert!((899..=900).contains(&max_age(ACCESS)), "{cookies:?}");
    assert!(
        (1_209_599..=1_209_600).contains(&max_age(REFRESH)),
        "{cookies:?}"
    );

    let me = c.me().await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body,
        json!({ "id": reg.body["id"], "username": "Alice", "role": "user" })
    );

    let stolen = c.clone();
    let out = c.logout("local").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(out.headers["clear-site-data"], "\"cookies\"");
    assert!(
        !c.cookies.contains_key(ACCESS) && !c.cookies.contains_key(REFRESH),
        "both token cookies cleared (the device cookie is not a credential): {:?}",
        c.cookies
    );
    let me = c.me().await;
    assert_eq!(
        (me.status, me.error_code()),
        (StatusCode::UNAUTHORIZED, "token_missing")
    );

    // The access token copied before logout is dead at once, and so is the refresh token.
    let mut thief = stolen.clone();
    let me = thief.me().await;
    assert_eq!(
        (me.status, me.error_code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let r = thief.refresh().await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_look_the_same() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    c.register("bob", PW).await;
    // Warm up both paths once.
    c.login("bob", "wrong password!").await;
    c.login("nobody-here", PW).await;

    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    let (mut a, mut b) = (None, None);
    for _ in 0..5 {
        let t = Instant::now();
        a = Some(c.login("bob", "wrong password!").await);
        wrong.push(t.elapsed());
        let t = Instant::now();
        b = Some(c.login("nobody-here", PW).await);
        unknown.push(t.elapsed());
    }
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!((a.status, &a.body), (b.status, &b.body));
    assert_eq!(a.error_code(), "invalid_credentials");
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[2].as_secs_f64(), unknown[2].as_secs_f64());
    // Without the dummy hash an unknown user answers in well under a tenth of the time.
    assert!(
        u > w / 3.0 && u < w * 3.0,
        "median wrong-password {w:.4}s vs unknown-user {u:.4}s"
    );
}

#[tokio::test]
async fn usernames_are_unique_regardless_of_case() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    assert_eq!(c.register("Carol", PW).await.status, StatusCode::CREATED);
    for name in ["Carol", "carol", "CAROL"] {
        let r = c.register(name, PW).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::CONFLICT, "username_taken"),
            "{name}"
        );
        assert!(r.body["message"].as_str().unwrap().contains("taken"));
    }
}

#[tokio::test]
async fn bad_input_gets_a_400_json_error_never_a_500() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let cases = [
        ("application/json", "{not json"),
        ("application/json", "{\"username\":\"x\"}"),
        ("application/json", "{}"),
        ("application/json", "[1,2]"),
        ("application/json", "{\"username\":5,\"password\":true}"),
        (
            "text/plain",
            "{\"username\":\"dave\",\"password\":\"long enough pw\"}",
        ),
    ];
    for path in ["/api/auth/register", "/api/auth/login"] {
        for (ct, body) in cases {
            let r = c.raw(Method::POST, path, ct, body).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {}",
                r.text
            );
            assert_eq!(r.error_code(), "bad_request");
            assert!(!r.body["message"].as_str().unwrap().is_empty());
        }
    }
    let short = c.register("dave", "short").await;
    assert_eq!(
        (short.status, short.error_code()),
        (StatusCode::BAD_REQUEST, "validation_failed")
    );
    assert_eq!(short.body["field"], "password");
    let long = c.register("dave", &"x".repeat(1025)).await;
    assert_eq!(
        (long.status, long.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let bad_name = c.register("no spaces allowed", PW).await;
    assert_eq!(
        (bad_name.status, bad_name.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("username"))
    );
    let huge = c
        .raw(
            Method::POST,
            "/api/auth/login",
            "application/json",
            &"x".repeat(200_000),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_dashboard_redirects_anonymous_visitors_and_shows_signed_in_users() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let r = c.send(Method::GET, "/dashboard", None).await;
    assert!(
        matches!(r.status, StatusCode::SEE_OTHER | StatusCode::FOUND),
        "{}",
        r.status
    );
    assert_eq!(r.headers["location"], "/login?next=/dashboard");

    let name = c.signed_in_user(PW).await;
    let page = c.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&name), "dashboard shows the user");

    let missing = c.send(Method::GET, "/no-such-page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let api_missing = c.send(Method::GET, "/api/nothing", None).await;
    assert_eq!(
        (api_missing.status, api_missing.error_code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn an_expired_access_token_is_resumed_on_page_load_and_refused_by_the_api() {
    let app = spawn_app(&[("ACCESS_TOKEN_TTL", "1s"), ("JWT_LEEWAY", "0s")]).await;
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let access = c.cookies[ACCESS].clone();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let me = c.me().await;
    assert_eq!(
        (me.status, me.error_code()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );
    // A reload of a guarded page rotates the session in place instead of showing /login.
    let page = c.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&name));
    assert_ne!(c.cookies[ACCESS], access, "a new access cookie was set");
    assert_eq!(c.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn server_functions_answer_errors_with_their_status_and_code() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let r = c
        .raw(
            Method::POST,
            "/api/fn/login",
            "application/x-www-form-urlencoded",
            "username=ghost&password=whatever123",
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        "{}",
        r.text
    );
    let r = c
        .raw(
            Method::POST,
            "/api/fn/register",
            "application/x-www-form-urlencoded",
            "username=x",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = c
        .raw(
            Method::POST,
            "/api/fn/register",
            "application/x-www-form-urlencoded",
            "username=erin&password=long+enough+pw",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .raw(
            Method::POST,
            "/api/fn/login",
            "application/x-www-form-urlencoded",
            "username=erin&password=long+enough+pw&next=//evil.example",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["next"], "/dashboard",
        "off-site next is not honoured"
    );
    assert!(c.cookies.contains_key(ACCESS) && c.cookies.contains_key(REFRESH));
}

#[tokio::test]
async fn a_bearer_header_authenticates_and_is_the_only_credential_considered() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let token = c.cookies[ACCESS].clone();
    let mut api = Client::new(&app);
    let auth = format!("Bearer {token}");
    let r = api
        .send_with(Method::GET, "/api/me", None, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // With a valid cookie but a bad Bearer header the header decides.
    let r = c
        .send_with(
            Method::GET,
            "/api/me",
            None,
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "token_invalid")
    );
    // Tokens in the URL never authenticate.
    let r = api
        .send(Method::GET, &format!("/api/me?access_token={token}"), None)
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "token_missing")
    );
}
