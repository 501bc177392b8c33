//! Issue #18, the defects found by reading the code, each attacked over HTTP:
//! caching of personal responses, the token endpoint from a foreign page,
//! the CSRF exemption, bodies over the limit, panics, page bounds, and
//! sign-out from a tab whose access token expired.
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
}

#[tokio::test]
async fn a_body_over_the_limit_gets_the_json_envelope() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let huge = json!({"username": "x".repeat(70 * 1024), "password": PW});
    for path in ["/api/auth/login", "/api/token", "/api/fn/login"] {
        let out = c.send(Method::POST, path, Some(huge.clone())).await;
        assert_eq!(
            out.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            out.text
        );
        assert_eq!(
            out.error_code(),
            "payload_too_large",
            "{path}: {}",
            out.text
        );
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_the_json_500_envelope() {
    use axum::{routing::get, Router};
    let boom = Router::new().route(
        "/boom",
        get(|| async {
            let page: u64 = "18446744073709551615".parse().unwrap();
            // What an overflowing conversion used to do deep in a handler.
            let _ = i64::try_from(page).expect("fits");
            ""
        }),
    );
    let app = server::routes::with_outer_layers(boom, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let reply = reqwest::get(format!("http://{addr}/boom"))
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"], "internal");
    assert!(
        !body.to_string().contains("fits"),
        "the panic message stays in the log"
    );
}

#[tokio::test]
async fn page_numbers_past_the_bounds_answer_400_not_a_dropped_connection() {
    let app = spawn_app(&[]).await;
    app.create_user("root-admin", "admin", PW).await;
    let mut admin = Client::new(&app);
    assert_eq!(admin.login("root-admin", PW).await.status, StatusCode::OK);
    for query in [
        "page=18446744073709551615",
        "page=0",
        "page=1000001",
        "per_page=18446744073709551615",
        "page=-1",
    ] {
        let out = admin
            .send(Method::GET, &format!("/api/admin/users?{query}"), None)
            .await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{query}: {}", out.text);
        assert_eq!(out.error_code(), "bad_request");
    }
    let last = admin
        .send(Method::GET, "/api/admin/users?page=1000000", None)
        .await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
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

/// A request that cannot finish within `REQUEST_TIMEOUT` (here a sign-in
/// behind a hash that takes longer) is answered 503 `unavailable` when the
/// time is up, not left hanging.
#[tokio::test]
async fn a_request_past_the_request_timeout_answers_503_when_the_time_is_up() {
    let app = spawn_app(&[
        ("REQUEST_TIMEOUT", "1s"),
        ("HASH_CONCURRENCY", "1"),
        ("ARGON2_M_COST", "65536"),
        ("ARGON2_T_COST", "60"),
    ])
    .await;
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
