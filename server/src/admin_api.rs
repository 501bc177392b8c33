//! The admin JSON API: the console's operations for scripts and other clients.
//! Every handler asks the shared policy for `ManageUsers` first: anonymous
//! callers get 401, signed-in callers without the permission 403.

use app::{
    admin::{AdminUser, UserPage},
    error::{AuthError, Field},
    policy::{Permission, Role},
    server::{admin, AppState, Authn},
};
use axum::{
    extract::{rejection::QueryRejection, FromRequestParts, Path, Query, State},
    http::request::Parts,
    Extension, Json,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::ApiJson;

/// `Query<T>` whose rejections are our 400 `bad_request` envelope.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                AuthError::BadRequest(format!("Bad query string: {}", rejection.body_text()))
            })
    }
}

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
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<UserPage>, AuthError> {
    authn.require(Permission::ManageUsers)?;
    let page = admin::list_users(
        &state,
        &params.q,
        params.page.unwrap_or(1),
        params.per_page.unwrap_or(admin::DEFAULT_PER_PAGE),
    )
    .await?;
    Ok(Json(page))
}

/// `POST /api/admin/users/{id}/role` with `{"role": "admin" | "user"}` → the user.
pub async fn set_role(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<Json<AdminUser>, AuthError> {
    let me = authn.require(Permission::ManageUsers)?;
    let id = user_id(&id)?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        AuthError::invalid(
            Field::Role,
            format!("Unknown role. Use one of: {}.", names.join(", ")),
        )
    })?;
    Ok(Json(admin::set_role(&state, me, id, role).await?))
}

/// `POST /api/admin/users/{id}/disable` → the user (every session of theirs ends).
pub async fn disable(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    Path(id): Path<String>,
) -> Result<Json<AdminUser>, AuthError> {
    let me = authn.require(Permission::ManageUsers)?;
    Ok(Json(
        admin::set_disabled(&state, me, user_id(&id)?, true).await?,
    ))
}

/// `POST /api/admin/users/{id}/enable` → the user.
pub async fn enable(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    Path(id): Path<String>,
) -> Result<Json<AdminUser>, AuthError> {
    let me = authn.require(Permission::ManageUsers)?;
    Ok(Json(
        admin::set_disabled(&state, me, user_id(&id)?, false).await?,
    ))
}

/// `POST /api/admin/users/{id}/revoke-sessions` → `{"revoked": n}`.
pub async fn revoke_sessions(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, AuthError> {
    let me = authn.require(Permission::ManageUsers)?;
    let revoked = admin::revoke_sessions(&state, me, user_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "revoked": revoked })))
}

/// A malformed id names no user: 404, like an unknown one.
fn user_id(raw: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(raw).map_err(|_| AuthError::NotFound)
}
