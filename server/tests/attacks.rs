//! One test per attack from the catalogue (RFC 8725, OWASP ASVS): each gets a
//! clear 4xx, never a 5xx, and changes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use common::{spawn_app, Client, TestApp, ACCESS};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PW: &str = "correct horse battery";

/// A signed-in victim and what an attacker can learn about the server. The
/// test also holds the server's private key (given to it through
/// `JWT_PRIVATE_KEY`), so it can sign tokens that differ from genuine ones in
/// one claim only: that proves each claim check on its own.
struct Scene {
    app: TestApp,
    victim: Client,
    kid: String,
    public_x: String,
    claims: Value,
    server_key: Vec<u8>,
}

fn new_key() -> ed25519_dalek::SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

fn sign(der: &[u8], claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der)).unwrap()
}

async fn scene() -> Scene {
    let key = new_key();
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let app = spawn_app(&[("JWT_PRIVATE_KEY", pem.as_str())]).await;
    let mut victim = Client::new(&app);
    victim.signed_in_user(PW).await;
    let jwks = victim
        .send(Method::GET, "/.well-known/jwks.json", None)
        .await;
    let jwk = &jwks.body["keys"][0];
    let token = victim.cookies[ACCESS].clone();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    Scene {
        kid: jwk["kid"].as_str().unwrap().to_owned(),
        public_x: jwk["x"].as_str().unwrap().to_owned(),
        app,
        victim,
        claims,
        server_key: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Signs `claims` with a fresh Ed25519 key that the server has never seen.
fn foreign_eddsa(claims: &Value, kid: &str) -> String {
    sign(new_key().to_pkcs8_der().unwrap().as_bytes(), claims, kid)
}

/// Sends `token` as a Bearer credential to `/api/me`.
async fn me_with(app: &TestApp, token: &str) -> common::Reply {
    let mut c = Client::new(app);
    c.send_with(
        Method::GET,
        "/api/me",
        None,
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn forged_and_mangled_access_tokens_are_refused_with_401() {
    let Scene {
        app,
        mut victim,
        kid,
        public_x,
        claims,
        server_key,
    } = scene().await;
    let real = victim.cookies[ACCESS].clone();
    let parts: Vec<&str> = real.split('.').collect();
    let now = chrono_now();
    let with = |patch: Value| {
        let mut c = claims.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let header = |alg: &str, kid: &str| json!({"alg": alg, "typ": "at+jwt", "kid": kid});

    let mut attacks: Vec<(&str, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        attacks.push((
            "alg none",
            format!("{}.{}.", b64(&header(alg, &kid)), parts[1]),
        ));
    }
    attacks.push(("null signature", format!("{}.{}.", parts[0], parts[1])));
    attacks.push((
        "broken signature",
        format!("{}.{}.AAAA", parts[0], parts[1]),
    ));
    attacks.push(("another key", foreign_eddsa(&claims, &kid)));
    // Keys offered by the token itself (`jwk`, `jku`, `x5u`) are never followed.
    {
        let attacker = new_key();
        let attacker_x = URL_SAFE_NO_PAD.encode(attacker.verifying_key().to_bytes());
        let header = json!({
            "alg": "EdDSA", "typ": "at+jwt", "kid": "attacker",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": attacker_x, "kid": "attacker"},
            "jku": "https://evil.example/jwks.json",
            "x5u": "https://evil.example/cert.pem",
        });
        let signing_input = format!("{}.{}", b64(&header), b64(&claims));
        use ed25519_dalek::Signer;
        let signature = URL_SAFE_NO_PAD.encode(attacker.sign(signing_input.as_bytes()).to_bytes());
        attacks.push((
            "embedded jwk / jku / x5u",
            format!("{signing_input}.{signature}"),
        ));
    }
    // Algorithm confusion: HS256 keyed with the server's public key.
    let public = URL_SAFE_NO_PAD.decode(&public_x).unwrap();
    for secret in [public.as_slice(), public_x.as_bytes()] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        h.typ = Some("at+jwt".into());
        let t = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret)).unwrap();
        attacks.push(("HS256 with the public key", t));
    }
    let expired = with(json!({"exp": now - 3600, "iat": now - 4000, "nbf": now - 4000}));
    attacks.push(("expired", sign(&server_key, &expired, &kid)));
    // `kid` is only ever looked up among loaded keys, never used as a path.
    for evil_kid in ["../../../../dev/null", "/etc/passwd", "", "' OR 1=1 --"] {
        attacks.push(("kid injection", sign(&server_key, &claims, evil_kid)));
    }
    for (what, patch) in [
        ("nbf in the future", json!({"nbf": now + 3600})),
        ("wrong iss", json!({"iss": "https://evil.example"})),
        ("wrong aud", json!({"aud": "another-service"})),
        ("wrong type", json!({"typ": "refresh"})),
        ("unknown role", json!({"role": "root"})),
        ("no exp", json!({"exp": null})),
    ] {
        attacks.push((what, sign(&server_key, &with(patch), &kid)));
    }
    // The control: the same key and claims, unmodified, are accepted.
    assert_eq!(
        me_with(&app, &sign(&server_key, &claims, &kid))
            .await
            .status,
        StatusCode::OK
    );
    attacks.push((
        "oversized",
        format!("{}.{}.{}", parts[0], "A".repeat(5000), parts[2]),
    ));
    attacks.push(("bad base64", format!("{}.!!!$$$.{}", parts[0], parts[2])));
    attacks.push((
        "bad JSON",
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode("{\"sub\":"),
            parts[2]
        ),
    ));
    attacks.push((
        "duplicate claims",
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(
                String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                    .unwrap()
                    .replacen('{', "{\"role\":\"admin\",", 1)
            ),
            parts[2]
        ),
    ));
    attacks.push(("garbage", "not-a-jwt".into()));
    attacks.push((
        "refresh token as access token",
        victim.cookies[common::REFRESH].clone(),
    ));

    for (what, token) in &attacks {
        let reply = me_with(&app, token).await;
        assert!(
            reply.status == StatusCode::UNAUTHORIZED || reply.status == StatusCode::BAD_REQUEST,
            "{what}: {} {}",
            reply.status,
            reply.text
        );
        assert!(
            reply.error_code().starts_with("token_"),
            "{what}: {}",
            reply.text
        );
    }

    // NUL bytes can't even travel in a header: the HTTP layer answers 400.
    let nul = format!("{}\u{0}.{}.{}", parts[0], parts[1], parts[2]);
    let raw = raw_request(&app, &format!("GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {nul}\r\nConnection: close\r\n\r\n")).await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");

    // The real token still works and nothing about the victim changed.
    let me = victim.me().await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["role"], "user");
}

#[tokio::test]
async fn a_token_in_the_url_never_authenticates() {
    let Scene {
        app, mut victim, ..
    } = scene().await;
    let token = victim.cookies[ACCESS].clone();
    let mut anon = Client::new(&app);
    for path in [
        format!("/api/me?access_token={token}"),
        format!("/api/me?token={token}"),
        format!("/dashboard?access_token={token}"),
    ] {
        let status = anon.send(Method::GET, &path, None).await.status;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::SEE_OTHER,
            "{path}: {status}"
        );
    }
    assert_eq!(victim.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_change_nothing() {
    let Scene {
        app, mut victim, ..
    } = scene().await;
    // The attacker's own, real account: a successful plant would be a 200.
    assert_eq!(
        Client::new(&app).register("attacker", PW).await.status,
        StatusCode::CREATED
    );
    let own = victim.base.clone();
    let cases: [(&str, Option<&str>, Option<&str>); 6] = [
        ("no Origin", None, None),
        // Same origin and same-origin fetch metadata, but a script that did not
        // send the app's custom header (a cross-site page cannot add it).
        (
            "no app header",
            Some(own.clone().leak()),
            Some("same-origin"),
        ),
        ("Origin null", Some("null"), None),
        (
            "another site",
            Some("https://evil.example"),
            Some("cross-site"),
        ),
        (
            "a sibling site",
            Some("http://evil.127.0.0.1.nip.io"),
            Some("same-site"),
        ),
        (
            "own Origin but cross-site fetch",
            Some(victim.base.clone().leak()),
            Some("cross-site"),
        ),
    ];
    for (what, origin, site) in cases {
        let mut forged = victim.clone();
        forged.origin = origin.map(str::to_owned);
        forged.csrf_header = false;
        let mut headers = Vec::new();
        if let Some(site) = site {
            headers.push(("sec-fetch-site", site));
        }
        // A JSON endpoint with the victim's cookies: sign out everywhere.
        let reply = forged
            .send_with(
                Method::POST,
                "/api/auth/logout",
                Some(json!({"scope": "global"})),
                &headers,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "cross_site_request", "{what}");
        assert!(
            reply.set_cookies().is_empty(),
            "{what}: no cookie is touched"
        );
        // A server function, posted the way a hostile form would.
        let reply = forged
            .form_with("/api/fn/logout", &[("scope", "global")], &headers)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what} (server fn)");
        // Login CSRF: planting the attacker's session in the victim's browser.
        let mut planted = Client::new(&app);
        planted.origin = origin.map(str::to_owned);
        planted.csrf_header = false;
        let reply = planted
            .send_with(
                Method::POST,
                "/api/auth/login",
                Some(json!({"username": "attacker", "password": PW})),
                &headers,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what} (login)");
        assert!(reply.set_cookies().is_empty());
    }
    // The control: the same sign-in as a same-origin form navigation (no script,
    // no custom header) is accepted: forms work before the WASM loads.
    let mut form = Client::new(&app);
    form.csrf_header = false;
    let reply = form
        .form_with(
            "/api/fn/login",
            &[("username", "attacker"), ("password", PW)],
            &[
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate"),
                ("accept", "text/html"),
            ],
        )
        .await;
    assert!(
        reply.status.is_redirection(),
        "{} {}",
        reply.status,
        reply.text
    );
    // The two token cookies and the device cookie.
    assert_eq!(reply.set_cookies().len(), 3);

    // State-changing server functions take POST only: a GET (a link, an <img>)
    // with the victim's cookies does nothing.
    let reply = victim
        .send(Method::GET, "/api/fn/logout?scope=global", None)
        .await;
    assert!(
        reply.status.is_client_error(),
        "GET logout: {}",
        reply.status
    );

    let me = victim.me().await;
    assert_eq!(me.status, StatusCode::OK, "the victim is still signed in");
    assert_eq!(victim.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn brute_force_gets_429_with_retry_after_and_the_owner_can_still_sign_in() {
    let app = spawn_app(&[("RATE_LIMIT", "on"), ("SIGN_IN_RATE_LIMIT", "12/5m")]).await;
    let mut owner = Client::new(&app);
    let name = owner.signed_in_user(PW).await;
    let mut attacker = Client::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(attacker.login(&name, "guess-guess").await);
    }
    let first_limited = statuses
        .iter()
        .position(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("the growing delay starts after five failures");
    assert_eq!(
        first_limited,
        6,
        "{:?}",
        statuses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let limited = &statuses[first_limited];
    assert_eq!(limited.error_code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // The right password during the delay is refused too: no oracle.
    assert_eq!(
        attacker.login(&name, PW).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Per IP: the 12th attempt from this address hits the window limit.
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        let mut c = Client::new(&app);
        last = c.login("someone-else", "guess-guess").await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn every_set_cookie_and_security_header_is_as_documented() {
    let app = spawn_app(&[]).await;
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let login = c.login(&name, PW).await;
    let cookies = login.set_cookies();
    // Access, refresh, and the device cookie (a year; sign-out leaves it).
    assert_eq!(cookies.len(), 3);
    let device = cookies
        .iter()
        .find(|c| c.starts_with("portcullis-dev="))
        .expect("a password sign-in sets the device cookie");
    assert!(device.contains("Max-Age=31536000"), "{device}");
    for cookie in &cookies {
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    assert_eq!(login.headers["cache-control"], "no-store");
    for h in [
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "content-security-policy",
    ] {
        assert!(login.headers.contains_key(h), "JSON answer lacks {h}");
    }
    let page = c.send(Method::GET, "/dashboard", None).await;
    let csp = page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'nonce-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        !page.headers.contains_key("strict-transport-security"),
        "no HSTS over http"
    );
    let logout = c.logout("local").await;
    assert_eq!(logout.headers["clear-site-data"], "\"cookies\"");

    let jwks = c.send(Method::GET, "/.well-known/jwks.json", None).await;
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(key.get(private).is_none(), "JWKS leaks `{private}`");
    }
}

/// Writes raw bytes to the server and returns what it answers.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn over_https_cookies_are_secure_and_prefixed_and_hsts_is_sent() {
    let public = "https://auth.portcullis.test";
    let app = spawn_app(&[("PUBLIC_URL", public)]).await;
    let mut c = Client::new(&app);
    c.origin = Some(public.to_owned());
    let name = c.signed_in_user(PW).await;
    let login = c.login(&name, PW).await;
    let cookies = login.set_cookies();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("__Host-portcullis-at="))
        .expect("a __Host- access cookie");
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("__Host-portcullis-rt="))
        .expect(
            "a __Host- refresh cookie (issue #18: __Secure- can be tossed by a sibling subdomain)",
        );
    for cookie in [access, refresh] {
        for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    assert!(login.headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    // The prefixed cookies authenticate; the old unprefixed names do not.
    assert_eq!(c.me().await.status, StatusCode::OK);
    let mut plain = Client::new(&app);
    plain.cookies.insert(
        ACCESS.to_owned(),
        access.split(['=', ';']).nth(1).unwrap().to_owned(),
    );
    assert_eq!(plain.me().await.status, StatusCode::UNAUTHORIZED);
    // The old name is expired on the way, so it does not linger.
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Secure-portcullis-rt=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    // A refresh token under the old `__Secure-` name (all a sibling
    // subdomain could plant) is not read.
    let token = refresh.split(['=', ';']).nth(1).unwrap().to_owned();
    let mut tossed = Client::new(&app);
    tossed.origin = Some(public.to_owned());
    tossed
        .cookies
        .insert("__Secure-portcullis-rt".to_owned(), token);
    assert_eq!(tossed.refresh().await.status, StatusCode::UNAUTHORIZED);
}

/// A sign-in flood beyond the hashing pool and its queue is turned away with
/// 503 and `Retry-After` at once, instead of piling up behind the hashes,
/// while the requests that got a place succeed.
#[tokio::test]
async fn a_sign_in_flood_beyond_the_hash_queue_gets_503_with_retry_after() {
    let app = spawn_app(&[
        ("HASH_CONCURRENCY", "1"),
        ("HASH_QUEUE", "1"),
        // Slow hashes, so the flood surely overlaps them.
        ("ARGON2_T_COST", "24"),
    ])
    .await;
    let mut setup = Client::new(&app);
    let name = setup.signed_in_user(PW).await;
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = Client::new(&app);
        let name = name.clone();
        flood.spawn(async move { client.login(&name, PW).await });
    }
    let (mut ok, mut busy) = (0, 0);
    while let Some(reply) = flood.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(reply.error_code(), "busy");
                assert_eq!(reply.headers["retry-after"], "1");
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(ok >= 1, "the requests holding a place are served");
    assert!(busy >= 1, "the rest are turned away");
    assert_eq!(ok + busy, 8);
}
