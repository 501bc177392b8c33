//! Layer 1 of the request pipeline: state-changing browser requests must come
//! from our own origin (the rule is [`security::check_same_origin`]). It runs
//! before anything reads a cookie, so a forged request touches nothing.

use axum::http::{header, request::Parts};

use crate::{
    error::AuthError,
    server::platform::{security, state::AppState},
};

/// Refuses a cross-site state-changing request.
///
/// # Errors
/// [`AuthError::CrossSite`] (403), logged with the method, path and origin.
pub fn check(state: &AppState, parts: &Parts) -> Result<(), AuthError> {
    security::check_same_origin(
        &parts.method,
        parts.uri.path(),
        &parts.headers,
        &state.config,
    )
    .inspect_err(|_| {
        tracing::warn!(
            method = %parts.method,
            path = parts.uri.path(),
            origin = ?parts.headers.get(header::ORIGIN),
            "cross-site request refused"
        );
    })
}
