//! A signed-in user's own account: changing the password.

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{
    limits::Bucket,
    sessions::{self, Device},
    users, AppState,
};
use crate::{
    auth::{LogoutScope, PasswordChanged},
    error::{AuthError, Field},
};

/// Changes the password of `user_id`, who is signed in on `session_id`.
///
/// The current password is checked like a sign-in: the same per-IP limit and
/// the same growing delay after failures, so a stolen session cannot be used
/// to guess it. The write is a compare-and-swap on the old hash, so two
/// concurrent changes cannot both succeed from the same current password.
/// With `sign_out_others`, every other session of the user ends; this one stays.
///
/// # Errors
/// [`AuthError::Validation`] on [`Field::CurrentPassword`] for a wrong current
/// password, on [`Field::NewPassword`] for a weak or unchanged new one;
/// [`AuthError::RateLimited`]; [`AuthError::SessionRevoked`] if the account is
/// gone or disabled; [`AuthError::Internal`].
#[tracing::instrument(skip(state, current, new, device))]
pub async fn change_password(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    current: SecretString,
    new: SecretString,
    sign_out_others: bool,
    device: &Device,
) -> Result<PasswordChanged, AuthError> {
    let ip = device.ip_addr();
    state.limiter.hit(Bucket::SignIn, ip)?;
    let account = users::find(&state.db, user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AuthError::SessionRevoked)?;
    state.limiter.check_account(&account.username_key, ip)?;

    let verified = state
        .hasher
        .verify(current.clone(), Some(account.password_hash.clone()))
        .await?;
    state
        .limiter
        .record_sign_in(&account.username_key, ip, verified);
    if !verified {
        tracing::info!(%user_id, "password change refused: wrong current password");
        return Err(AuthError::invalid(
            Field::CurrentPassword,
            "Your current password is not correct.",
        ));
    }
    if new.expose_secret() == current.expose_secret() {
        return Err(AuthError::invalid(
            Field::NewPassword,
            "The new password must differ from the current one.",
        ));
    }
    users::check_password(new.expose_secret(), &[&account.username]).map_err(|err| match err {
        AuthError::Validation { message, .. } => AuthError::Validation {
            field: Field::NewPassword,
            message,
        },
        other => other,
    })?;

    let hash = state.hasher.hash(new).await?;
    if !users::replace_hash(&state.db, user_id, &account.password_hash, hash).await? {
        // Another change won the race with the same current password.
        return Err(AuthError::invalid(
            Field::CurrentPassword,
            "Your password was changed elsewhere just now. Use the new one.",
        ));
    }
    let signed_out_others = if sign_out_others {
        sessions::logout(state, user_id, session_id, LogoutScope::Others).await?
    } else {
        0
    };
    tracing::info!(%user_id, signed_out_others, "password changed");
    Ok(PasswordChanged { signed_out_others })
}
