//! Everything that runs only on the server: configuration, database, password
//! hashing, tokens, sessions and the HTTP glue. Compiled with the `ssr` feature only.

pub mod account;
pub mod admin;
pub mod config;
pub mod cookies;
pub mod db;
pub mod entity;
pub mod keys;
pub mod limits;
pub mod middleware;
pub mod password;
pub mod security;
pub mod sessions;
pub mod state;
pub mod tokens;
pub mod users;

use std::sync::Arc;

use axum::{
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use leptos::{config::LeptosOptions, prelude::use_context};
use leptos_axum::ResponseOptions;

use crate::error::{AuthError, ErrorBody};
pub use middleware::Authn;
pub use state::{AppState, AppStateInner};

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match &self {
            AuthError::RateLimited { retry_after } => Some(retry_after.to_string()),
            AuthError::Busy => Some("1".to_owned()),
            _ => None,
        };
        let mut response = (status, Json(ErrorBody::from(self))).into_response();
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// Builds the application state: database (migrated), keys, hasher, revocation list.
///
/// # Errors
/// A readable message naming what could not be set up.
pub async fn build_state(
    config: config::Config,
    leptos_options: LeptosOptions,
) -> Result<AppState, String> {
    let db = db::connect(&config).await?;
    let key = keys::load(&config.key_source)?;
    let previous = keys::load_previous(&config.previous_key_files)?;
    let tokens = tokens::TokenService::new(
        key,
        previous,
        config.jwt_issuer.clone(),
        config.jwt_audience.clone(),
        config.access_ttl,
        config.jwt_leeway,
    )?;
    let hasher =
        password::PasswordHasher::new(config.argon2, config.hash_concurrency, config.hash_queue)?;
    let window = revocation_window(&config);
    let revoked = state::RevocationList::load(&db, window)
        .await
        .map_err(|e| e.to_string())?;
    let standing = state::StandingChanges::load(&db, window)
        .await
        .map_err(|e| e.to_string())?;
    let limiter = limits::RateLimiter::new(config.limits);
    Ok(AppState::new(AppStateInner {
        config: Arc::new(config),
        db,
        tokens: Arc::new(tokens),
        hasher,
        revoked,
        standing,
        limiter,
        leptos_options,
    }))
}

/// How long a revocation must be remembered: as long as an access token can live.
#[must_use]
pub fn revocation_window(config: &config::Config) -> i64 {
    i64::try_from((config.access_ttl + config.jwt_leeway).as_secs()).unwrap_or(i64::MAX) + 60
}

/// The state, from the Leptos context of a server function or render.
///
/// # Errors
/// [`AuthError::Internal`] when called outside a request (a wiring bug, logged).
pub fn app_state() -> Result<AppState, AuthError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AuthError::Internal
    })
}

/// The request's authentication outcome, from the Leptos context.
#[must_use]
pub fn request_authn() -> Authn {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Authn>().cloned())
        .unwrap_or(Authn(Err(AuthError::TokenMissing)))
}

/// The device summary of the current request, from the Leptos context.
#[must_use]
pub fn request_device() -> sessions::Device {
    use_context::<http::request::Parts>()
        .map(|parts| {
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0);
            middleware::device(&parts.headers, peer)
        })
        .unwrap_or_default()
}

/// Sets the HTTP status for a server-function error and returns the error.
#[must_use]
pub fn respond(err: AuthError) -> AuthError {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    err
}

/// Adds `Set-Cookie` headers to the current server-function or page response.
pub fn set_response_cookies(values: Vec<HeaderValue>) {
    if let Some(options) = use_context::<ResponseOptions>() {
        for value in values {
            options.append_header(http::header::SET_COOKIE, value);
        }
        options.insert_header(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
}
