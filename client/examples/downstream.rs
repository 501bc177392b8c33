//! A downstream service that trusts Portcullis access tokens without calling
//! Portcullis per request: it verifies them offline with the published keys.
//!
//!     PORTCULLIS_URL=http://127.0.0.1:3000 JWT_ISSUER=http://127.0.0.1:3000 \
//!       cargo run -p portcullis-client --example downstream
//!     curl -H "Authorization: Bearer $ACCESS" http://127.0.0.1:3300/hello

use std::sync::Arc;

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::get, Json, Router};
use portcullis_client::JwksVerifier;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = std::env::var("PORTCULLIS_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let issuer = std::env::var("JWT_ISSUER").unwrap_or_else(|_| auth.clone());
    let audience = std::env::var("JWT_AUDIENCE").unwrap_or_else(|_| "portcullis".into());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3300".into());
    let verifier = Arc::new(JwksVerifier::new(
        format!("{auth}/.well-known/jwks.json"),
        &issuer,
        &audience,
    ));
    let app = Router::new()
        .route("/hello", get(hello))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// `GET /hello` with `Authorization: Bearer <access token>`.
async fn hello(
    State(verifier): State<Arc<JwksVerifier>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or((StatusCode::UNAUTHORIZED, "Bearer token required".into()))?;
    let claims = verifier
        .verify(token)
        .await
        .map_err(|e| (StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok(Json(serde_json::json!({
        "hello": claims.name,
        "role": claims.role,
        "user_id": claims.sub,
    })))
}
