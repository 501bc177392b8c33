//! Users: registration, credential checks and the rules for names and passwords.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::server::{authentication::password::PasswordHasher, entity::user, platform::db::db_err};
use crate::{
    auth::User,
    error::{AuthError, Field},
    policy::Role,
};

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The lowest zxcvbn score (0–4) a new password may have: 2 means "somewhat
/// guessable" (about 10^8 guesses), which rules out every listed common password.
pub const MIN_PASSWORD_SCORE: u8 = 2;
/// Passwords longer than this (in bytes) are refused, never truncated.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks a username and returns its canonical (lower-case) key.
///
/// # Errors
/// [`AuthError::Validation`] naming what is wrong.
pub fn username_key(username: &str) -> Result<String, AuthError> {
    let len = username.chars().count();
    if !(3..=32).contains(&len) {
        return Err(AuthError::invalid(
            Field::Username,
            "Usernames are 3 to 32 characters long.",
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(AuthError::invalid(
            Field::Username,
            "Usernames may use letters, digits, '.', '-' and '_' only.",
        ));
    }
    Ok(username.to_ascii_lowercase())
}

/// Checks a new password against the policy: 8 characters to 1024 bytes
/// (longer is refused, never truncated), and not common or easily guessed
/// (zxcvbn, with its lists of common passwords, names and words; `related` are
/// words such as the username that must not carry the password).
///
/// # Errors
/// [`AuthError::Validation`] naming what is wrong.
pub fn check_password(password: &str, related: &[&str]) -> Result<(), AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::invalid(
            Field::Password,
            "Passwords may be at most 1024 bytes long.",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::invalid(
            Field::Password,
            "Passwords need at least 8 characters.",
        ));
    }
    // zxcvbn's cost grows quickly with length; a long prefix decides just as well.
    let prefix: String = password.chars().take(64).collect();
    let estimate = zxcvbn::zxcvbn(&prefix, related);
    if u8::from(estimate.score()) < MIN_PASSWORD_SCORE {
        let hint = estimate
            .feedback()
            .and_then(zxcvbn::feedback::Feedback::warning)
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(AuthError::invalid(
            Field::Password,
            format!(
                "This password is too common or easy to guess{hint}. Try a few unrelated words."
            ),
        ));
    }
    Ok(())
}

/// Creates a user with the default role.
///
/// # Errors
/// Validation errors, [`AuthError::UsernameTaken`], or [`AuthError::Internal`].
// No field of the caller's is recorded: a name that fails validation may be
// a password typed into the wrong box, and must never reach the log.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn register(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    username: &str,
    password: SecretString,
    role: Role,
) -> Result<User, AuthError> {
    let key = username_key(username)?;
    check_password(password.expose_secret(), &[username])?;
    if find_by_key(db, &key).await?.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let hash = hasher.hash(password).await?;
    let model = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.to_owned()),
        username_key: Set(key),
        password_hash: Set(hash),
        role: Set(role.into()),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        authz_changed_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        // Two registrations raced past the check above: the unique index decides.
        Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::UsernameTaken,
        _ => db_err(err),
    })?;
    tracing::info!(user_id = %model.id, "user registered");
    Ok(User::from(&model))
}

/// Registers a user with the default role, within the per-IP registration limit.
///
/// # Errors
/// [`AuthError::RateLimited`] and everything [`register`] returns.
pub async fn register_user(
    state: &crate::server::platform::state::AppState,
    username: &str,
    password: SecretString,
    device: &crate::server::sessions::Device,
) -> Result<User, AuthError> {
    state
        .limiter
        .hit(
            crate::server::platform::limits::Bucket::Register,
            device.ip_addr(),
        )
        .await?;
    register(
        &state.db,
        &state.hasher,
        username.trim(),
        password,
        Role::User,
    )
    .await
}

/// Checks a password against an account already looked up ([`find_by_key`]).
/// Unknown users (`None`), wrong passwords and disabled accounts all get
/// [`AuthError::InvalidCredentials`] after the same argon2 work. The returned
/// row carries the hash as stored after any re-hash.
///
/// # Errors
/// [`AuthError::InvalidCredentials`], [`AuthError::Busy`] or [`AuthError::Internal`].
#[tracing::instrument(skip_all)]
pub async fn authenticate_found(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    found: Option<user::Model>,
    password: SecretString,
) -> Result<user::Model, AuthError> {
    if password.expose_secret().len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::InvalidCredentials);
    }
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let verified = hasher.verify(password.clone(), stored).await?;
    match found {
        Some(mut user) if verified && !user.disabled => {
            tracing::info!(user_id = %user.id, "sign-in succeeded");
            if hasher.needs_rehash(&user.password_hash) {
                if let Some(hash) = rehash(db, hasher, &user, password).await {
                    user.password_hash = hash;
                }
            }
            Ok(user)
        }
        _ => {
            tracing::info!(known_user = found.is_some(), "sign-in failed");
            Err(AuthError::InvalidCredentials)
        }
    }
}

/// Replaces a hash made with older argon2 parameters, now that the password
/// is known to be right. Best effort: on any failure the old hash stays valid.
async fn rehash(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    user: &user::Model,
    password: SecretString,
) -> Option<String> {
    let hash = hasher.hash(password).await.ok()?;
    // If someone changed the password meanwhile, their hash stays.
    match replace_hash(db, user.id, &user.password_hash, hash.clone()).await {
        Ok(true) => {
            tracing::info!(user_id = %user.id, "password re-hashed with today's parameters");
            Some(hash)
        }
        Ok(false) => None,
        Err(_) => {
            tracing::warn!(user_id = %user.id, "re-hashing a password failed");
            None
        }
    }
}

/// Stores `new_hash` for `user_id` only if the stored hash is still `old_hash`
/// (a compare-and-swap, so two writers never both win). Returns whether it did.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn replace_hash(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    old_hash: &str,
    new_hash: String,
) -> Result<bool, AuthError> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, new_hash.into())
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::PasswordHash.eq(old_hash))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(updated.rows_affected == 1)
}

/// Looks a user up by id.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<user::Model>, AuthError> {
    user::Entity::find_by_id(id).one(db).await.map_err(db_err)
}

/// Looks a user up by the lower-cased username.
///
/// # Errors
/// [`AuthError::Internal`] on a database failure.
pub async fn find_by_key(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<user::Model>, AuthError> {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(key))
        .one(db)
        .await
        .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive_and_restricted() {
        assert_eq!(username_key("Alice_01").expect("valid"), "alice_01");
        for bad in ["ab", "a b c", "ålice", "x".repeat(33).as_str(), "<script>"] {
            assert!(username_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_a_floor_and_a_ceiling_and_are_never_truncated() {
        assert!(check_password("kx7-Qm2", &[]).is_err());
        assert!(check_password("kx7-Qm2v", &[]).is_ok());
        let long: String = "Tr0ub4dor&3-horse-".repeat(60).chars().take(1024).collect();
        assert!(check_password(&long, &[]).is_ok());
        assert!(check_password(&format!("{long}x"), &[]).is_err());
    }

    #[test]
    fn common_and_guessable_passwords_are_refused_with_a_hint() {
        for common in [
            "password",
            "12345678",
            "password1",
            "qwertyuiop",
            "iloveyou",
            "aaaaaaaaaaaa",
        ] {
            let err = check_password(common, &[]).expect_err(common);
            assert_eq!(err.field(), Some(Field::Password));
            assert!(err.to_string().contains("too common"), "{err}");
        }
        assert!(
            check_password("alice-2024", &["alice-2024"]).is_err(),
            "the username itself"
        );
        assert!(check_password("correct horse battery", &["alice"]).is_ok());
    }
}
