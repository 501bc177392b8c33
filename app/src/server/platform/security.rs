//! Response hardening: the Content-Security-Policy of server-rendered pages,
//! and the headers every response carries.

use http::{header, HeaderMap, HeaderValue};
use leptos::{config::LeptosOptions, prelude::use_context};

/// Sets the page's Content-Security-Policy. Scripts run only from this origin
/// or with the per-request nonce Leptos puts on its own inline scripts (the
/// module loader and the streamed resource data); `'wasm-unsafe-eval'` lets
/// the WASM module compile, and nothing else is evaluated.
pub fn set_page_csp(options: &LeptosOptions) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // cargo-leptos `watch` reloads the page over a WebSocket on the reload port.
    let live_reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
        format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
    } else {
        String::new()
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{live_reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The headers every response gets. Pages keep their own CSP; anything else
/// (JSON, files, errors) gets one that allows nothing to run or frame it.
pub fn harden(headers: &mut HeaderMap, https: bool) {
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
}

/// Whether a response to this request may hold something personal: it
/// carries a credential (a token cookie or `Authorization`) and is a page or
/// an API answer (static files are the same for everyone, whoever asks).
#[must_use]
pub fn is_personal_request(path: &str, headers: &HeaderMap) -> bool {
    let credential = headers.contains_key(header::AUTHORIZATION)
        || headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|jar| jar.contains("portcullis-at=") || jar.contains("portcullis-rt="));
    let file = path.starts_with("/pkg/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    credential && !file
}

/// No shared or browser cache keeps a response that sets a cookie (a
/// rotated token) or that was made for a signed-in caller (`/sessions` lists
/// addresses), unless the handler chose a policy itself.
pub fn cache_policy(headers: &mut HeaderMap, personal: bool) {
    let sets_cookie = headers.contains_key(header::SET_COOKIE);
    if sets_cookie {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if personal && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
}

/// The OAuth-style token endpoint for non-browser clients.
pub const TOKEN_PATH: &str = "/api/token";

/// Cross-site request forgery guard for browser requests.
///
/// A state-changing request (any method but GET, HEAD and OPTIONS) that does not
/// carry an `Authorization` header is a browser request: cookies may ride on it,
/// or (for sign-in) it may plant a session. It is accepted only when
/// `Sec-Fetch-Site`, if sent, says `same-origin`, `Origin` is present, not
/// `null`, and is the configured public origin, and, unless it is a top-level
/// form navigation, it carries the app's custom header
/// ([`crate::auth::transport::CSRF_HEADER`]). Requests with an
/// `Authorization` header never use the cookies (see `middleware`), so a forged
/// one gains nothing and is left to the API's own checks.
///
/// # Errors
/// [`AuthError::CrossSite`] (403) when the request must be refused.
pub fn check_same_origin(
    method: &http::Method,
    path: &str,
    headers: &HeaderMap,
    config: &crate::server::platform::config::Config,
) -> Result<(), crate::error::AuthError> {
    use crate::error::AuthError;
    if method.is_safe() || is_bearer(headers) {
        return Ok(());
    }
    if path == TOKEN_PATH {
        return check_token_caller(headers, config);
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() != b"same-origin" {
            return Err(AuthError::CrossSite);
        }
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::CrossSite)?;
    if !origin_matches(origin, config) {
        return Err(AuthError::CrossSite);
    }
    // Second layer: scripted requests carry the app's custom header, which a
    // cross-site page cannot add without a CORS preflight we never grant.
    // Top-level form posts (the sign-in forms before the WASM loads) can't add
    // headers; for them the origin check stands with `SameSite=Lax` cookies,
    // which browsers leave off cross-site POST navigations.
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() == b"navigate");
    if navigation || headers.contains_key(crate::auth::transport::CSRF_HEADER) {
        Ok(())
    } else {
        Err(AuthError::CrossSite)
    }
}

/// A request that authenticates with `Authorization: Bearer …`: it never
/// uses the cookies (the pipeline does not resume it from them), so a forged
/// one gains nothing. Any other scheme is checked like a browser request.
fn is_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

/// The token endpoint neither reads nor sets cookies, but a page elsewhere
/// could still make its visitors' browsers post sign-ins to it (distributed
/// guessing from many addresses). Its callers are apps and services, which
/// send no `Origin`; a browser on another site always does, and says so in
/// `Sec-Fetch-Site`.
fn check_token_caller(
    headers: &HeaderMap,
    config: &crate::server::platform::config::Config,
) -> Result<(), crate::error::AuthError> {
    let foreign_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"));
    let foreign_origin = headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.to_str().map_or(true, |o| !origin_matches(o, config)));
    if foreign_site || foreign_origin {
        return Err(crate::error::AuthError::CrossSite);
    }
    Ok(())
}

/// Whether `origin` is the public origin. In development `localhost`,
/// `127.0.0.1` and `[::1]` on the same port count as the same place.
fn origin_matches(origin: &str, config: &crate::server::platform::config::Config) -> bool {
    if origin == config.public_url {
        return true;
    }
    if config.mode != crate::server::platform::config::Mode::Development {
        return false;
    }
    let loopback = |url: &str| -> Option<(String, String)> {
        let rest = url.strip_prefix("http://")?;
        let (host, port) = rest.rsplit_once(':')?;
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
            .then(|| ("loopback".to_owned(), port.to_owned()))
    };
    loopback(origin).is_some() && loopback(origin) == loopback(&config.public_url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Config;
    use http::Method;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: std::collections::HashMap<_, _> = vars.iter().copied().collect();
        Config::from_lookup("127.0.0.1:3000".parse().expect("addr"), |k| {
            vars.get(k).map(|v| (*v).to_owned())
        })
        .expect("config")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn only_same_origin_browser_writes_pass() {
        let dev = config(&[]);
        const ORIGIN: (&str, &str) = ("origin", "http://127.0.0.1:3000");
        const APP: (&str, &str) = ("x-portcullis-csrf", "1");
        const SAME: (&str, &str) = ("sec-fetch-site", "same-origin");
        let table: [(&[(&str, &str)], bool); 12] = [
            (&[ORIGIN, APP], true),
            (&[("origin", "http://localhost:3000"), APP], true),
            (&[ORIGIN, SAME, APP], true),
            // A same-origin form post: no script, so no custom header.
            (&[ORIGIN, SAME, ("sec-fetch-mode", "navigate")], true),
            // Same origin, but a script without the app's header.
            (&[ORIGIN, SAME], false),
            (&[ORIGIN], false),
            (&[APP], false),
            (&[("origin", "null"), APP], false),
            (&[("origin", "http://evil.example"), APP], false),
            (&[("origin", "http://localhost:4000"), APP], false),
            (&[ORIGIN, ("sec-fetch-site", "cross-site"), APP], false),
            (&[ORIGIN, ("sec-fetch-site", "same-site"), APP], false),
        ];
        for (pairs, ok) in table {
            let result = check_same_origin(&Method::POST, "/api/fn/logout", &headers(pairs), &dev);
            assert_eq!(result.is_ok(), ok, "{pairs:?}");
        }
        assert!(check_same_origin(&Method::GET, "/", &headers(&[]), &dev).is_ok());
        let post = |path: &str, pairs: &[(&'static str, &'static str)]| {
            check_same_origin(&Method::POST, path, &headers(pairs), &dev).is_ok()
        };
        assert!(post("/api/me", &[("authorization", "Bearer x")]));
        assert!(post("/api/me", &[("authorization", "bearer x")]));
        // Issue #18: only Bearer skips the check, not any Authorization.
        assert!(!post("/api/fn/logout", &[("authorization", "Basic eDp5")]));
        assert!(!post("/api/fn/logout", &[("authorization", "x")]));
        // The token endpoint: apps send no Origin; a foreign page's does.
        assert!(post(TOKEN_PATH, &[]));
        assert!(post(TOKEN_PATH, &[ORIGIN]));
        assert!(!post(TOKEN_PATH, &[("origin", "https://evil.example")]));
        assert!(!post(TOKEN_PATH, &[("origin", "null")]));
        assert!(!post(TOKEN_PATH, &[("sec-fetch-site", "cross-site")]));
        let prod = config(&[
            ("PORTCULLIS_ENV", "production"),
            ("PUBLIC_URL", "https://auth.example"),
            ("JWT_PRIVATE_KEY_FILE", "/nonexistent"),
        ]);
        let localhost = headers(&[("origin", "http://localhost:3000")]);
        assert!(check_same_origin(&Method::POST, "/api/auth/login", &localhost, &prod).is_err());
        let own = headers(&[
            ("origin", "https://auth.example"),
            ("x-portcullis-csrf", "1"),
        ]);
        assert!(check_same_origin(&Method::POST, "/api/auth/login", &own, &prod).is_ok());
    }
}
