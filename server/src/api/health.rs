//! Health for load balancers: `GET /healthz` (the process answers) and
//! `GET /readyz` (it can serve correctly now: not draining, the database
//! answers within a second, the change feed read recently and, on PostgreSQL,
//! its `LISTEN` connection up). Unauthenticated, no cookies, one cheap query.

use std::time::Duration;

use app::server::AppState;
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::json;

/// `GET /healthz`: 200 whenever the process can answer at all.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 `{"status":"ready"}`, or 503 `{"status":"unready","reason":…}`.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match unready_reason(&state).await {
        None => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unready", "reason": reason })),
        ),
    }
}

async fn unready_reason(state: &AppState) -> Option<&'static str> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Some("draining");
    }
    let ping = tokio::time::timeout(Duration::from_secs(1), state.db.ping()).await;
    if !matches!(ping, Ok(Ok(()))) {
        return Some("database_unreachable");
    }
    // Fresh means read within a few polls (and never less than 2 s, so one
    // slow read does not flap a healthy instance out of the pool).
    let fresh = (state.config.sync_interval * 5).max(Duration::from_secs(2));
    if state.feed.since_last_read() > fresh {
        return Some("feed_stale");
    }
    if state.db.get_database_backend() == DbBackend::Postgres && !state.feed.listening() {
        return Some("feed_not_listening");
    }
    None
}
