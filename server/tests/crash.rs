//! Crash safety (issue #18): a SIGKILL in the middle of a burst of refreshes
//! loses no session. Twenty browsers, each with its own session, refresh in a
//! loop against the real binary; the process is killed without warning; a new
//! process on the same database (SQLite here, PostgreSQL when
//! `TEST_DATABASE_URL` is set) and data directory must take every browser's
//! cookies as they are: those of its last 200 or, when its last request got
//! no answer, the ones that request carried (the dead server may have rotated
//! them without answering; the reuse grace hands the same successor back).
//!
//! Whether the kill lands between a rotation's commit and its answer is luck,
//! so one browser is put in that state on purpose each round (its answer
//! thrown away), and the crash is repeated [`ROUNDS`] times on the same
//! browsers.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use app::server::{
    entity::{refresh_token, session},
    sessions::refresh_token::token_hash,
};
use common::{database_url, signing_key_pem, spawn_binary, within, Client, TestApp, REFRESH};
use reqwest::{Method, StatusCode};
use sea_orm::{Database, EntityTrait};

const PW: &str = "correct horse battery";
const CLIENTS: usize = 20;
/// Kill, restart and check, this many times over.
const ROUNDS: usize = 3;
/// Successful refreshes, all browsers together, before the kill: a few each,
/// so the burst is in full swing.
const BEFORE_KILL: usize = CLIENTS * 4;
/// The longest any one request may take, so a hung server fails the test.
const BOUND: Duration = Duration::from_secs(10);

/// What one browser saw during the burst.
struct Run {
    client: Client,
    /// Its 200s.
    refreshed: usize,
    /// How its last request ended.
    last: String,
    /// An answer no browser should get (before or after the kill).
    fault: Option<String>,
}

/// Refreshes until a request gets no answer (the server died) or a wrong one.
/// A 503 or 429 keeps the cookies, as the browser app does, and goes on.
async fn burst(mut client: Client, done: Arc<AtomicUsize>) -> Run {
    let mut refreshed = 0;
    loop {
        let sent = client.request(Method::POST, "/api/auth/refresh").try_send();
        let reply = match tokio::time::timeout(BOUND, sent).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(err)) => {
                let last = format!("no answer ({err})");
                return Run {
                    client,
                    refreshed,
                    last,
                    fault: None,
                };
            }
            Err(_) => {
                let last = format!("no answer within {BOUND:?}");
                return Run {
                    client,
                    refreshed,
                    last,
                    fault: None,
                };
            }
        };
        let last = format!("{} `{}`", reply.status, reply.error_code());
        match reply.status {
            StatusCode::OK => {
                refreshed += 1;
                done.fetch_add(1, Ordering::SeqCst);
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {}
            _ => {
                let fault = Some(format!("during the burst: {last}: {}", reply.text));
                return Run {
                    client,
                    refreshed,
                    last,
                    fault,
                };
            }
        }
    }
}

/// `n` browsers signed in as one user, each with a session of its own.
async fn signed_in(app: &TestApp, n: usize) -> Vec<Client> {
    let mut first = Client::new(app);
    let name = first.signed_in_user(PW).await;
    let mut logins = Vec::new();
    for _ in 1..n {
        let (mut c, name) = (Client::new(app), name.clone());
        logins.push(tokio::spawn(async move {
            let r = c.login(&name, PW).await;
            assert_eq!(r.status, StatusCode::OK, "sign-in: {}", r.text);
            c
        }));
    }
    let mut clients = vec![first];
    for login in logins {
        clients.push(login.await.unwrap());
    }
    clients
}

/// How many burst browsers hold a refresh token the dead server had already
/// rotated (it died before its answer arrived), by the database; and any
/// browser whose token is gone or further behind (the first, which lost its
/// answer on purpose, must be exactly one behind).
async fn lost_answers(db_url: &str, runs: &[Run]) -> (usize, Vec<String>) {
    let db = Database::connect(db_url).await.unwrap();
    let (mut lost, mut faults) = (0, Vec::new());
    for (i, run) in runs.iter().enumerate() {
        let token = run.client.cookies.get(REFRESH).cloned().unwrap_or_default();
        let row = refresh_token::Entity::find_by_id(token_hash(&token))
            .one(&db)
            .await
            .unwrap();
        let Some(row) = row else {
            faults.push(format!(
                "browser {i}: its refresh token is not in the database"
            ));
            continue;
        };
        let session = session::Entity::find_by_id(row.session_id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        match (i, session.generation - row.generation) {
            (0, 1) | (1.., 0) => {}
            (1.., 1) => lost += 1,
            (_, n) => faults.push(format!("browser {i}: its token is {n} generations behind")),
        }
    }
    let _ = db.close().await;
    (lost, faults)
}

/// On the restarted server: the browser's cookies refresh, the new ones
/// refresh again, and the access token they set works.
async fn still_signed_in(run: &mut Run, app: &TestApp) -> Result<(), String> {
    let c = &mut run.client;
    c.base.clone_from(&app.base);
    c.origin = Some(app.base.clone());
    for attempt in ["first refresh", "second refresh"] {
        let r = tokio::time::timeout(BOUND, c.refresh())
            .await
            .map_err(|_| format!("{attempt}: no answer within {BOUND:?}"))?;
        if r.status != StatusCode::OK || c.signed_out() {
            return Err(format!(
                "{attempt}: {} `{}` (signed out: {}): {}",
                r.status,
                r.error_code(),
                c.signed_out(),
                r.text
            ));
        }
    }
    let me = c.me().await;
    (me.status == StatusCode::OK)
        .then_some(())
        .ok_or_else(|| format!("GET /api/me: {} `{}`", me.status, me.error_code()))
}

/// A data directory of the test's own, shared by both processes.
struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A browser whose refresh the server answered but which never saw the
/// answer: it holds the parent of the session's current token.
async fn lose_an_answer(client: Client) -> Run {
    let mut copy = client.clone();
    let r = copy.refresh().await;
    assert_eq!(r.status, StatusCode::OK, "the refresh to lose: {}", r.text);
    let last = "200 (the test threw its cookies away)".to_owned();
    Run {
        client,
        refreshed: 0,
        last,
        fault: None,
    }
}

/// The first browser loses an answer; the others refresh in a loop; a SIGKILL
/// once the burst is in full swing. Returns what each browser saw.
async fn burst_then_kill(server: &mut TestApp, clients: Vec<Client>) -> Vec<Run> {
    let mut clients = clients.into_iter();
    let parked = lose_an_answer(clients.next().unwrap()).await;
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = clients
        .map(|c| tokio::spawn(burst(c, done.clone())))
        .collect();
    let counter = &done;
    let reached = within(Duration::from_secs(60), move || async move {
        counter.load(Ordering::SeqCst) >= BEFORE_KILL
    })
    .await;
    let killed = tokio::task::block_in_place(|| server.kill()).expect("the server is a process");
    assert!(
        reached.is_some(),
        "the burst never reached {BEFORE_KILL} refreshes"
    );
    assert_eq!(killed.signal(), Some(9), "killed by SIGKILL: {killed:?}");
    let mut runs = vec![parked];
    for task in tasks {
        runs.push(task.await.unwrap());
    }
    runs
}

/// Every browser, on the restarted server: what went wrong, if anything.
async fn after_restart(server: &TestApp, runs: &mut [Run]) -> Vec<String> {
    let mut faults = Vec::new();
    for (i, run) in runs.iter_mut().enumerate() {
        let token = run.client.cookies.get(REFRESH).map(|t| t[..8].to_owned());
        let mut fault = run.fault.clone();
        if fault.is_none() {
            fault = still_signed_in(run, server).await.err();
        }
        if let Some(fault) = fault {
            faults.push(format!(
                "browser {i} (refresh token {token:?}…, {} refreshes, last request: {}): {fault}",
                run.refreshed, run.last
            ));
        }
    }
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_in_the_middle_of_a_refresh_burst_loses_no_session() {
    let data =
        DataDir(std::env::temp_dir().join(format!("portcullis-crash-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&data.0).unwrap();
    let (db, pem, dir) = (
        database_url(&data.0),
        signing_key_pem(),
        data.0.display().to_string(),
    );
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("DATA_DIR", dir.as_str()),
        ("JWT_PRIVATE_KEY", pem.as_str()),
    ];
    let mut server = tokio::task::block_in_place(|| spawn_binary(&env));
    let mut clients = signed_in(&server, CLIENTS).await;
    for round in 1..=ROUNDS {
        let mut runs = burst_then_kill(&mut server, clients).await;
        let (lost, mut faults) = lost_answers(&db, &runs).await;
        // The same database and data directory, the same key; a new port.
        server = tokio::task::block_in_place(|| spawn_binary(&env));
        faults.extend(after_restart(&server, &mut runs).await);
        let total: usize = runs.iter().map(|r| r.refreshed).sum();
        eprintln!(
            "round {round}: {total} refreshes answered before the kill; {lost} of {} burst browsers \
             held a token the dead server had already rotated (its answer lost)",
            CLIENTS - 1
        );
        assert!(
            faults.is_empty(),
            "round {round}, after a SIGKILL and a restart:\n  {}",
            faults.join("\n  ")
        );
        clients = runs.into_iter().map(|r| r.client).collect();
    }
}
