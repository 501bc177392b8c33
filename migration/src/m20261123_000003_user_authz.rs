use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_users::Users;

/// `users.authz_changed_at`: when the user's role or disabled flag last changed.
/// Servers load recent changes at start-up and poll for new ones (as they do for
/// `sessions.revoked_at`; both indexed for that), so live access tokens follow a
/// demotion, a disable or a revocation made by any instance.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Alias::new(
                        "authz_changed_at",
                    )))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_users_authz_changed_at")
                    .table(Users::Table)
                    .col(Alias::new("authz_changed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_sessions_revoked_at")
                    .table(Alias::new("sessions"))
                    .col(Alias::new("revoked_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("users", "idx_users_authz_changed_at"),
            ("sessions", "idx_sessions_revoked_at"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Alias::new("authz_changed_at"))
                    .to_owned(),
            )
            .await
    }
}
