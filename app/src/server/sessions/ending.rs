//! How sessions end: sign-out in its three scopes, revocation by the user or
//! an admin, and the list of a user's live sessions.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
};
use uuid::Uuid;

use crate::{
    auth::{LogoutScope, SessionInfo},
    error::AuthError,
    operations::Operation,
    server::{
        authentication::authorized::Authorized,
        entity::session,
        platform::{
            db::{db_err, returned_ids},
            duration::to_chrono,
            state::AppState,
        },
    },
};

/// Ends sessions now; their live access tokens are refused from this moment.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn revoke(state: &AppState, ids: &[Uuid], reason: &str) -> Result<(), AuthError> {
    if ids.is_empty() {
        return Ok(());
    }
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(state.clock.now()))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::Id.is_in(ids.iter().copied()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await
        .map_err(db_err)?;
    // After the write, not before: a failed write (503, try again) must not
    // leave the session refused here while it lives everywhere else.
    state.revoked.insert_all(ids.iter().copied());
    Ok(())
}

/// Signs out the caller's session, their other sessions, or all of them.
/// Returns how many sessions ended.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn logout(
    state: &AppState,
    authz: &Authorized,
    scope: LogoutScope,
) -> Result<u64, AuthError> {
    let me = authz.expect(Operation::SignOut)?.own()?;
    end_own(state, me.user_id, me.session_id, scope).await
}

/// [`logout`] for a browser whose access token has expired or cannot be read:
/// the refresh token it still holds names the session. Returns how many ended.
///
/// # Errors
/// [`AuthError::TokenInvalid`] for an unknown token, [`AuthError::SessionRevoked`]
/// when its session has already ended, [`AuthError::Internal`].
pub async fn logout_by_refresh_token(
    state: &AppState,
    presented: &str,
    scope: LogoutScope,
) -> Result<u64, AuthError> {
    let (row, session) = super::refresh_token::find(state, presented).await?;
    if session.revoked_at.is_some() {
        return Err(AuthError::SessionRevoked);
    }
    if row.generation != session.generation {
        // A retired token speaks for nobody: whoever holds it may have stolen
        // it, so it cannot end the owner's other sessions. It is a replay, as
        // on refresh: its own session ends, and only that one.
        revoke(state, &[session.id], "reuse").await?;
        tracing::warn!(session_id = %session.id, "sign-out with a retired refresh token; session revoked");
        return Err(AuthError::RefreshReused);
    }
    end_own(state, session.user_id, session.id, scope).await
}

/// [`logout`] for a caller already checked.
pub(crate) async fn end_own(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    scope: LogoutScope,
) -> Result<u64, AuthError> {
    let ended = match scope {
        LogoutScope::Local => {
            revoke(state, &[session_id], "logout").await?;
            1
        }
        LogoutScope::Others => {
            let except = Some(session_id);
            end_user_sessions(state, user_id, except, "logout").await?
        }
        LogoutScope::Global => end_user_sessions(state, user_id, None, "logout").await?,
    };
    tracing::info!(%user_id, %session_id, ?scope, ended, "signed out");
    Ok(ended)
}

/// Ends every live session of `user_id` (but `except`) and records them in
/// the revocation list. Returns how many ended.
async fn end_user_sessions(
    state: &AppState,
    user_id: Uuid,
    except: Option<Uuid>,
    reason: &str,
) -> Result<u64, AuthError> {
    let ids = end_sessions_in(&state.db, state.clock.now(), user_id, except, reason).await?;
    state.revoked.insert_all(ids.iter().copied());
    Ok(ids.len() as u64)
}

/// Ends every live session of `user_id` (but `except`) in `db`, which may be a
/// transaction: one conditional UPDATE, however many sessions the user has
/// (a list of ids would pass SQLite's limit on bound parameters for a busy
/// service account). Returns the sessions it ended; the caller adds them to
/// the revocation list once the change is committed.
///
/// # Errors
/// The database's, as [`db_err`] maps it.
pub async fn end_sessions_in(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    user_id: Uuid,
    except: Option<Uuid>,
    reason: &str,
) -> Result<Vec<Uuid>, AuthError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .apply_if(except, |q, id| q.filter(session::Column::Id.ne(id)))
        .into_query();
    update.returning_col(session::Column::Id);
    let backend = db.get_database_backend();
    let rows = db.query_all(backend.build(&update)).await.map_err(db_err)?;
    returned_ids(&rows)
}

/// The user's sessions that have not been revoked or expired, newest first.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn list(state: &AppState, user_id: Uuid) -> Result<Vec<session::Model>, AuthError> {
    let now = state.clock.now();
    let idle_cutoff = now - to_chrono(state.config.refresh_ttl);
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::LastUsedAt.gt(idle_cutoff))
        .order_by_desc(session::Column::LastUsedAt)
        .all(&state.db)
        .await
        .map_err(db_err)
}

/// The caller's sessions as the UI lists them, the current one marked.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn describe(state: &AppState, authz: &Authorized) -> Result<Vec<SessionInfo>, AuthError> {
    let me = authz.expect(Operation::ListSessions)?.own()?;
    let current = me.session_id;
    Ok(list(state, me.user_id)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            created_at: s.created_at.to_rfc3339(),
            last_used_at: s.last_used_at.to_rfc3339(),
            user_agent: s.user_agent,
            ip: s.ip,
            current: s.id == current,
        })
        .collect())
}

/// Revokes one of the user's own live sessions.
///
/// # Errors
/// [`AuthError::NotFound`] when the session is not one of the user's live sessions.
pub async fn revoke_own(
    state: &AppState,
    authz: &Authorized,
    session_id: Uuid,
) -> Result<(), AuthError> {
    let user_id = authz.expect(Operation::RevokeSession)?.own()?.user_id;
    if !list(state, user_id)
        .await?
        .iter()
        .any(|s| s.id == session_id)
    {
        return Err(AuthError::NotFound);
    }
    revoke(state, &[session_id], "revoked_by_user").await?;
    tracing::info!(%user_id, %session_id, "session revoked by its user");
    Ok(())
}

/// Ends every live session of a user. Returns how many ended.
///
/// # Errors
/// The database's, as [`db_err`] maps it.
pub async fn revoke_all(state: &AppState, user_id: Uuid, reason: &str) -> Result<u64, AuthError> {
    end_user_sessions(state, user_id, None, reason).await
}
