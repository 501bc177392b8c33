//! Server functions: thin adapters from Leptos to the flows and services in
//! `crate::server`. Each reads the request context, names its operation (the
//! policy decides), calls one function and maps the result. Forms posted
//! without JavaScript get a redirect instead of JSON (see [`finish`]).

use leptos::prelude::*;

use super::{LoginOutcome, LogoutScope, PasswordChanged, SignedIn, User};
use crate::error::AuthError;

/// Creates an account with the default role.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<User, AuthError> {
    use crate::server::{authentication::users, web::context::RequestContext};
    let ctx = RequestContext::current()?;
    let result = users::register_user(&ctx.state, &username, password.into(), &ctx.device()).await;
    finish(&ctx, result, "/login?registered=1", "/register", "")
}

/// Signs in: sets the token cookies and says where to go next.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<LoginOutcome, AuthError> {
    use crate::{
        policy::{encode_query_value, safe_next},
        server::web::{context::RequestContext, flows},
    };
    let ctx = RequestContext::current()?;
    let next = safe_next(next.as_deref());
    let outcome = flows::sign_in(&ctx, &username, password.into()).await;
    let result = with_headers(outcome).map(|issued| LoginOutcome {
        signed_in: SignedIn::from(&issued),
        next: next.clone(),
    });
    let back = format!("&next={}", encode_query_value(&next));
    finish(&ctx, result, &next, "/login", &back)
}

/// Signs out this session, the others, or all of them; clears the cookies
/// (unless only the others end) even when the session had already ended.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "logout")]
pub async fn logout(scope: LogoutScope) -> Result<(), AuthError> {
    use crate::server::web::{context::RequestContext, flows};
    let ctx = RequestContext::current()?;
    let result = with_headers(flows::sign_out(&ctx, scope).await).map(|_| ());
    let result = result.map_err(crate::server::web::context::respond);
    // Without JavaScript a sign-out always lands on the sign-in page: a
    // session that had already ended is signed out all the same.
    if ctx.wants_html {
        leptos_axum::redirect("/login");
    }
    result
}

/// Changes the caller's password; with `sign_out_others` set (a checkbox:
/// any value), every other session ends.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    sign_out_others: Option<String>,
) -> Result<PasswordChanged, AuthError> {
    use crate::server::web::{context::RequestContext, flows};
    let ctx = RequestContext::current()?;
    let outcome = flows::change_password(
        &ctx,
        current_password.into(),
        new_password.into(),
        sign_out_others.is_some(),
    )
    .await;
    let result = with_headers(outcome);
    let done = result.as_ref().map_or(0, |c| c.signed_out_others);
    let to = format!("/account?changed=1&signed_out={done}");
    finish(&ctx, result, &to, "/account", "")
}

/// The signed-in user, or `None` for an anonymous visitor.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedIn>, AuthError> {
    use crate::server::web::context::RequestContext;
    let ctx = RequestContext::current()?;
    Ok(ctx.principal().ok().map(SignedIn::from))
}

/// Rotates the refresh cookie and issues a new access token.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "refresh")]
pub async fn refresh_session() -> Result<SignedIn, AuthError> {
    use crate::server::web::{context::RequestContext, flows};
    let ctx = RequestContext::current()?;
    let result = with_headers(flows::refresh(&ctx).await).map(|issued| SignedIn::from(&issued));
    result.map_err(crate::server::web::context::respond)
}

/// The caller's signed-in devices.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<super::SessionInfo>, AuthError> {
    use crate::{
        operations::Operation,
        server::{
            sessions,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx.authorize(Operation::ListSessions).map_err(respond)?;
    sessions::describe(&ctx.state, &authz)
        .await
        .map_err(respond)
}

/// Signs one of the caller's devices out.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "revoke_session")]
pub async fn revoke_session(id: uuid::Uuid) -> Result<(), AuthError> {
    use crate::{
        operations::Operation,
        server::{
            sessions,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx.authorize(Operation::RevokeSession).map_err(respond)?;
    sessions::revoke_own(&ctx.state, &authz, id)
        .await
        .map_err(respond)
}

/// Puts a flow's cookies (and other headers) on the response.
#[cfg(feature = "ssr")]
fn with_headers<T>(outcome: crate::server::web::flows::Outcome<T>) -> Result<T, AuthError> {
    crate::server::web::context::set_response_headers(outcome.headers);
    outcome.result
}

/// Answers a server function: for `fetch`, the value or the error with its
/// status; for a form posted without JavaScript, a redirect to `done` on
/// success, or back to `page` naming the error in the query
/// (`?error=<code>&field=…`, then `extra`), which the page renders.
#[cfg(feature = "ssr")]
fn finish<T>(
    ctx: &crate::server::web::context::RequestContext,
    result: Result<T, AuthError>,
    done: &str,
    page: &str,
    extra: &str,
) -> Result<T, AuthError> {
    let result = result.map_err(crate::server::web::context::respond);
    if ctx.wants_html {
        match &result {
            Ok(_) => leptos_axum::redirect(done),
            Err(err) => leptos_axum::redirect(&format!("{page}?{}{extra}", err.to_query())),
        }
    }
    result
}
