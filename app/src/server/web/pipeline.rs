//! The request pipeline, one middleware run before every handler: the four
//! layers in their order, each a function in its own file.
//!
//! 1. [`csrf`](super::csrf): refuse cross-site state changes;
//! 2. [`authenticate`](super::authenticate): who is calling;
//! 3. [`resume`](super::resume): page loads resume an expired session;
//! 4. [`guard`](super::guard): pages ask the policy.
//!
//! They are plain functions called in sequence rather than four tower layers:
//! each layer would box the request's future once more, and the hot path has a
//! budget (README, "The cost of each layer").

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{authenticate, csrf, guard, response::ApiError, resume};
use crate::{
    error::AuthError,
    server::platform::{db::OUTAGE_RETRY_AFTER, state::AppState},
};

/// Axum middleware: CSRF, authentication, resume, page guard; then the handler.
pub async fn pipeline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(err) = csrf::check(&state, &parts) {
        return ApiError(err).into_response();
    }
    let authn = authenticate::authenticate(&state, &parts.headers);
    let resumed = match resume::resume(&state, &parts, authn).await {
        Ok(resumed) => resumed,
        Err(page) => return page,
    };
    let decision = guard::decide(&parts, resumed.authn.as_ref().ok().map(|p| p.role));
    let resume::Resumed {
        authn,
        mut headers,
        ended,
    } = resumed;
    parts.extensions.insert(authenticate::Authn(authn));
    let req = Request::from_parts(parts, body);
    let handled = guard::apply(decision, &state, ended, &mut headers, req, next);
    // A request that cannot finish in time (a database that accepts
    // connections but never answers) is told to come back, not left hanging.
    let mut response = match tokio::time::timeout(state.config.request_timeout, handled).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?state.config.request_timeout, "request timed out");
            return ApiError(AuthError::Unavailable {
                retry_after: OUTAGE_RETRY_AFTER,
            })
            .into_response();
        }
    };
    let out = response.headers_mut();
    for (name, value) in headers {
        out.append(name, value);
    }
    response
}
