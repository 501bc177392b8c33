//! The four flows that set or clear the token cookies: sign-in, refresh (which
//! is also a page load's resume), sign-out and the password change. Each is one
//! function returning an [`Outcome`]: the result and the cookies to send. The
//! server function, the JSON route and the page middleware all call these, so
//! the cookie rules live here once:
//! - a new token pair sets both cookies;
//! - an error that means the session is over ([`AuthError::needs_sign_in`])
//!   clears them;
//! - any other failure (a limit, a busy hasher, the database) leaves them, so a
//!   429 or a hiccup never signs anyone out.

use axum::{
    http::{header, HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use secrecy::SecretString;

use super::{context::RequestContext, cookies, response::ApiError};
use crate::{
    auth::{LogoutScope, PasswordChanged},
    error::AuthError,
    operations::Operation,
    server::{authentication::account, sessions},
};

/// What a flow produced and the headers the response must carry.
#[derive(Debug)]
pub struct Outcome<T> {
    pub result: Result<T, AuthError>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl<T> Outcome<T> {
    /// Applies the cookie rules above to a result.
    fn new(
        ctx: &RequestContext,
        result: Result<T, AuthError>,
        issued: Option<&sessions::Issued>,
    ) -> Self {
        let config = &ctx.state.config;
        let headers = match (&result, issued) {
            _ if !ctx.uses_cookies => Vec::new(),
            (Ok(_), Some(issued)) => cookies::set(config, issued),
            (Err(err), _) if err.needs_sign_in() => cookies::clear(config),
            _ => Vec::new(),
        };
        Self { result, headers }
    }

    /// A JSON response: `ok` renders the value, an error its envelope.
    pub fn into_response<R: IntoResponse>(self, ok: impl FnOnce(T) -> R) -> Response {
        let mut response = match self.result {
            Ok(value) => ok(value).into_response(),
            Err(err) => ApiError(err).into_response(),
        };
        if !self.headers.is_empty() {
            let headers = response.headers_mut();
            for (name, value) in self.headers {
                headers.append(name, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

/// Checks the credentials and starts a session.
pub async fn sign_in(
    ctx: &RequestContext,
    username: &str,
    password: SecretString,
) -> Outcome<sessions::Issued> {
    let result = sessions::sign_in(&ctx.state, username, password, ctx.device()).await;
    let issued = result.as_ref().ok().cloned();
    Outcome::new(ctx, result, issued.as_ref())
}

/// Rotates the refresh cookie and issues a new access token.
pub async fn refresh(ctx: &RequestContext) -> Outcome<sessions::Issued> {
    let result = match &ctx.refresh_cookie {
        Some(token) => sessions::refresh(&ctx.state, token, ctx.device()).await,
        None => Err(AuthError::TokenMissing),
    };
    let issued = result.as_ref().ok().cloned();
    Outcome::new(ctx, result, issued.as_ref())
}

/// Ends this session, the others or all of them, and returns how many ended.
///
/// With an expired or unreadable access token the refresh cookie still names
/// the session, so it ends all the same. Unless only the others end, the
/// cookies are cleared and `Clear-Site-Data` sent even when the session had
/// already ended: a sign-out leaves the browser signed out. The one exception
/// is a passing failure of the revocation itself (the database, a busy
/// server): then the cookies stay, so the user can try again rather than
/// believe a still-valid session is over.
pub async fn sign_out(ctx: &RequestContext, scope: LogoutScope) -> Outcome<u64> {
    let result = match ctx.authorize(Operation::SignOut) {
        Ok(authz) => sessions::logout(&ctx.state, &authz, scope).await,
        Err(AuthError::TokenExpired | AuthError::TokenMissing | AuthError::TokenInvalid)
            if ctx.refresh_cookie.is_some() =>
        {
            let token = ctx.refresh_cookie.as_deref().unwrap_or_default();
            sessions::logout_by_refresh_token(&ctx.state, token, scope).await
        }
        Err(err) => Err(err),
    };
    let passing = result.as_ref().err().is_some_and(AuthError::is_passing);
    if scope == LogoutScope::Others || passing || !ctx.uses_cookies {
        return Outcome::new(ctx, result, None);
    }
    let mut headers = cookies::clear(&ctx.state.config);
    headers.push((
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cookies\""),
    ));
    Outcome { result, headers }
}

/// Changes the caller's password; with `sign_out_others`, every other session ends.
pub async fn change_password(
    ctx: &RequestContext,
    current: SecretString,
    new: SecretString,
    sign_out_others: bool,
) -> Outcome<PasswordChanged> {
    let result = match ctx.authorize(Operation::ChangePassword) {
        Ok(authz) => {
            let change = account::PasswordChange {
                current,
                new,
                sign_out_others,
            };
            account::change_password(&ctx.state, &authz, change, &ctx.device()).await
        }
        // Not signed in *now* (say, the access token just expired): the
        // client refreshes and retries; its cookies are not ours to drop.
        Err(err) => {
            return Outcome {
                result: Err(err),
                headers: Vec::new(),
            }
        }
    };
    Outcome::new(ctx, result, None)
}
