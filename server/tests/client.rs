//! The typed client (`portcullis-client`) against the real server, and the
//! offline verifier a downstream service uses, across a key rotation.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{database_url, spawn_app};
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey, EncodePublicKey};
use portcullis_client::{AuthError, Client, JwksVerifier, LogoutScope, Role, VerifyError};

const PW: &str = "correct horse battery";
const ISSUER: &str = "portcullis-client-test";

#[tokio::test]
async fn the_typed_client_signs_in_refreshes_detects_reuse_and_signs_out() {
    let app = spawn_app(&[("REFRESH_REUSE_INTERVAL", "1s")]).await;
    let api = Client::new(&app.base);
    let me = api.register("typed_alice", PW).await.unwrap();
    assert_eq!(me.role, Role::User);
    let taken = api.register("Typed_Alice", PW).await.unwrap_err();
    assert_eq!(taken.api_error(), Some(&AuthError::UsernameTaken));
    assert_eq!(taken.status(), Some(409));
    let wrong = api
        .sign_in("typed_alice", "not it at all")
        .await
        .unwrap_err();
    assert_eq!(wrong.api_error(), Some(&AuthError::InvalidCredentials));

    let tokens = api.sign_in("typed_alice", PW).await.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(api.me(&tokens.access_token).await.unwrap().id, me.id);
    assert_eq!(api.sessions(&tokens.access_token).await.unwrap().len(), 1);
    let next = api.refresh(&tokens.refresh_token).await.unwrap();
    assert_ne!(next.refresh_token, tokens.refresh_token);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reused = api.refresh(&tokens.refresh_token).await.unwrap_err();
    assert_eq!(reused.api_error(), Some(&AuthError::RefreshReused));
    let gone = api.me(&next.access_token).await.unwrap_err();
    assert_eq!(gone.api_error(), Some(&AuthError::SessionRevoked));

    let fresh = api.sign_in("typed_alice", PW).await.unwrap();
    api.logout(&fresh.access_token, LogoutScope::Global)
        .await
        .unwrap();
    assert_eq!(
        api.me(&fresh.access_token).await.unwrap_err().status(),
        Some(401)
    );
    let forbidden = api
        .admin_users(&next.access_token, "", 1, 10)
        .await
        .unwrap_err();
    assert_eq!(forbidden.status(), Some(401));
}

fn key_pem() -> (String, String) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    (
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
}

#[tokio::test]
async fn a_downstream_service_verifies_offline_and_refetches_keys_on_rotation() {
    let dir = std::env::temp_dir().join(format!("portcullis-jwks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = database_url(&dir);
    let (old_private, old_public) = key_pem();
    let (new_private, _) = key_pem();
    let old_public_file = dir.join("old.pub.pem");
    std::fs::write(&old_public_file, old_public).unwrap();

    let before = spawn_app(&[
        ("DATABASE_URL", &db),
        ("JWT_ISSUER", ISSUER),
        ("JWT_PRIVATE_KEY", &old_private),
    ])
    .await;
    let api = Client::new(&before.base);
    api.register("downstream_bob", PW).await.unwrap();
    let tokens = api.sign_in("downstream_bob", PW).await.unwrap();

    // The downstream service reads the JWK Set from where it is published (here
    // a stand-in we can update, as a CDN or the auth server's address would be).
    let published = std::sync::Arc::new(std::sync::RwLock::new(
        reqwest::get(format!("{}/.well-known/jwks.json", before.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    ));
    let jwks_url = serve_jwks(published.clone()).await;
    let verifier = JwksVerifier::new(jwks_url, ISSUER, "portcullis")
        .with_timing(Duration::from_secs(300), Duration::ZERO);
    let claims = verifier.verify(&tokens.access_token).await.unwrap();
    assert_eq!(claims.name, "downstream_bob");
    assert_eq!(verifier.fetches(), 1);
    verifier.verify(&tokens.access_token).await.unwrap();
    assert_eq!(verifier.fetches(), 1, "keys are cached");

    // Rotate: the new key signs, the old one still verifies; the set now has both.
    let during = spawn_app(&[
        ("DATABASE_URL", &db),
        ("JWT_ISSUER", ISSUER),
        ("JWT_PRIVATE_KEY", &new_private),
        (
            "JWT_PREVIOUS_KEY_FILES",
            &old_public_file.display().to_string(),
        ),
    ])
    .await;
    drop(before);
    *published.write().unwrap() = reqwest::get(format!("{}/.well-known/jwks.json", during.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The session's next token has the new kid: the verifier refetches once.
    let api = Client::new(&during.base);
    let rotated = api.refresh(&tokens.refresh_token).await.unwrap();
    let claims = verifier.verify(&rotated.access_token).await.unwrap();
    assert_eq!(claims.sub, api.me(&rotated.access_token).await.unwrap().id);
    assert_eq!(verifier.fetches(), 2);
    verifier.verify(&tokens.access_token).await.unwrap();
    assert_eq!(verifier.fetches(), 2, "the old key is still in the set");

    // Refusals: another issuer's audience, garbage, a tampered token.
    let other_aud = JwksVerifier::new(
        format!("{}/.well-known/jwks.json", during.base),
        ISSUER,
        "another-service",
    );
    assert_eq!(
        other_aud.verify(&rotated.access_token).await,
        Err(VerifyError::Invalid)
    );
    assert_eq!(
        verifier.verify("garbage").await,
        Err(VerifyError::Malformed)
    );
    let mut tampered = rotated.access_token.clone();
    tampered.insert(tampered.len() - 3, 'x');
    assert!(verifier.verify(&tampered).await.is_err());
    drop(during);
    let _ = std::fs::remove_dir_all(dir);
}

/// Serves `body` at `/jwks` on a loopback port; returns its URL.
async fn serve_jwks(body: std::sync::Arc<std::sync::RwLock<String>>) -> String {
    use axum::{routing::get, Router};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let body = body.read().unwrap().clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/jwks")
}

#[tokio::test]
async fn unknown_kids_cannot_make_the_verifier_flood_the_auth_server() {
    let app = spawn_app(&[]).await;
    let verifier = JwksVerifier::new(
        format!("{}/.well-known/jwks.json", app.base),
        "whoever",
        "portcullis",
    );
    for i in 0..20 {
        let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"made-up-{i}"}}"#);
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let token = format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(header));
        assert_eq!(verifier.verify(&token).await, Err(VerifyError::UnknownKey));
    }
    assert_eq!(
        verifier.fetches(),
        1,
        "one fetch, then the refetch floor holds"
    );
}
