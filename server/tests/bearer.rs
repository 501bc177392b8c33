//! Non-browser clients: `POST /api/token` and `Authorization: Bearer`, with
//! the same rotation, grace and reuse detection as the cookies.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery";

/// A client that, like a mobile app or a service, sends no Origin and keeps no cookies.
fn api_client(app: &TestApp) -> Client {
    let mut c = Client::new(app);
    c.origin = None;
    c.csrf_header = false;
    c
}

async fn token(c: &mut Client, body: serde_json::Value) -> Reply {
    c.send(Method::POST, "/api/token", Some(body)).await
}

async fn bearer(c: &mut Client, method: Method, path: &str, access: &str) -> Reply {
    c.send_with(
        method,
        path,
        None,
        &[("authorization", &format!("Bearer {access}"))],
    )
    .await
}

#[tokio::test]
async fn password_grant_then_bearer_then_refresh_rotation_and_reuse_detection() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "1s")]).await;
    let mut c = api_client(&app);
    let name = Client::new(&app).signed_in_user(PW).await;

    let issued = token(
        &mut c,
        json!({"grant_type": "password", "username": name, "password": PW}),
    )
    .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    assert_eq!(issued.body["token_type"], "Bearer");
    assert!(issued.body["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(issued.headers["cache-control"], "no-store");
    assert!(
        issued.set_cookies().is_empty(),
        "no cookies for API clients"
    );
    assert!(c.cookies.is_empty());
    let access = issued.body["access_token"].as_str().unwrap().to_owned();
    let refresh = issued.body["refresh_token"].as_str().unwrap().to_owned();

    let me = bearer(&mut c, Method::GET, "/api/me", &access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], name);
    let sessions = bearer(&mut c, Method::GET, "/api/auth/sessions", &access).await;
    assert_eq!(sessions.body["sessions"].as_array().unwrap().len(), 2);

    // Rotation: the refresh token is single-use.
    let rotated = token(
        &mut c,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let access2 = rotated.body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    // Inside the grace interval the same parent yields the same successor.
    let again = token(
        &mut c,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_eq!(again.body["refresh_token"], refresh2.as_str());

    // After the grace interval a replay of the parent is theft: the session ends.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let replay = token(
        &mut c,
        json!({"grant_type": "refresh_token", "refresh_token": refresh}),
    )
    .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.error_code(), "refresh_reused");
    assert_eq!(
        bearer(&mut c, Method::GET, "/api/me", &access2)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let dead = token(
        &mut c,
        json!({"grant_type": "refresh_token", "refresh_token": refresh2}),
    )
    .await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn form_encoded_grants_bearer_logout_and_clear_errors() {
    let app = spawn_app(&[]).await;
    let mut c = api_client(&app);
    let name = Client::new(&app).signed_in_user(PW).await;
    let form = c
        .raw(
            Method::POST,
            "/api/token",
            "application/x-www-form-urlencoded",
            &format!("grant_type=password&username={name}&password=correct+horse+battery"),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let access = form.body["access_token"].as_str().unwrap().to_owned();

    // Bearer logout needs no Origin (it is not cookie-authenticated) and ends the session.
    let out = bearer(&mut c, Method::POST, "/api/auth/logout", &access).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert_eq!(
        bearer(&mut c, Method::GET, "/api/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );

    for (body, status, code) in [
        (
            json!({"grant_type": "password", "username": name, "password": "wrong one!"}),
            401,
            "invalid_credentials",
        ),
        (
            json!({"grant_type": "client_credentials"}),
            400,
            "bad_request",
        ),
        (
            json!({"grant_type": "password", "username": name}),
            400,
            "bad_request",
        ),
        (
            json!({"username": name, "password": PW}),
            400,
            "bad_request",
        ),
        (
            json!({"grant_type": "refresh_token", "refresh_token": "nope"}),
            401,
            "token_invalid",
        ),
    ] {
        let reply = token(&mut c, body.clone()).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        assert_eq!(reply.error_code(), code, "{body}");
    }
    let garbage = c
        .raw(Method::POST, "/api/token", "application/json", "{not json")
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bearer_wins_over_cookies_and_admin_endpoints_accept_bearer() {
    let app = spawn_app(&[]).await;
    app.create_user("ops", "admin", PW).await;
    let mut c = api_client(&app);
    let issued = token(
        &mut c,
        json!({"grant_type": "password", "username": "ops", "password": PW}),
    )
    .await;
    let access = issued.body["access_token"].as_str().unwrap().to_owned();
    let list = bearer(&mut c, Method::GET, "/api/admin/users", &access).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["total"], 1);

    // A browser with a user's cookies and a bad Bearer header: the header decides.
    let mut browser = Client::new(&app);
    browser.signed_in_user(PW).await;
    let reply = browser
        .send_with(
            Method::GET,
            "/api/me",
            None,
            &[("authorization", "Bearer forged")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
