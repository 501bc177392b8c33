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

use authentication::{
    device_cookie::DeviceCookies, keys, password, standing::StandingChanges, tokens,
};
pub use platform::state::{AppState, AppStateInner};
use platform::{clock::Clock, config, db, limits, limits::store::CounterStore};
use sessions::{feed::ChangeFeed, revocation::RevocationList};
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
    let clock = Clock::new(config.test_clock_offset);
    clock.calibrate(&db).await.map_err(|e| e.to_string())?;
    let key = keys::load(&config.key_source)?;
    let device_cookies = DeviceCookies::new(key.derived_secret);
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
    // The feed's position first, then what was revoked recently: a change
    // landing between the two is read twice, never missed.
    let feed = ChangeFeed::start(&db).await.map_err(|e| e.to_string())?;
    let since = clock.now() - chrono::Duration::seconds(revocation_window(&config));
    let revoked = RevocationList::load(&db, since)
        .await
        .map_err(|e| e.to_string())?;
    let standing = StandingChanges::load(&db, since)
        .await
        .map_err(|e| e.to_string())?;
    let limiter = limits::RateLimiter::new(config.limits, CounterStore::for_database(&db));
    Ok(AppState::new(AppStateInner {
        config: Arc::new(config),
        db,
        tokens: Arc::new(tokens),
        hasher,
        revoked,
        standing,
        limiter,
        clock,
        feed,
        device_cookies,
        draining: std::sync::atomic::AtomicBool::new(false),
        leptos_options,
    }))
}

/// How long a revocation must be remembered: as long as an access token can live.
#[must_use]
pub fn revocation_window(config: &config::Config) -> i64 {
    i64::try_from((config.access_ttl + config.jwt_leeway).as_secs()).unwrap_or(i64::MAX) + 60
}
