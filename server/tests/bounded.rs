//! Issue #18, bounded work and bounded data: a user with 40,000 sessions
//! can still sign out everywhere, ended sessions are purged after the
//! retention, and sign-ins whose clients hung up leave no hash backlog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use app::server::{entity::session, sessions::retention, AppState};
use chrono::Utc;
use common::{spawn_app, Client};
use portcullis_core::transport::CSRF_HEADER;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

const PW: &str = "correct horse battery staple";

/// Inserts `count` sessions for `user_id` directly, in batches (a service
/// account that used the password grant once a minute for a month).
async fn bulk_sessions(state: &AppState, user_id: Uuid, count: usize, age: chrono::Duration) {
    let at = Utc::now() - age;
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|_| session::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            generation: Set(0),
            rotated_at: Set(None),
            successor_sealed: Set(None),
            created_at: Set(at),
            last_used_at: Set(at),
            expires_at: Set(at + chrono::Duration::days(30)),
            user_agent: Set("svc/1.0".into()),
            ip: Set("10.0.0.1".into()),
            revoked_at: Set(None),
            revoke_reason: Set(None),
        });
        session::Entity::insert_many(rows)
            .exec(&state.db)
            .await
            .unwrap();
    }
}

async fn user_id(state: &AppState, name: &str) -> Uuid {
    use app::server::entity::user;
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn live_sessions(state: &AppState, user_id: Uuid) -> u64 {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .count(&state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_out_everywhere_ends_forty_thousand_sessions() {
    let app = spawn_app(&[]).await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let id = user_id(&state, &name).await;
    let mut other = Client::new(&app);
    assert_eq!(other.login(&name, PW).await.status, StatusCode::OK);
    // Written directly: a sign-in would end those beyond the cap.
    bulk_sessions(&state, id, 40_000, chrono::Duration::minutes(5)).await;
    assert_eq!(live_sessions(&state, id).await, 40_002);

    let out = c.logout("global").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert_eq!(live_sessions(&state, id).await, 0);
    assert_eq!(
        other.me().await.status,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
}

/// One account keeps at most `MAX_LIVE_SESSIONS` live sessions: a sign-in
/// beyond them ends the least recently used, never the newest.
#[tokio::test]
async fn a_sign_in_beyond_the_session_cap_ends_the_least_recently_used() {
    let app = spawn_app(&[]).await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let id = user_id(&state, &name).await;
    let cap = retention::MAX_LIVE_SESSIONS;
    bulk_sessions(
        &state,
        id,
        usize::try_from(cap).unwrap() + 5,
        chrono::Duration::hours(2),
    )
    .await;
    let mut phone = Client::new(&app);
    assert_eq!(phone.login(&name, PW).await.status, StatusCode::OK);
    assert_eq!(live_sessions(&state, id).await, cap);
    // The two used most recently (this browser and the phone) are kept.
    assert_eq!(c.refresh().await.status, StatusCode::OK);
    assert_eq!(phone.me().await.status, StatusCode::OK);
    assert_eq!(phone.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn ended_sessions_are_purged_after_the_retention_and_live_ones_stay() {
    let app = spawn_app(&[("SESSION_RETENTION", "1d"), ("REFRESH_TOKEN_TTL", "1d")]).await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let id = user_id(&state, &name).await;
    // Idle for three days: past the refresh lifetime plus the retention.
    bulk_sessions(&state, id, 1_500, chrono::Duration::days(3)).await;
    // Used an hour ago: alive, whatever the retention.
    bulk_sessions(&state, id, 10, chrono::Duration::hours(1)).await;
    // Rotate the live session a few times: its retired rows are young, kept.
    for _ in 0..3 {
        assert_eq!(c.refresh().await.status, StatusCode::OK);
    }
    // Two instances purging at once share the work without an error.
    let (a, b) = tokio::join!(retention::purge(&state), retention::purge(&state));
    let (a, b) = (a.expect("purge"), b.expect("purge"));
    assert_eq!(a.sessions + b.sessions, 1_500, "{a:?} {b:?}");
    let left = session::Entity::find()
        .filter(session::Column::UserId.eq(id))
        .count(&state.db)
        .await
        .unwrap();
    assert_eq!(left, 11);
    assert_eq!(
        c.refresh().await.status,
        StatusCode::OK,
        "the live session survives"
    );
    assert_eq!(c.me().await.status, StatusCode::OK);
    let again = retention::purge(&state).await.unwrap();
    assert_eq!(again, retention::Purged::default(), "nothing left to purge");
}

/// Sends a sign-in on a raw connection and returns the connection unread:
/// dropping it is a client hanging up.
async fn hanging_sign_in(base: &str) -> tokio::net::TcpStream {
    let addr = base.trim_start_matches("http://");
    let body = serde_json::json!({"username": "nobody-at-all", "password": PW}).to_string();
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {base}\r\n{CSRF_HEADER}: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn sign_ins_whose_clients_hung_up_leave_no_hash_backlog() {
    // One hashing thread, a queue that never says busy, hashes slow enough
    // that 200 of them would take far more than a second.
    let app = spawn_app(&[
        ("HASH_CONCURRENCY", "1"),
        ("HASH_QUEUE", "1000"),
        ("ARGON2_M_COST", "16384"),
        ("ARGON2_T_COST", "2"),
    ])
    .await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let mut one_hash = Duration::ZERO;
    for _ in 0..3 {
        let start = Instant::now();
        assert_eq!(c.login(&name, PW).await.status, StatusCode::OK);
        one_hash = one_hash.max(start.elapsed());
    }
    let mut hanging = Vec::new();
    for _ in 0..200 {
        hanging.push(hanging_sign_in(&app.base).await);
    }
    // Once the server holds them (one hashing, the rest waiting), they hang
    // up one after another, oldest first: each in turn while its job is the
    // one being hashed, which once let a job outlive its client and the next
    // one take its place, until every abandoned job sat in the queue.
    let queued = common::within(Duration::from_secs(30), || async {
        state.hasher.load() >= 100
    })
    .await;
    assert!(
        queued.is_some(),
        "the flood reached the hash queue: {}",
        state.hasher.load()
    );
    for stream in hanging {
        drop(stream);
        // The pace of clients giving up, not a wait for the server.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let start = Instant::now();
    let out = c.login(&name, PW).await;
    let took = start.elapsed();
    assert_eq!(out.status, StatusCode::OK, "{}", out.text);
    assert!(
        took < one_hash + Duration::from_secs(1),
        "a real sign-in waited {took:?} behind abandoned hashes (one hash: {one_hash:?})"
    );
    let drained = common::within(Duration::from_secs(5), || async {
        state.hasher.load() == 0
    })
    .await;
    assert!(drained.is_some(), "abandoned jobs are dropped, not hashed");
}
