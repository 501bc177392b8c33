//! Configuration, read once at start-up from the environment (and `.env` in
//! development). Every knob is documented in the README's configuration table.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;

pub use super::vars::ConfigError;
use super::{limits::Limits, proxies::TrustedProxies, vars::Vars};

/// Whether the server runs for development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// Argon2id cost parameters. The default, m=9216 KiB, t=4, p=1, is one of
/// OWASP's equivalent argon2id settings (as strong as m=19456 KiB, t=2, trading
/// memory for passes): 9 MiB per concurrent hash keeps the server small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// Where the token signing key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A PKCS#8 PEM Ed25519 private key given inline (`JWT_PRIVATE_KEY`).
    Pem(SecretString),
    /// A PKCS#8 PEM file (`JWT_PRIVATE_KEY_FILE`).
    File(PathBuf),
    /// Development only: generated on first start and kept in this file.
    Generated(PathBuf),
}

/// The whole server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub site_addr: SocketAddr,
    /// The origin browsers use to reach us, e.g. `https://auth.example.com`.
    pub public_url: String,
    /// Whether cookies carry `Secure` (and the `__Host-` prefix).
    pub secure_cookies: bool,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub session_max_lifetime: Duration,
    pub refresh_reuse_interval: Duration,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_leeway: Duration,
    pub key_source: KeySource,
    /// Retired keys that still verify during a rotation (`JWT_PREVIOUS_KEY_FILES`, comma-separated).
    pub previous_key_files: Vec<PathBuf>,
    pub argon2: Argon2Params,
    /// How many password hashes may run at once (defaults to the number of cores).
    pub hash_concurrency: usize,
    /// How many sign-ins may wait for a hashing slot before we answer 503.
    pub hash_queue: usize,
    /// How often to pick up revocations and role changes made by other instances
    /// (`SYNC_INTERVAL`).
    pub sync_interval: Duration,
    /// Abuse limits (`RATE_LIMIT`, `*_RATE_LIMIT`, `*_FAILURE_LIMIT`).
    pub limits: crate::server::platform::limits::Limits,
    /// The proxies whose `X-Forwarded-For` / `Forwarded` we believe (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// The longest a request may take before it is answered 503 (`REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// How long ended sessions (and retired refresh tokens) are kept before
    /// they are deleted (`SESSION_RETENTION`).
    pub session_retention: Duration,
    /// How long SIGTERM waits for requests in flight before exiting (`SHUTDOWN_DRAIN`).
    pub shutdown_drain: Duration,
    /// Tests only: how far this instance's host clock is made to lie (`TEST_CLOCK_OFFSET`).
    pub test_clock_offset: chrono::Duration,
}

/// Loads `.env` into the process environment, if there is one.
///
/// # Errors
/// A malformed `.env` (a missing one is normal).
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Err(err) if !err.not_found() => Err(ConfigError(format!(".env: {err}"))),
        _ => Ok(()),
    }
}

impl Config {
    /// Reads the configuration from the process environment (after loading `.env` if present).
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_env(site_addr: SocketAddr) -> Result<Self, ConfigError> {
        load_dotenv()?;
        Self::from_lookup(site_addr, |key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key lookup (the environment, or a map in tests).
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the variable that is missing or malformed.
    pub fn from_lookup(
        site_addr: SocketAddr,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let vars = Vars::new(get);
        let (mode, mode_set) = mode(&vars)?;
        let data_dir = PathBuf::from(vars.text("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = vars.text("DATABASE_URL").unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("portcullis.db").display()
            )
        });
        let public_url = public_url(&vars, site_addr, mode, mode_set)?;
        let cores = u32::try_from(std::thread::available_parallelism().map_or(2, usize::from));
        let config = Self {
            mode,
            database_url: SecretString::from(database_url),
            site_addr,
            secure_cookies: public_url.starts_with("https://"),
            access_ttl: vars.duration("ACCESS_TOKEN_TTL", "15m")?,
            refresh_ttl: vars.duration("REFRESH_TOKEN_TTL", "14d")?,
            session_max_lifetime: vars.duration("SESSION_MAX_LIFETIME", "30d")?,
            refresh_reuse_interval: vars.duration("REFRESH_REUSE_INTERVAL", "10s")?,
            jwt_issuer: vars
                .text("JWT_ISSUER")
                .unwrap_or_else(|| public_url.clone()),
            jwt_audience: vars
                .text("JWT_AUDIENCE")
                .unwrap_or_else(|| "portcullis".into()),
            jwt_leeway: vars.duration("JWT_LEEWAY", "5s")?,
            key_source: key_source(&vars, mode, &data_dir)?,
            previous_key_files: vars
                .list("JWT_PREVIOUS_KEY_FILES")
                .map(PathBuf::from)
                .collect(),
            argon2: argon2(&vars)?,
            hash_concurrency: vars.number("HASH_CONCURRENCY", cores.unwrap_or(2))? as usize,
            hash_queue: vars.number("HASH_QUEUE", 64)? as usize,
            sync_interval: vars.duration("SYNC_INTERVAL", "500ms")?,
            limits: limits(&vars, mode)?,
            trusted_proxies: vars.proxies("TRUSTED_PROXIES")?,
            shutdown_drain: vars.duration("SHUTDOWN_DRAIN", "10s")?,
            request_timeout: vars.duration("REQUEST_TIMEOUT", "10s")?,
            session_retention: vars.duration("SESSION_RETENTION", "30d")?,
            test_clock_offset: vars.signed_duration("TEST_CLOCK_OFFSET")?,
            public_url,
            data_dir,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.sync_interval.is_zero() {
            return Err(ConfigError("SYNC_INTERVAL must be longer than zero".into()));
        }
        if self.access_ttl.is_zero() || self.refresh_ttl.is_zero() {
            return Err(ConfigError(
                "token lifetimes must be longer than zero".into(),
            ));
        }
        if self.jwt_leeway > Duration::from_secs(30) {
            return Err(ConfigError("JWT_LEEWAY may be at most 30s".into()));
        }
        if self.session_retention < Duration::from_secs(3_600) {
            // Shorter would purge the grace parent of a session that just
            // rotated, and sign a second tab out.
            return Err(ConfigError("SESSION_RETENTION must be at least 1h".into()));
        }
        if self.request_timeout < Duration::from_secs(1) {
            return Err(ConfigError("REQUEST_TIMEOUT must be at least 1s".into()));
        }
        if self.hash_concurrency == 0 {
            return Err(ConfigError("HASH_CONCURRENCY must be at least 1".into()));
        }
        Ok(())
    }
}

/// `PORTCULLIS_ENV`, and whether it was set at all.
fn mode<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<(Mode, bool), ConfigError> {
    match vars.text("PORTCULLIS_ENV").as_deref() {
        None => Ok((Mode::Development, false)),
        Some("development") => Ok((Mode::Development, true)),
        Some("production") => Ok((Mode::Production, true)),
        Some(other) => Err(ConfigError(format!(
            "PORTCULLIS_ENV must be `development` or `production`, not `{other}`"
        ))),
    }
}

/// `PUBLIC_URL` (default: the bound address) as an origin, the way browsers
/// send `Origin`: scheme and host in lower case, no default port, no path.
/// Production requires https.
fn public_url<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    site_addr: SocketAddr,
    mode: Mode,
    mode_set: bool,
) -> Result<String, ConfigError> {
    let raw = vars
        .text("PUBLIC_URL")
        .unwrap_or_else(|| format!("http://{site_addr}"));
    let url = normalise_origin(raw.trim())
        .map_err(|why| ConfigError(format!("PUBLIC_URL `{raw}` {why}")))?;
    if mode == Mode::Production && !url.starts_with("https://") && !is_loopback_url(&url) {
        return Err(ConfigError(format!(
            "production mode needs an https PUBLIC_URL (got `{url}`)"
        )));
    }
    // Development is the default only where it is plainly a developer's
    // machine: a server reached under a real name must say which it is, or
    // a forgotten setting would have each instance make up its own key.
    if !mode_set && !is_loopback_url(&url) {
        return Err(ConfigError(format!(
            "PUBLIC_URL `{url}` is not a loopback address: set PORTCULLIS_ENV to \
             `production` (or to `development` if you mean it)"
        )));
    }
    Ok(url)
}

/// Where the signing key comes from; only development may generate one.
fn key_source<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    mode: Mode,
    data_dir: &std::path::Path,
) -> Result<KeySource, ConfigError> {
    match (
        vars.text("JWT_PRIVATE_KEY"),
        vars.text("JWT_PRIVATE_KEY_FILE"),
    ) {
        (Some(pem), _) => Ok(KeySource::Pem(SecretString::from(pem))),
        (None, Some(path)) => Ok(KeySource::File(path.into())),
        (None, None) if mode == Mode::Development => {
            Ok(KeySource::Generated(data_dir.join("jwt-ed25519.pem")))
        }
        (None, None) => Err(ConfigError(
            "production mode needs a signing key: set JWT_PRIVATE_KEY_FILE or JWT_PRIVATE_KEY"
                .into(),
        )),
    }
}

fn argon2<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Argon2Params, ConfigError> {
    Ok(Argon2Params {
        m_cost_kib: vars.number("ARGON2_M_COST", 9_216)?,
        t_cost: vars.number("ARGON2_T_COST", 4)?,
        p_cost: vars.number("ARGON2_P_COST", 1)?,
    })
}

/// The abuse limits: `RATE_LIMIT=on|off` and one `N/window` rate per bucket.
fn limits<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    mode: Mode,
) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let enabled = match vars.text("RATE_LIMIT").as_deref() {
        None | Some("on") => true,
        Some("off") if mode == Mode::Production => {
            return Err(ConfigError(
                "RATE_LIMIT=off is for tests and development only, not production".into(),
            ))
        }
        Some("off") => false,
        Some(other) => {
            return Err(ConfigError(format!(
                "RATE_LIMIT must be `on` or `off`, not `{other}`"
            )))
        }
    };
    Ok(Limits {
        enabled,
        sign_in: vars.rate("SIGN_IN_RATE_LIMIT", defaults.sign_in)?,
        register: vars.rate("REGISTER_RATE_LIMIT", defaults.register)?,
        refresh: vars.rate("REFRESH_RATE_LIMIT", defaults.refresh)?,
        token: vars.rate("TOKEN_RATE_LIMIT", defaults.token)?,
        account_failures: vars.rate("ACCOUNT_FAILURE_LIMIT", defaults.account_failures)?,
        device_failures: vars.rate("DEVICE_FAILURE_LIMIT", defaults.device_failures)?,
        ..defaults
    })
}

mod origin;
use origin::is_loopback_url;
pub use origin::normalise_origin;

#[cfg(test)]
mod tests;
