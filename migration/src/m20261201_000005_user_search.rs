use sea_orm_migration::prelude::*;

/// The admin console's user search is `username_key LIKE '%q%'`: with a
/// million users a sequential scan. On PostgreSQL a trigram GIN index
/// (`pg_trgm`, a trusted extension shipped with PostgreSQL) serves any
/// substring of three characters or more. Where the extension cannot be
/// created (no privilege), the migration still succeeds and search scans.
/// `fastupdate = off`: a registration updates the index at once rather than
/// through GIN's pending list, which every search would otherwise scan
/// until vacuum merges it (search latency over insert speed: users register
/// far less often than admins search).
#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: &str = r"
DO $$ BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable: admin user search will scan';
END $$;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS idx_users_username_key_trgm
            ON users USING gin (username_key gin_trgm_ops) WITH (fastupdate = off);
    END IF;
END $$;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager.get_connection().execute_unprepared(PG_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS idx_users_username_key_trgm")
                .await?;
        }
        Ok(())
    }
}
