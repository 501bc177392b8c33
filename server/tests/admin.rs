//! Roles and the admin API against the real server: one policy for pages,
//! server functions and JSON; demotions that bite live tokens; the last admin.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery";

/// An app with one admin (`root`) signed in on the returned client.
async fn app_with_admin() -> (TestApp, Client) {
    let app = spawn_app(&[]).await;
    app.create_user("root", "admin", PW).await;
    let mut admin = Client::new(&app);
    assert_eq!(admin.login("root", PW).await.status, StatusCode::OK);
    (app, admin)
}

/// A freshly registered, signed-in user and their id.
async fn user(app: &TestApp) -> (Client, String, String) {
    let mut c = Client::new(app);
    let name = c.signed_in_user(PW).await;
    let id = c.me().await.body["id"].as_str().unwrap().to_owned();
    (c, name, id)
}

async fn post(c: &mut Client, path: &str, body: Option<serde_json::Value>) -> Reply {
    c.send(Method::POST, path, body).await
}

async fn id_of(admin: &mut Client, name: &str) -> String {
    let list = admin
        .send(Method::GET, &format!("/api/admin/users?q={name}"), None)
        .await;
    list.body["users"][0]["id"].as_str().unwrap().to_owned()
}

/// Every admin operation, as JSON and as a server function, for target `id`.
async fn every_admin_call(c: &mut Client, id: &str) -> Vec<(String, Reply)> {
    let mut replies = vec![
        (
            "GET users".to_owned(),
            c.send(Method::GET, "/api/admin/users", None).await,
        ),
        (
            "role".into(),
            post(
                c,
                &format!("/api/admin/users/{id}/role"),
                Some(json!({"role": "admin"})),
            )
            .await,
        ),
        (
            "disable".into(),
            post(c, &format!("/api/admin/users/{id}/disable"), None).await,
        ),
        (
            "enable".into(),
            post(c, &format!("/api/admin/users/{id}/enable"), None).await,
        ),
        (
            "revoke".into(),
            post(c, &format!("/api/admin/users/{id}/revoke-sessions"), None).await,
        ),
    ];
    let fns: [(&str, Vec<(&str, &str)>); 4] = [
        ("admin_users", vec![("query", ""), ("page", "1")]),
        ("admin_set_role", vec![("id", id), ("role", "admin")]),
        ("admin_set_disabled", vec![("id", id), ("disabled", "true")]),
        ("admin_revoke_sessions", vec![("id", id)]),
    ];
    for (name, fields) in fns {
        let reply = c.form(&format!("/api/fn/{name}"), &fields).await;
        replies.push((format!("fn {name}"), reply));
    }
    replies
}

#[tokio::test]
async fn users_get_403_and_anonymous_callers_401_from_every_admin_operation() {
    let (app, _admin) = app_with_admin().await;
    let (mut u, name, id) = user(&app).await;
    for (what, reply) in every_admin_call(&mut u, &id).await {
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "user: {what}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "forbidden", "user: {what}");
    }
    let mut anon = Client::new(&app);
    for (what, reply) in every_admin_call(&mut anon, &id).await {
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "anonymous: {what}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "token_missing", "anonymous: {what}");
    }
    // Nothing changed: the user is still an enabled `user`, still signed in.
    let me = u.me().await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["role"], "user");
    assert_eq!(u.login(&name, PW).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_page_redirects_anonymous_visitors_and_forbids_users() {
    let (app, mut admin) = app_with_admin().await;
    let mut anon = Client::new(&app);
    let page = anon.send(Method::GET, "/admin", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/login?next=/admin");

    let (mut u, _, _) = user(&app).await;
    let page = u.send(Method::GET, "/admin", None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.text.contains("data-testid=\"forbidden\""),
        "{}",
        page.text
    );
    assert!(!page.text.contains("data-testid=\"users\""));

    let page = admin.send(Method::GET, "/admin", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains("data-testid=\"forbidden\""));
    assert!(
        page.text.contains("href=\"/admin\""),
        "the menu offers the console"
    );
    let page = u.send(Method::GET, "/dashboard", None).await;
    assert!(
        !page.text.contains("href=\"/admin\""),
        "no console link for users"
    );
}

#[tokio::test]
async fn admins_list_search_and_page_through_users() {
    let (app, mut admin) = app_with_admin().await;
    let mut c = Client::new(&app);
    for i in 0..23 {
        assert_eq!(
            c.register(&format!("pager_{i:02}"), PW).await.status,
            StatusCode::CREATED
        );
    }
    c.register("other_name", PW).await;
    let page = admin
        .send(
            Method::GET,
            "/api/admin/users?q=PAGER_&page=3&per_page=10",
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["total"], 23);
    assert_eq!(page.body["page"], 3);
    assert_eq!(page.body["per_page"], 10);
    let users = page.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0]["username"], "pager_20");
    for field in ["id", "username", "role", "disabled", "created_at"] {
        assert!(!users[0][field].is_null(), "{field} in {}", users[0]);
    }
    // Past the last page: no users, and still the true total.
    let past = admin
        .send(
            Method::GET,
            "/api/admin/users?q=PAGER_&page=9&per_page=10",
            None,
        )
        .await;
    assert_eq!(past.body["total"], 23, "{}", past.text);
    assert_eq!(past.body["users"].as_array().unwrap().len(), 0);
    // `_` and `%` are matched literally, not as LIKE wildcards.
    let none = admin
        .send(Method::GET, "/api/admin/users?q=%25", None)
        .await;
    assert_eq!(none.body["total"], 0, "{}", none.text);
    let all = admin.send(Method::GET, "/api/admin/users", None).await;
    assert_eq!(all.body["total"], 25);
    assert_eq!(all.body["users"].as_array().unwrap().len(), 20);

    for bad in [
        "page=0",
        "per_page=0",
        "per_page=101",
        "page=abc",
        "page=-1",
    ] {
        let reply = admin
            .send(Method::GET, &format!("/api/admin/users?{bad}"), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "bad_request", "{bad}");
    }
}

#[tokio::test]
async fn a_demotion_bites_a_live_access_token_and_a_promotion_shows_after_refresh() {
    let (app, mut root) = app_with_admin().await;
    let (mut b, b_name, b_id) = user(&app).await;

    let promoted = post(
        &mut root,
        &format!("/api/admin/users/{b_id}/role"),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    assert_eq!(promoted.body["role"], "admin");
    assert_eq!(b.refresh().await.status, StatusCode::OK);
    assert_eq!(b.me().await.body["role"], "admin");
    assert_eq!(
        b.send(Method::GET, "/api/admin/users", None).await.status,
        StatusCode::OK
    );

    // Demote B while B's access token (role claim "admin") is still live.
    let token_before = b.cookies.clone();
    let demoted = post(
        &mut root,
        &format!("/api/admin/users/{b_id}/role"),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    assert_eq!(b.cookies, token_before, "no refresh happened in between");
    let denied = b.send(Method::GET, "/api/admin/users", None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);
    let denied = b
        .form("/api/fn/admin_users", &[("query", ""), ("page", "1")])
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.send(Method::GET, "/admin", None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(b.me().await.body["role"], "user");
    assert_eq!(b_name, b.me().await.body["username"]);
}

#[tokio::test]
async fn disabling_ends_every_session_and_sign_in_fails_generically_until_enabled() {
    let (app, mut root) = app_with_admin().await;
    let (mut u, name, id) = user(&app).await;
    let mut u2 = Client::new(&app);
    assert_eq!(u2.login(&name, PW).await.status, StatusCode::OK);

    let disabled = post(&mut root, &format!("/api/admin/users/{id}/disable"), None).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.body["disabled"], true);
    for c in [&mut u, &mut u2] {
        assert_eq!(
            c.me().await.status,
            StatusCode::UNAUTHORIZED,
            "live token refused"
        );
        assert_eq!(
            c.refresh().await.status,
            StatusCode::UNAUTHORIZED,
            "refresh refused"
        );
    }
    let mut fresh = Client::new(&app);
    let refused = fresh.login(&name, PW).await;
    let wrong = fresh.login(&name, "not the password").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.body, wrong.body,
        "disabled looks like a wrong password"
    );

    let enabled = post(&mut root, &format!("/api/admin/users/{id}/enable"), None).await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(enabled.body["disabled"], false);
    assert_eq!(fresh.login(&name, PW).await.status, StatusCode::OK);
    assert_eq!(fresh.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoking_a_users_sessions_signs_them_out_everywhere() {
    let (app, mut root) = app_with_admin().await;
    let (mut u, name, id) = user(&app).await;
    let mut u2 = Client::new(&app);
    u2.login(&name, PW).await;
    let reply = post(
        &mut root,
        &format!("/api/admin/users/{id}/revoke-sessions"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["revoked"], 2);
    for c in [&mut u, &mut u2] {
        assert_eq!(c.me().await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(c.refresh().await.status, StatusCode::UNAUTHORIZED);
    }
    // The account itself is fine.
    assert_eq!(u.login(&name, PW).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_last_admin_cannot_demote_or_disable_themself() {
    let (app, mut root) = app_with_admin().await;
    let root_id = root.me().await.body["id"].as_str().unwrap().to_owned();
    let demote = post(
        &mut root,
        &format!("/api/admin/users/{root_id}/role"),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.text);
    assert_eq!(demote.error_code(), "last_admin");
    let disable = post(
        &mut root,
        &format!("/api/admin/users/{root_id}/disable"),
        None,
    )
    .await;
    assert_eq!(disable.status, StatusCode::CONFLICT);
    assert_eq!(disable.error_code(), "last_admin");
    let me = root.me().await;
    assert_eq!(
        (me.status, &me.body["role"]),
        (StatusCode::OK, &json!("admin"))
    );

    // Two admins demoting each other at the same moment: exactly one wins.
    let (mut b, _, b_id) = user(&app).await;
    post(
        &mut root,
        &format!("/api/admin/users/{b_id}/role"),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(b.refresh().await.status, StatusCode::OK);
    let (mut r2, mut b2) = (root.clone(), b.clone());
    let (x, y) = tokio::join!(
        async {
            r2.send(
                Method::POST,
                &format!("/api/admin/users/{b_id}/role"),
                Some(json!({"role": "user"})),
            )
            .await
        },
        async {
            b2.send(
                Method::POST,
                &format!("/api/admin/users/{root_id}/role"),
                Some(json!({"role": "user"})),
            )
            .await
        }
    );
    let statuses = [x.status, y.status];
    let admins = root.send(Method::GET, "/api/admin/users", None).await.body["users"]
        .as_array()
        .map(|u| u.iter().filter(|u| u["role"] == "admin").count());
    let admins = match admins {
        Some(n) => n,
        // root lost: ask from b's side.
        None => b.send(Method::GET, "/api/admin/users", None).await.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin")
            .count(),
    };
    assert_eq!(admins, 1, "statuses {statuses:?}");
    assert!(
        statuses.contains(&StatusCode::OK)
            && (statuses.contains(&StatusCode::CONFLICT)
                || statuses.contains(&StatusCode::FORBIDDEN)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn bad_admin_input_gets_a_clear_4xx() {
    let (app, mut root) = app_with_admin().await;
    let (_u, name, id) = user(&app).await;
    let reply = post(
        &mut root,
        &format!("/api/admin/users/{id}/role"),
        Some(json!({"role": "root"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(reply.body["field"], "role");
    let reply = post(
        &mut root,
        &format!("/api/admin/users/{id}/role"),
        Some(json!({})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/admin/users/{unknown}/disable"),
        "/api/admin/users/not-a-uuid/disable".to_owned(),
        format!("/api/admin/users/{unknown}/revoke-sessions"),
    ] {
        let reply = post(&mut root, &path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error_code(), "not_found");
    }
    let reply = root
        .form(
            "/api/fn/admin_set_role",
            &[("id", &id), ("role", "emperor")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(id_of(&mut root, &name).await, id);
}
