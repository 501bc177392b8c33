//! The router: JSON API, server functions, pages and static files, behind the
//! authentication middleware.

use std::time::Duration;

use app::{
    server::{middleware, revocation_window, AppState},
    shell, App,
};
use axum::{
    body::Body,
    extract::Request,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state, Next},
    response::Response,
    routing::{delete, get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::api;

/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the complete router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let api = Router::new()
        .route("/api/auth/register", post(api::register))
        .route("/api/auth/login", post(api::login))
        .route("/api/auth/refresh", post(api::refresh))
        .route("/api/auth/logout", post(api::logout))
        .route("/api/auth/sessions", get(api::list_sessions))
        .route("/api/auth/sessions/{id}", delete(api::revoke_session))
        .route("/api/me", get(api::me))
        .route("/api/{*rest}", get(api::not_found).post(api::not_found));
    Router::new()
        .merge(api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(from_fn(server_fn_status))
        .layer(from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Server functions whose arguments cannot be decoded fail inside leptos before
/// our code runs, and leptos answers those with 500. Their body is already our
/// JSON error envelope, so give them the status that envelope names (400).
async fn server_fn_status(req: Request, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/api/fn/");
    let response = next.run(req).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(envelope) = serde_json::from_slice::<app::error::ErrorBody>(&bytes) {
        let status = app::error::AuthError::from(envelope).status_code();
        parts.status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Background upkeep: forget revocations no live token can need.
pub fn spawn_maintenance(state: AppState) {
    tokio::spawn(async move {
        let window = revocation_window(&state.config);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.revoked.prune(window);
        }
    });
}
