//! Reading settings: one variable at a time, each malformed value named in its
//! error. Blank values count as unset.

use std::time::Duration;

use super::{duration::parse_duration, limits::Rate, proxies::TrustedProxies};

/// A configuration value that could not be used; the message says which and why.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// The variables, from any lookup (the environment, or a test's map).
pub struct Vars<F> {
    get: F,
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn new(get: F) -> Self {
        Self { get }
    }

    /// The value, unless unset or blank.
    pub fn text(&self, key: &str) -> Option<String> {
        (self.get)(key).filter(|v| !v.trim().is_empty())
    }

    /// A comma-separated list (empty items dropped).
    pub fn list(&self, key: &str) -> impl Iterator<Item = String> {
        let raw = self.text(key).unwrap_or_default();
        raw.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// A duration that may be negative (`-30s`); zero when unset.
    ///
    /// # Errors
    /// A malformed value, named.
    pub fn signed_duration(&self, key: &str) -> Result<chrono::Duration, ConfigError> {
        let Some(raw) = self.text(key) else {
            return Ok(chrono::Duration::zero());
        };
        let (negative, magnitude) = match raw.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.trim()),
        };
        let parsed = parse_duration(magnitude)
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .ok_or_else(|| {
                ConfigError(format!(
                    "{key} must be a duration such as `-30s`, not `{raw}`"
                ))
            })?;
        Ok(if negative { -parsed } else { parsed })
    }

    /// A list of proxy addresses and CIDRs.
    ///
    /// # Errors
    /// The entry that is neither, named.
    pub fn proxies(&self, key: &str) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.text(key).unwrap_or_default()).map_err(ConfigError)
    }

    /// A duration like `15m` (see [`parse_duration`]).
    ///
    /// # Errors
    /// A malformed value, named.
    pub fn duration(&self, key: &str, default: &str) -> Result<Duration, ConfigError> {
        let raw = self.text(key).unwrap_or_else(|| default.to_owned());
        parse_duration(&raw).ok_or_else(|| {
            ConfigError(format!(
                "{key} must be a duration like `15m`, `5s` or `14d`, not `{raw}`"
            ))
        })
    }

    /// A whole number.
    ///
    /// # Errors
    /// A malformed value, named.
    pub fn number(&self, key: &str, default: u32) -> Result<u32, ConfigError> {
        self.text(key).map_or(Ok(default), |raw| {
            raw.parse()
                .map_err(|_| ConfigError(format!("{key} must be a whole number, not `{raw}`")))
        })
    }

    /// A rate like `30/5m`.
    ///
    /// # Errors
    /// A malformed value, named.
    pub fn rate(&self, key: &str, default: Rate) -> Result<Rate, ConfigError> {
        self.text(key).map_or(Ok(default), |raw| {
            Rate::parse(&raw)
                .ok_or_else(|| ConfigError(format!("{key} must look like `30/5m`, not `{raw}`")))
        })
    }
}
