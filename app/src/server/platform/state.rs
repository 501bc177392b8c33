//! The one state struct, built once at start-up and shared by the JSON API,
//! the server functions (through Leptos context) and the middleware.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use crate::server::{
    authentication::{
        device_cookie::DeviceCookies, password::PasswordHasher, standing::StandingChanges,
        tokens::TokenService,
    },
    platform::clock::Clock,
    sessions::{feed::ChangeFeed, revocation::RevocationList},
};
use crate::server::{platform::config::Config, platform::limits::RateLimiter};

/// Everything a request handler needs: one `Arc`, so the per-request clones
/// that axum's extractors and middleware make cost one atomic increment, not
/// one per field (on two busy cores those shared counters were a measurable
/// share of the hot path).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    /// Wraps the parts built at start-up.
    #[must_use]
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The parts of [`AppState`].
pub struct AppStateInner {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub tokens: Arc<TokenService>,
    pub hasher: PasswordHasher,
    pub revoked: RevocationList,
    pub standing: StandingChanges,
    pub limiter: RateLimiter,
    pub clock: Clock,
    pub feed: ChangeFeed,
    pub device_cookies: DeviceCookies,
    /// Set when SIGTERM arrives: `/readyz` answers 503 while requests drain.
    pub draining: std::sync::atomic::AtomicBool,
    pub leptos_options: LeptosOptions,
}
