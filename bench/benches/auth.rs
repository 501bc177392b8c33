//! Criterion micro-benchmarks of the auth hot path's pieces:
//! `cargo bench -p portcullis-bench --bench auth`.
//!
//! - issuing an access token (Ed25519 signature);
//! - verifying a token seen for the first time (signature and claims);
//! - verifying a token already verified (the cache keyed by its exact bytes);
//! - each layer of the request pipeline on a cookie `GET /api/me` (CSRF,
//!   authenticate: cookie parsing, verification, revocation and role
//!   standing; resume; the page guard; the handler's request context), and
//!   the whole router in process (no TCP), against a bare axum handler;
//! - the session service: one refresh-token rotation on a real SQLite file;
//! - one argon2id hash with the default parameters (the sign-in cost).

use std::time::Duration;

use app::{
    policy::Role,
    server::{
        authentication::{keys, password::PasswordHasher, tokens::TokenService, users},
        build_state,
        platform::config::{Config, KeySource},
        sessions,
        web::{authenticate::authenticate, context::RequestContext, cookies, csrf, guard, resume},
        AppState,
    },
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tower::ServiceExt;
use uuid::Uuid;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn service(dir: &std::path::Path) -> TokenService {
    let key = keys::load(&KeySource::Generated(dir.join("bench-key.pem"))).expect("a key");
    TokenService::new(
        key,
        Vec::new(),
        "portcullis".into(),
        "portcullis".into(),
        Duration::from_secs(900),
        Duration::from_secs(0),
    )
    .expect("a token service")
}

fn tokens(c: &mut Criterion) {
    let dir = tempdir();
    let svc = service(&dir);
    let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
    c.bench_function("token issue (EdDSA)", |b| {
        b.iter(|| {
            svc.issue(user, sid, "alice", Role::User, now())
                .expect("signed")
        });
    });
    c.bench_function("token verify, first sight", |b| {
        b.iter_batched(
            || {
                // A fresh service each time, so nothing is cached.
                let fresh = service(&dir);
                let (token, _) = fresh
                    .issue(user, sid, "alice", Role::User, now())
                    .expect("signed");
                (fresh, token)
            },
            |(fresh, token)| fresh.verify(&token).expect("valid"),
            BatchSize::SmallInput,
        );
    });
    let (token, _) = svc
        .issue(user, sid, "alice", Role::User, now())
        .expect("signed");
    svc.verify(&token).expect("valid");
    c.bench_function("token verify, cached", |b| {
        b.iter(|| svc.verify(&token).expect("valid"));
    });
}

fn request_check(c: &mut Criterion) {
    let dir = tempdir();
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let vars = [
        ("DATA_DIR", dir.to_string_lossy().into_owned()),
        ("RUST_LOG", "warn".to_owned()),
        // As in bench/run.sh: measure the work, not the abuse limits.
        ("RATE_LIMIT", "off".to_owned()),
    ];
    let config = Config::from_lookup(([127, 0, 0, 1], 3000).into(), |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("a development config");
    let state = rt
        .block_on(build_state(
            config,
            leptos::config::LeptosOptions::builder()
                .output_name("portcullis")
                .build(),
        ))
        .expect("state");
    let (token, _) = state
        .tokens
        .issue(Uuid::new_v4(), Uuid::new_v4(), "alice", Role::User, now())
        .expect("signed");
    let cookie = format!(
        "{}={token}; {}=some-refresh-token",
        cookies::names(&state.config).access,
        cookies::names(&state.config).refresh
    );
    layers(c, &rt, &state, &cookie);

    // The session service on a real SQLite file: one refresh is a
    // compare-and-swap rotation of the session row plus a new access token.
    let device = sessions::Device {
        user_agent: "criterion".into(),
        ip: "127.0.0.1".into(),
        cookie: None,
    };
    let mut refresh_token = rt.block_on(async {
        let user = users::register(
            &state.db,
            &state.hasher,
            "bench",
            "correct horse battery".to_owned().into(),
            Role::User,
        )
        .await
        .expect("registered");
        let row = users::find(&state.db, user.id)
            .await
            .expect("query")
            .expect("the user");
        sessions::start(&state, &row, device.clone())
            .await
            .expect("a session")
            .refresh_token
    });
    c.bench_function("session refresh (rotation, SQLite)", |b| {
        b.iter(|| {
            let issued = rt
                .block_on(sessions::refresh(&state, &refresh_token, device.clone()))
                .expect("rotated");
            refresh_token = issued.refresh_token;
        });
    });
}

/// A cookie `GET /api/me` as the browser sends it.
fn me_request(cookie: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get("/api/me")
        .header(axum::http::header::COOKIE, cookie)
        .header(axum::http::header::USER_AGENT, "criterion")
        .body(axum::body::Body::empty())
        .expect("a request")
}

/// The per-request cost of each pipeline layer (README, "The cost of each layer").
fn layers(c: &mut Criterion, rt: &tokio::runtime::Runtime, state: &AppState, cookie: &str) {
    let (parts, ()) = me_request(cookie).map(|_| ()).into_parts();
    let mut group = c.benchmark_group("layer");
    group.bench_function("1 csrf", |b| {
        b.iter(|| csrf::check(state, &parts).expect("a safe method"));
    });
    group.bench_function("2 authenticate (cookie, cached token)", |b| {
        b.iter(|| authenticate(state, &parts.headers).expect("authenticated"));
    });
    let principal = authenticate(state, &parts.headers).expect("authenticated");
    group.bench_function("3 resume (nothing to resume)", |b| {
        b.iter(|| {
            let resumed = rt.block_on(resume::resume(state, &parts, Ok(principal.clone())));
            assert!(resumed.is_ok(), "nothing to resume");
            resumed.is_ok()
        });
    });
    group.bench_function("4 guard", |b| {
        b.iter(|| guard::decide(&parts, Some(Role::User)));
    });
    group.bench_function("handler context", |b| {
        b.iter(|| RequestContext::from_parts(state, &parts, None));
    });
    group.finish();

    let router = {
        // Leptos's route list is built on the runtime.
        let _inside = rt.enter();
        server::routes::router(state.clone())
    };
    let mut whole = c.benchmark_group("in process, no TCP");
    whole.bench_function("GET /api/me through the whole router", |b| {
        b.iter(|| {
            let response = rt
                .block_on(router.clone().oneshot(me_request(cookie)))
                .expect("infallible");
            assert_eq!(response.status(), 200);
        });
    });
    let bare = axum::Router::new().route("/api/me", axum::routing::get(|| async { "{}" }));
    whole.bench_function("GET /api/me, a bare axum handler", |b| {
        b.iter(|| {
            rt.block_on(bare.clone().oneshot(me_request(cookie)))
                .expect("infallible")
        });
    });
    whole.finish();
}

fn hashing(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let defaults = Config::from_lookup(([127, 0, 0, 1], 3000).into(), |_| None)
        .expect("the default config")
        .argon2;
    let hasher = PasswordHasher::new(defaults, 1, 4).expect("a hasher");
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("hash (default parameters)", |b| {
        b.iter(|| {
            rt.block_on(hasher.hash("correct horse battery".to_owned().into()))
                .expect("hashed")
        });
    });
    group.finish();
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-bench-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

criterion_group!(benches, tokens, request_check, hashing);
criterion_main!(benches);
