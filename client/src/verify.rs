//! Offline verification of Portcullis access tokens for downstream services.
//!
//! The verifier fetches the server's JWK Set once, caches the keys, and
//! refetches only when a token names a `kid` it has not seen (a key rotation)
//! or the cache is older than `max_age`, and never more often than
//! `min_refetch`, so a stream of tokens with made-up `kid`s cannot turn it into
//! a request flood against the auth server.
//!
//! The fetch has a connect and a total timeout (2 s and 5 s by default,
//! [`JwksVerifier::with_timeouts`]), and it runs outside the key cache's lock:
//! a token whose key is cached is verified at once, even while a refetch waits
//! on a slow or silent JWKS endpoint. Only one fetch is in flight at a time;
//! callers that need one while it runs wait for it and share its outcome
//! (a failed fetch too, until `min_refetch` has passed) instead of each asking
//! again.
//!
//! Offline verification cannot see revocations: a token stays valid until its
//! `exp` (the server's `ACCESS_TOKEN_TTL`, 15 minutes by default). Services
//! that must honour a sign-out at once should call `GET /api/me` instead.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use portcullis_core::claims::{AccessClaims, MAX_TOKEN_BYTES};
use serde::Deserialize;
use tokio::sync::Mutex;

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

/// The keys of the last successful fetch. Replaced whole, never edited, so
/// the lock around it is held only to clone or swap an `Arc`.
#[derive(Default)]
struct KeySet {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// The last fetch attempt: when it ended and, if it failed, why.
struct Attempt {
    ended: Instant,
    error: Option<VerifyError>,
}

impl Attempt {
    fn outcome(&self) -> Result<(), VerifyError> {
        self.error.clone().map_or(Ok(()), Err)
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Verifies access tokens with the public keys from a JWKS URL.
pub struct JwksVerifier {
    jwks_url: String,
    validation: Validation,
    http: reqwest::Client,
    fetch_timeout: Duration,
    keys: RwLock<Arc<KeySet>>,
    /// Held by the one fetch in flight (single flight); verification of a
    /// cached key never touches it.
    last_attempt: Mutex<Option<Attempt>>,
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
            http: http_client(CONNECT_TIMEOUT),
            fetch_timeout: FETCH_TIMEOUT,
            keys: RwLock::default(),
            last_attempt: Mutex::new(None),
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

    /// Sets the JWKS fetch's timeouts: to connect, and for the whole request
    /// (connect, answer and body). The defaults are 2 s and 5 s.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.http = http_client(connect);
        self.fetch_timeout = total;
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
        let key = match self.cached(&kid) {
            Some(key) => key,
            None => {
                self.refetch_if_allowed().await?;
                self.cached(&kid).ok_or(VerifyError::UnknownKey)?
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

    /// The key for `kid`, if the set holding it is younger than `max_age`.
    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        // A panic elsewhere cannot leave a half-written set: it is swapped whole.
        let set = Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner));
        let fresh = set.fetched_at.is_some_and(|at| at.elapsed() < self.max_age);
        fresh.then(|| set.keys.get(kid).cloned()).flatten()
    }

    /// Fetches the set unless an attempt ended less than `min_refetch` ago or
    /// while this caller waited for the one in flight: then its outcome is shared.
    async fn refetch_if_allowed(&self) -> Result<(), VerifyError> {
        let asked = Instant::now();
        let mut last = self.last_attempt.lock().await;
        if let Some(attempt) = last.as_ref() {
            if attempt.ended >= asked || attempt.ended.elapsed() < self.min_refetch {
                return attempt.outcome();
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let error = match self.fetch().await {
            Ok(set) => {
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
                None
            }
            Err(e) => Some(e),
        };
        let attempt = last.insert(Attempt {
            ended: Instant::now(),
            error,
        });
        attempt.outcome()
    }

    async fn fetch(&self) -> Result<KeySet, VerifyError> {
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .timeout(self.fetch_timeout)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| VerifyError::Fetch(e.to_string()))?
            .json()
            .await
            .map_err(|e| VerifyError::Fetch(e.to_string()))?;
        let keys = set
            .keys
            .into_iter()
            .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
            .filter_map(|k| Some((k.kid, DecodingKey::from_ed_components(&k.x).ok()?)))
            .collect();
        Ok(KeySet {
            keys,
            fetched_at: Some(Instant::now()),
        })
    }
}

/// The HTTP client for the fetch, with its connect timeout (the total one is
/// set per request, so it holds whichever client this returns).
fn http_client(connect: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .build()
        // Building fails only where `Client::new()` would panic (no TLS backend).
        .unwrap_or_else(|_| reqwest::Client::new())
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
