//! The token cookies: both `HttpOnly`, `SameSite=Lax`, no `Domain`.
//!
//! Over https they are `Secure` and `__Host-` prefixed (host-only, `Path=/`),
//! so no sibling subdomain can toss in a same-name cookie. Plain-http
//! development on localhost uses the unprefixed names without `Secure`, which
//! browsers would otherwise drop.
//!
//! The refresh cookie is scoped to `/` rather than to the refresh endpoint:
//! a page load after the access token expired resumes the session on the
//! server (see `middleware`), so a reload never shows the login page.

use http::{
    header::{COOKIE, SET_COOKIE},
    HeaderMap, HeaderName, HeaderValue,
};

use portcullis_core::transport::CookieNames;

use crate::server::{platform::config::Config, sessions::Issued};

/// Names of the two cookies for this configuration.
#[must_use]
pub fn names(config: &Config) -> CookieNames {
    CookieNames::new(config.secure_cookies)
}

/// `Set-Cookie` headers that store freshly issued tokens.
#[must_use]
pub fn set(config: &Config, issued: &Issued) -> Vec<(HeaderName, HeaderValue)> {
    let CookieNames {
        access, refresh, ..
    } = names(config);
    let now = chrono::Utc::now().timestamp();
    let mut headers = vec![
        cookie(
            config,
            access,
            &issued.access_token,
            fresh_max_age(issued.access_expires_at, now),
        ),
        cookie(
            config,
            refresh,
            &issued.refresh_token,
            fresh_max_age(issued.refresh_expires_at, now),
        ),
    ];
    if let Some(device) = &issued.device_cookie {
        headers.push(set_device(config, device));
    }
    headers.extend(clear_legacy(config));
    headers
}

/// The `Max-Age` of a cookie that stores a token just issued: its remaining
/// life, but never 0. The expiry was computed from the issue time, and when the
/// clock's second ticks before `now` is read, a one-second token would get
/// `Max-Age=0`, which tells the browser to delete the cookie it just received.
fn fresh_max_age(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).max(1)
}

/// `Set-Cookie` for the device cookie (`authentication::device_cookie`): a
/// year, as long as the browser keeps it. Sign-out leaves it in place.
#[must_use]
pub fn set_device(config: &Config, value: &str) -> (HeaderName, HeaderValue) {
    cookie(config, names(config).device, value, 365 * 86_400)
}

/// `Set-Cookie` headers that delete both token cookies.
#[must_use]
pub fn clear(config: &Config) -> Vec<(HeaderName, HeaderValue)> {
    let CookieNames {
        access, refresh, ..
    } = names(config);
    let mut headers = vec![
        cookie(config, access, "", 0),
        cookie(config, refresh, "", 0),
    ];
    headers.extend(clear_legacy(config));
    headers
}

/// The refresh cookie's name over https until 2026-12, `__Secure-` (which a
/// sibling subdomain could toss): expired whenever the cookies are set or
/// cleared, so it does not linger in browsers that upgraded.
const LEGACY_REFRESH: &str = "__Secure-portcullis-rt";

fn clear_legacy(config: &Config) -> Option<(HeaderName, HeaderValue)> {
    config
        .secure_cookies
        .then(|| cookie(config, LEGACY_REFRESH, "", 0))
}

fn cookie(config: &Config, name: &str, value: &str, max_age: i64) -> (HeaderName, HeaderValue) {
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
    let value = HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("portcullis-invalid=; Max-Age=0"));
    (SET_COOKIE, value)
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

#[cfg(test)]
mod tests {
    use super::fresh_max_age;

    #[test]
    fn a_token_just_issued_never_gets_a_cookie_that_deletes_itself() {
        assert_eq!(fresh_max_age(1_000_900, 1_000_000), 900);
        // A one-second token whose second ticked over before the cookie was made.
        assert_eq!(fresh_max_age(1_000_001, 1_000_001), 1);
        assert_eq!(fresh_max_age(1_000_001, 1_000_003), 1);
    }
}
