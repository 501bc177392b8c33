//! The refresh token itself: 32 random bytes (base64url), stored only as a
//! SHA-256, and its successor sealed under it for the concurrent-refresh grace.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest, Sha256};

use crate::{
    error::AuthError,
    server::{
        entity::{refresh_token, session},
        platform::{db::db_err, state::AppState},
    },
};
use sea_orm::EntityTrait;

/// The stored row of a presented refresh token and its session, as they are
/// now (the session may have moved on to a later generation).
///
/// # Errors
/// [`AuthError::TokenInvalid`] for an over-long or unknown token,
/// [`AuthError::Internal`] on a database failure.
pub async fn find(
    state: &AppState,
    presented: &str,
) -> Result<(refresh_token::Model, session::Model), AuthError> {
    if presented.len() > 64 {
        return Err(AuthError::TokenInvalid);
    }
    let row = refresh_token::Entity::find_by_id(token_hash(presented))
        .one(&state.db)
        .await
        .map_err(db_err)?
        .ok_or(AuthError::TokenInvalid)?;
    let session = load_session(state, row.session_id).await?;
    Ok((row, session))
}

/// A session by id, as it is now.
///
/// # Errors
/// [`AuthError::TokenInvalid`] when it is gone, [`AuthError::Internal`].
pub async fn load_session(state: &AppState, id: uuid::Uuid) -> Result<session::Model, AuthError> {
    session::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(db_err)?
        .ok_or(AuthError::TokenInvalid)
}

/// A new random refresh token.
///
/// # Errors
/// [`AuthError::Internal`] when the system has no randomness.
pub fn new_token() -> Result<String, AuthError> {
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

/// The successor XOR a hash of its parent: only the parent opens it.
pub fn seal(successor: &str, parent: &str) -> String {
    let raw = URL_SAFE_NO_PAD.decode(successor).unwrap_or_default();
    let sealed: Vec<u8> = raw.iter().zip(pad(parent)).map(|(a, b)| a ^ b).collect();
    URL_SAFE_NO_PAD.encode(sealed)
}

/// Opens [`seal`] with the parent token, if it is the right one.
#[must_use]
pub fn unseal(sealed: &str, parent: &str) -> Option<String> {
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
