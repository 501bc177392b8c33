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
    let c = config(&[("PUBLIC_URL", "https://auth.example/")]).expect("valid");
    assert!(c.secure_cookies);
    assert_eq!(c.public_url, "https://auth.example");
}
