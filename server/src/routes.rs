//! The router: JSON API, server functions, pages and static files, behind the
//! authentication middleware.

use std::time::Duration;

use app::{
    server::{middleware, revocation_window, security, AppState},
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

use crate::{admin_api, api};

/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the complete router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let https = state.config.public_url.starts_with("https://");
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let api = Router::new()
        .route("/api/token", post(api::token))
        .route("/api/auth/register", post(api::register))
        .route("/api/auth/login", post(api::login))
        .route("/api/auth/refresh", post(api::refresh))
        .route("/api/auth/logout", post(api::logout))
        .route("/api/auth/password", post(api::change_password))
        .route("/api/auth/sessions", get(api::list_sessions))
        .route("/api/auth/sessions/{id}", delete(api::revoke_session))
        .route("/api/me", get(api::me))
        .route("/.well-known/jwks.json", get(api::jwks))
        .route("/api/admin/users", get(admin_api::list_users))
        .route("/api/admin/users/{id}/role", post(admin_api::set_role))
        .route("/api/admin/users/{id}/disable", post(admin_api::disable))
        .route("/api/admin/users/{id}/enable", post(admin_api::enable))
        .route(
            "/api/admin/users/{id}/revoke-sessions",
            post(admin_api::revoke_sessions),
        )
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
        .layer(from_fn(move |req, next| security_headers(https, req, next)))
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

/// Adds the hardening headers to every response.
async fn security_headers(https: bool, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    security::harden(response.headers_mut(), https);
    response
}

/// Background upkeep: learn of revocations and role changes made by other
/// instances (a short poll of two indexed columns, so requests never query),
/// and forget what no live token can need.
pub fn spawn_maintenance(state: AppState) {
    let poll = state.config.sync_interval;
    let sync = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut since = chrono::Utc::now();
        loop {
            tick.tick().await;
            // Overlap the windows by a few seconds: clocks of instances differ a little,
            // and recording a change twice is harmless.
            let from = since - chrono::Duration::seconds(5);
            let now = chrono::Utc::now();
            let revoked = sync.revoked.load_since(&sync.db, from).await;
            let standing = sync.standing.load_since(&sync.db, from).await;
            if revoked.is_ok() && standing.is_ok() {
                since = now;
            }
        }
    });
    tokio::spawn(async move {
        let window = revocation_window(&state.config);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.revoked.prune(window);
            state.standing.prune(window);
            state.limiter.prune();
        }
    });
}
