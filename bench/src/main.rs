//! Helpers for `bench/run.sh`.
//!
//! `portcullis-bench floor` serves `GET /me` on 127.0.0.1 with nothing but an
//! HS256 Bearer check (jsonwebtoken, the same crate Portcullis uses): the floor
//! an auth layer is measured against. It prints `listening on http://ADDR` and
//! `token <jwt>` for the load generator.
//!
//! `portcullis-bench hash-time` prints the mean time of one argon2id hash with
//! the parameters the server uses (`ARGON2_M_COST`, `ARGON2_T_COST`,
//! `ARGON2_P_COST`, defaulting like the server to 9216 KiB, 4, 1), in milliseconds.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::{http::HeaderMap, http::StatusCode, routing::get, Json, Router};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const SECRET: &[u8] = b"portcullis-bench-floor-secret-not-for-production";

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("floor") => floor().await,
        Some("hash-time") => {
            hash_time();
            Ok(())
        }
        _ => Err("usage: portcullis-bench floor | hash-time".into()),
    }
}

async fn floor() -> Result<(), Box<dyn std::error::Error>> {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() + 3600;
    let token = encode(
        &Header::new(Algorithm::HS256),
        &Claims {
            sub: "bench".into(),
            exp,
        },
        &EncodingKey::from_secret(SECRET),
    )?;
    let app = Router::new().route("/me", get(me));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("token {token}");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn me(headers: HeaderMap) -> Result<Json<serde_json::Value>, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(SECRET),
        &Validation::new(Algorithm::HS256),
    )
    .map_err(|_| StatusCode::UNAUTHORIZED)?;
    Ok(Json(serde_json::json!({ "sub": data.claims.sub })))
}

fn hash_time() {
    use argon2::{password_hash::SaltString, Algorithm, Argon2, Params, PasswordHasher, Version};
    let env = |name: &str, default: u32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let params = Params::new(
        env("ARGON2_M_COST", 9_216),
        env("ARGON2_T_COST", 4),
        env("ARGON2_P_COST", 1),
        None,
    )
    .expect("valid argon2 parameters");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16byt").expect("a 16-byte salt");
    let runs = 20u32;
    let start = Instant::now();
    for _ in 0..runs {
        let _ = argon.hash_password(b"correct horse battery", &salt);
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
    println!("{ms:.2}");
}
