//! Layer 3 of the request pipeline: a page load (or a form posted without
//! JavaScript, which cannot refresh first) whose access token has expired is
//! resumed from the refresh cookie, so a reload never shows the sign-in page.
//! The refresh itself is [`flows::refresh`], the same as the SPA's.

use axum::{
    http::{header, request::Parts, HeaderName, HeaderValue, Method},
    response::Response,
};

use super::{
    authenticate::Authn,
    context::{is_page_load, wants_html, RequestContext},
    cookies, flows,
    response::error_page,
};
use crate::{
    error::AuthError,
    policy::{self, Access},
    server::{authentication::tokens::Principal, platform::state::AppState},
};

/// The authentication outcome after any resume, and what it needs the response to carry.
pub struct Resumed {
    pub authn: Result<Principal, AuthError>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The session has truly ended (revoked, expired, replayed): a page that
    /// needs sign-in says so rather than silently asking for it.
    pub ended: bool,
}

/// Resumes the session when the request is a page load with an expired or
/// missing access token and a refresh cookie.
///
/// A request carrying an `Authorization` header is never resumed from the
/// cookie: it skipped the CSRF check because it claims not to use cookies.
///
/// # Errors
/// A failure that does not end the session (a limit, a busy hasher, the
/// database) on a page that needs a signed-in visitor answers with its own
/// status and `Retry-After`, cookies kept. Public pages and form posts go on
/// unauthenticated instead, so nobody (say, everyone behind one address
/// whose refresh limit a script used up) is kept from the sign-in page.
pub async fn resume(
    state: &AppState,
    parts: &Parts,
    authn: Result<Principal, AuthError>,
) -> Result<Resumed, Response> {
    let ended = matches!(
        authn,
        Err(AuthError::SessionRevoked | AuthError::SessionExpired)
    );
    let mut resumed = Resumed {
        authn,
        headers: Vec::new(),
        ended,
    };
    let expired = matches!(
        resumed.authn,
        Err(AuthError::TokenExpired | AuthError::TokenMissing)
    );
    if !expired || !resumable(parts) || parts.headers.contains_key(header::AUTHORIZATION) {
        return Ok(resumed);
    }
    if cookies::read(&parts.headers, cookies::names(&state.config).refresh).is_none() {
        return Ok(resumed);
    }
    let ctx = RequestContext::from_parts(state, parts, Some(Authn(Err(AuthError::TokenExpired))));
    let outcome = flows::refresh(&ctx).await;
    resumed.headers = outcome.headers;
    match outcome.result {
        Ok(issued) => resumed.authn = Ok(Principal::from(&issued)),
        Err(err) if err.needs_sign_in() => resumed.ended = true,
        Err(err) if needs_visitor(parts) => return Err(error_page(&err)),
        Err(err) => {
            tracing::info!(%err, "session not resumed; the request goes on unauthenticated")
        }
    }
    Ok(resumed)
}

/// A page load of a path the policy protects.
fn needs_visitor(parts: &Parts) -> bool {
    is_page_load(parts) && policy::access_for(parts.uri.path()) != Access::Public
}

/// A page load, or a server function posted by a plain HTML form (it has
/// passed the same-origin check already).
fn resumable(parts: &Parts) -> bool {
    is_page_load(parts)
        || (parts.method == Method::POST
            && parts.uri.path().starts_with("/api/fn/")
            && wants_html(&parts.headers))
}
