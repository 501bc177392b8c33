//! Database schema for Portcullis, applied at start-up (`Migrator::up`).
//!
//! The same migrations run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_users;
mod m20261123_000002_sessions;
mod m20261123_000003_user_authz;
mod m20261201_000004_instances;
mod m20261201_000005_user_search;

/// All migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_users::Migration),
            Box::new(m20261123_000002_sessions::Migration),
            Box::new(m20261123_000003_user_authz::Migration),
            Box::new(m20261201_000004_instances::Migration),
            Box::new(m20261201_000005_user_search::Migration),
        ]
    }
}
