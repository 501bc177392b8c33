//! `/api/admin/*`: the console's operations for scripts and other clients.
//! Each handler names its operation: anonymous callers get 401, signed-in
//! callers without the permission 403.

use app::{
    admin::{AdminUser, UserPage},
    error::{AuthError, Field},
    operations::Operation,
    policy::Role,
    server::{
        admin,
        web::{context::RequestContext, response::ApiError},
    },
};
use axum::{extract::Path, Json};
use serde::Deserialize;

use super::{parse_id, ApiJson, ApiQuery};

/// `?q=&page=&per_page=`
#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// `{"role": "admin"}`
#[derive(Deserialize)]
pub struct RoleChange {
    role: String,
}

/// `GET /api/admin/users?q=&page=&per_page=` →
/// `{"users": [{id, username, role, disabled, created_at}], "total", "page", "per_page"}`.
pub async fn list_users(
    ctx: RequestContext,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<UserPage>, ApiError> {
    let authz = ctx.authorize(Operation::ListUsers)?;
    let page = admin::list_users(
        &ctx.state,
        &authz,
        &params.q,
        params.page.unwrap_or(1),
        params.per_page.unwrap_or(admin::DEFAULT_PER_PAGE),
    )
    .await?;
    Ok(Json(page))
}

/// `POST /api/admin/users/{id}/role` with `{"role": "admin" | "user"}` → the user.
pub async fn set_role(
    ctx: RequestContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<Json<AdminUser>, ApiError> {
    let authz = ctx.authorize(Operation::SetRole)?;
    let id = parse_id(&id)?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        AuthError::invalid(
            Field::Role,
            format!("Unknown role. Use one of: {}.", names.join(", ")),
        )
    })?;
    Ok(Json(admin::set_role(&ctx.state, &authz, id, role).await?))
}

/// `POST /api/admin/users/{id}/disable` → the user (every session of theirs ends).
pub async fn disable(
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<AdminUser>, ApiError> {
    set_disabled(&ctx, &id, true).await
}

/// `POST /api/admin/users/{id}/enable` → the user.
pub async fn enable(
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<AdminUser>, ApiError> {
    set_disabled(&ctx, &id, false).await
}

/// `POST /api/admin/users/{id}/revoke-sessions` → `{"revoked": n}`.
pub async fn revoke_sessions(
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let authz = ctx.authorize(Operation::RevokeUserSessions)?;
    let revoked = admin::revoke_sessions(&ctx.state, &authz, parse_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "revoked": revoked })))
}

async fn set_disabled(
    ctx: &RequestContext,
    id: &str,
    disabled: bool,
) -> Result<Json<AdminUser>, ApiError> {
    let authz = ctx.authorize(Operation::SetDisabled)?;
    let user = admin::set_disabled(&ctx.state, &authz, parse_id(id)?, disabled).await?;
    Ok(Json(user))
}
