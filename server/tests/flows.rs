//! The cookie rules of the shared flows, seen from each door: a failure that
//! does not end the session never signs anyone out (pages included), and a
//! sign-out always does, through the JSON route and the server function alike.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client, ACCESS, REFRESH};
use reqwest::{header, Method, StatusCode};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn a_page_load_over_the_refresh_limit_answers_429_and_keeps_the_session() {
    let app = spawn_app(&[
        ("RATE_LIMIT", "on"),
        ("SIGN_IN_RATE_LIMIT", "1000/1m"),
        ("REGISTER_RATE_LIMIT", "1000/1m"),
        ("REFRESH_RATE_LIMIT", "1/1m"),
    ])
    .await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    // The access cookie is gone (as when it expired): the page resumes the session.
    browser.cookies.remove(ACCESS);
    let page = browser.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(browser.cookies.contains_key(ACCESS), "resumed");
    // Again, now over the refresh limit: the page says so and signs nobody out.
    browser.cookies.remove(ACCESS);
    let refresh_before = browser.cookies[REFRESH].clone();
    let page = browser.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.text);
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    assert!(page.set_cookies().is_empty(), "{:?}", page.set_cookies());
    assert!(page.text.contains("Too many attempts"), "{}", page.text);
    assert_eq!(browser.cookies[REFRESH], refresh_before);
    // A public page is not held hostage: it renders for a visitor, cookies kept.
    let login = browser.send(Method::GET, "/login", None).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert!(login.set_cookies().is_empty());
    // The JSON refresh follows the same rule.
    let json = browser.refresh().await;
    assert_eq!(json.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(json.set_cookies().is_empty());
}

#[tokio::test]
async fn a_revoked_session_on_a_page_load_is_sent_to_sign_in_with_its_cookies_cleared() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    let mut stolen = browser.clone();
    assert_eq!(
        browser.logout("global").await.status,
        StatusCode::NO_CONTENT
    );
    stolen.cookies.remove(ACCESS);
    let page = stolen.send(Method::GET, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login?ended=1"));
    assert!(stolen.signed_out(), "{:?}", stolen.cookies);
}

#[tokio::test]
async fn signing_out_of_an_ended_session_still_clears_the_cookies_on_both_doors() {
    let app = spawn_app(&[]).await;
    let mut first = Client::new(&app);
    first.signed_in_user(PW).await;
    let stale = first.clone();
    assert_eq!(first.logout("local").await.status, StatusCode::NO_CONTENT);

    let mut json = stale.clone();
    let out = json.logout("local").await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{}", out.text);
    assert_eq!(out.headers["clear-site-data"], "\"cookies\"");
    assert!(json.signed_out(), "{:?}", json.cookies);

    let mut server_fn = stale.clone();
    let out = server_fn
        .form("/api/fn/logout", &[("scope", "local")])
        .await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{}", out.text);
    assert_eq!(out.headers["clear-site-data"], "\"cookies\"");
    assert!(server_fn.signed_out(), "{:?}", server_fn.cookies);
}

#[tokio::test]
async fn signing_out_with_only_the_refresh_cookie_ends_the_session_on_the_server() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    let mut copy = browser.clone();
    // The access cookie expired; the browser still holds the refresh cookie.
    browser.cookies.remove(ACCESS);
    let out = browser.form("/api/fn/logout", &[("scope", "local")]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text);
    assert!(browser.signed_out());
    // The refresh token a thief copied is dead too: the session really ended.
    copy.cookies.remove(ACCESS);
    assert_eq!(copy.refresh().await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_without_a_live_access_token_keeps_the_cookies_to_refresh() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    browser.cookies.remove(ACCESS);
    let body =
        serde_json::json!({"current_password": PW, "new_password": "a brand new passphrase"});
    let out = browser
        .send(Method::POST, "/api/auth/password", Some(body))
        .await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{}", out.text);
    assert!(out.set_cookies().is_empty(), "{:?}", out.set_cookies());
    // The client does what `token_missing` asks: refresh, then retry.
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_with_an_authorization_header_is_never_resumed_from_the_cookie() {
    let app = spawn_app(&[]).await;
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    browser.cookies.remove(ACCESS);
    let page = browser
        .send_with(
            Method::GET,
            "/dashboard",
            None,
            &[("authorization", "Bearer expired.or.forged")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    assert!(
        page.set_cookies().is_empty(),
        "the refresh cookie was not used"
    );
}
