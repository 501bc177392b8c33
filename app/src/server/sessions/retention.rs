//! Keeping data bounded: sessions that ended (revoked, past their lifetime,
//! or idle past the refresh lifetime) are deleted with their refresh-token
//! rows once `SESSION_RETENTION` has passed, and so are retired refresh-token
//! rows of live sessions. They hold browsers and addresses (personal data)
//! and would otherwise grow with every rotation. And one user keeps at most
//! [`MAX_LIVE_SESSIONS`] live sessions.
//!
//! Safe with several instances: every step is an idempotent `DELETE` of a
//! bounded batch, so two instances purging at once only share the work.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crate::{
    error::AuthError,
    server::platform::{
        db::{db_err, returned_ids, statement},
        duration::to_chrono,
        state::AppState,
    },
};

/// Rows deleted per statement, so no purge holds a lock for long.
const BATCH: u64 = 1_000;

/// What one purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub tokens: u64,
}

/// Deletes what has been over for longer than `SESSION_RETENTION`.
///
/// A retired refresh token is kept for the refresh lifetime plus the
/// retention: presented within that time it is still recognised as a replay
/// (and ends its session); after it, it is merely unknown (401).
///
/// # Errors
/// The database's, as [`db_err`] maps it.
pub async fn purge(state: &AppState) -> Result<Purged, AuthError> {
    let now = state.clock.now();
    let retention = to_chrono(state.config.session_retention);
    let ended_before = now - retention;
    let idle_before = ended_before - to_chrono(state.config.refresh_ttl);
    let mut purged = Purged::default();
    // Sessions first: their token rows go with them (ON DELETE CASCADE).
    loop {
        let n = delete_batch(&state.db, SESSIONS, &[ended_before, idle_before]).await?;
        purged.sessions += n;
        if n < BATCH {
            break;
        }
    }
    loop {
        let n = delete_batch(&state.db, TOKENS, &[idle_before]).await?;
        purged.tokens += n;
        if n < BATCH {
            break;
        }
    }
    Ok(purged)
}

/// Ended sessions: `$1` is "ended before", `$2` "last used before" (idle).
const SESSIONS: &str = "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
     WHERE revoked_at < $1 OR expires_at < $1 OR last_used_at < $2 LIMIT {BATCH})";

/// Refresh-token rows older than the refresh lifetime plus the retention: a
/// live session's current token is younger (each use rotates it).
const TOKENS: &str = "DELETE FROM refresh_tokens WHERE token_hash IN \
     (SELECT token_hash FROM refresh_tokens WHERE created_at < $1 LIMIT {BATCH})";

async fn delete_batch(
    db: &impl ConnectionTrait,
    sql: &str,
    cutoffs: &[DateTime<Utc>],
) -> Result<u64, AuthError> {
    let sql = sql.replace("{BATCH}", &BATCH.to_string());
    let values: Vec<Value> = cutoffs.iter().map(|t| Value::from(*t)).collect();
    let done = db
        .execute(statement(db.get_database_backend(), &sql, values))
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

/// The most live sessions one user keeps. A sign-in beyond it ends the least
/// recently used: without a cap, one account signed in a few hundred
/// thousand times (each with its password, within the per-address limit)
/// would make its own "sign out everywhere" hold SQLite's write lock for
/// seconds, and fill its sessions page.
pub const MAX_LIVE_SESSIONS: u64 = 1_000;

/// Ends `user_id`'s live sessions beyond [`MAX_LIVE_SESSIONS`], least
/// recently used first, in `db` (the sign-in's transaction). Returns them,
/// for the revocation list once committed.
///
/// # Errors
/// The database's, as [`db_err`] maps it.
pub async fn end_beyond_cap(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    user_id: Uuid,
) -> Result<Vec<Uuid>, AuthError> {
    let backend = db.get_database_backend();
    // SQLite needs a LIMIT before an OFFSET (-1: none); PostgreSQL takes an
    // OFFSET alone.
    let limit = if backend == DbBackend::Sqlite {
        "LIMIT -1 "
    } else {
        ""
    };
    let sql = format!(
        "UPDATE sessions SET revoked_at = $1, revoke_reason = 'session_limit' \
         WHERE id IN (SELECT id FROM sessions WHERE user_id = $2 AND revoked_at IS NULL \
         ORDER BY last_used_at DESC {limit}OFFSET {MAX_LIVE_SESSIONS}) RETURNING id"
    );
    let values = vec![Value::from(now), Value::from(user_id)];
    let rows = db
        .query_all(statement(backend, &sql, values))
        .await
        .map_err(db_err)?;
    returned_ids(&rows)
}
