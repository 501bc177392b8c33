//! Session lifecycle over HTTP: rotation, the concurrent-refresh grace, reuse
//! detection, logout scopes, idle and absolute expiry.
#![allow(clippy::unwrap_used)]

mod common;

use common::{spawn_app, Client, ACCESS, REFRESH};
use reqwest::{Method, StatusCode};
use std::time::Duration;

const PW: &str = "correct horse battery";

#[tokio::test]
async fn every_refresh_rotates_both_tokens() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let (a1, r1) = (c.cookies[ACCESS].clone(), c.cookies[REFRESH].clone());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = c.refresh().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["access_expires_at"].as_i64().unwrap() > 0);
    assert_ne!(c.cookies[ACCESS], a1);
    assert_ne!(c.cookies[REFRESH], r1);
    assert_eq!(c.me().await.status, StatusCode::OK);
    let sessions = c.send(Method::GET, "/api/auth/sessions", None).await;
    assert_eq!(sessions.status, StatusCode::OK, "{}", sessions.text);
    assert_eq!(sessions.body["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_parent_token_replayed_within_the_grace_gets_the_same_successor() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "10s")]).await;
    let mut tab_a = Client::new(&app);
    tab_a.signed_in_user(PW).await;
    let mut tab_b = tab_a.clone();
    assert_eq!(tab_a.refresh().await.status, StatusCode::OK);
    let r = tab_b.refresh().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        tab_a.cookies[REFRESH], tab_b.cookies[REFRESH],
        "both tabs converge on one token"
    );
    // The converged token keeps working for both.
    assert_eq!(tab_b.refresh().await.status, StatusCode::OK);
    tab_a.cookies = tab_b.cookies.clone();
    assert_eq!(tab_a.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_replay_after_the_grace_revokes_the_whole_session() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "1s")]).await;
    let mut victim = Client::new(&app);
    victim.signed_in_user(PW).await;
    let mut thief = victim.clone();
    assert_eq!(victim.refresh().await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = thief.refresh().await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "refresh_reused")
    );
    // The successor the victim holds is dead too, and so is its access token.
    let r = victim.clone().refresh().await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let me = victim.me().await;
    assert_eq!(
        (me.status, me.error_code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
}

#[tokio::test]
async fn an_older_ancestor_is_theft_even_within_the_grace() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "30s")]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let mut grandparent = c.clone();
    assert_eq!(c.refresh().await.status, StatusCode::OK);
    assert_eq!(c.refresh().await.status, StatusCode::OK);
    let r = grandparent.refresh().await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "refresh_reused")
    );
    assert_eq!(c.me().await.error_code(), "session_revoked");
}

#[tokio::test]
async fn twenty_concurrent_refreshes_all_succeed_and_converge() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let mut tab = c.clone();
            tokio::spawn(async move {
                let r = tab.refresh().await;
                (r.status, r.text, tab.cookies.get(REFRESH).cloned())
            })
        })
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for task in tasks {
        let (status, text, token) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        tokens.insert(token.unwrap());
    }
    assert_eq!(tokens.len(), 1, "all tabs hold the same successor");
    c.cookies
        .insert(REFRESH.into(), tokens.into_iter().next().unwrap());
    assert_eq!(
        c.refresh().await.status,
        StatusCode::OK,
        "nobody was signed out"
    );
}

#[tokio::test]
async fn logout_scopes_end_exactly_the_sessions_they_name() {
    let app = spawn_app(&[]).await;
    let mut phone = Client::new(&app);
    let name = phone.signed_in_user(PW).await;
    let mut laptop = Client::new(&app);
    let mut tablet = Client::new(&app);
    assert_eq!(laptop.login(&name, PW).await.status, StatusCode::OK);
    assert_eq!(tablet.login(&name, PW).await.status, StatusCode::OK);

    let r = phone.logout("others").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        phone.me().await.status,
        StatusCode::OK,
        "others keeps this session"
    );
    assert_eq!(laptop.me().await.error_code(), "session_revoked");
    assert_eq!(tablet.me().await.error_code(), "session_revoked");

    let mut desktop = Client::new(&app);
    assert_eq!(desktop.login(&name, PW).await.status, StatusCode::OK);
    let r = desktop.logout("local").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        phone.me().await.status,
        StatusCode::OK,
        "local leaves the phone alone"
    );

    let mut other = Client::new(&app);
    assert_eq!(other.login(&name, PW).await.status, StatusCode::OK);
    assert_eq!(phone.logout("global").await.status, StatusCode::NO_CONTENT);
    assert_eq!(other.me().await.error_code(), "session_revoked");
    let bad = other
        .send(
            Method::POST,
            "/api/auth/logout",
            Some(serde_json::json!({"scope": "everywhere"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_session_ends_when_idle_for_the_refresh_lifetime() {
    let app = spawn_app(&[("REFRESH_TOKEN_TTL", "2s")]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let token = c.cookies[REFRESH].clone();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    c.cookies.insert(REFRESH.into(), token);
    let r = c.refresh().await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::UNAUTHORIZED, "session_expired")
    );
}

#[tokio::test]
async fn no_session_outlives_its_absolute_lifetime_however_often_it_refreshes() {
    let app = spawn_app(&[("SESSION_MAX_LIFETIME", "3s"), ("REFRESH_TOKEN_TTL", "1h")]).await;
    let mut c = Client::new(&app);
    c.signed_in_user(PW).await;
    let mut outcome = None;
    let mut last = c.cookies[REFRESH].clone();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        // Near the end the cookie's Max-Age reaches 0 and a browser drops it; a thief would not.
        c.cookies.insert(REFRESH.into(), last.clone());
        let r = c.refresh().await;
        if let Some(token) = c.cookies.get(REFRESH) {
            last = token.clone();
        }
        if r.status != StatusCode::OK {
            outcome = Some(r.error_code().to_owned());
            break;
        }
    }
    assert_eq!(outcome.as_deref(), Some("session_expired"));
}

#[tokio::test]
async fn a_user_lists_their_sessions_and_revokes_one() {
    let app = spawn_app(&[]).await;
    let mut phone = Client::new(&app);
    let name = phone.signed_in_user(PW).await;
    let mut laptop = Client::new(&app);
    assert_eq!(laptop.login(&name, PW).await.status, StatusCode::OK);
    let list = phone.send(Method::GET, "/api/auth/sessions", None).await;
    let sessions = list.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let id = other["id"].as_str().unwrap();
    let r = phone
        .send(Method::DELETE, &format!("/api/auth/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(laptop.me().await.error_code(), "session_revoked");
    // Someone else's session id is not found for this user.
    let mut stranger = Client::new(&app);
    stranger.signed_in_user(PW).await;
    let me_list = phone.send(Method::GET, "/api/auth/sessions", None).await;
    let mine = me_list.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = stranger
        .send(Method::DELETE, &format!("/api/auth/sessions/{mine}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(phone.me().await.status, StatusCode::OK);
}
