//! Server functions: thin adapters from Leptos to the services in `crate::server`.

use leptos::prelude::*;

use super::{LoginOutcome, LogoutScope, PasswordChanged, SignedIn, User};
use crate::error::AuthError;

/// Creates an account with the default role.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<User, AuthError> {
    use crate::server::*;
    let state = app_state()?;
    let user = users::register_user(&state, &username, password.into(), &request_device())
        .await
        .map_err(|err| plain_form_failed(err, "/register", ""))?;
    redirect_plain_form("/login?registered=1");
    Ok(user)
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
        server::*,
    };
    let state = app_state()?;
    let next = safe_next(next.as_deref());
    let issued = sessions::sign_in(&state, &username, password.into(), request_device())
        .await
        .map_err(|err| {
            plain_form_failed(
                err,
                "/login",
                &format!("&next={}", encode_query_value(&next)),
            )
        })?;
    set_response_cookies(cookies::set(&state.config, &issued));
    redirect_plain_form(&next);
    Ok(LoginOutcome {
        signed_in: SignedIn {
            user: issued.user,
            access_expires_at: issued.access_expires_at,
        },
        next,
    })
}

/// Signs out this session, the others, or all of them; clears the cookies.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "logout")]
pub async fn logout(scope: LogoutScope) -> Result<(), AuthError> {
    use crate::server::*;
    let state = app_state()?;
    let authn = request_authn();
    if scope != LogoutScope::Others {
        set_response_cookies(cookies::clear(&state.config));
    }
    // Signing out with an expired or revoked token still clears the cookies.
    if let Ok(me) = authn.principal() {
        sessions::logout(&state, me.user_id, me.session_id, scope)
            .await
            .map_err(respond)?;
    }
    redirect_plain_form("/login");
    Ok(())
}

/// Changes the caller's password; with `sign_out_others` set (a checkbox:
/// any value), every other session ends.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    sign_out_others: Option<String>,
) -> Result<PasswordChanged, AuthError> {
    use crate::{policy::Permission, server::*};
    let state = app_state()?;
    let authn = request_authn();
    let me = authn
        .require(Permission::ManageOwnAccount)
        .map_err(|err| plain_form_failed(err, "/account", ""))?;
    let changed = account::change_password(
        &state,
        me.user_id,
        me.session_id,
        current_password.into(),
        new_password.into(),
        sign_out_others.is_some(),
        &request_device(),
    )
    .await
    .map_err(|err| plain_form_failed(err, "/account", ""))?;
    redirect_plain_form(&format!(
        "/account?changed=1&signed_out={}",
        changed.signed_out_others
    ));
    Ok(changed)
}

/// The signed-in user, or `None` for an anonymous visitor.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedIn>, AuthError> {
    use crate::server::*;
    Ok(request_authn().principal().ok().map(|p| SignedIn {
        user: User {
            id: p.user_id,
            username: p.username.clone(),
            role: p.role,
        },
        access_expires_at: p.expires_at,
    }))
}

/// Rotates the refresh cookie and issues a new access token.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "refresh")]
pub async fn refresh_session() -> Result<SignedIn, AuthError> {
    use crate::server::*;
    let state = app_state()?;
    let parts = use_context::<http::request::Parts>().ok_or(AuthError::Internal)?;
    let token = cookies::read(&parts.headers, cookies::names(&state.config).1)
        .ok_or_else(|| respond(AuthError::TokenMissing))?;
    match sessions::refresh(&state, token, request_device()).await {
        Ok(issued) => {
            set_response_cookies(cookies::set(&state.config, &issued));
            Ok(SignedIn {
                user: issued.user,
                access_expires_at: issued.access_expires_at,
            })
        }
        Err(err) => {
            if err.needs_sign_in() {
                set_response_cookies(cookies::clear(&state.config));
            }
            Err(respond(err))
        }
    }
}

/// The caller's signed-in devices.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<super::SessionInfo>, AuthError> {
    use crate::server::*;
    let state = app_state()?;
    let authn = request_authn();
    let me = authn.principal().map_err(respond)?;
    sessions::describe(&state, me.user_id, me.session_id)
        .await
        .map_err(respond)
}

/// Signs one of the caller's devices out.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "revoke_session")]
pub async fn revoke_session(id: uuid::Uuid) -> Result<(), AuthError> {
    use crate::server::*;
    let state = app_state()?;
    let authn = request_authn();
    let me = authn.principal().map_err(respond)?;
    sessions::revoke_own(&state, me.user_id, id)
        .await
        .map_err(respond)
}

/// True for a form posted without JavaScript: the browser wants a page back.
/// (The WASM app calls server functions with `fetch` and navigates itself.)
#[cfg(feature = "ssr")]
fn is_plain_form() -> bool {
    use_context::<http::request::Parts>()
        .is_some_and(|parts| crate::server::middleware::wants_html(&parts.headers))
}

/// Sends a plain form post that succeeded on to `to`.
#[cfg(feature = "ssr")]
fn redirect_plain_form(to: &str) {
    if is_plain_form() {
        leptos_axum::redirect(to);
    }
}

/// Answers a failed server function: its status for `fetch`, or for a plain
/// form post a redirect back to `page` naming the error in the query
/// (`?error=<code>&field=…`, then `extra`), which the page renders.
#[cfg(feature = "ssr")]
fn plain_form_failed(err: AuthError, page: &str, extra: &str) -> AuthError {
    let err = crate::server::respond(err);
    if is_plain_form() {
        leptos_axum::redirect(&format!("{page}?{}{extra}", err.to_query()));
    }
    err
}
