//! Database connection and error mapping.

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};
use secrecy::ExposeSecret;

use super::config::Config;
use crate::error::AuthError;

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
    options
        .sqlx_logging(false)
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 });
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed during a write (sqlx already sets a busy timeout
        // and foreign keys on every connection); it is a property of the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .map_err(|e| format!("cannot switch SQLite to WAL: {e}"))?;
    }
    migrate(&db)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(db)
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

/// Logs a database failure once, here at the boundary, and hides it behind a generic error.
#[must_use]
pub fn db_err(err: DbErr) -> AuthError {
    tracing::error!(%err, "database error");
    AuthError::Internal
}
