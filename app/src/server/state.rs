//! The one state struct, built once at start-up and shared by the JSON API,
//! the server functions (through Leptos context) and the middleware.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{
    config::Config,
    db::db_err,
    entity::{session, user},
    password::PasswordHasher,
    tokens::TokenService,
};
use crate::{error::AuthError, policy::Role};

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
    pub limiter: super::limits::RateLimiter,
    pub leptos_options: LeptosOptions,
}

/// Sessions revoked while access tokens for them may still be alive, held in
/// memory so that checking a token never needs a database query.
#[derive(Clone, Default)]
pub struct RevocationList {
    inner: Arc<RwLock<HashMap<Uuid, i64>>>,
}

impl RevocationList {
    /// Loads the sessions revoked within the last `window_secs` (an access token's lifetime).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load(db: &DatabaseConnection, window_secs: i64) -> Result<Self, AuthError> {
        let since = chrono::Utc::now() - chrono::Duration::seconds(window_secs);
        let rows: Vec<(Uuid, Option<chrono::DateTime<chrono::Utc>>)> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::RevokedAt)
            .filter(session::Column::RevokedAt.gt(since))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let map = rows
            .into_iter()
            .map(|(id, at)| (id, at.map_or(0, |t| t.timestamp())))
            .collect();
        Ok(Self {
            inner: Arc::new(RwLock::new(map)),
        })
    }

    /// Records the sessions revoked since `since` (by this or another instance).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load_since(
        &self,
        db: &DatabaseConnection,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, AuthError> {
        let ids: Vec<Uuid> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::RevokedAt.gt(since))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let count = ids.len();
        self.insert_all(ids);
        Ok(count)
    }

    /// Whether tokens of this session must be refused.
    #[must_use]
    pub fn contains(&self, session_id: Uuid) -> bool {
        self.inner
            .read()
            .map(|m| m.contains_key(&session_id))
            .unwrap_or(true)
    }

    /// Records revoked sessions.
    pub fn insert_all(&self, ids: impl IntoIterator<Item = Uuid>) {
        let now = chrono::Utc::now().timestamp();
        if let Ok(mut map) = self.inner.write() {
            map.extend(ids.into_iter().map(|id| (id, now)));
        }
    }

    /// Forgets revocations older than `window_secs`: no token of theirs can still be alive.
    pub fn prune(&self, window_secs: i64) {
        let cutoff = chrono::Utc::now().timestamp() - window_secs;
        if let Ok(mut map) = self.inner.write() {
            map.retain(|_, at| *at >= cutoff);
        }
    }
}

/// A user's current authority, as the database holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub disabled: bool,
}

/// Users whose role or disabled flag changed recently, held in memory so that
/// a live access token follows a demotion or a disable at once (its `role`
/// claim is only what was true when it was issued) without a query per request.
#[derive(Clone, Default)]
pub struct StandingChanges {
    inner: Arc<RwLock<HashMap<Uuid, (Standing, i64)>>>,
}

impl StandingChanges {
    /// Loads the users whose authority changed within the last `window_secs`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load(db: &DatabaseConnection, window_secs: i64) -> Result<Self, AuthError> {
        let changes = Self::default();
        changes
            .load_since(
                db,
                chrono::Utc::now() - chrono::Duration::seconds(window_secs),
            )
            .await?;
        Ok(changes)
    }

    /// Records the changes made since `since` (by this or another instance).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load_since(
        &self,
        db: &DatabaseConnection,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, AuthError> {
        let rows: Vec<(Uuid, String, bool)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Role)
            .column(user::Column::Disabled)
            .filter(user::Column::AuthzChangedAt.gt(since))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let count = rows.len();
        for (id, role, disabled) in rows {
            self.record(
                id,
                Standing {
                    role: Role::parse(&role).unwrap_or_default(),
                    disabled,
                },
            );
        }
        Ok(count)
    }

    /// The user's current standing, if it changed recently.
    #[must_use]
    pub fn get(&self, user_id: Uuid) -> Option<Standing> {
        self.inner
            .read()
            .ok()
            .and_then(|m| m.get(&user_id).map(|(standing, _)| *standing))
    }

    /// Records a change made now.
    pub fn record(&self, user_id: Uuid, standing: Standing) {
        let now = chrono::Utc::now().timestamp();
        if let Ok(mut map) = self.inner.write() {
            map.insert(user_id, (standing, now));
        }
    }

    /// Forgets changes older than `window_secs`: every token issued before them has expired.
    pub fn prune(&self, window_secs: i64) {
        let cutoff = chrono::Utc::now().timestamp() - window_secs;
        if let Ok(mut map) = self.inner.write() {
            map.retain(|_, (_, at)| *at >= cutoff);
        }
    }
}
