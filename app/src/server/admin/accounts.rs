//! Accounts made or repaired by the operator (`server create-user`): the same
//! services and rules as every other path, only the proof comes from
//! [`Authorized::operator`].

use secrecy::{ExposeSecret, SecretString};

use crate::{
    admin::AdminUser,
    auth::User,
    error::AuthError,
    operations::Operation,
    policy::Role,
    server::{
        authentication::{authorized::Authorized, users},
        platform::state::AppState,
        sessions,
    },
};

/// Creates a user with any role.
///
/// # Errors
/// Validation errors, [`AuthError::UsernameTaken`], [`AuthError::Internal`].
pub async fn create_user(
    state: &AppState,
    authz: &Authorized,
    username: &str,
    password: SecretString,
    role: Role,
) -> Result<User, AuthError> {
    authz.expect(Operation::CreateUser)?;
    let user = users::register(&state.db, &state.hasher, username, password, role).await?;
    tracing::info!(actor = %authz.actor_id(), user_id = %user.id, role = role.as_str(), "user created");
    Ok(user)
}

/// Sets a user's password and ends every session signed in with the old one.
/// Returns the user and how many sessions ended.
///
/// # Errors
/// [`AuthError::NotFound`] for an unknown name, validation errors for a weak
/// password, [`AuthError::Internal`].
pub async fn reset_password(
    state: &AppState,
    authz: &Authorized,
    username: &str,
    password: SecretString,
) -> Result<(AdminUser, u64), AuthError> {
    authz.expect(Operation::ResetPassword)?;
    let key = users::username_key(username)?;
    let account = users::find_by_key(&state.db, &key)
        .await?
        .ok_or(AuthError::NotFound)?;
    users::check_password(password.expose_secret(), &[&account.username])?;
    let hash = state.hasher.hash(password).await?;
    if !users::replace_hash(&state.db, account.id, &account.password_hash, hash).await? {
        return Err(AuthError::BadRequest(
            "The password changed while resetting it; run the command again.".into(),
        ));
    }
    let ended = sessions::revoke_all(state, account.id, "password_reset").await?;
    tracing::info!(actor = %authz.actor_id(), user_id = %account.id, ended, "password reset");
    Ok((AdminUser::from(&account), ended))
}
