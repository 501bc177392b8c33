//! Issue #18, bad input at the edges: bodies over the limit (declared or
//! chunked), a handler that panics, page numbers past the bounds. Each must
//! get the JSON envelope with its own status, never plain text, a 500 of the
//! wrong kind or a dropped connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{spawn_app, Client};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PW: &str = "correct horse battery staple";

#[tokio::test]
async fn a_body_over_the_limit_gets_the_json_envelope() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let huge = json!({"username": "x".repeat(70 * 1024), "password": PW});
    for path in ["/api/auth/login", "/api/token", "/api/fn/login"] {
        let out = c.send(Method::POST, path, Some(huge.clone())).await;
        assert_eq!(
            out.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            out.text
        );
        assert_eq!(
            out.error_code(),
            "payload_too_large",
            "{path}: {}",
            out.text
        );
    }
}

/// The same body sent in chunks (no length declared), on a raw connection.
#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_the_json_envelope_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(&[]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for path in ["/api/fn/login", "/api/auth/login", "/api/token"] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\n{}: 1\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            app.base,
            portcullis_core::transport::CSRF_HEADER
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = "u".repeat(8 * 1024);
        for _ in 0..10 {
            let piece = format!("{:x}\r\n{chunk}\r\n", chunk.len());
            if stream.write_all(piece.as_bytes()).await.is_err() {
                break; // the server answered and closed early
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("payload_too_large"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_the_json_500_envelope() {
    use axum::{routing::get, Router};
    let boom = Router::new().route(
        "/boom",
        get(|| async {
            let page: u64 = "18446744073709551615".parse().unwrap();
            // What an overflowing conversion used to do deep in a handler.
            let _ = i64::try_from(page).expect("fits");
            ""
        }),
    );
    let app = server::routes::with_outer_layers(boom, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let reply = reqwest::get(format!("http://{addr}/boom"))
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"], "internal");
    assert!(
        !body.to_string().contains("fits"),
        "the panic message stays in the log"
    );
}

#[tokio::test]
async fn page_numbers_past_the_bounds_answer_400_not_a_dropped_connection() {
    let app = spawn_app(&[]).await;
    app.create_user("root-admin", "admin", PW).await;
    let mut admin = Client::new(&app);
    assert_eq!(admin.login("root-admin", PW).await.status, StatusCode::OK);
    for query in [
        "page=18446744073709551615",
        "page=0",
        "page=1000001",
        "per_page=18446744073709551615",
        "page=-1",
        "q=a%00b",
    ] {
        let out = admin
            .send(Method::GET, &format!("/api/admin/users?{query}"), None)
            .await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{query}: {}", out.text);
        assert_eq!(out.error_code(), "bad_request");
    }
    let last = admin
        .send(Method::GET, "/api/admin/users?page=1000000", None)
        .await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
}
