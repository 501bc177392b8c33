//! Outages (issue #18): with the database unreachable (a PostgreSQL server the
//! test starts and stops itself) or locked (SQLite, its write lock held by the
//! test), every request that needs it answers 503 `unavailable` with
//! `Retry-After` within 2 s and keeps the cookies; a live access token keeps
//! working, since verifying it needs no database; once the database is back,
//! a refresh succeeds within 5 s, with no restart of the app.
//!
//! Each test collects every expectation that failed, with what came instead
//! (status, code, time), and reports them together.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    future::Future,
    path::PathBuf,
    time::{Duration, Instant},
};

use common::{postgres::OwnPostgres, spawn_app, within, Client, Reply, ACCESS, REFRESH};
use reqwest::{header, Method, StatusCode};
use sea_orm::sqlx::{self, Connection, SqliteConnection};

const PW: &str = "correct horse battery";
/// How soon an outage must be answered.
const PROMPT: Duration = Duration::from_secs(2);
/// How soon service must resume once the database is back.
const RESUME: Duration = Duration::from_secs(5);
/// The longest any one request may take here, so a server that hangs fails
/// the test instead of hanging the suite.
const BOUND: Duration = Duration::from_secs(10);

/// A request that needs the database, as each kind of client sends it.
#[derive(Clone, Copy, Debug)]
enum Probe {
    /// `POST /api/auth/refresh`: the JSON API and the silent refresh.
    Refresh,
    /// `POST /api/auth/login`, from the signed-in browser.
    Login,
    /// `POST /api/fn/refresh`: the server function the pages use.
    FnRefresh,
    /// `GET /sessions` as a page load whose access cookie has expired (gone),
    /// which the server resumes from the refresh cookie.
    PageLoad,
}

impl Probe {
    const ALL: [Self; 4] = [Self::Refresh, Self::Login, Self::FnRefresh, Self::PageLoad];

    async fn send(self, c: &mut Client, name: &str) -> Reply {
        match self {
            Self::Refresh => c.refresh().await,
            Self::Login => c.login(name, PW).await,
            Self::FnRefresh => c.form("/api/fn/refresh", &[]).await,
            Self::PageLoad => {
                c.cookies.remove(ACCESS);
                c.csrf_header = false;
                let page = [("accept", "text/html"), ("sec-fetch-mode", "navigate")];
                c.send_with(Method::GET, "/sessions", None, &page).await
            }
        }
    }

    /// Whether its answer is the JSON envelope (a page load's is HTML).
    fn json(self) -> bool {
        !matches!(self, Self::PageLoad)
    }
}

/// The answer to `request` and how long it took; `None` if none came within [`BOUND`].
async fn timed(request: impl Future<Output = Reply>) -> Option<(Reply, Duration)> {
    let start = Instant::now();
    let reply = tokio::time::timeout(BOUND, request).await.ok()?;
    Some((reply, start.elapsed()))
}

/// What is wrong with `probe`'s answer during an outage, if anything: it must
/// be a 503 `unavailable` with `Retry-After` within [`PROMPT`], and leave the
/// browser's cookies as they were.
async fn outage_fault(probe: Probe, signed_in: &Client, name: &str) -> Option<String> {
    let want = format!("want 503 `unavailable` with Retry-After within {PROMPT:?}, cookies kept");
    let mut c = signed_in.clone();
    let Some((r, took)) = timed(probe.send(&mut c, name)).await else {
        return Some(format!("{probe:?}: no answer within {BOUND:?}; {want}"));
    };
    let retry_after = r
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let kept = c.cookies.get(REFRESH) == signed_in.cookies.get(REFRESH) && !c.signed_out();
    let code = if probe.json() {
        r.error_code()
    } else {
        "(a page)"
    };
    let ok = r.status == StatusCode::SERVICE_UNAVAILABLE
        && (code == "unavailable" || !probe.json())
        && retry_after.is_some_and(|s| s >= 1)
        && took <= PROMPT
        && kept;
    let location = r
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    (!ok).then(|| {
        format!(
            "{probe:?}: {} `{code}` after {took:.2?}, Retry-After {retry_after:?}, Location \
             {location:?}, refresh cookie {}; {want}",
            r.status,
            if kept { "kept" } else { "cleared or changed" },
        )
    })
}

/// Every request that needs the database, and one that must not.
async fn during_outage(signed_in: &Client, name: &str) -> Vec<String> {
    let mut faults = Vec::new();
    for probe in Probe::ALL {
        faults.extend(outage_fault(probe, signed_in, name).await);
    }
    let mut c = signed_in.clone();
    match timed(c.me()).await {
        Some((r, took)) if r.status == StatusCode::OK && took <= PROMPT => {}
        Some((r, took)) => faults.push(format!(
            "GET /api/me with a live access token: {} `{}` after {took:.2?}; want 200 within {PROMPT:?}",
            r.status,
            r.error_code()
        )),
        None => faults.push(format!("GET /api/me: no answer within {BOUND:?}")),
    }
    faults
}

/// Once the database is back: a refresh succeeds within [`RESUME`], and the
/// browser is still signed in.
async fn after_outage(client: Client) -> Vec<String> {
    let cell = tokio::sync::Mutex::new((client, String::from("none")));
    let shared = &cell;
    let took = within(RESUME, move || async move {
        let mut guard = shared.lock().await;
        let (c, last) = &mut *guard;
        match timed(c.refresh()).await {
            Some((r, _)) if r.status == StatusCode::OK => true,
            Some((r, took)) => {
                *last = format!("{} `{}` after {took:.2?}", r.status, r.error_code());
                false
            }
            None => {
                *last = format!("no answer within {BOUND:?}");
                false
            }
        }
    })
    .await;
    let (mut c, last) = cell.into_inner();
    let mut faults = Vec::new();
    match took {
        Some(took) if took <= RESUME => {}
        Some(took) => faults.push(format!("the first good refresh came after {took:.2?}")),
        None => faults.push(format!(
            "database back, but no refresh succeeded within {RESUME:?}; the last answer: {last}"
        )),
    }
    let me = timed(c.me()).await.map(|(r, _)| r.status);
    if me != Some(StatusCode::OK) || c.signed_out() {
        faults.push(format!(
            "after the outage: GET /api/me {me:?}, signed out: {}",
            c.signed_out()
        ));
    }
    faults
}

fn report(what: &str, faults: &[String]) {
    assert!(faults.is_empty(), "{what}:\n  {}", faults.join("\n  "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgresql_down_requests_answer_503_at_once_nobody_is_signed_out_and_service_resumes()
{
    let mut pg = OwnPostgres::start();
    let app = spawn_app(&[("DATABASE_URL", &pg.url())]).await;
    let mut client = Client::new(&app);
    let name = client.signed_in_user(PW).await;

    tokio::task::block_in_place(|| pg.stop());
    let mut faults = during_outage(&client, &name).await;
    tokio::task::block_in_place(|| pg.start_again());
    faults.extend(after_outage(client).await);
    report("PostgreSQL stopped, then started again", &faults);
}

/// A database that hangs rather than refusing: every connection stays open
/// and nothing answers. Only the pool's and the request's timeouts end the
/// wait, and they must end it the same way: 503 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgresql_frozen_requests_answer_503_at_once_nobody_is_signed_out_and_service_resumes(
) {
    let mut pg = OwnPostgres::start();
    let app = spawn_app(&[("DATABASE_URL", &pg.url())]).await;
    let mut client = Client::new(&app);
    let name = client.signed_in_user(PW).await;

    pg.freeze();
    let mut faults = during_outage(&client, &name).await;
    pg.thaw();
    faults.extend(after_outage(client).await);
    report(
        "PostgreSQL frozen (SIGSTOP), then let run (SIGCONT)",
        &faults,
    );
}

/// A directory of the test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("portcullis-lock-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sqlite_locked_requests_answer_503_at_once_nobody_is_signed_out_and_service_resumes() {
    // SQLite even in the suite's PostgreSQL run (`TEST_DATABASE_URL` set).
    let dir = TempDir::new();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.0.join("portcullis.db").display()
    );
    let app = spawn_app(&[("DATABASE_URL", &url)]).await;
    let mut client = Client::new(&app);
    let name = client.signed_in_user(PW).await;

    // Another process's long write: the write lock, held until the rollback.
    let mut lock = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .unwrap();
    let mut faults = during_outage(&client, &name).await;
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();
    faults.extend(after_outage(client).await);
    report("SQLite write-locked, then released", &faults);
}
