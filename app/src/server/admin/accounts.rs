//! Accounts made or repaired by the operator (`server create-user`): the same
//! services and rules as every other path, only the proof comes from
//! [`Authorized::operator`].

use sea_orm::TransactionTrait;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    admin::AdminUser,
    auth::User,
    error::AuthError,
    operations::Operation,
    policy::Role,
    server::{
        authentication::{authorized::Authorized, users},
        platform::{db::db_err, state::AppState},
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
    let txn = state.db.begin().await.map_err(db_err)?;
    if !users::replace_hash(&txn, account.id, &account.password_hash, hash).await? {
        return Err(AuthError::BadRequest(
            "The password changed while resetting it; run the command again.".into(),
        ));
    }
    let now = state.clock.now();
    let ids = sessions::end_sessions_in(&txn, now, account.id, None, "password_reset").await?;
    txn.commit().await.map_err(db_err)?;
    let ended = ids.len() as u64;
    state.revoked.insert_all(ids);
    tracing::info!(actor = %authz.actor_id(), user_id = %account.id, ended, "password reset");
    Ok((AdminUser::from(&account), ended))
}
