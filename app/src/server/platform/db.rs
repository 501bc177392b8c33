//! Database connection and error mapping.

use migration::{Migrator, MigratorTrait};
use std::time::Duration;

use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    DbErr, QueryResult, RuntimeErr, Statement, TransactionTrait, Value,
};
use secrecy::ExposeSecret;

use crate::error::AuthError;
use crate::server::platform::config::Config;

/// Connects (creating the SQLite file's directory if needed) and applies migrations.
///
/// # Errors
/// A readable message when the database cannot be reached or migrated.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, String> {
    let url = config.database_url.expose_secret();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    // An unreachable or locked database answers 503 within about a second
    // (`db_err`), rather than after sqlx's 30 s acquire and 5 s busy waits.
    options
        .sqlx_logging(false)
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 })
        .acquire_timeout(WAIT)
        .connect_timeout(WAIT)
        .map_sqlx_sqlite_opts(|o| o.busy_timeout(WAIT));
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    if url.starts_with("sqlite:") {
        use_wal(&db).await?;
    }
    // SQLite answers "database is locked" at once, without waiting, when the
    // lock-table read below must become a write after another connection
    // wrote (a running instance's upkeep): start over, for up to 10 s.
    let mut attempts = 0;
    loop {
        match migrate(&db).await {
            Ok(()) => return Ok(db),
            Err(e) if attempts < 100 && e.to_string().contains("locked") => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("migrations failed: {e}")),
        }
    }
}

/// Puts the SQLite file in WAL mode, which lets readers proceed during a write
/// (sqlx already sets a busy timeout and foreign keys on every connection).
///
/// The mode is a property of the file. Switching needs the file to itself and
/// SQLite answers "database is locked" at once rather than waiting, so an
/// instance starting beside another one that is already migrating the same
/// file first checks whether the other has switched it, and otherwise retries
/// for up to 10 s.
async fn use_wal(db: &DatabaseConnection) -> Result<(), String> {
    let mut attempts = 0;
    loop {
        if journal_mode(db)
            .await
            .is_some_and(|m| m.eq_ignore_ascii_case("wal"))
        {
            return Ok(());
        }
        match db.execute_unprepared("PRAGMA journal_mode=WAL").await {
            Ok(_) => return Ok(()),
            Err(e) if attempts < 100 && e.to_string().contains("locked") => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("cannot switch SQLite to WAL: {e}")),
        }
    }
}

/// The SQLite file's journal mode (`delete`, `wal`, …), if it can be read.
async fn journal_mode(db: &DatabaseConnection) -> Option<String> {
    db.query_one(sea_orm::Statement::from_string(
        DbBackend::Sqlite,
        "PRAGMA journal_mode",
    ))
    .await
    .ok()
    .flatten()
    .and_then(|row| row.try_get_by_index::<String>(0).ok())
}

/// Applies pending migrations inside one transaction that first takes a lock,
/// so instances starting together migrate one at a time: on PostgreSQL an
/// advisory lock, on SQLite the database's write lock (taken by a write to a
/// one-row lock table; the other instance waits out sqlx's busy timeout).
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7243110521)")
            .await?;
    } else {
        txn.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS portcullis_migration_lock (id INTEGER); \
             DELETE FROM portcullis_migration_lock;",
        )
        .await?;
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// A raw statement written once with PostgreSQL's `$1, $2, …` placeholders;
/// SQLite gets `?1, ?2, …`, which it numbers the same way. Only for our own
/// constant SQL, which has no other `$` in it.
#[must_use]
pub fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The ids an `… RETURNING id` statement answered.
///
/// # Errors
/// A row that holds no id, as [`db_err`] maps it.
pub fn returned_ids(rows: &[QueryResult]) -> Result<Vec<uuid::Uuid>, AuthError> {
    rows.iter()
        .map(|row| row.try_get_by_index::<uuid::Uuid>(0).map_err(db_err))
        .collect()
}

/// How long a request waits for a connection, a new connection or SQLite's
/// write lock before it answers 503.
const WAIT: Duration = Duration::from_millis(1_000);

/// Seconds a client is told to wait when the database is unreachable.
pub const OUTAGE_RETRY_AFTER: u64 = 2;

/// Logs a database failure once, here at the boundary, and hides it behind a
/// generic error: [`AuthError::Unavailable`] (503, try again) for an outage,
/// [`AuthError::Internal`] (500) for anything else, which is a bug.
#[must_use]
pub fn db_err(err: DbErr) -> AuthError {
    if is_outage(&err) {
        tracing::warn!(%err, "database unavailable");
        AuthError::Unavailable {
            retry_after: OUTAGE_RETRY_AFTER,
        }
    } else {
        tracing::error!(%err, "database error");
        AuthError::Internal
    }
}

/// Whether a failure is the database being unreachable, locked, read-only or
/// full: something that passes, not a fault in the request or the code.
fn is_outage(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            true
        }
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => match e {
            RuntimeErr::SqlxError(e) => sqlx_outage(e),
            RuntimeErr::Internal(_) => false,
        },
        _ => false,
    }
}

fn sqlx_outage(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed => true,
        E::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_outage(&code)
            } else {
                postgres_outage(&code)
            }
        }
        _ => false,
    }
}

/// SQLite result codes that mean "not now" rather than "wrong". SQLite sends
/// its (extended) result code as a number whose low byte is the primary code:
/// BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14.
fn sqlite_outage(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// PostgreSQL SQLSTATEs that mean "not now" rather than "wrong": connection
/// exceptions (08), insufficient resources (53), shutting down or starting
/// up (57P01-57P03), a cancelled or timed-out statement (57014), a lock not
/// granted in time (55P03), an I/O error (58030), serialization failure and
/// deadlock (40001, 40P01), a read-only standby (25006). Matched as text: a
/// SQLSTATE such as 22021 (bad encoding) is all digits and is a bad request,
/// not an outage.
fn postgres_outage(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57014" | "55P03" | "58030" | "40001" | "40P01" | "25006"
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Two instances starting on one new SQLite file: while the first holds the
    /// write lock (migrating), the second's switch to WAL waits instead of failing.
    #[test]
    fn outage_codes_are_read_by_backend() {
        // SQLite: the primary code is the low byte (BUSY_SNAPSHOT 517 is BUSY).
        for code in ["5", "6", "8", "10", "13", "14", "517", "261"] {
            assert!(sqlite_outage(code), "{code}");
        }
        for code in ["19", "1", "2067", ""] {
            assert!(!sqlite_outage(code), "{code}");
        }
        for code in [
            "08006", "53300", "57P01", "57014", "55P03", "40001", "25006",
        ] {
            assert!(postgres_outage(code), "{code}");
        }
        // All digits, but bad requests and bugs, not outages (their low
        // byte would read as SQLite's BUSY, LOCKED, READONLY, ...).
        for code in ["22021", "42501", "21000", "22022", "23505", "42P01"] {
            assert!(!postgres_outage(code), "{code}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn switching_to_wal_waits_for_another_instances_write() {
        let dir = std::env::temp_dir().join(format!("portcullis-wal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
        let first = Database::connect(url.as_str()).await.unwrap();
        let second = Database::connect(url.as_str()).await.unwrap();

        let txn = first.begin().await.unwrap();
        txn.execute_unprepared("CREATE TABLE busy (id INTEGER)")
            .await
            .unwrap();
        let switching = tokio::spawn(async move { use_wal(&second).await.map(|()| second) });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !switching.is_finished(),
            "the switch cannot happen during the write"
        );
        txn.commit().await.unwrap();

        let second = switching
            .await
            .unwrap()
            .expect("the switch succeeds once the write ends");
        assert_eq!(journal_mode(&second).await.as_deref(), Some("wal"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
