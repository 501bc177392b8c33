//! `POST /api/token` and `GET /.well-known/jwks.json`: what mobile apps and
//! services use. No cookies: tokens travel in the body and in `Authorization`.

use app::{
    error::AuthError,
    server::{
        platform::limits::Bucket,
        sessions,
        web::{context::RequestContext, response::ApiError},
    },
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::ApiBytes;
use app::server::AppState;

/// The body of `POST /api/token` (JSON or form-encoded, as OAuth 2 clients send it).
#[derive(Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    Password { username: String, password: String },
    RefreshToken { refresh_token: String },
}

/// `POST /api/token`: the token endpoint for non-browser clients, shaped like
/// OAuth 2's. `{"grant_type":"password","username","password"}` or
/// `{"grant_type":"refresh_token","refresh_token"}` →
/// `{"access_token","refresh_token","token_type":"Bearer","expires_in"}`.
/// The same session service as the cookies: rotation, grace and reuse detection.
pub async fn token(
    ctx: RequestContext,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let state = &ctx.state;
    state
        .limiter
        .hit(Bucket::Token, ctx.device().ip_addr())
        .await?;
    let request = parse_request(&headers, &body)?;
    let device = ctx.device();
    let issued = match request {
        TokenRequest::Password { username, password } => {
            sessions::sign_in(state, &username, password.into(), device).await?
        }
        TokenRequest::RefreshToken { refresh_token } => {
            sessions::refresh(state, &refresh_token, device).await?
        }
    };
    let now = chrono::Utc::now().timestamp();
    let mut response = Json(serde_json::json!({
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "Bearer",
        "expires_in": (issued.access_expires_at - now).max(0),
        "refresh_expires_in": (issued.refresh_expires_at - now).max(0),
    }))
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The body as JSON or form-encoded, by its `Content-Type`. Anything else
/// (`text/plain`, none at all: what a page elsewhere can send without a CORS
/// preflight) is refused before any credential is looked at.
fn parse_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, AuthError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/json") => {
            serde_json::from_slice(body).map_err(|e| token_request_error(&e.to_string()))
        }
        Some("application/x-www-form-urlencoded") => {
            serde_urlencoded::from_bytes(body).map_err(|e| token_request_error(&e.to_string()))
        }
        _ => Err(AuthError::BadRequest(
            "Send the body as JSON (Content-Type: application/json) or form-encoded \
             (application/x-www-form-urlencoded)."
                .into(),
        )),
    }
}

fn token_request_error(detail: &str) -> AuthError {
    AuthError::BadRequest(format!(
        "Send grant_type=password with username and password, or \
         grant_type=refresh_token with refresh_token ({detail})."
    ))
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens
/// (the signing key and any retired key still in its overlap window).
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.tokens.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
