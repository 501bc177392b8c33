//! The database's time, as every instance should read it.
//!
//! Several instances compare times one of them wrote (a session's
//! `rotated_at`, `expires_at`, `revoked_at`) with "now". Read from each host's
//! own clock, a host running a few seconds behind would stretch the refresh
//! grace window or keep an expired session alive. So "now" here is the host
//! clock corrected by its measured offset from the database's clock, measured
//! at start-up and again on every upkeep tick: one query a tick, none per
//! request. The error left is half a round trip to the database.
//!
//! `TEST_CLOCK_OFFSET` (tests only) shifts what this instance believes its host
//! clock says, so a test can run an instance whose clock is wrong and show that
//! nothing depends on it.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::{error::AuthError, server::platform::db::db_err};

/// Now, by the database's clock.
#[derive(Clone, Default)]
pub struct Clock {
    /// The test-only skew of the host clock, in microseconds.
    host_skew_us: i64,
    /// Database time minus (skewed) host time, in microseconds.
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    /// A clock whose host reading is off by `host_skew` (zero outside tests).
    #[must_use]
    pub fn new(host_skew: Duration) -> Self {
        Self {
            host_skew_us: host_skew.num_microseconds().unwrap_or(0),
            offset_us: Arc::default(),
        }
    }

    /// What the host clock says (with the test skew).
    fn host_now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.host_skew_us)
    }

    /// The current time by the database's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.host_now() + Duration::microseconds(self.offset_us.load(Ordering::Relaxed))
    }

    /// The current database time in whole seconds (token `iat`/`exp`).
    #[must_use]
    pub fn timestamp(&self) -> i64 {
        self.now().timestamp()
    }

    /// Measures the offset to the database's clock again.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be asked.
    pub async fn calibrate(&self, db: &DatabaseConnection) -> Result<Duration, AuthError> {
        let before = self.host_now();
        let db_us = database_micros(db).await?;
        let after = self.host_now();
        let midpoint = before + (after - before) / 2;
        let offset = db_us - midpoint.timestamp_micros();
        self.offset_us.store(offset, Ordering::Relaxed);
        Ok(Duration::microseconds(offset))
    }
}

/// The database's clock, in microseconds since the epoch. On SQLite, an
/// embedded database, that is the host's real clock.
async fn database_micros(db: &DatabaseConnection) -> Result<i64, AuthError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8",
        _ => "SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    };
    let row = db
        .query_one(Statement::from_string(backend, sql))
        .await
        .map_err(db_err)?
        .ok_or(AuthError::Internal)?;
    row.try_get_by_index::<i64>(0).map_err(db_err)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_skewed_host_clock_is_corrected_by_the_database() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let clock = Clock::new(Duration::seconds(-30));
        assert!(
            (Utc::now() - clock.now()).num_seconds() >= 29,
            "skewed before"
        );
        let offset = clock.calibrate(&db).await.unwrap();
        assert!(
            (offset.num_milliseconds() - 30_000).abs() < 1_000,
            "{offset}"
        );
        let error = (Utc::now() - clock.now()).num_milliseconds().abs();
        assert!(
            error < 1_000,
            "corrected to within a second, off by {error} ms"
        );
    }
}
