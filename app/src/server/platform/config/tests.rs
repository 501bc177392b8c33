//! Configuration parsing.
use super::*;
use std::collections::HashMap;

fn addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(addr(), |k| map.get(k).cloned())
}

#[test]
fn development_defaults_need_no_variables() {
    let c = config(&[]).expect("defaults are valid");
    assert_eq!(c.mode, Mode::Development);
    assert_eq!(c.access_ttl, Duration::from_secs(900));
    assert_eq!(c.refresh_ttl, Duration::from_secs(14 * 86_400));
    assert!(!c.secure_cookies);
    assert!(matches!(c.key_source, KeySource::Generated(_)));
    assert_eq!(
        c.argon2,
        Argon2Params {
            m_cost_kib: 9_216,
            t_cost: 4,
            p_cost: 1
        }
    );
}

#[test]
fn production_refuses_to_start_without_a_key() {
    let err = config(&[
        ("PORTCULLIS_ENV", "production"),
        ("PUBLIC_URL", "https://a.example"),
    ])
    .expect_err("no key");
    assert!(err.to_string().contains("JWT_PRIVATE_KEY_FILE"), "{err}");
}

#[test]
fn a_malformed_duration_names_its_variable() {
    let err = config(&[("ACCESS_TOKEN_TTL", "soon")]).expect_err("bad duration");
    assert!(err.to_string().contains("ACCESS_TOKEN_TTL"), "{err}");
}

#[test]
fn proxies_and_clock_offsets_parse_or_name_their_variable() {
    let c = config(&[
        ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ("TEST_CLOCK_OFFSET", "-30s"),
    ])
    .expect("valid");
    assert_eq!(c.test_clock_offset, chrono::Duration::seconds(-30));
    let err = config(&[("TRUSTED_PROXIES", "nginx")]).expect_err("a name");
    assert!(err.to_string().contains("TRUSTED_PROXIES"), "{err}");
    let err = config(&[("TEST_CLOCK_OFFSET", "yesterday")]).expect_err("bad");
    assert!(err.to_string().contains("TEST_CLOCK_OFFSET"), "{err}");
}

#[test]
fn https_public_url_turns_on_secure_cookies() {
    let c = config(&[
        ("PORTCULLIS_ENV", "development"),
        ("PUBLIC_URL", "https://auth.example/"),
    ])
    .expect("valid");
    assert!(c.secure_cookies);
    assert_eq!(c.public_url, "https://auth.example");
}

/// Issue #18: `PUBLIC_URL` is compared with `Origin`, so it is read as an
/// origin, the way browsers write one.
#[test]
fn public_url_is_normalised_as_an_origin() {
    let prod = |url: &str| {
        config(&[
            ("PORTCULLIS_ENV", "production"),
            ("PUBLIC_URL", url),
            ("JWT_PRIVATE_KEY_FILE", "/nonexistent"),
        ])
    };
    for (given, origin) in [
        ("https://Auth.Example.com", "https://auth.example.com"),
        ("HTTPS://auth.example.com:443", "https://auth.example.com"),
        ("https://auth.example.com/", "https://auth.example.com"),
        (
            "https://auth.example.com:8443",
            "https://auth.example.com:8443",
        ),
    ] {
        assert_eq!(prod(given).expect(given).public_url, origin, "{given}");
    }
    for bad in [
        "https://auth.example.com/login",
        "https://auth.example.com/?x=1",
        "https://user:pw@auth.example.com",
        "ftp://auth.example.com",
        "auth.example.com",
    ] {
        let err = prod(bad).expect_err(bad).to_string();
        assert!(err.contains("PUBLIC_URL"), "{bad}: {err}");
    }
}

/// Issue #18: production is https, except on this machine itself; a name
/// that only starts with `localhost` is somebody else's machine.
#[test]
fn production_refuses_plain_http_hosts_that_only_look_local() {
    let prod = |url: &str| {
        config(&[
            ("PORTCULLIS_ENV", "production"),
            ("PUBLIC_URL", url),
            ("JWT_PRIVATE_KEY_FILE", "/nonexistent"),
        ])
    };
    for bad in [
        "http://localhost.evil.tld",
        "http://localhost.evil.tld:3000",
        "http://127.0.0.1.nip.io",
        "http://auth.example.com",
    ] {
        let err = prod(bad).expect_err(bad).to_string();
        assert!(err.contains("https"), "{bad}: {err}");
    }
    for ok in [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    ] {
        assert!(prod(ok).is_ok(), "{ok}");
    }
}

/// Issue #18: the foot-guns refused at start-up.
#[test]
fn production_refuses_rate_limits_off_and_an_unnamed_mode_off_this_machine() {
    let err = config(&[
        ("PORTCULLIS_ENV", "production"),
        ("PUBLIC_URL", "https://auth.example"),
        ("JWT_PRIVATE_KEY_FILE", "/nonexistent"),
        ("RATE_LIMIT", "off"),
    ])
    .expect_err("limits off in production");
    assert!(err.to_string().contains("RATE_LIMIT"), "{err}");
    assert!(config(&[("RATE_LIMIT", "off")]).is_ok(), "development may");
    let err = config(&[("PUBLIC_URL", "https://auth.example")]).expect_err("mode unset");
    assert!(err.to_string().contains("PORTCULLIS_ENV"), "{err}");
}

/// Issue #18: a duration too large to add to a date is refused when read,
/// not met as an overflow at run time.
#[test]
fn durations_beyond_ten_years_are_refused() {
    for key in [
        "REFRESH_TOKEN_TTL",
        "SESSION_MAX_LIFETIME",
        "ACCESS_TOKEN_TTL",
    ] {
        let err = config(&[(key, "18446744073709551615s")]).expect_err(key);
        assert!(err.to_string().contains(key), "{err}");
        let err = config(&[(key, "4000d")]).expect_err(key);
        assert!(err.to_string().contains(key), "{err}");
    }
    assert!(config(&[("SIGN_IN_RATE_LIMIT", "5/99999999d")]).is_err());
    // A retention shorter than an hour would purge a fresh grace parent.
    let err = config(&[("SESSION_RETENTION", "0s")]).expect_err("too short");
    assert!(err.to_string().contains("SESSION_RETENTION"), "{err}");
}
