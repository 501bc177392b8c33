//! The JSON API: the same operations as the server functions, for scripts,
//! mobile apps and other services. Errors are `{"error": code, "message": text}`.
//! Handlers are adapters: the [`RequestContext`] extractor, one
//! `authorize(Operation::…)` or flow, one service call.
//!
//! [`RequestContext`]: app::server::web::context::RequestContext

pub mod admin;
pub mod auth;
pub mod health;
pub mod token;

use app::{error::AuthError, server::web::response::ApiError};
use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts, Query, Request,
    },
    http::request::Parts,
    Json,
};

/// `Json<T>` whose rejections are our 400 `bad_request` envelope, never axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(bad_json(&rejection).into()),
        }
    }
}

fn bad_json(rejection: &JsonRejection) -> AuthError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return AuthError::TooLarge;
    }
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

/// The raw body, whose rejections (too large, cut off) are our envelope.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AuthError::TooLarge.into())
            }
            Err(rejection) => Err(AuthError::BadRequest(rejection.body_text()).into()),
        }
    }
}

/// `Query<T>` whose rejections are our 400 `bad_request` envelope.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                AuthError::BadRequest(format!("Bad query string: {}", rejection.body_text())).into()
            })
    }
}

/// Unknown `/api/...` paths answer with the JSON envelope too.
pub async fn not_found() -> ApiError {
    AuthError::NotFound.into()
}

/// A malformed id names nothing: 404, like an unknown one.
///
/// # Errors
/// [`AuthError::NotFound`].
pub fn parse_id(raw: &str) -> Result<uuid::Uuid, AuthError> {
    uuid::Uuid::parse_str(raw).map_err(|_| AuthError::NotFound)
}
