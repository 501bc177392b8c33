//! Layer 2 of the request pipeline: who is calling.
//!
//! Credential rule: an `Authorization` header, when present, is the only
//! credential considered (a bad Bearer token never falls back to a cookie);
//! otherwise the access-token cookie is used. Tokens in URLs never authenticate.
//! Verifying is a signature check against a cache plus two in-memory lookups
//! (revocations, role changes): no database query per request.

use axum::http::{header, HeaderMap};

use super::cookies;
use crate::{
    error::AuthError,
    server::{authentication::tokens::Principal, platform::state::AppState},
};

/// The outcome of authenticating a request, stored in its extensions for the
/// later layers and the handlers.
#[derive(Debug, Clone)]
pub struct Authn(pub Result<Principal, AuthError>);

impl Authn {
    /// The caller, or why there is none.
    ///
    /// # Errors
    /// The reason the request is not authenticated.
    pub fn principal(&self) -> Result<&Principal, AuthError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

/// Verifies the request's access token (signature, claims, revocation, and the
/// role as it is now rather than when the token was issued).
///
/// # Errors
/// Why the request carries no valid access token.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, AuthError> {
    let token = match headers.get(header::AUTHORIZATION) {
        Some(value) => bearer(value.to_str().map_err(|_| AuthError::TokenInvalid)?)?,
        None => cookies::read(headers, cookies::names(&state.config).access)
            .ok_or(AuthError::TokenMissing)?,
    };
    let mut principal = state.tokens.verify(token)?;
    if state.revoked.contains(principal.session_id) {
        return Err(AuthError::SessionRevoked);
    }
    if let Some(standing) = state.standing.get(principal.user_id) {
        if standing.disabled {
            return Err(AuthError::SessionRevoked);
        }
        principal.role = standing.role;
    }
    Ok(principal)
}

fn bearer(value: &str) -> Result<&str, AuthError> {
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::TokenInvalid)?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Ok(token.trim())
    } else {
        Err(AuthError::TokenInvalid)
    }
}
