//! `/api/auth/*` and `/api/me`: the browser flows for clients that speak JSON.

use app::{
    auth::{LogoutScope, PasswordChanged, SignedIn, User},
    error::AuthError,
    operations::Operation,
    server::{
        authentication::users,
        sessions,
        web::{context::RequestContext, flows, response::ApiError},
    },
};
use axum::{extract::Path, http::StatusCode, response::Response, Json};
use serde::Deserialize;

use super::{parse_id, ApiBytes, ApiJson};

/// `{"username", "password"}`.
#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `{"scope": "local" | "others" | "global"}`.
#[derive(Deserialize, Default)]
pub struct LogoutRequest {
    #[serde(default)]
    scope: LogoutScope,
}

/// `{"current_password", "new_password", "sign_out_others"}` (the last defaults to false).
#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
    #[serde(default)]
    sign_out_others: bool,
}

/// `POST /api/auth/register` → 201 `{id, username, role}`.
pub async fn register(
    ctx: RequestContext,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = users::register_user(
        &ctx.state,
        &body.username,
        body.password.into(),
        &ctx.device(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/auth/login` → 200 `{user, access_expires_at}` and the token cookies.
pub async fn login(ctx: RequestContext, ApiJson(body): ApiJson<Credentials>) -> Response {
    flows::sign_in(&ctx, &body.username, body.password.into())
        .await
        .into_response(|issued| Json(SignedIn::from(&issued)))
}

/// `POST /api/auth/refresh`: rotates the refresh cookie and issues a new access token.
pub async fn refresh(ctx: RequestContext) -> Response {
    flows::refresh(&ctx)
        .await
        .into_response(|issued| Json(SignedIn::from(&issued)))
}

/// `POST /api/auth/logout` with `{"scope": ...}` (default `local`) → 204: ends
/// sessions and clears the cookies.
pub async fn logout(ctx: RequestContext, ApiBytes(body): ApiBytes) -> Response {
    // The body is optional: an empty one means `{"scope": "local"}`.
    let scope = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(LogoutScope::Local)
    } else {
        serde_json::from_slice::<LogoutRequest>(&body)
            .map(|r| r.scope)
            .map_err(|e| {
                AuthError::BadRequest(format!("The JSON body is not a logout request: {e}"))
            })
    };
    match scope {
        Ok(scope) => flows::sign_out(&ctx, scope)
            .await
            .into_response(|_| StatusCode::NO_CONTENT),
        Err(err) => axum::response::IntoResponse::into_response(ApiError(err)),
    }
}

/// `POST /api/auth/password` → 200 `{signed_out_others}`; this session stays signed in.
pub async fn change_password(
    ctx: RequestContext,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Response {
    flows::change_password(
        &ctx,
        body.current_password.into(),
        body.new_password.into(),
        body.sign_out_others,
    )
    .await
    .into_response(|changed: PasswordChanged| Json(changed))
}

/// `GET /api/me` → `{id, username, role}`.
pub async fn me(ctx: RequestContext) -> Result<Json<User>, ApiError> {
    let authz = ctx.authorize(Operation::Me)?;
    Ok(Json(User::from(authz.own()?)))
}

/// `GET /api/auth/sessions` → `{"sessions": [{id, created_at, last_used_at, user_agent, ip, current}]}`.
pub async fn list_sessions(ctx: RequestContext) -> Result<Json<serde_json::Value>, ApiError> {
    let authz = ctx.authorize(Operation::ListSessions)?;
    let sessions = sessions::describe(&ctx.state, &authz).await?;
    Ok(Json(serde_json::json!({ "sessions": sessions })))
}

/// `DELETE /api/auth/sessions/{id}` → 204: signs that device out.
pub async fn revoke_session(
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let authz = ctx.authorize(Operation::RevokeSession)?;
    sessions::revoke_own(&ctx.state, &authz, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
