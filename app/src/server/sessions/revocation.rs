//! Sessions revoked while their access tokens may still be alive, kept in
//! memory so that checking a token never needs a database query. Revocations
//! made by any instance arrive through the change feed (`sessions::feed`).

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
    /// Loads the sessions revoked since `since` (start-up: the last
    /// access-token lifetime, by the database's clock).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load(
        db: &DatabaseConnection,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AuthError> {
        let ids: Vec<Uuid> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::RevokedAt.gt(since))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let list = Self::default();
        list.insert_all(ids);
        Ok(list)
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
