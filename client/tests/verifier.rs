//! `JwksVerifier` against a real JWKS endpoint on a loopback port that can be
//! told to hang: the fetch is bounded by its timeout, a cached key never waits
//! for a fetch in flight, and callers needing a refetch share one request.
#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{extract::State, routing::get, Router};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use portcullis_client::{AccessClaims, JwksVerifier, VerifyError};
use tokio::{task::JoinSet, time::timeout};

const ISSUER: &str = "https://auth.test";
const AUDIENCE: &str = "portcullis";
/// A throwaway Ed25519 key for these tests only, and its public `x`.
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIELJGSn86HLquHh0i8mtuWzRmR77uia8at54742VX1eI
-----END PRIVATE KEY-----
";
const PUBLIC_X: &str = "z4XTsTmqWY5LFlIc9YD5SaNXgd6iTB1n0o4jj3sjX60";

/// A JWKS endpoint that publishes `known`, counts requests, and, once told to
/// hang, accepts each request and never answers it.
#[derive(Default)]
struct Endpoint {
    hang: AtomicBool,
    hits: AtomicU64,
}

impl Endpoint {
    async fn start(hang: bool) -> (Arc<Self>, String) {
        let endpoint = Arc::new(Self::default());
        endpoint.hang.store(hang, Ordering::SeqCst);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/jwks", get(jwks))
            .with_state(endpoint.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, url)
    }

    fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// Waits (at most 5 s) until the endpoint has received `n` requests.
    async fn await_hits(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.hits() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(self.hits(), n, "the endpoint got the expected requests");
    }
}

async fn jwks(
    State(endpoint): State<Arc<Endpoint>>,
) -> ([(&'static str, &'static str); 1], String) {
    endpoint.hits.fetch_add(1, Ordering::SeqCst);
    if endpoint.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let body = serde_json::json!({ "keys": [
        { "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "known", "x": PUBLIC_X },
    ]});
    ([("content-type", "application/json")], body.to_string())
}

/// An access token signed with the test key, naming `kid`.
fn token(kid: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: uuid::Uuid::nil(),
        sid: uuid::Uuid::nil(),
        name: "alice".into(),
        role: "user".into(),
        typ: "access".into(),
        iat: now,
        nbf: now,
        exp: now + 300,
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    let key = EncodingKey::from_ed_pem(PRIVATE_PEM.as_bytes()).unwrap();
    encode(&header, &claims, &key).unwrap()
}

/// Runs `verify` for `token` with an outer bound, so a fetch with no timeout
/// fails the test instead of hanging it; returns the result and how long it took.
async fn timed(
    verifier: &JwksVerifier,
    token: &str,
    bound: Duration,
) -> (Result<AccessClaims, VerifyError>, Duration) {
    let started = Instant::now();
    let result = timeout(bound, verifier.verify(token))
        .await
        .expect("verify returned within the outer bound");
    (result, started.elapsed())
}

#[tokio::test]
async fn a_jwks_endpoint_that_never_answers_fails_the_fetch_within_the_timeout() {
    let (endpoint, url) = Endpoint::start(true).await;
    let verifier = JwksVerifier::new(url, ISSUER, AUDIENCE)
        .with_timeouts(Duration::from_millis(500), Duration::from_millis(500));
    let (result, took) = timed(&verifier, &token("known"), Duration::from_secs(10)).await;
    assert!(matches!(result, Err(VerifyError::Fetch(_))), "{result:?}");
    assert!(took < Duration::from_secs(3), "gave up after {took:?}");
    assert_eq!(endpoint.hits(), 1);
}

#[tokio::test]
async fn the_default_verifier_gives_up_on_a_silent_jwks_endpoint_in_seconds() {
    let (_endpoint, url) = Endpoint::start(true).await;
    let verifier = JwksVerifier::new(url, ISSUER, AUDIENCE);
    let (result, took) = timed(&verifier, &token("known"), Duration::from_secs(20)).await;
    assert!(matches!(result, Err(VerifyError::Fetch(_))), "{result:?}");
    assert!(took < Duration::from_secs(8), "gave up after {took:?}");
}

#[tokio::test]
async fn a_cached_key_verifies_at_once_while_a_refetch_hangs() {
    let (endpoint, url) = Endpoint::start(false).await;
    let verifier = Arc::new(
        JwksVerifier::new(url, ISSUER, AUDIENCE)
            .with_timing(Duration::from_secs(300), Duration::ZERO)
            .with_timeouts(Duration::from_secs(1), Duration::from_secs(30)),
    );
    let known = token("known");
    assert_eq!(verifier.verify(&known).await.unwrap().name, "alice");
    assert_eq!(endpoint.hits(), 1);

    // A token with a new kid sends the verifier to a JWKS endpoint that now hangs.
    endpoint.hang.store(true, Ordering::SeqCst);
    let stuck = tokio::spawn({
        let verifier = verifier.clone();
        async move { verifier.verify(&token("rotated")).await }
    });
    endpoint.await_hits(2).await;

    let (result, took) = timed(&verifier, &known, Duration::from_secs(2)).await;
    assert_eq!(result.unwrap().name, "alice");
    assert!(took < Duration::from_millis(500), "waited {took:?}");
    assert!(
        !stuck.is_finished(),
        "the refetch is still hanging meanwhile"
    );
    stuck.abort();
}

#[tokio::test]
async fn callers_needing_a_refetch_share_the_one_in_flight() {
    let (endpoint, url) = Endpoint::start(true).await;
    let verifier = Arc::new(
        JwksVerifier::new(url, ISSUER, AUDIENCE)
            .with_timing(Duration::from_secs(300), Duration::ZERO)
            .with_timeouts(Duration::from_secs(1), Duration::from_secs(1)),
    );
    let started = Instant::now();
    let mut callers = JoinSet::new();
    for i in 0..8 {
        let verifier = verifier.clone();
        callers.spawn(async move { verifier.verify(&token(&format!("new-{i}"))).await });
    }
    let outcomes = timeout(Duration::from_secs(10), async {
        let mut outcomes = Vec::new();
        while let Some(result) = callers.join_next().await {
            outcomes.push(result.unwrap());
        }
        outcomes
    })
    .await
    .expect("every caller returned within the outer bound");
    for outcome in outcomes {
        assert!(matches!(outcome, Err(VerifyError::Fetch(_))), "{outcome:?}");
    }
    assert_eq!(endpoint.hits(), 1, "one request for eight callers");
    assert_eq!(verifier.fetches(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The failure does not stick: once the endpoint answers, the next caller fetches.
    endpoint.hang.store(false, Ordering::SeqCst);
    assert_eq!(
        verifier.verify(&token("known")).await.unwrap().name,
        "alice"
    );
    assert_eq!(endpoint.hits(), 2);
}
