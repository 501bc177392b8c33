//! Sessions revoked while their access tokens may still be alive, kept in
//! memory so that checking a token never needs a database query. Other
//! instances learn of revocations by polling (`server::maintenance`).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    error::AuthError,
    server::{entity::session, platform::db::db_err},
};

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
