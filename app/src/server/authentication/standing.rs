//! Users whose role or disabled flag changed recently, kept in memory so a
//! live access token follows a demotion or a disable at once. Changes made
//! by any instance arrive through the change feed (`sessions::feed`).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    error::AuthError,
    policy::Role,
    server::{entity::user, platform::db::db_err},
};

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
    /// Loads the users whose authority changed since `since` (start-up: the
    /// last access-token lifetime, by the database's clock).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn load(
        db: &DatabaseConnection,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AuthError> {
        let changes = Self::default();
        changes
            .read(db, user::Column::AuthzChangedAt.gt(since))
            .await?;
        Ok(changes)
    }

    /// Records the current standing of `ids` (users the change feed named).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the database cannot be read.
    pub async fn refresh_users(
        &self,
        db: &DatabaseConnection,
        ids: Vec<Uuid>,
    ) -> Result<(), AuthError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.read(db, user::Column::Id.is_in(ids)).await
    }

    async fn read(
        &self,
        db: &DatabaseConnection,
        filter: sea_orm::sea_query::SimpleExpr,
    ) -> Result<(), AuthError> {
        let rows: Vec<(Uuid, user::StoredRole, bool)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Role)
            .column(user::Column::Disabled)
            .filter(filter)
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        for (id, role, disabled) in rows {
            self.record(
                id,
                Standing {
                    role: Role::from(role),
                    disabled,
                },
            );
        }
        Ok(())
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
