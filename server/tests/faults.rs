//! Issue #18, the defects found by reading the code, each attacked over HTTP:
//! caching of personal responses, the token endpoint from a foreign page,
//! the CSRF exemption, the request timeout, and sign-out from a tab whose
//! access token expired or with a retired token. (Bad input at the edges is
//! `input.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{spawn_app, within, Client, ACCESS, REFRESH};
use reqwest::{header, Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery staple";

fn cache_control(reply: &common::Reply) -> String {
    reply
        .headers
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn personal_and_cookie_setting_responses_are_never_cached() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let html = [("accept", "text/html")];
    // A signed-in page (it lists addresses and browsers) and a JSON answer.
    let page = c.send_with(Method::GET, "/sessions", None, &html).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        cache_control(&page).contains("no-store"),
        "{:?}",
        page.headers
    );
    assert!(
        cache_control(&page).contains("private"),
        "{:?}",
        page.headers
    );
    let me = c.me().await;
    assert!(cache_control(&me).contains("no-store"), "{:?}", me.headers);
    // A page load that resumes the session sets cookies: no-store too.
    c.cookies.remove(ACCESS);
    let resumed = c.send_with(Method::GET, "/sessions", None, &html).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text);
    assert!(!resumed.set_cookies().is_empty(), "the resume rotates");
    assert!(cache_control(&resumed).contains("no-store"));
    // The same pages for an anonymous visitor, and static files, stay cacheable.
    let mut anonymous = Client::new(&app);
    let login = anonymous
        .send_with(Method::GET, "/login", None, &html)
        .await;
    assert!(
        !cache_control(&login).contains("no-store"),
        "{login:?}",
        login = login.headers
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_foreign_pages_and_bodies_they_can_send() {
    let app = spawn_app(&[]).await;
    let mut setup = Client::new(&app);
    let name = setup.signed_in_user(PW).await;
    let form = [
        ("grant_type", "password"),
        ("username", &name),
        ("password", PW),
    ];
    let mut app_client = Client::new(&app);
    app_client.origin = None;
    app_client.csrf_header = false;
    // A mobile app or a service: no Origin. Both documented bodies work.
    let ok = app_client
        .request(Method::POST, "/api/token")
        .form(&form)
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let body = json!({"grant_type": "password", "username": name, "password": PW});
    let ok = app_client
        .request(Method::POST, "/api/token")
        .json(&body)
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // A page elsewhere: its visitors' browsers send its Origin.
    for origin in ["https://evil.example", "null"] {
        let forged = app_client
            .request(Method::POST, "/api/token")
            .header("origin", origin)
            .form(&form)
            .send()
            .await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{origin}: {}",
            forged.text
        );
        assert_eq!(forged.error_code(), "cross_site_request");
    }
    // text/plain is what a page can send without a preflight: not read at all.
    let plain = serde_json::to_string(&body).unwrap();
    for content_type in ["text/plain", "multipart/form-data; boundary=x", ""] {
        let refused = app_client
            .raw(Method::POST, "/api/token", content_type, &plain)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{content_type}: {}",
            refused.text
        );
        assert_eq!(
            refused.error_code(),
            "bad_request",
            "never a credential check"
        );
    }
}

#[tokio::test]
async fn only_bearer_skips_the_cross_site_check() {
    let app = spawn_app(&[]).await;
    let mut victim = Client::new(&app);
    victim.signed_in_user(PW).await;
    // A forged cross-site sign-out that adds a non-Bearer Authorization header.
    let mut forged = victim.clone();
    forged.origin = Some("https://evil.example".into());
    forged.csrf_header = false;
    let out = forged
        .send_with(
            Method::POST,
            "/api/auth/logout",
            Some(json!({"scope": "global"})),
            &[("authorization", "Basic eDp5")],
        )
        .await;
    assert_eq!(out.status, StatusCode::FORBIDDEN, "{}", out.text);
    assert_eq!(out.error_code(), "cross_site_request");
    assert_eq!(victim.me().await.status, StatusCode::OK, "still signed in");
    // Bearer skips the check, so it cannot use the cookies that ride along.
    for (method, path) in [
        (Method::POST, "/api/auth/refresh"),
        (Method::POST, "/api/auth/logout"),
    ] {
        let out = forged
            .send_with(method, path, None, &[("authorization", "Bearer garbage")])
            .await;
        assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{path}: {}", out.text);
        assert!(
            out.set_cookies().is_empty(),
            "{path}: {:?}",
            out.set_cookies()
        );
    }
    assert_eq!(victim.me().await.status, StatusCode::OK, "still signed in");
    assert_eq!(
        victim.refresh().await.status,
        StatusCode::OK,
        "not rotated by the forgery"
    );
}

/// A stolen refresh token that was already rotated away speaks for nobody:
/// it cannot sign its owner out everywhere, only end its own session.
#[tokio::test]
async fn a_retired_refresh_token_cannot_sign_out_everywhere() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "1s")]).await;
    let mut owner = Client::new(&app);
    let name = owner.signed_in_user(PW).await;
    let mut phone = Client::new(&app);
    assert_eq!(phone.login(&name, PW).await.status, StatusCode::OK);
    let mut thief = owner.clone();
    thief.cookies.remove(ACCESS);
    assert_eq!(owner.refresh().await.status, StatusCode::OK);
    let out = thief.logout("global").await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED, "{}", out.text);
    assert_eq!(out.error_code(), "refresh_reused");
    assert_eq!(
        phone.me().await.status,
        StatusCode::OK,
        "the other device stays"
    );
    assert_eq!(phone.refresh().await.status, StatusCode::OK);
}

/// A tab that woke from sleep: its access token expired, its refresh cookie
/// still names the session. "Sign out everywhere" must end every session,
/// through the server function as through the JSON route.
#[tokio::test]
async fn signing_out_everywhere_with_an_expired_access_token_ends_every_session() {
    let app = spawn_app(&[("ACCESS_TOKEN_TTL", "1s"), ("JWT_LEEWAY", "0s")]).await;
    for door in ["/api/fn/logout", "/api/auth/logout"] {
        let mut sleeper = Client::new(&app);
        let name = sleeper.signed_in_user(PW).await;
        let mut laptop = Client::new(&app);
        assert_eq!(laptop.login(&name, PW).await.status, StatusCode::OK);
        let expired = within(Duration::from_secs(10), || {
            let mut probe = sleeper.clone();
            async move { probe.me().await.error_code() == "token_expired" }
        })
        .await;
        assert!(expired.is_some(), "the access token expires");
        assert!(sleeper.cookies.contains_key(REFRESH));
        let out = if door == "/api/fn/logout" {
            sleeper.form(door, &[("scope", "global")]).await
        } else {
            sleeper
                .send(Method::POST, door, Some(json!({"scope": "global"})))
                .await
        };
        assert!(
            out.status.is_success(),
            "{door}: {} {}",
            out.status,
            out.text
        );
        assert!(sleeper.signed_out(), "{door}");
        // The other device's session ended too: its refresh is refused.
        let other = laptop.refresh().await;
        assert_eq!(
            other.status,
            StatusCode::UNAUTHORIZED,
            "{door}: {}",
            other.text
        );
    }
}

/// An app whose one hash takes longer than its 1 s request timeout.
async fn slow_hash_app() -> common::TestApp {
    spawn_app(&[
        ("REQUEST_TIMEOUT", "1s"),
        ("HASH_CONCURRENCY", "1"),
        ("ARGON2_M_COST", "65536"),
        ("ARGON2_T_COST", "60"),
    ])
    .await
}

/// A request that cannot finish within `REQUEST_TIMEOUT` (here a sign-in
/// behind a hash that takes longer) is answered 503 `unavailable` when the
/// time is up, not left hanging.
#[tokio::test]
async fn a_request_past_the_request_timeout_answers_503_when_the_time_is_up() {
    let app = slow_hash_app().await;
    let mut c = Client::new(&app);
    let start = std::time::Instant::now();
    let out = c.login("nobody-here", PW).await;
    let took = start.elapsed();
    assert_eq!(
        out.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{} after {took:?}",
        out.text
    );
    assert_eq!(out.error_code(), "unavailable");
    assert!(out.headers.contains_key(header::RETRY_AFTER));
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
}

/// A page-load resume rotates the refresh token before the handler runs; if
/// the handler then times out, the 503 still carries the new cookies (the
/// browser left with the old token would later look like a thief).
#[tokio::test]
async fn a_timed_out_request_after_a_resume_still_carries_the_new_cookies() {
    let app = slow_hash_app().await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    // An account made without HTTP (its hash is slow): then a session.
    app.create_user("slowpoke", "user", PW).await;
    let user = app::server::authentication::users::find_by_key(&state.db, "slowpoke")
        .await
        .unwrap()
        .unwrap();
    let issued = app::server::sessions::start(&state, &user, Default::default())
        .await
        .unwrap();
    c.cookies
        .insert(REFRESH.to_owned(), issued.refresh_token.clone());
    // A no-JS sign-in form posted with only the refresh cookie: resumed,
    // then the sign-in's hash outlasts the request timeout.
    let out = c
        .form_with(
            "/api/fn/login",
            &[("username", "nobody-here"), ("password", PW)],
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE, "{}", out.text);
    let rotated = c.cookies.get(REFRESH).cloned().unwrap_or_default();
    assert_ne!(
        rotated,
        issued.refresh_token,
        "the 503 lost the rotated cookie: {:?}",
        out.set_cookies()
    );
    assert_eq!(c.refresh().await.status, StatusCode::OK);
}
