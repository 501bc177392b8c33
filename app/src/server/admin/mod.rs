//! User administration: listing, role changes, disabling and revoking sessions.
//!
//! Every change that could leave the deployment without an admin is a
//! conditional `UPDATE` ("... and another enabled admin exists"), run so that
//! such changes take turns (SQLite has one writer; on PostgreSQL a transaction
//! advisory lock), so two admins demoting each other at once cannot both succeed.

pub mod accounts;

use sea_orm::{
    sea_query::{Alias, Expr, LikeExpr, Query},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::server::{
    authentication::authorized::Authorized, authentication::standing::Standing,
    authentication::users, entity::user, platform::db::db_err, platform::state::AppState, sessions,
};
use crate::{
    admin::{AdminUser, UserPage},
    error::AuthError,
    operations::Operation,
    policy::Role,
};

/// Page size when the caller does not choose one.
pub const DEFAULT_PER_PAGE: u64 = 20;
/// The largest page a caller may ask for.
pub const MAX_PER_PAGE: u64 = 100;
/// The highest page number: the offset stays far inside what a database
/// parameter can hold (`u64::MAX` once overflowed the bind and dropped the
/// connection).
pub const MAX_PAGE: u64 = 1_000_000;

/// One page of users whose name contains `query` (case-insensitive), by name.
///
/// # Errors
/// [`AuthError::BadRequest`] for a page outside 1..=[`MAX_PAGE`] or a size
/// outside 1..=[`MAX_PER_PAGE`];
/// [`AuthError::Internal`] on a database failure.
pub async fn list_users(
    state: &AppState,
    authz: &Authorized,
    query: &str,
    page: u64,
    per_page: u64,
) -> Result<UserPage, AuthError> {
    authz.expect(Operation::ListUsers)?;
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(AuthError::BadRequest(format!(
            "`page` must be between 1 and {MAX_PAGE}."
        )));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AuthError::BadRequest(format!(
            "`per_page` must be between 1 and {MAX_PER_PAGE}."
        )));
    }
    if query.chars().any(char::is_control) {
        // PostgreSQL refuses a NUL in text (SQLSTATE 22021): a bad request,
        // said so here rather than met as a database error.
        return Err(AuthError::BadRequest(
            "`q` must not contain control characters.".into(),
        ));
    }
    let query: String = query.trim().to_lowercase().chars().take(64).collect();
    let mut select = user::Entity::find();
    if !query.is_empty() {
        select = select.filter(
            Expr::col(user::Column::UsernameKey)
                .like(LikeExpr::new(format!("%{}%", escape_like(&query))).escape('\\')),
        );
    }
    // One scan for the page and the total (`COUNT(*) OVER ()`): with a
    // million users a substring search is an index scan, and a separate
    // count would do it twice (bench/scale.sh measured 20 ms against 8).
    let rows: Vec<WithTotal> = select
        .clone()
        .column_as(Expr::cust("COUNT(*) OVER ()"), "total_matches")
        .order_by_asc(user::Column::UsernameKey)
        .offset((page - 1).saturating_mul(per_page))
        .limit(per_page)
        .into_model()
        .all(&state.db)
        .await
        .map_err(db_err)?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.total).unwrap_or(0),
        // Past the last page: no row to carry the total, so count.
        None => select.count(&state.db).await.map_err(db_err)?,
    };
    Ok(UserPage {
        users: rows.iter().map(|r| AdminUser::from(&r.user)).collect(),
        total,
        page,
        per_page,
    })
}

/// A user row with the number of rows the search matched in all.
struct WithTotal {
    user: user::Model,
    total: i64,
}

impl sea_orm::FromQueryResult for WithTotal {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            user: user::Model::from_query_result(row, pre)?,
            total: row.try_get(pre, "total_matches")?,
        })
    }
}

/// Gives a user another role. Live access tokens follow at once.
///
/// # Errors
/// [`AuthError::NotFound`], [`AuthError::LastAdmin`] when this would leave no
/// enabled admin, [`AuthError::Internal`].
pub async fn set_role(
    state: &AppState,
    authz: &Authorized,
    id: Uuid,
    role: Role,
) -> Result<AdminUser, AuthError> {
    authz.expect(Operation::SetRole)?;
    let target = find(state, id).await?;
    if current_role(&target) == role {
        return Ok(AdminUser::from(&target));
    }
    let removes_admin = is_active_admin(&target) && role != Role::Admin;
    let updated = change(
        state,
        &target,
        removes_admin,
        user::Column::Role,
        Expr::value(user::StoredRole::from(role)),
    )
    .await?;
    tracing::info!(
        actor = %authz.actor_id(),
        target = %id,
        from = current_role(&target).as_str(),
        to = role.as_str(),
        "role changed"
    );
    Ok(updated)
}

/// Disables or re-enables a user. Disabling ends every session of theirs at
/// once; their sign-in then fails with the generic error.
///
/// # Errors
/// [`AuthError::NotFound`], [`AuthError::LastAdmin`], [`AuthError::Internal`].
pub async fn set_disabled(
    state: &AppState,
    authz: &Authorized,
    id: Uuid,
    disabled: bool,
) -> Result<AdminUser, AuthError> {
    authz.expect(Operation::SetDisabled)?;
    let target = find(state, id).await?;
    if target.disabled == disabled {
        return Ok(AdminUser::from(&target));
    }
    let removes_admin = disabled && is_active_admin(&target);
    let updated = change(
        state,
        &target,
        removes_admin,
        user::Column::Disabled,
        Expr::value(disabled),
    )
    .await?;
    let ended = if disabled {
        sessions::revoke_all(state, id, "disabled").await?
    } else {
        0
    };
    tracing::info!(actor = %authz.actor_id(), target = %id, disabled, ended, "user standing changed");
    Ok(updated)
}

/// Signs a user out everywhere. Returns how many sessions ended.
///
/// # Errors
/// [`AuthError::NotFound`], [`AuthError::Internal`].
pub async fn revoke_sessions(
    state: &AppState,
    authz: &Authorized,
    id: Uuid,
) -> Result<u64, AuthError> {
    authz.expect(Operation::RevokeUserSessions)?;
    find(state, id).await?;
    let ended = sessions::revoke_all(state, id, "revoked_by_admin").await?;
    tracing::info!(actor = %authz.actor_id(), target = %id, ended, "sessions revoked by an admin");
    Ok(ended)
}

/// Applies one column change, guarded so it cannot remove the last enabled
/// admin, stamps `authz_changed_at` and tells the in-memory standing map.
async fn change(
    state: &AppState,
    target: &user::Model,
    removes_admin: bool,
    column: user::Column,
    value: sea_orm::sea_query::SimpleExpr,
) -> Result<AdminUser, AuthError> {
    let mut update = user::Entity::update_many()
        .col_expr(column, value)
        .col_expr(user::Column::AuthzChangedAt, Expr::value(state.clock.now()))
        .filter(user::Column::Id.eq(target.id));
    if removes_admin {
        update = update.filter(Expr::exists(another_active_admin(target.id)));
    }
    let txn = state.db.begin().await.map_err(db_err)?;
    if removes_admin && txn.get_database_backend() == DbBackend::Postgres {
        // Under READ COMMITTED two admins demoting each other would each still
        // see the other as an admin; this lock makes such changes take turns.
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7202611)")
            .await
            .map_err(db_err)?;
    }
    let result = update.exec(&txn).await.map_err(db_err)?;
    txn.commit().await.map_err(db_err)?;
    if result.rows_affected != 1 {
        return Err(if removes_admin {
            AuthError::LastAdmin
        } else {
            AuthError::NotFound
        });
    }
    let updated = find(state, target.id).await?;
    state.standing.record(
        updated.id,
        Standing {
            role: current_role(&updated),
            disabled: updated.disabled,
        },
    );
    Ok(AdminUser::from(&updated))
}

/// `SELECT 1 FROM users other WHERE other.role = 'admin' AND NOT other.disabled AND other.id <> $id`
fn another_active_admin(id: Uuid) -> sea_orm::sea_query::SelectStatement {
    let other = Alias::new("other");
    Query::select()
        .expr(Expr::val(1))
        .from_as(user::Entity, other.clone())
        .and_where(Expr::col((other.clone(), user::Column::Role)).eq(user::StoredRole::Admin))
        .and_where(Expr::col((other.clone(), user::Column::Disabled)).eq(false))
        .and_where(Expr::col((other, user::Column::Id)).ne(id))
        .to_owned()
}

async fn find(state: &AppState, id: Uuid) -> Result<user::Model, AuthError> {
    users::find(&state.db, id).await?.ok_or(AuthError::NotFound)
}

fn current_role(model: &user::Model) -> Role {
    Role::from(model.role)
}

fn is_active_admin(model: &user::Model) -> bool {
    current_role(model) == Role::Admin && !model.disabled
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
        assert_eq!(escape_like("alice"), "alice");
    }
}
