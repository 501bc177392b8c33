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

use super::{
    authenticate, csrf, guard,
    response::{panic_response, ApiError},
    resume,
};
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
    let mut response = finish_in_time(&state, handled).await;
    // The resume's cookies go on whatever the answer is, a 503 or a 500
    // included: it has rotated the refresh token already, and a browser
    // left with the old one would later look like a thief replaying it.
    let out = response.headers_mut();
    for (name, value) in headers {
        out.append(name, value);
    }
    response
}

/// The handler's answer; or, when it cannot finish within `REQUEST_TIMEOUT`
/// (a database that accepts connections but never answers), 503
/// `unavailable`; or, when it panics, 500 `internal` (logged). Both are
/// caught here rather than only by the outer layers so that the caller can
/// still attach the cookies a resume set.
async fn finish_in_time(
    state: &AppState,
    handled: impl std::future::Future<Output = Response>,
) -> Response {
    use futures::FutureExt;
    let timeout = state.config.request_timeout;
    match tokio::time::timeout(
        timeout,
        std::panic::AssertUnwindSafe(handled).catch_unwind(),
    )
    .await
    {
        Ok(Ok(response)) => response,
        Ok(Err(panic)) => panic_response(panic.as_ref()),
        Err(_) => {
            tracing::warn!(?timeout, "request timed out");
            ApiError(AuthError::Unavailable {
                retry_after: OUTAGE_RETRY_AFTER,
            })
            .into_response()
        }
    }
}
