//! The JSON API: the same operations as the server functions, for scripts,
//! tests and other clients. Errors are `{"error": code, "message": text}`.

use app::{
    auth::{LogoutScope, PasswordChanged, SignedIn, User},
    error::AuthError,
    policy::Permission,
    server::{account, cookies, middleware::device, sessions, users, AppState, Authn},
};
use axum::{
    extract::{rejection::JsonRejection, ConnectInfo, FromRequest, Path, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::Deserialize;
use std::net::SocketAddr;

/// `Json<T>` whose rejections are our 400 `bad_request` envelope, never axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(bad_json(&rejection)),
        }
    }
}

fn bad_json(rejection: &JsonRejection) -> AuthError {
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Send the body as JSON (Content-Type: application/json).".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "The request body is not valid JSON.".to_owned(),
        JsonRejection::JsonDataError(err) => format!(
            "The JSON body is missing or has wrong fields: {}",
            err.body_text()
        ),
        other => other.body_text(),
    };
    AuthError::BadRequest(message)
}

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

/// `POST /api/auth/register` → 201 `{id, username, role}`.
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<User>), AuthError> {
    let device = device(&headers, Some(peer));
    let user = users::register_user(&state, &body.username, body.password.into(), &device).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/auth/login` → 200 `{user, access_expires_at}` and the token cookies.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AuthError> {
    let issued = sessions::sign_in(
        &state,
        &body.username,
        body.password.into(),
        device(&headers, Some(peer)),
    )
    .await?;
    Ok(signed_in(&state, &issued))
}

/// `POST /api/auth/refresh`: rotates the refresh cookie and issues a new access token.
pub async fn refresh(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let token = cookies::read(&headers, cookies::names(&state.config).1)
        .ok_or_else(|| AuthError::TokenMissing.into_response())?;
    match sessions::refresh(&state, token, device(&headers, Some(peer))).await {
        Ok(issued) => Ok(signed_in(&state, &issued)),
        Err(err) if err.needs_sign_in() => Err(with_cookies(
            err.into_response(),
            cookies::clear(&state.config),
        )),
        Err(err) => Err(err.into_response()),
    }
}

/// `POST /api/auth/logout` with `{"scope": ...}` (default `local`): ends sessions and clears the cookies.
pub async fn logout(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    body: axum::body::Bytes,
) -> Result<Response, AuthError> {
    // The body is optional: an empty one means `{"scope": "local"}`.
    let scope = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutScope::Local
    } else {
        serde_json::from_slice::<LogoutRequest>(&body)
            .map_err(|e| {
                AuthError::BadRequest(format!("The JSON body is not a logout request: {e}"))
            })?
            .scope
    };
    let me = authn.principal()?;
    sessions::logout(&state, me.user_id, me.session_id, scope).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if scope != LogoutScope::Others {
        response = with_cookies(response, cookies::clear(&state.config));
        response
            .headers_mut()
            .insert("clear-site-data", HeaderValue::from_static("\"cookies\""));
    }
    Ok(response)
}

/// `{"current_password", "new_password", "sign_out_others"}` (the last defaults to false).
#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
    #[serde(default)]
    sign_out_others: bool,
}

/// `POST /api/auth/password` → 200 `{signed_out_others}`; this session stays signed in.
pub async fn change_password(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<PasswordChanged>, AuthError> {
    let me = authn.require(Permission::ManageOwnAccount)?;
    let changed = account::change_password(
        &state,
        me.user_id,
        me.session_id,
        body.current_password.into(),
        body.new_password.into(),
        body.sign_out_others,
        &device(&headers, Some(peer)),
    )
    .await?;
    Ok(Json(changed))
}

/// `GET /api/me` → `{id, username, role}`.
pub async fn me(Extension(authn): Extension<Authn>) -> Result<Json<User>, AuthError> {
    let me = authn.principal()?;
    Ok(Json(User {
        id: me.user_id,
        username: me.username.clone(),
        role: me.role,
    }))
}

/// `GET /api/auth/sessions` → `{"sessions": [{id, created_at, last_used_at, user_agent, ip, current}]}`.
pub async fn list_sessions(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
) -> Result<Json<serde_json::Value>, AuthError> {
    let me = authn.principal()?;
    let sessions = sessions::describe(&state, me.user_id, me.session_id).await?;
    Ok(Json(serde_json::json!({ "sessions": sessions })))
}

/// `DELETE /api/auth/sessions/{id}` → 204: signs that device out.
pub async fn revoke_session(
    State(state): State<AppState>,
    Extension(authn): Extension<Authn>,
    Path(id): Path<String>,
) -> Result<StatusCode, AuthError> {
    let me = authn.principal()?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AuthError::NotFound)?;
    sessions::revoke_own(&state, me.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AuthError> {
    let device = device(&headers, Some(peer));
    state
        .limiter
        .hit(app::server::limits::Bucket::Token, device.ip_addr())?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let request: TokenRequest = if form {
        serde_urlencoded::from_bytes(&body).map_err(|e| token_request_error(&e.to_string()))?
    } else {
        serde_json::from_slice(&body).map_err(|e| token_request_error(&e.to_string()))?
    };
    let issued = match request {
        TokenRequest::Password { username, password } => {
            sessions::sign_in(&state, &username, password.into(), device).await?
        }
        TokenRequest::RefreshToken { refresh_token } => {
            sessions::refresh(&state, &refresh_token, device).await?
        }
    };
    let now = chrono_now();
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

fn token_request_error(detail: &str) -> AuthError {
    AuthError::BadRequest(format!(
        "Send grant_type=password with username and password, or \
         grant_type=refresh_token with refresh_token ({detail})."
    ))
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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

/// Unknown `/api/...` paths answer with the JSON envelope too.
pub async fn not_found() -> AuthError {
    AuthError::NotFound
}

fn signed_in(state: &AppState, issued: &sessions::Issued) -> Response {
    let body = SignedIn {
        user: issued.user.clone(),
        access_expires_at: issued.access_expires_at,
    };
    let response = Json(body).into_response();
    with_cookies(response, cookies::set(&state.config, issued))
}

fn with_cookies(mut response: Response, values: Vec<HeaderValue>) -> Response {
    let headers = response.headers_mut();
    for value in values {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
