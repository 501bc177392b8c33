//! Signing-key rotation: a new key signs, the retired one still verifies its
//! live tokens, and nobody is signed out.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{database_url, spawn_app, Client, ACCESS};
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey, EncodePublicKey};
use reqwest::{Method, StatusCode};

const PW: &str = "correct horse battery";

/// Writes a new Ed25519 key pair as `NAME.pem` (private) and `NAME.pub.pem` (public).
fn key_files(dir: &Path, name: &str) -> (String, String) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    std::fs::write(
        &private,
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        &public,
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    (private.display().to_string(), public.display().to_string())
}

fn kid_of(token: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn rotating_the_signing_key_signs_nobody_out() {
    let dir = std::env::temp_dir().join(format!("portcullis-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = database_url(&dir);
    let (old_private, old_public) = key_files(&dir, "old");
    let (new_private, _) = key_files(&dir, "new");
    // One issuer across restarts (the default follows the port, which changes here).
    let base_env = [
        ("DATABASE_URL", db.as_str()),
        ("JWT_ISSUER", "portcullis-test"),
    ];

    // Before: the old key signs.
    let before = spawn_app(&[
        base_env[0],
        base_env[1],
        ("JWT_PRIVATE_KEY_FILE", &old_private),
    ])
    .await;
    let mut c = Client::new(&before);
    c.signed_in_user(PW).await;
    let old_token = c.cookies[ACCESS].clone();
    let old_kid = kid_of(&old_token);
    drop(before);

    // During: the new key signs; the old public key still verifies.
    let during = spawn_app(&[
        base_env[0],
        base_env[1],
        ("JWT_PRIVATE_KEY_FILE", &new_private),
        ("JWT_PREVIOUS_KEY_FILES", &old_public),
    ])
    .await;
    c.base = during.base.clone();
    c.origin = Some(during.base.clone());
    let jwks = c.send(Method::GET, "/.well-known/jwks.json", None).await;
    let kids: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(kids.contains(&old_kid));
    assert_eq!(
        c.me().await.status,
        StatusCode::OK,
        "a token of the old key still works"
    );
    assert_eq!(c.refresh().await.status, StatusCode::OK);
    let new_token = c.cookies[ACCESS].clone();
    assert_ne!(kid_of(&new_token), old_kid, "the new key signs");
    assert!(kids.contains(&kid_of(&new_token)));
    drop(during);

    // After the overlap: the old key is gone; its tokens are refused, yet the
    // session (a refresh token, not a JWT) carries on.
    let after = spawn_app(&[
        base_env[0],
        base_env[1],
        ("JWT_PRIVATE_KEY_FILE", &new_private),
    ])
    .await;
    let mut stale = Client::new(&after);
    stale.cookies = c.cookies.clone();
    stale.cookies.insert(ACCESS.to_owned(), old_token.clone());
    assert_eq!(stale.me().await.status, StatusCode::UNAUTHORIZED);
    c.base = after.base.clone();
    c.origin = Some(after.base.clone());
    assert_eq!(c.me().await.status, StatusCode::OK);
    assert_eq!(c.refresh().await.status, StatusCode::OK);
    assert_eq!(c.me().await.status, StatusCode::OK);
    drop(after);
    let _ = std::fs::remove_dir_all(dir);
}
