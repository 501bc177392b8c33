//! A signed-in user's own account: changing the password.

use sea_orm::TransactionTrait;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    auth::PasswordChanged,
    error::{AuthError, Field},
    operations::Operation,
    server::{
        authentication::{authorized::Authorized, tokens::Principal, users},
        entity::user,
        platform::{
            db::db_err,
            limits::{Attempt, Bucket, Trust},
            state::AppState,
        },
        sessions::{ending::end_sessions_in, Device},
    },
};

/// What the caller asks for.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    /// End every other session of the user; this one stays.
    pub sign_out_others: bool,
}

/// Changes the caller's password.
///
/// The current password is checked like a sign-in: the same per-IP limit and
/// the same growing delay after failures, so a stolen session cannot be used
/// to guess it. The write is a compare-and-swap on the old hash, so two
/// concurrent changes cannot both succeed from the same current password.
///
/// # Errors
/// [`AuthError::Validation`] on [`Field::CurrentPassword`] for a wrong current
/// password, on [`Field::NewPassword`] for a weak or unchanged new one;
/// [`AuthError::RateLimited`]; [`AuthError::SessionRevoked`] if the account is
/// gone or disabled; [`AuthError::Internal`].
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    authz: &Authorized,
    change: PasswordChange,
    device: &Device,
) -> Result<PasswordChanged, AuthError> {
    let me = authz.expect(Operation::ChangePassword)?.own()?;
    let account = verify_current(state, me, &change.current, device).await?;
    check_new(&account, &change)?;
    let hash = state.hasher.hash(change.new).await?;
    // One transaction: the new password and the end of the other sessions
    // happen together or not at all.
    let txn = state.db.begin().await.map_err(db_err)?;
    if !users::replace_hash(&txn, me.user_id, &account.password_hash, hash).await? {
        // Another change won the race with the same current password.
        return Err(AuthError::invalid(
            Field::CurrentPassword,
            "Your password was changed elsewhere just now. Use the new one.",
        ));
    }
    let ended = if change.sign_out_others {
        let now = state.clock.now();
        let except = Some(me.session_id);
        end_sessions_in(&txn, now, me.user_id, except, "password_changed").await?
    } else {
        Vec::new()
    };
    txn.commit().await.map_err(db_err)?;
    let signed_out_others = ended.len() as u64;
    state.revoked.insert_all(ended);
    tracing::info!(user_id = %me.user_id, signed_out_others, "password changed");
    Ok(PasswordChanged { signed_out_others })
}

/// The caller's account, once their current password is proven, within the
/// sign-in limits. A signed-in session is a known device of its own: its
/// guesses are capped per session, and a stranger's failures against the
/// account never keep its owner from changing the password.
async fn verify_current(
    state: &AppState,
    me: &Principal,
    current: &SecretString,
    device: &Device,
) -> Result<user::Model, AuthError> {
    state.limiter.hit(Bucket::SignIn, device.ip_addr()).await?;
    let user_id = me.user_id;
    let account = users::find(&state.db, user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AuthError::SessionRevoked)?;
    let session = me.session_id.to_string();
    let attempt = Attempt {
        account: &account.username_key,
        ip: device.ip_addr(),
        trust: Trust::Device(&session),
    };
    let trust = state.limiter.check_sign_in(&attempt).await?;
    let verified = state
        .hasher
        .verify(current.clone(), Some(account.password_hash.clone()))
        .await?;
    if let Err(err) = state
        .limiter
        .record_sign_in(&Attempt { trust, ..attempt }, verified)
        .await
    {
        tracing::warn!(%err, "password check outcome not counted");
    }
    if !verified {
        tracing::info!(%user_id, "password change refused: wrong current password");
        return Err(AuthError::invalid(
            Field::CurrentPassword,
            "Your current password is not correct.",
        ));
    }
    Ok(account)
}

/// The new password must differ from the current one and pass the policy.
fn check_new(account: &user::Model, change: &PasswordChange) -> Result<(), AuthError> {
    if change.new.expose_secret() == change.current.expose_secret() {
        return Err(AuthError::invalid(
            Field::NewPassword,
            "The new password must differ from the current one.",
        ));
    }
    users::check_password(change.new.expose_secret(), &[&account.username]).map_err(|err| match err
    {
        AuthError::Validation { message, .. } => AuthError::Validation {
            field: Field::NewPassword,
            message,
        },
        other => other,
    })
}
