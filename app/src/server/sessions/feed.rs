//! The change feed: how every instance learns at once of a revocation, a role
//! change or a disable made by any of them, without a query per request.
//!
//! Database triggers (migration `m20261201_000004_instances`) append a row to
//! `auth_changes` for every session revoked and every user whose role or
//! disabled flag changed, in the same transaction as the change itself, so
//! no writer (a server function, the JSON API, the CLI, plain SQL) can skip it.
//! Each row has a database-issued sequence number, and an instance reads what
//! lies past the last number it has seen: no host clock is involved. On
//! PostgreSQL the trigger takes a transaction lock, so numbers become visible
//! in order and the cursor never steps over one still to commit, and the
//! insert sends `NOTIFY portcullis_changes`: instances `LISTEN` and read at
//! once. The same read also runs every `SYNC_INTERVAL`, which covers a
//! dropped listener connection and SQLite (one instance, no NOTIFY).

use std::{
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::{
    error::AuthError,
    server::platform::{
        db::{db_err, statement},
        state::AppState,
    },
};

/// The channel the change triggers notify.
pub const CHANNEL: &str = "portcullis_changes";

/// How far this instance has read the feed, and how recently.
#[derive(Clone)]
pub struct ChangeFeed {
    cursor: Arc<AtomicI64>,
    /// Milliseconds after `epoch` of the last successful read.
    last_read_ms: Arc<AtomicI64>,
    listening: Arc<AtomicBool>,
    epoch: Instant,
}

impl ChangeFeed {
    /// A feed positioned after the newest change in the database: read this
    /// *before* loading the recent revocations, so nothing falls between.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn start(db: &DatabaseConnection) -> Result<Self, AuthError> {
        let backend = db.get_database_backend();
        let row = db
            .query_one(Statement::from_string(
                backend,
                "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM auth_changes",
            ))
            .await
            .map_err(db_err)?
            .ok_or(AuthError::Internal)?;
        let cursor: i64 = row.try_get_by_index(0).map_err(db_err)?;
        Ok(Self {
            cursor: Arc::new(AtomicI64::new(cursor)),
            last_read_ms: Arc::new(AtomicI64::new(0)),
            listening: Arc::new(AtomicBool::new(false)),
            epoch: Instant::now(),
        })
    }

    /// The last sequence number applied.
    #[must_use]
    pub fn cursor(&self) -> i64 {
        self.cursor.load(Ordering::Acquire)
    }

    /// Whether a PostgreSQL instance holds its `LISTEN` connection.
    #[must_use]
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// How long since the feed was last read successfully.
    #[must_use]
    pub fn since_last_read(&self) -> Duration {
        let last = self.last_read_ms.load(Ordering::Relaxed);
        let now = i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(i64::MAX);
        Duration::from_millis(u64::try_from(now - last).unwrap_or(0))
    }

    fn mark_read(&self) {
        let now = i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.last_read_ms.store(now, Ordering::Relaxed);
    }
}

/// Applies every change past the cursor: revoked sessions join the revocation
/// list, changed users have their standing read again. Returns how many.
///
/// # Errors
/// [`AuthError::Internal`] when the database cannot be read; the cursor then
/// stays where it was, so the next read retries the same changes.
pub async fn catch_up(state: &AppState) -> Result<usize, AuthError> {
    let feed = &state.feed;
    let mut applied = 0;
    loop {
        let rows = state
            .db
            .query_all(statement(
                state.db.get_database_backend(),
                PAGE_SQL,
                vec![Value::from(feed.cursor())],
            ))
            .await
            .map_err(db_err)?;
        let mut sessions = Vec::new();
        let mut users = Vec::new();
        let mut last = feed.cursor();
        for row in &rows {
            last = row.try_get_by_index::<i64>(0).map_err(db_err)?;
            let kind: String = row.try_get_by_index(1).map_err(db_err)?;
            let subject: Uuid = row.try_get_by_index(2).map_err(db_err)?;
            match kind.as_str() {
                "session" => sessions.push(subject),
                _ => users.push(subject),
            }
        }
        state.revoked.insert_all(sessions);
        state.standing.refresh_users(&state.db, users).await?;
        feed.cursor.store(last, Ordering::Release);
        applied += rows.len();
        if rows.len() < PAGE {
            feed.mark_read();
            return Ok(applied);
        }
    }
}

const PAGE: usize = 1000;

/// One page of the feed past the cursor (`PAGE` rows).
const PAGE_SQL: &str =
    "SELECT seq, kind, subject FROM auth_changes WHERE seq > $1 ORDER BY seq LIMIT 1000";

/// Follows the feed until the process ends: at once on every notification
/// (PostgreSQL), and every `SYNC_INTERVAL` in any case.
pub async fn follow(state: AppState) {
    let poll = state.config.sync_interval;
    let mut listener = None;
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if listener.is_none() && state.db.get_database_backend() == DbBackend::Postgres {
            listener = listen(&state.db).await;
            state
                .feed
                .listening
                .store(listener.is_some(), Ordering::Relaxed);
        }
        match listener.as_mut() {
            Some(l) => {
                tokio::select! {
                    received = l.try_recv() => {
                        // `None` or an error: the connection dropped. Read
                        // what it may have missed, then listen again.
                        if !matches!(received, Ok(Some(_))) {
                            tracing::warn!("change feed: listener connection lost");
                            listener = None;
                            state.feed.listening.store(false, Ordering::Relaxed);
                        }
                    }
                    _ = tick.tick() => {}
                }
            }
            None => {
                tick.tick().await;
            }
        }
        if let Err(err) = catch_up(&state).await {
            tracing::warn!(%err, "change feed: read failed, will retry");
        }
    }
}

/// A `LISTEN` connection taken from the pool, or `None` when one cannot be had now.
async fn listen(db: &DatabaseConnection) -> Option<sqlx::postgres::PgListener> {
    let pool = db.get_postgres_connection_pool();
    let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(err) => {
            tracing::warn!(%err, "change feed: cannot connect a listener");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(err) => {
            tracing::warn!(%err, "change feed: LISTEN failed");
            None
        }
    }
}

/// Forgets changes older than a day on PostgreSQL (an instance away longer
/// reloads from the sessions table when it starts); SQLite, one instance that
/// reads its own changes within a tick, keeps the newest 10,000.
///
/// # Errors
/// [`AuthError::Internal`] when the database fails.
pub async fn prune(db: &DatabaseConnection) -> Result<(), AuthError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "DELETE FROM auth_changes WHERE at < now() - interval '1 day'",
        _ => {
            "DELETE FROM auth_changes WHERE seq <= (SELECT COALESCE(MAX(seq), 0) FROM auth_changes) - 10000"
        }
    };
    db.execute(Statement::from_string(backend, sql))
        .await
        .map(|_| ())
        .map_err(db_err)
}
