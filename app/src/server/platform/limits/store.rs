//! Where limit counters live. With PostgreSQL, in the database every instance
//! already shares (one upsert per counted request), so two instances together
//! allow what one allows. With SQLite, a single instance, in memory.
//!
//! A key is 16 bytes of SHA-256 over what it counts (a bucket and an address
//! group, or a normalised username): never the raw input, so a key's size is
//! fixed whatever arrives. The in-memory map is capped as well
//! ([`MAX_MEMORY_KEYS`]): a flood of distinct keys costs a bounded amount of
//! memory, and what it pushes out first are the counters touched longest ago.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use sha2::{Digest, Sha256};

use crate::{error::AuthError, server::platform::db::db_err};

/// At most this many counters are kept in memory (about 64 bytes each).
pub const MAX_MEMORY_KEYS: usize = 200_000;

/// A counter's key: a hash of what it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 16]);

impl Key {
    /// The key of `parts`, joined unambiguously (each part length-prefixed).
    #[must_use]
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&hash.finalize()[..16]);
        Self(key)
    }

    fn hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A counter as it stands: how many in its window, how old the window is, how
/// long since the last count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub count: u32,
    pub window_age: Duration,
    pub since_last: Duration,
}

/// One counter in memory.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    start: Instant,
    last: Instant,
    count: u32,
}

/// The counters, in memory or in PostgreSQL.
#[derive(Clone)]
pub enum CounterStore {
    Memory(Arc<Mutex<HashMap<Key, Entry>>>),
    Database(DatabaseConnection),
}

impl Default for CounterStore {
    fn default() -> Self {
        Self::Memory(Arc::default())
    }
}

impl CounterStore {
    /// The store for this database: PostgreSQL keeps the counters, SQLite
    /// (one instance) keeps them in memory.
    #[must_use]
    pub fn for_database(db: &DatabaseConnection) -> Self {
        if db.get_database_backend() == DbBackend::Postgres {
            Self::Database(db.clone())
        } else {
            Self::default()
        }
    }

    /// Counts one more for `key` in a fixed window of `window`, starting a new
    /// window when the old one is over.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database fails.
    pub async fn bump(
        &self,
        key: Key,
        window: Duration,
        keep: Duration,
    ) -> Result<Count, AuthError> {
        match self {
            Self::Memory(map) => {
                let mut map = map.lock().map_err(|_| AuthError::Internal)?;
                let now = Instant::now();
                if map.len() >= MAX_MEMORY_KEYS && !map.contains_key(&key) {
                    make_room(&mut map, now, keep);
                }
                let entry = map.entry(key).or_insert(Entry {
                    start: now,
                    last: now,
                    count: 0,
                });
                if now.duration_since(entry.start) >= window {
                    *entry = Entry {
                        start: now,
                        last: now,
                        count: 0,
                    };
                }
                entry.count = entry.count.saturating_add(1);
                entry.last = now;
                Ok(count_of(entry, now))
            }
            Self::Database(db) => {
                let sql = "INSERT INTO rate_limits (key, window_start, count, last_at) \
                     VALUES ($1, now(), 1, now()) \
                     ON CONFLICT (key) DO UPDATE SET \
                       count = CASE WHEN rate_limits.window_start <= now() - $2 * interval '1 second' \
                               THEN 1 ELSE rate_limits.count + 1 END, \
                       window_start = CASE WHEN rate_limits.window_start <= now() - $2 * interval '1 second' \
                               THEN now() ELSE rate_limits.window_start END, \
                       last_at = now() \
                     RETURNING count, \
                       (extract(epoch FROM now() - window_start) * 1000000)::int8, \
                       0::int8";
                let values = vec![Value::from(key.hex()), Value::from(window.as_secs_f64())];
                let row = db
                    .query_one(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        sql,
                        values,
                    ))
                    .await
                    .map_err(db_err)?
                    .ok_or(AuthError::Internal)?;
                row_count(&row)
            }
        }
    }

    /// The counter of `key` (`None` for one never counted or forgotten).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database fails.
    pub async fn peek(&self, key: Key) -> Result<Option<Count>, AuthError> {
        match self {
            Self::Memory(map) => {
                let map = map.lock().map_err(|_| AuthError::Internal)?;
                Ok(map.get(&key).map(|e| count_of(e, Instant::now())))
            }
            Self::Database(db) => {
                let sql = "SELECT count, \
                       (extract(epoch FROM now() - window_start) * 1000000)::int8, \
                       (extract(epoch FROM now() - last_at) * 1000000)::int8 \
                     FROM rate_limits WHERE key = $1";
                let row = db
                    .query_one(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        sql,
                        vec![Value::from(key.hex())],
                    ))
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(row_count).transpose()
            }
        }
    }

    /// Forgets `key` (a success clears a run of failures).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database fails.
    pub async fn clear(&self, key: Key) -> Result<(), AuthError> {
        match self {
            Self::Memory(map) => {
                map.lock().map_err(|_| AuthError::Internal)?.remove(&key);
                Ok(())
            }
            Self::Database(db) => {
                execute(
                    db,
                    "DELETE FROM rate_limits WHERE key = $1",
                    key.hex().into(),
                )
                .await
            }
        }
    }

    /// Forgets counters untouched for `keep` (longer than any window).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database fails.
    pub async fn prune(&self, keep: Duration) -> Result<(), AuthError> {
        match self {
            Self::Memory(map) => {
                let now = Instant::now();
                map.lock()
                    .map_err(|_| AuthError::Internal)?
                    .retain(|_, e| now.duration_since(e.last) < keep);
                Ok(())
            }
            Self::Database(db) => {
                let sql =
                    "DELETE FROM rate_limits WHERE last_at < now() - $1 * interval '1 second'";
                execute(db, sql, keep.as_secs_f64().into()).await
            }
        }
    }

    /// How many counters are held (memory only; the bench prints it).
    #[must_use]
    pub fn held(&self) -> Option<usize> {
        match self {
            Self::Memory(map) => map.lock().ok().map(|m| m.len()),
            Self::Database(_) => None,
        }
    }
}

/// Room for one more key at the cap: first what has expired, then, if the
/// flood is all fresh, the older half (amortised: one scan per half-cap inserts).
fn make_room(map: &mut HashMap<Key, Entry>, now: Instant, keep: Duration) {
    map.retain(|_, e| now.duration_since(e.last) < keep);
    if map.len() < MAX_MEMORY_KEYS {
        return;
    }
    let mut ages: Vec<Duration> = map.values().map(|e| now.duration_since(e.last)).collect();
    let middle = ages.len() / 2;
    let (_, cutoff, _) = ages.select_nth_unstable_by(middle, |a, b| b.cmp(a));
    let cutoff = *cutoff;
    map.retain(|_, e| now.duration_since(e.last) < cutoff);
    tracing::warn!(
        kept = map.len(),
        "limit counters at their cap: the oldest half forgotten"
    );
}

fn count_of(entry: &Entry, now: Instant) -> Count {
    Count {
        count: entry.count,
        window_age: now.duration_since(entry.start),
        since_last: now.duration_since(entry.last),
    }
}

/// Runs one PostgreSQL statement with one parameter.
async fn execute(db: &DatabaseConnection, sql: &str, value: Value) -> Result<(), AuthError> {
    db.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [value],
    ))
    .await
    .map(|_| ())
    .map_err(db_err)
}

/// A row of `count`, window age and time since the last count (µs).
fn row_count(row: &sea_orm::QueryResult) -> Result<Count, AuthError> {
    Ok(Count {
        count: u32::try_from(row.try_get_by_index::<i32>(0).map_err(db_err)?).unwrap_or(0),
        window_age: micros(row.try_get_by_index(1).map_err(db_err)?),
        since_last: micros(row.try_get_by_index(2).map_err(db_err)?),
    })
}

fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}
