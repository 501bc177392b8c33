use sea_orm_migration::{prelude::*, schema::*};

/// For several instances on one database:
/// - `auth_changes`: the change feed. Triggers append a row, in the changing
///   transaction, for every session revoked and every user whose role or
///   disabled flag changed; instances read past the last sequence number they
///   applied (`app::server::sessions::feed`). On PostgreSQL the trigger takes a
///   transaction-scoped advisory lock first, so sequence numbers become visible
///   in the order they were issued, and each insert statement sends
///   `NOTIFY portcullis_changes`.
/// - `rate_limits`: abuse-limit counters shared by every instance (used on
///   PostgreSQL; a single SQLite instance counts in memory).
#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: &str = r"
CREATE OR REPLACE FUNCTION portcullis_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7243110522);
    INSERT INTO auth_changes (kind, subject) VALUES (TG_ARGV[0], NEW.id);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION portcullis_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portcullis_changes', '');
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_revoked_change AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION portcullis_record_change('session');
CREATE TRIGGER users_authz_change AFTER UPDATE OF role, disabled ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.disabled IS DISTINCT FROM NEW.disabled)
    EXECUTE FUNCTION portcullis_record_change('user');
CREATE TRIGGER auth_changes_notify AFTER INSERT ON auth_changes
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_change();
";

const SQLITE_UP: &str = r"
CREATE TRIGGER IF NOT EXISTS sessions_revoked_change AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
    BEGIN INSERT INTO auth_changes (kind, subject) VALUES ('session', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS users_authz_change AFTER UPDATE OF role, disabled ON users
    FOR EACH ROW WHEN OLD.role IS NOT NEW.role OR OLD.disabled IS NOT NEW.disabled
    BEGIN INSERT INTO auth_changes (kind, subject) VALUES ('user', NEW.id); END;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("auth_changes"))
                    .if_not_exists()
                    .col(
                        big_integer(Alias::new("seq"))
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string_len(Alias::new("kind"), 16))
                    .col(uuid(Alias::new("subject")))
                    .col(
                        timestamp_with_time_zone(Alias::new("at"))
                            .default(Expr::current_timestamp()),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("rate_limits"))
                    .if_not_exists()
                    .col(string_len(Alias::new("key"), 32).primary_key())
                    .col(timestamp_with_time_zone(Alias::new("window_start")))
                    .col(integer(Alias::new("count")))
                    .col(timestamp_with_time_zone(Alias::new("last_at")))
                    .to_owned(),
            )
            .await?;
        let sql = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => PG_UP,
            _ => SQLITE_UP,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for trigger in [
            "sessions_revoked_change ON sessions",
            "users_authz_change ON users",
        ] {
            let sql = match manager.get_database_backend() {
                sea_orm::DbBackend::Postgres => format!("DROP TRIGGER IF EXISTS {trigger}"),
                _ => format!(
                    "DROP TRIGGER IF EXISTS {}",
                    trigger.split(' ').next().unwrap_or_default()
                ),
            };
            conn.execute_unprepared(&sql).await?;
        }
        for table in ["auth_changes", "rate_limits"] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
