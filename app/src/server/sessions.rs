//! Sessions and refresh tokens: sign-in, rotation with a concurrent-refresh
//! grace, reuse detection, and revocation.
//!
//! A refresh token is 32 random bytes (base64url). Only its SHA-256 is stored,
//! one row per generation, so a replayed ancestor is recognised as theft. The
//! current token is also kept *sealed under its parent* (XOR with a hash of the
//! parent token): whoever presents the parent within the reuse interval can
//! recover the successor, so concurrent tabs converge on one token, while the
//! database alone reveals no usable token.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    db::db_err,
    entity::{refresh_token, session, user},
    limits::Bucket,
    state::AppState,
    users,
};
use crate::{
    auth::{LogoutScope, SessionInfo, User},
    error::AuthError,
};

/// What we record about the device a session was started from.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: String,
}

impl Device {
    /// The client IP, for the abuse limits.
    #[must_use]
    pub fn ip_addr(&self) -> Option<std::net::IpAddr> {
        self.ip.parse().ok()
    }
}

/// A freshly issued pair of tokens and what the client may know about them.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user: User,
    pub session_id: Uuid,
    pub access_token: String,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_token: String,
    /// Unix seconds: when the refresh token stops working if unused.
    pub refresh_expires_at: i64,
}

/// Starts a session for a user who just proved who they are.
///
/// # Errors
/// [`AuthError::Internal`] on a database or signing failure.
pub async fn start(
    state: &AppState,
    user: &user::Model,
    device: Device,
) -> Result<Issued, AuthError> {
    let now = Utc::now();
    let token = new_token()?;
    let session = session::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        generation: Set(0),
        rotated_at: Set(None),
        successor_sealed: Set(None),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + chrono_duration(state.config.session_max_lifetime)),
        user_agent: Set(truncate(&device.user_agent, 200)),
        ip: Set(truncate(&device.ip, 64)),
        revoked_at: Set(None),
        revoke_reason: Set(None),
    }
    .insert(&state.db)
    .await
    .map_err(db_err)?;
    store_token(state, &token, session.id, 0, now).await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "session started");
    issue(state, user, &session, token, now)
}

/// Checks credentials and starts a session, within the abuse limits: a
/// per-IP rate, and a growing delay after failures for this account from this IP.
///
/// # Errors
/// [`AuthError::RateLimited`], [`AuthError::InvalidCredentials`], [`AuthError::Busy`],
/// [`AuthError::Internal`].
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: secrecy::SecretString,
    device: Device,
) -> Result<Issued, AuthError> {
    let ip = device.ip_addr();
    state.limiter.hit(Bucket::SignIn, ip)?;
    let account = username.trim().to_ascii_lowercase();
    state.limiter.check_account(&account, ip)?;
    let result = users::authenticate(&state.db, &state.hasher, username.trim(), password).await;
    match result {
        Ok(user) => {
            state.limiter.record_sign_in(&account, ip, true);
            start(state, &user, device).await
        }
        Err(err) => {
            if err == AuthError::InvalidCredentials {
                state.limiter.record_sign_in(&account, ip, false);
            }
            Err(err)
        }
    }
}

/// Exchanges a refresh token for a new access token and a new refresh token.
///
/// # Errors
/// [`AuthError::TokenInvalid`] for an unknown token, [`AuthError::SessionRevoked`] /
/// [`AuthError::SessionExpired`] for a session that has ended, [`AuthError::RefreshReused`]
/// when a retired token is replayed (the session is then revoked).
pub async fn refresh(
    state: &AppState,
    presented: &str,
    device: Device,
) -> Result<Issued, AuthError> {
    state.limiter.hit(Bucket::Refresh, device.ip_addr())?;
    if presented.len() > 64 {
        return Err(AuthError::TokenInvalid);
    }
    let now = Utc::now();
    let row = refresh_token::Entity::find_by_id(token_hash(presented))
        .one(&state.db)
        .await
        .map_err(db_err)?
        .ok_or(AuthError::TokenInvalid)?;
    let mut session = load(state, row.session_id).await?;
    let user = live_user(state, &session, now).await?;
    if row.generation == session.generation {
        if let Some(issued) = rotate(state, &user, &session, presented, &device, now).await? {
            return Ok(issued);
        }
        // Another request rotated this token a moment ago: it is now the parent.
        session = load(state, row.session_id).await?;
        check_alive(state, &session, now)?;
    }
    let in_grace = session.rotated_at.is_some_and(|at| {
        now.signed_duration_since(at) <= chrono_duration(state.config.refresh_reuse_interval)
    });
    if row.generation + 1 == session.generation && in_grace {
        if let Some(successor) = session
            .successor_sealed
            .as_deref()
            .and_then(|s| unseal(s, presented))
        {
            return issue(state, &user, &session, successor, now);
        }
    }
    revoke(state, &[session.id], "reuse").await?;
    tracing::warn!(
        user_id = %session.user_id,
        session_id = %session.id,
        presented_generation = row.generation,
        current_generation = session.generation,
        "refresh token reuse detected; session revoked"
    );
    Err(AuthError::RefreshReused)
}

/// Rotates the session's token with a compare-and-swap on its generation.
/// Returns `None` when another request won the race.
async fn rotate(
    state: &AppState,
    user: &user::Model,
    session: &session::Model,
    presented: &str,
    device: &Device,
    now: DateTime<Utc>,
) -> Result<Option<Issued>, AuthError> {
    let next = new_token()?;
    let generation = session.generation + 1;
    // The successor's row goes in first so it is valid the moment anyone can learn it.
    store_token(state, &next, session.id, generation, now).await?;
    let swapped = session::Entity::update_many()
        .col_expr(session::Column::Generation, Expr::value(generation))
        .col_expr(session::Column::RotatedAt, Expr::value(now))
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .col_expr(
            session::Column::SuccessorSealed,
            Expr::value(seal(&next, presented)),
        )
        .col_expr(
            session::Column::UserAgent,
            Expr::value(truncate(&device.user_agent, 200)),
        )
        .col_expr(session::Column::Ip, Expr::value(truncate(&device.ip, 64)))
        .filter(session::Column::Id.eq(session.id))
        .filter(session::Column::Generation.eq(session.generation))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await
        .map_err(db_err)?;
    if swapped.rows_affected != 1 {
        refresh_token::Entity::delete_by_id(token_hash(&next))
            .exec(&state.db)
            .await
            .map_err(db_err)?;
        return Ok(None);
    }
    let mut rotated = session.clone();
    rotated.generation = generation;
    rotated.last_used_at = now;
    tracing::info!(user_id = %user.id, session_id = %session.id, generation, "session refreshed");
    issue(state, user, &rotated, next, now).map(Some)
}

/// Ends sessions now; their live access tokens are refused from this moment.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn revoke(state: &AppState, ids: &[Uuid], reason: &str) -> Result<(), AuthError> {
    if ids.is_empty() {
        return Ok(());
    }
    state.revoked.insert_all(ids.iter().copied());
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::Id.is_in(ids.iter().copied()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Signs out the caller's session, their other sessions, or all of them.
/// Returns how many sessions ended.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn logout(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    scope: LogoutScope,
) -> Result<u64, AuthError> {
    let ids = match scope {
        LogoutScope::Local => vec![session_id],
        LogoutScope::Others => live_ids(state, user_id)
            .await?
            .into_iter()
            .filter(|id| *id != session_id)
            .collect(),
        LogoutScope::Global => {
            let mut ids = live_ids(state, user_id).await?;
            ids.push(session_id);
            ids
        }
    };
    revoke(state, &ids, "logout").await?;
    tracing::info!(%user_id, %session_id, ?scope, ended = ids.len(), "signed out");
    Ok(ids.len() as u64)
}

/// The user's sessions that have not been revoked or expired, newest first.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn list(state: &AppState, user_id: Uuid) -> Result<Vec<session::Model>, AuthError> {
    let now = Utc::now();
    let idle_cutoff = now - chrono_duration(state.config.refresh_ttl);
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
pub async fn describe(
    state: &AppState,
    user_id: Uuid,
    current: Uuid,
) -> Result<Vec<SessionInfo>, AuthError> {
    Ok(list(state, user_id)
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
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(), AuthError> {
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
/// [`AuthError::Internal`] on a database failure.
pub async fn revoke_all(state: &AppState, user_id: Uuid, reason: &str) -> Result<u64, AuthError> {
    let ids = live_ids(state, user_id).await?;
    revoke(state, &ids, reason).await?;
    Ok(ids.len() as u64)
}

async fn live_ids(state: &AppState, user_id: Uuid) -> Result<Vec<Uuid>, AuthError> {
    session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .into_tuple()
        .all(&state.db)
        .await
        .map_err(db_err)
}

async fn load(state: &AppState, id: Uuid) -> Result<session::Model, AuthError> {
    session::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(db_err)?
        .ok_or(AuthError::TokenInvalid)
}

/// The session's user, if the session is alive and the user may still sign in.
async fn live_user(
    state: &AppState,
    session: &session::Model,
    now: DateTime<Utc>,
) -> Result<user::Model, AuthError> {
    check_alive(state, session, now)?;
    match users::find(&state.db, session.user_id).await? {
        Some(user) if !user.disabled => Ok(user),
        _ => {
            revoke(state, &[session.id], "disabled").await?;
            Err(AuthError::SessionRevoked)
        }
    }
}

fn check_alive(
    state: &AppState,
    session: &session::Model,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if session.revoked_at.is_some() {
        return Err(AuthError::SessionRevoked);
    }
    let idle_deadline = session.last_used_at + chrono_duration(state.config.refresh_ttl);
    if now >= session.expires_at || now >= idle_deadline {
        return Err(AuthError::SessionExpired);
    }
    Ok(())
}

fn issue(
    state: &AppState,
    user: &user::Model,
    session: &session::Model,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<Issued, AuthError> {
    let view = users::view(user);
    let (access_token, access_expires_at) = state.tokens.issue(
        user.id,
        session.id,
        &view.username,
        view.role,
        now.timestamp(),
    )?;
    let idle_deadline = session.last_used_at + chrono_duration(state.config.refresh_ttl);
    Ok(Issued {
        user: view,
        session_id: session.id,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at: idle_deadline.min(session.expires_at).timestamp(),
    })
}

async fn store_token(
    state: &AppState,
    token: &str,
    session_id: Uuid,
    generation: i64,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    refresh_token::ActiveModel {
        token_hash: Set(token_hash(token)),
        session_id: Set(session_id),
        generation: Set(generation),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn new_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| {
        tracing::error!(%err, "no randomness for a refresh token");
        AuthError::Internal
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a refresh token, hex: what the database stores.
#[must_use]
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pad(parent: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"portcullis/successor/v1\0")
        .chain_update(parent.as_bytes())
        .finalize()
        .into()
}

fn seal(successor: &str, parent: &str) -> String {
    let raw = URL_SAFE_NO_PAD.decode(successor).unwrap_or_default();
    let sealed: Vec<u8> = raw.iter().zip(pad(parent)).map(|(a, b)| a ^ b).collect();
    URL_SAFE_NO_PAD.encode(sealed)
}

fn unseal(sealed: &str, parent: &str) -> Option<String> {
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    (raw.len() == 32).then(|| {
        URL_SAFE_NO_PAD.encode(
            raw.iter()
                .zip(pad(parent))
                .map(|(a, b)| a ^ b)
                .collect::<Vec<u8>>(),
        )
    })
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_successor_opens_only_with_its_parent() {
        let (parent, successor, other) = (
            new_token().expect("rng"),
            new_token().expect("rng"),
            new_token().expect("rng"),
        );
        let sealed = seal(&successor, &parent);
        assert_ne!(sealed, successor);
        assert_eq!(
            unseal(&sealed, &parent).as_deref(),
            Some(successor.as_str())
        );
        assert_ne!(unseal(&sealed, &other).as_deref(), Some(successor.as_str()));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token().expect("rng"), new_token().expect("rng"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
