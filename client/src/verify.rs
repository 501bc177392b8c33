//! Offline verification of Portcullis access tokens for downstream services.
//!
//! The verifier fetches the server's JWK Set once, caches the keys, and
//! refetches only when a token names a `kid` it has not seen (a key rotation)
//! or the cache is older than `max_age`, and never more often than
//! `min_refetch`, so a stream of tokens with made-up `kid`s cannot turn it into
//! a request flood against the auth server.
//!
//! Offline verification cannot see revocations: a token stays valid until its
//! `exp` (the server's `ACCESS_TOKEN_TTL`, 15 minutes by default). Services
//! that must honour a sign-out at once should call `GET /api/me` instead.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use portcullis_core::claims::{AccessClaims, MAX_TOKEN_BYTES};
use serde::Deserialize;
use tokio::sync::RwLock;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is malformed or not an access token")]
    Malformed,
    #[error("no published key has this token's kid")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature or claims are not valid")]
    Invalid,
    #[error("the JWK Set could not be fetched: {0}")]
    Fetch(String),
}

struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens with the public keys from a JWKS URL.
pub struct JwksVerifier {
    jwks_url: String,
    validation: Validation,
    http: reqwest::Client,
    cache: RwLock<Cache>,
    max_age: Duration,
    min_refetch: Duration,
    fetches: AtomicU64,
}

impl JwksVerifier {
    /// A verifier for tokens issued by `issuer` for `audience`, with keys from
    /// `jwks_url` (e.g. `https://auth.example/.well-known/jwks.json`).
    #[must_use]
    pub fn new(jwks_url: impl Into<String>, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            jwks_url: jwks_url.into(),
            validation,
            http: reqwest::Client::new(),
            cache: RwLock::new(Cache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            max_age: Duration::from_secs(300),
            min_refetch: Duration::from_secs(10),
            fetches: AtomicU64::new(0),
        }
    }

    /// Sets how long keys are trusted without a refetch, and the shortest gap between fetches.
    #[must_use]
    pub fn with_timing(mut self, max_age: Duration, min_refetch: Duration) -> Self {
        self.max_age = max_age;
        self.min_refetch = min_refetch;
        self
    }

    /// How many times the JWK Set has been fetched (for metrics and tests).
    #[must_use]
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Verifies a token: size, `alg` (EdDSA only), `typ`, `kid` among the
    /// published keys, signature, `iss`, `aud`, `exp`, `nbf` and the token kind.
    ///
    /// # Errors
    /// A [`VerifyError`] saying why the token is refused.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::Malformed);
        }
        let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some("at+jwt") {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Malformed)?;
        let key = match self.cached(&kid).await {
            Some(key) => key,
            None => {
                self.refetch_if_allowed().await?;
                self.cached(&kid).await.ok_or(VerifyError::UnknownKey)?
            }
        };
        let data =
            decode::<AccessClaims>(token, &key, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => VerifyError::Expired,
                _ => VerifyError::Invalid,
            })?;
        if data.claims.typ != "access" {
            return Err(VerifyError::Invalid);
        }
        Ok(data.claims)
    }

    async fn cached(&self, kid: &str) -> Option<DecodingKey> {
        let cache = self.cache.read().await;
        let fresh = cache
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.max_age);
        fresh.then(|| cache.keys.get(kid).cloned()).flatten()
    }

    async fn refetch_if_allowed(&self) -> Result<(), VerifyError> {
        let mut cache = self.cache.write().await;
        if let Some(at) = cache.fetched_at {
            // Someone refetched a moment ago (or a flood of unknown kids): don't ask again.
            if at.elapsed() < self.min_refetch {
                return Ok(());
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| VerifyError::Fetch(e.to_string()))?
            .json()
            .await
            .map_err(|e| VerifyError::Fetch(e.to_string()))?;
        cache.keys = set
            .keys
            .into_iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| Some((k.kid, DecodingKey::from_ed_components(&k.x).ok()?)))
            .collect();
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: String,
    #[serde(default)]
    x: String,
    #[serde(default)]
    kid: String,
}
