//! Starting sessions and the refresh rotation: a compare-and-swap on the
//! session's generation, a grace for concurrent refreshes, reuse detection.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    ending::revoke,
    refresh_token::{find as find_token, load_session, new_token, seal, token_hash, unseal},
    Device, Issued,
};
use crate::{
    error::AuthError,
    server::{
        authentication::users,
        entity::{refresh_token, session, user},
        platform::{
            db::db_err,
            duration::to_chrono,
            limits::{Attempt, Bucket},
            state::AppState,
        },
    },
};

/// Starts a session for a user who just proved who they are.
///
/// # Errors
/// [`AuthError::Internal`] on a database or signing failure.
pub async fn start(
    state: &AppState,
    user: &user::Model,
    device: Device,
) -> Result<Issued, AuthError> {
    let now = state.clock.now();
    let token = new_token()?;
    // The session and its first token are written together or not at all.
    let txn = state.db.begin().await.map_err(db_err)?;
    let session = session::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        generation: Set(0),
        rotated_at: Set(None),
        successor_sealed: Set(None),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + to_chrono(state.config.session_max_lifetime)),
        user_agent: Set(truncate(&device.user_agent, 200)),
        ip: Set(truncate(&device.ip, 64)),
        revoked_at: Set(None),
        revoke_reason: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(db_err)?;
    store_token(&txn, &token, session.id, 0, now).await?;
    let capped = super::retention::end_beyond_cap(&txn, now, user.id).await?;
    txn.commit().await.map_err(db_err)?;
    state.revoked.insert_all(capped);
    tracing::info!(user_id = %user.id, session_id = %session.id, ip = %device.ip, "session started");
    issue(state, user, &session, token)
}

/// Checks credentials and starts a session, within the abuse limits: a
/// per-address rate, a growing delay after failures for this account from this
/// address, and the account's failure ceiling for browsers it does not know.
/// A success hands the browser a fresh device cookie for the account.
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
    state.limiter.hit(Bucket::SignIn, device.ip_addr()).await?;
    // One normalisation: the key finds the account, and (for a name no
    // account could have) its lower-cased form still keys the limits.
    let key = users::username_key(username.trim());
    let found = match &key {
        Ok(key) => users::find_by_key(&state.db, key).await?,
        Err(_) => None,
    };
    let account = key.unwrap_or_else(|_| username.trim().to_lowercase());
    let stamp = found.as_ref().map(|u| u.password_hash.as_str());
    let attempt = device.attempt(state, &account, stamp);
    let trust = state.limiter.check_sign_in(&attempt).await?;
    let attempt = Attempt { trust, ..attempt };
    let result = users::authenticate_found(&state.db, &state.hasher, found, password).await;
    let succeeded = result.is_ok();
    if succeeded || result.as_ref().err() == Some(&AuthError::InvalidCredentials) {
        if let Err(err) = state.limiter.record_sign_in(&attempt, succeeded).await {
            tracing::warn!(%err, "sign-in outcome not counted");
        }
    }
    if !succeeded {
        tracing::info!(ip = %device.ip, "sign-in refused");
    }
    let user = result?;
    let mut issued = start(state, &user, device).await?;
    issued.device_cookie = state
        .device_cookies
        .issue(&account, &user.password_hash, state.clock.timestamp())
        .ok();
    Ok(issued)
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
    state.limiter.hit(Bucket::Refresh, device.ip_addr()).await?;
    let now = state.clock.now();
    let (row, mut session) = find_token(state, presented).await?;
    let user = live_user(state, &session, now).await?;
    if row.generation == session.generation {
        if let Some(issued) = rotate(state, &user, &session, presented, &device, now).await? {
            return Ok(issued);
        }
        // Another request rotated this token a moment ago: it is now the parent.
        session = load_session(state, row.session_id).await?;
        check_alive(state, &session, now)?;
    }
    let in_grace = session.rotated_at.is_some_and(|at| {
        now.signed_duration_since(at) <= to_chrono(state.config.refresh_reuse_interval)
    });
    if row.generation + 1 == session.generation && in_grace {
        if let Some(successor) = session
            .successor_sealed
            .as_deref()
            .and_then(|s| unseal(s, presented))
        {
            return issue(state, &user, &session, successor);
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
    // The successor's row and the swap commit together: a crash or a lost
    // race leaves neither (the loser's transaction rolls back).
    let txn = state.db.begin().await.map_err(db_err)?;
    store_token(&txn, &next, session.id, generation, now).await?;
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
        .exec(&txn)
        .await
        .map_err(db_err)?;
    if swapped.rows_affected != 1 {
        return Ok(None);
    }
    txn.commit().await.map_err(db_err)?;
    let mut rotated = session.clone();
    rotated.generation = generation;
    rotated.last_used_at = now;
    tracing::info!(user_id = %user.id, session_id = %session.id, generation, "session refreshed");
    issue(state, user, &rotated, next).map(Some)
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
    let idle_deadline = session.last_used_at + to_chrono(state.config.refresh_ttl);
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
) -> Result<Issued, AuthError> {
    let view = crate::auth::User::from(user);
    let (access_token, access_expires_at) = state.tokens.issue(
        user.id,
        session.id,
        &view.username,
        view.role,
        // Token times are the host's own: every verifier, this host included,
        // checks them against its own clock (within JWT_LEEWAY), as offline
        // verification must. Session times above are the database's.
        Utc::now().timestamp(),
    )?;
    let idle_deadline = session.last_used_at + to_chrono(state.config.refresh_ttl);
    Ok(Issued {
        user: view,
        session_id: session.id,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at: idle_deadline.min(session.expires_at).timestamp(),
        device_cookie: None,
    })
}

async fn store_token(
    db: &impl ConnectionTrait,
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
    .insert(db)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
