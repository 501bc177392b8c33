//! The JSON API: the same operations as the server functions, for scripts,
//! tests and other clients. Errors are `{"error": code, "message": text}`.

use app::{
    auth::{LogoutScope, SignedIn, User},
    error::AuthError,
    policy::Role,
    server::{cookies, middleware::device, sessions, users, AppState, Authn},
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
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<User>), AuthError> {
    let user = users::register(
        &state.db,
        &state.hasher,
        body.username.trim(),
        body.password.into(),
        Role::User,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/auth/login` → 200 `{user, access_expires_at}` and the token cookies.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AuthError> {
    let user = users::authenticate(
        &state.db,
        &state.hasher,
        body.username.trim(),
        body.password.into(),
    )
    .await?;
    let issued = sessions::start(&state, &user, device(&headers, Some(peer))).await?;
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
