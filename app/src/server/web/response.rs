//! How an [`AuthError`] becomes an HTTP response: its status, the JSON
//! envelope, and `Retry-After` for the errors that have one. [`ApiError`] is
//! only the response form of the one error type (the orphan rule keeps axum's
//! trait off a type of the shared crate); `?` converts.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    Json,
};

use crate::error::{AuthError, ErrorBody};

/// An [`AuthError`] on its way out as a JSON response.
#[derive(Debug)]
pub struct ApiError(pub AuthError);

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        Self(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (status(&self.0), Json(ErrorBody::from(self.0.clone()))).into_response();
        add_retry_after(&mut response, &self.0);
        response
    }
}

/// The error's HTTP status.
#[must_use]
pub fn status(err: &AuthError) -> StatusCode {
    StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A page load that failed for a reason other than the session being over
/// (a limit, a busy hasher, the database): its own status and a short page
/// that says so, the cookies untouched, so the visitor stays signed in and
/// simply tries again.
#[must_use]
pub fn error_page(err: &AuthError) -> Response {
    let message = err
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Try again · Portcullis</title></head><body><main>\
         <h1>Please try again</h1><p>{message}</p><p><a href=\"\">Reload the page</a></p>\
         </main></body></html>"
    );
    let mut response = (status(err), Html(body)).into_response();
    add_retry_after(&mut response, err);
    response
}

fn add_retry_after(response: &mut Response, err: &AuthError) {
    let Some(seconds) = err.retry_after() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// What a panic in a handler becomes: the same 500 envelope as any internal
/// error. The panic's message goes to the log, never into the response.
#[must_use]
pub fn panic_response(panic: &(dyn std::any::Any + Send)) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    ApiError(AuthError::Internal).into_response()
}
