//! The token cookies: both `HttpOnly`, `SameSite=Lax`, no `Domain`.
//!
//! Over https they are `Secure` and prefixed (`__Host-` for the access token,
//! `__Secure-` for the refresh token). Plain-http development on localhost uses
//! the unprefixed names without `Secure`, which browsers would otherwise drop.
//!
//! The refresh cookie is scoped to `/` rather than to the refresh endpoint:
//! a page load after the access token expired resumes the session on the
//! server (see `middleware`), so a reload never shows the login page.

use http::{header::COOKIE, HeaderMap, HeaderValue};

use super::{config::Config, sessions::Issued};

/// Names of the two cookies for this configuration.
#[must_use]
pub fn names(config: &Config) -> (&'static str, &'static str) {
    if config.secure_cookies {
        ("__Host-portcullis-at", "__Secure-portcullis-rt")
    } else {
        ("portcullis-at", "portcullis-rt")
    }
}

/// `Set-Cookie` values that store freshly issued tokens.
#[must_use]
pub fn set(config: &Config, issued: &Issued) -> Vec<HeaderValue> {
    let (access, refresh) = names(config);
    let now = chrono::Utc::now().timestamp();
    vec![
        cookie(
            config,
            access,
            &issued.access_token,
            issued.access_expires_at - now,
        ),
        cookie(
            config,
            refresh,
            &issued.refresh_token,
            issued.refresh_expires_at - now,
        ),
    ]
}

/// `Set-Cookie` values that delete both cookies.
#[must_use]
pub fn clear(config: &Config) -> Vec<HeaderValue> {
    let (access, refresh) = names(config);
    vec![
        cookie(config, access, "", 0),
        cookie(config, refresh, "", 0),
    ]
}

fn cookie(config: &Config, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.max(0)
    );
    // Names and values are base64url/JWT characters only, so this cannot fail.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("portcullis-invalid=; Max-Age=0"))
}

/// The value of the named cookie in the request, if present (the first one wins).
#[must_use]
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}
