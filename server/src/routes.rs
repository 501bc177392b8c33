//! The router: JSON API, server functions, pages and static files, behind the
//! authentication middleware.

use std::time::Duration;

use app::{
    server::{middleware, revocation_window, AppState},
    shell, App,
};
use axum::{
    middleware::from_fn_with_state,
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
        .fallback(file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
