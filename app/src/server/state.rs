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
    config::Config, db::db_err, entity::session, password::PasswordHasher, tokens::TokenService,
};
use crate::error::AuthError;

/// Everything a request handler needs.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub tokens: Arc<TokenService>,
    pub hasher: PasswordHasher,
    pub revoked: RevocationList,
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
