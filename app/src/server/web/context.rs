//! The request context: what every adapter (server function, JSON handler,
//! page load) needs to know about a request, read from its
//! `http::request::Parts` in this one place: the state, the authentication
//! outcome, the device, the refresh cookie, and whether a page is wanted back.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{authenticate::Authn, cookies, response::ApiError};
use crate::{
    error::AuthError,
    operations::Operation,
    server::{
        authentication::{authorized::Authorized, tokens::Principal},
        platform::state::AppState,
        sessions::Device,
    },
};

/// One request, as the operations see it.
pub struct RequestContext {
    pub state: AppState,
    pub authn: Authn,
    user_agent: Option<HeaderValue>,
    /// The client's address: the socket peer, or behind a trusted proxy the
    /// address it forwarded (`platform::proxies`).
    pub client_ip: Option<IpAddr>,
    pub refresh_cookie: Option<String>,
    /// False for a request with an `Authorization` header: it never reads,
    /// sets or clears the token cookies.
    pub uses_cookies: bool,
    /// The signed "this browser signed in before" cookie (`authentication::device_cookie`).
    pub device_cookie: Option<String>,
    /// A form posted without JavaScript (`Accept: text/html`): it wants a page
    /// back, so a server function answers it with a redirect.
    pub wants_html: bool,
}

impl RequestContext {
    /// Reads the context from the request's parts. The authentication outcome
    /// is the one the request pipeline stored; without it the
    /// request counts as anonymous.
    #[must_use]
    pub fn from_parts(state: &AppState, parts: &Parts, authn: Option<Authn>) -> Self {
        let authn = authn
            .or_else(|| parts.extensions.get::<Authn>().cloned())
            .unwrap_or(Authn(Err(AuthError::TokenMissing)));
        let client_ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| {
            state
                .config
                .trusted_proxies
                .client(c.0.ip(), &parts.headers)
        });
        let names = cookies::names(&state.config);
        let uses_cookies = !parts.headers.contains_key(header::AUTHORIZATION);
        Self {
            state: state.clone(),
            authn,
            user_agent: parts.headers.get(header::USER_AGENT).cloned(),
            client_ip,
            // A request that names its credential in `Authorization` skipped
            // the cross-site check: the cookies are not its to use or clear.
            refresh_cookie: uses_cookies
                .then(|| cookies::read(&parts.headers, names.refresh))
                .flatten()
                .map(str::to_owned),
            uses_cookies,
            device_cookie: cookies::read(&parts.headers, names.device).map(str::to_owned),
            wants_html: wants_html(&parts.headers),
        }
    }

    /// The context of the server function or render running now.
    ///
    /// # Errors
    /// [`AuthError::Internal`] outside a request (a wiring bug, logged).
    pub fn current() -> Result<Self, AuthError> {
        let state = app_state()?;
        let parts = use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from the Leptos context");
            AuthError::Internal
        })?;
        Ok(Self::from_parts(&state, &parts, None))
    }

    /// The device summary recorded with a session (made only when needed:
    /// most requests never record one).
    #[must_use]
    pub fn device(&self) -> Device {
        Device {
            user_agent: self
                .user_agent
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            ip: self.client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            cookie: self.device_cookie.clone(),
        }
    }

    /// The caller, or why there is none.
    ///
    /// # Errors
    /// The reason the request is not authenticated.
    pub fn principal(&self) -> Result<&Principal, AuthError> {
        self.authn.principal()
    }

    /// Asks the policy whether the caller may run `operation`: the one check
    /// every adapter makes, returning the proof the service requires.
    ///
    /// # Errors
    /// 401 when nobody is signed in, [`AuthError::Forbidden`] without the permission.
    pub fn authorize(&self, operation: Operation) -> Result<Authorized, AuthError> {
        Authorized::check(self.authn.0.as_ref(), operation)
    }
}

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The handler is the last reader: take the outcome rather than copy it.
        let authn = parts.extensions.remove::<Authn>();
        Ok(Self::from_parts(state, parts, authn))
    }
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

/// The state, from the Leptos context of a server function or render.
///
/// # Errors
/// [`AuthError::Internal`] when called outside a request (a wiring bug, logged).
pub fn app_state() -> Result<AppState, AuthError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AuthError::Internal
    })
}

/// The role of the visitor whose page is being rendered, if signed in.
#[must_use]
pub fn render_role() -> Option<crate::policy::Role> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Authn>().cloned())
        .and_then(|authn| authn.0.ok())
        .map(|p| p.role)
}

/// Sets the HTTP status (and `Retry-After`, where the error has one) for a
/// server-function error and returns the error.
#[must_use]
pub fn respond(err: AuthError) -> AuthError {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let Some(seconds) = err.retry_after() {
            options.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    err
}

/// Adds `Set-Cookie` (and any other) headers to the current server-function
/// or page response, which must then not be cached.
pub fn set_response_headers(values: Vec<(header::HeaderName, HeaderValue)>) {
    if let Some(options) = use_context::<ResponseOptions>() {
        for (name, value) in values {
            options.append_header(name, value);
        }
        options.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// A browser asking for a page: GET or HEAD of a path that is not the API,
/// the WASM bundle, a well-known file or any other file with an extension.
#[must_use]
pub fn is_page_load(parts: &Parts) -> bool {
    let path = parts.uri.path();
    (parts.method == Method::GET || parts.method == Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !path.starts_with("/.well-known/")
        && !path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}
