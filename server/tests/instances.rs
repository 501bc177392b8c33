//! Two server processes on one database (PostgreSQL when `TEST_DATABASE_URL`
//! is set, else one SQLite file): sessions, rotation races and revocation work
//! whichever instance a request reaches.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{database_url, signing_key_pem, spawn_binary, within, Client, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery";
/// The one public origin both instances serve (as behind a load balancer).
const LB: &str = "http://lb.portcullis.test";

/// Two instances sharing a database, a signing key and an issuer, started at the same moment.
fn two_instances() -> (TestApp, TestApp, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("portcullis-pair-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = database_url(&dir);
    let pem = signing_key_pem();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("JWT_PRIVATE_KEY", pem.as_str()),
        ("JWT_ISSUER", "portcullis-pair"),
        ("PUBLIC_URL", LB),
        ("REFRESH_REUSE_INTERVAL", "10s"),
    ];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| spawn_binary(&env));
        let b = s.spawn(|| spawn_binary(&env));
        (a.join().unwrap(), b.join().unwrap())
    });
    (a, b, dir)
}

/// A browser on the public origin, whose requests reach `app`.
fn client(app: &TestApp) -> Client {
    let mut c = Client::new(app);
    c.origin = Some(LB.to_owned());
    c
}

/// The same browser (cookies) with its next requests routed to another instance.
fn via(c: &Client, app: &TestApp) -> Client {
    let mut other = c.clone();
    other.base = app.base.clone();
    other
}

#[tokio::test]
async fn sessions_work_across_instances_and_revocation_reaches_the_other_within_a_second() {
    let (a, b, dir) = two_instances();
    let mut on_a = client(&a);
    let name = on_a.signed_in_user(PW).await;

    // Signed in on A, accepted by B; B refreshes A's session; A accepts B's tokens.
    let mut on_b = via(&on_a, &b);
    assert_eq!(on_b.me().await.status, StatusCode::OK);
    assert_eq!(on_b.refresh().await.status, StatusCode::OK);
    let mut back_on_a = via(&on_b, &a);
    assert_eq!(back_on_a.me().await.status, StatusCode::OK);

    // Concurrent refreshes of one token, split across A and B, converge.
    let mut racers = Vec::new();
    for i in 0..10 {
        let mut c = via(&back_on_a, if i % 2 == 0 { &a } else { &b });
        racers.push(tokio::spawn(async move {
            let r = c.refresh().await;
            (r.status, c.cookies.get(common::REFRESH).cloned())
        }));
    }
    let mut successors = std::collections::BTreeSet::new();
    for r in racers {
        let (status, token) = r.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        successors.insert(token.unwrap());
    }
    assert_eq!(successors.len(), 1, "every racer got the same successor");

    // Logout-everywhere on A: B refuses the live access token within 1 s.
    let mut phone = client(&b);
    assert_eq!(phone.login(&name, PW).await.status, StatusCode::OK);
    let mut laptop = client(&a);
    laptop.login(&name, PW).await;
    assert_eq!(laptop.logout("global").await.status, StatusCode::NO_CONTENT);
    let took = within(Duration::from_secs(1), || {
        let mut p = phone.clone();
        async move { p.me().await.status == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(
        took.is_some(),
        "B still accepts a token revoked on A after 1 s"
    );
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_demotion_or_disable_on_one_instance_is_honoured_by_the_other_within_a_second() {
    let (a, b, dir) = two_instances();
    a.create_user("chief", "admin", PW).await;
    let mut chief = client(&a);
    assert_eq!(chief.login("chief", PW).await.status, StatusCode::OK);
    let mut deputy_a = client(&a);
    deputy_a.signed_in_user(PW).await;
    let deputy_id = deputy_a.me().await.body["id"].as_str().unwrap().to_owned();
    let promote = chief
        .send(
            Method::POST,
            &format!("/api/admin/users/{deputy_id}/role"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK);
    assert_eq!(deputy_a.refresh().await.status, StatusCode::OK);
    let mut deputy_b = via(&deputy_a, &b);
    assert_eq!(
        deputy_b
            .send(Method::GET, "/api/admin/users", None)
            .await
            .status,
        StatusCode::OK
    );

    let demote = chief
        .send(
            Method::POST,
            &format!("/api/admin/users/{deputy_id}/role"),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK);
    let took = within(Duration::from_secs(1), || {
        let mut d = deputy_b.clone();
        async move {
            d.send(Method::GET, "/api/admin/users", None).await.status == StatusCode::FORBIDDEN
        }
    })
    .await;
    assert!(
        took.is_some(),
        "B still honours a demotion made on A after 1 s"
    );

    let disable = chief
        .send(
            Method::POST,
            &format!("/api/admin/users/{deputy_id}/disable"),
            None,
        )
        .await;
    assert_eq!(disable.status, StatusCode::OK);
    let took = within(Duration::from_secs(1), || {
        let mut d = deputy_b.clone();
        async move { d.me().await.status == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(
        took.is_some(),
        "B still accepts a user disabled on A after 1 s"
    );
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}
