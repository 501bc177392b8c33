//! The router: the JSON API, the server functions, the pages and the static
//! files, behind the request pipeline (`app::server::web::pipeline`).

use app::{
    error::AuthError,
    server::{
        platform::security,
        web::{
            pipeline::pipeline,
            response::{self, ApiError},
        },
        AppState,
    },
    shell, App,
};
use axum::{
    extract::Request,
    http::header,
    middleware::{from_fn, from_fn_with_state, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post, MethodRouter},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tower_http::{catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::api::{self, admin, auth, health, token};

/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The JSON routes as `(method, path, handler)`. A test holds this list equal
/// to the operation table (`app::operations::OPERATIONS`).
#[must_use]
pub fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("POST", "/api/token", post(token::token)),
        ("GET", "/.well-known/jwks.json", get(token::jwks)),
        ("POST", "/api/auth/register", post(auth::register)),
        ("POST", "/api/auth/login", post(auth::login)),
        ("POST", "/api/auth/refresh", post(auth::refresh)),
        ("POST", "/api/auth/logout", post(auth::logout)),
        ("POST", "/api/auth/password", post(auth::change_password)),
        ("GET", "/api/auth/sessions", get(auth::list_sessions)),
        (
            "DELETE",
            "/api/auth/sessions/{id}",
            delete(auth::revoke_session),
        ),
        ("GET", "/api/me", get(auth::me)),
        ("GET", "/api/admin/users", get(admin::list_users)),
        ("POST", "/api/admin/users/{id}/role", post(admin::set_role)),
        (
            "POST",
            "/api/admin/users/{id}/disable",
            post(admin::disable),
        ),
        ("POST", "/api/admin/users/{id}/enable", post(admin::enable)),
        (
            "POST",
            "/api/admin/users/{id}/revoke-sessions",
            post(admin::revoke_sessions),
        ),
    ]
}

/// Builds the complete router.
pub fn router(state: AppState) -> Router {
    let _ = app::error::ON_SERVER_FN_ERROR.set(server_fn_error_status);
    let routes = generate_route_list(App);
    let https = state.config.public_url.starts_with("https://");
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let api = api_routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .route("/api/{*rest}", get(api::not_found).post(api::not_found))
        // For load balancers; not operations (no caller, nothing changes).
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    let app = Router::new()
        .merge(api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(from_fn_with_state(state.clone(), pipeline));
    with_outer_layers(app, https).with_state(state)
}

/// The layers around everything, the pipeline included: body limits,
/// hardening headers, the panic catcher and the trace. (Public so a test can
/// put a handler that panics behind exactly these.)
pub fn with_outer_layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    https: bool,
) -> Router<S> {
    router
        // A body sent in chunks is cut off at the limit as it is read...
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // ...one that says its length is refused before, with our envelope.
        .layer(from_fn(refuse_large_bodies))
        // A panic anywhere inside answers the JSON 500 envelope (and is
        // logged) instead of dropping the connection; the hardening headers
        // still go on it.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(move |req, next| security_headers(https, req, next)))
        .layer(TraceLayer::new_for_http())
}

/// A body over the limit: 413 `payload_too_large`, whoever reads it. One
/// that declares its length is refused before it is read; one sent in chunks
/// is read here, up to the limit, so that no handler (a server function
/// among them) meets the cut-off itself and answers something else.
async fn refuse_large_bodies(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError(AuthError::TooLarge).into_response();
    }
    if declared.is_some() || !req.headers().contains_key(header::TRANSFER_ENCODING) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => next.run(Request::from_parts(parts, bytes.into())).await,
        Err(_) => ApiError(AuthError::TooLarge).into_response(),
    }
}

/// A panic outside the pipeline's own catch (the layers around it).
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    response::panic_response(panic.as_ref())
}

/// Arguments that leptos could not decode never reach our code: give the
/// response the status of the error they became (400), the one way every
/// server-function status is set (`respond`).
fn server_fn_error_status(err: &app::error::AuthError) {
    let _ = app::server::web::context::respond(err.clone());
}

/// Adds the hardening headers to every response, and keeps caches away
/// from what is personal (`security::cache_policy`).
async fn security_headers(https: bool, req: Request, next: Next) -> Response {
    let personal = security::is_personal_request(req.uri().path(), req.headers());
    let mut response = next.run(req).await;
    security::harden(response.headers_mut(), https);
    security::cache_policy(response.headers_mut(), personal);
    response
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use app::operations::OPERATIONS;

    #[test]
    fn every_json_route_is_an_operation_in_the_table_and_back() {
        let routed: BTreeSet<(&str, &str)> = super::api_routes()
            .iter()
            .map(|(m, p, _)| (*m, *p))
            .collect();
        let table: BTreeSet<(&str, &str)> = OPERATIONS
            .iter()
            .flat_map(|s| s.json.iter().copied())
            .collect();
        assert_eq!(
            routed, table,
            "a JSON route without an operation, or the reverse"
        );
    }

    #[test]
    fn every_server_function_is_an_operation_in_the_table_and_back() {
        let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.to_owned())
            .collect();
        let table: BTreeSet<String> = OPERATIONS
            .iter()
            .filter_map(|s| s.server_fn.map(|name| format!("/api/fn/{name}")))
            .collect();
        assert_eq!(
            registered, table,
            "a server function without an operation, or the reverse"
        );
    }
}
