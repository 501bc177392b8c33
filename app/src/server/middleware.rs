//! Request authentication, done once per request before any handler runs.
//!
//! Credential rule: an `Authorization` header, when present, is the only
//! credential considered (a bad Bearer token never falls back to a cookie);
//! otherwise the access-token cookie is used. Tokens in URLs never authenticate.
//!
//! State-changing browser requests must come from our own origin first
//! ([`security::check_same_origin`]).
//!
//! For page loads the middleware also applies the route table from
//! [`crate::policy`]: anonymous visitors are redirected to sign in, signed-in
//! users without the permission get status 403 (the page renders the 403 view).

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;

use super::{cookies, security, sessions, state::AppState, tokens::Principal};
use crate::{
    error::AuthError,
    policy::{self, Decision, Permission},
};

/// The outcome of authenticating a request, stored in its extensions.
#[derive(Debug, Clone)]
pub struct Authn(pub Result<Principal, AuthError>);

impl Authn {
    /// The caller, or why there is none.
    ///
    /// # Errors
    /// The reason the request is not authenticated.
    pub fn principal(&self) -> Result<&Principal, AuthError> {
        self.0.as_ref().map_err(Clone::clone)
    }

    /// The caller, if the policy lets them do what `permission` covers.
    ///
    /// # Errors
    /// A 401 error when nobody is signed in, [`AuthError::Forbidden`] (403) when
    /// the caller's role lacks the permission.
    pub fn require(&self, permission: Permission) -> Result<&Principal, AuthError> {
        let role = self.0.as_ref().ok().map(|p| p.role);
        match policy::require(role, permission) {
            Decision::Allow => self.principal(),
            Decision::SignIn => Err(self.principal().err().unwrap_or(AuthError::TokenMissing)),
            Decision::Forbidden => Err(AuthError::Forbidden),
        }
    }
}

/// Verifies the request's access token (signature, claims, revocation).
pub fn authenticate_headers(state: &AppState, headers: &HeaderMap) -> Result<Principal, AuthError> {
    let token = match headers.get(header::AUTHORIZATION) {
        Some(value) => bearer(value.to_str().map_err(|_| AuthError::TokenInvalid)?)?,
        None => cookies::read(headers, cookies::names(&state.config).0)
            .ok_or(AuthError::TokenMissing)?,
    };
    let mut principal = state.tokens.verify(token)?;
    if state.revoked.contains(principal.session_id) {
        return Err(AuthError::SessionRevoked);
    }
    // The token's role is what was true when it was issued; a later change wins.
    if let Some(standing) = state.standing.get(principal.user_id) {
        if standing.disabled {
            return Err(AuthError::SessionRevoked);
        }
        principal.role = standing.role;
    }
    Ok(principal)
}

fn bearer(value: &str) -> Result<&str, AuthError> {
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::TokenInvalid)?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Ok(token.trim())
    } else {
        Err(AuthError::TokenInvalid)
    }
}

/// The device summary recorded with a session.
#[must_use]
pub fn device(headers: &HeaderMap, peer: Option<SocketAddr>) -> sessions::Device {
    sessions::Device {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
    }
}

/// Axum middleware: authenticate, resume expired sessions on page loads, guard pages.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Err(err) =
        security::check_same_origin(req.method(), req.uri().path(), req.headers(), &state.config)
    {
        tracing::warn!(
            method = %req.method(),
            path = req.uri().path(),
            origin = ?req.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return err.into_response();
    }
    let mut result = authenticate_headers(&state, req.headers());
    let page = is_page_load(&req);
    // A form posted without JavaScript cannot refresh first, so it is resumed
    // like a page load (it has passed the same-origin check above).
    let resumable = page || is_plain_form_post(&req);
    let mut set_cookies = Vec::new();
    // A page load whose session has truly ended (revoked, expired, replayed) is
    // sent to sign in with a notice saying so, not silently.
    let mut ended = matches!(
        result,
        Err(AuthError::SessionRevoked | AuthError::SessionExpired)
    );
    if resumable
        && matches!(
            result,
            Err(AuthError::TokenExpired | AuthError::TokenMissing)
        )
    {
        if let Some(token) =
            cookies::read(req.headers(), cookies::names(&state.config).1).map(str::to_owned)
        {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            match sessions::refresh(&state, &token, device(req.headers(), peer)).await {
                Ok(issued) => {
                    set_cookies = cookies::set(&state.config, &issued);
                    result = Ok(Principal {
                        user_id: issued.user.id,
                        session_id: issued.session_id,
                        username: issued.user.username.clone(),
                        role: issued.user.role,
                        expires_at: issued.access_expires_at,
                    });
                }
                Err(err) => {
                    ended = err.needs_sign_in();
                    set_cookies = cookies::clear(&state.config);
                }
            }
        }
    }
    let role = result.as_ref().ok().map(|p| p.role);
    let decision = if page {
        policy::decide(req.uri().path(), role)
    } else {
        Decision::Allow
    };
    req.extensions_mut().insert(Authn(result));
    let mut response = match decision {
        Decision::SignIn => {
            let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let login = if ended {
                if set_cookies.is_empty() {
                    set_cookies = cookies::clear(&state.config);
                }
                policy::ended_login_url(target)
            } else {
                policy::login_url(target)
            };
            (StatusCode::SEE_OTHER, [(header::LOCATION, login)]).into_response()
        }
        Decision::Forbidden => {
            let mut res = next.run(req).await;
            *res.status_mut() = StatusCode::FORBIDDEN;
            res
        }
        Decision::Allow => next.run(req).await,
    };
    for cookie in set_cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// True when the browser wants a page back (`Accept: text/html`): a plain HTML
/// form posted without JavaScript, as opposed to the WASM app's `fetch`.
#[must_use]
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A server function posted by a plain HTML form.
fn is_plain_form_post(req: &Request) -> bool {
    req.method() == Method::POST
        && req.uri().path().starts_with("/api/fn/")
        && wants_html(req.headers())
}

fn is_page_load(req: &Request) -> bool {
    let path = req.uri().path();
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !path.starts_with("/.well-known/")
        && !path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}
