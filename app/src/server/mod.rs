//! Everything that runs only on the server: configuration, database, password
//! hashing, tokens, sessions and the HTTP glue. Compiled with the `ssr` feature only.

pub mod admin;
pub mod authentication;
pub mod entity;
pub mod platform;
pub mod sessions;
pub mod web;

use std::sync::Arc;

use leptos::config::LeptosOptions;

use authentication::{keys, password, standing::StandingChanges, tokens};
pub use platform::state::{AppState, AppStateInner};
use platform::{config, db, limits};
use sessions::revocation::RevocationList;
pub use web::authenticate::Authn;

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
    let revoked = RevocationList::load(&db, window)
        .await
        .map_err(|e| e.to_string())?;
    let standing = StandingChanges::load(&db, window)
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
