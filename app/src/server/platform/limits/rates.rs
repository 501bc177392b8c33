//! What the limits count and how much: buckets, rates and the configured limits.

use std::time::Duration;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    SignIn,
    Register,
    Refresh,
    Token,
}

/// `count` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window: Duration,
}

impl Rate {
    /// Parses `30/5m` (count, then a duration such as `90s`, `5m`, `1h`).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let (count, window) = raw.trim().split_once('/')?;
        let count = count.trim().parse().ok().filter(|c| *c > 0)?;
        let window = crate::server::platform::duration::parse_duration(window.trim())
            .filter(|w| !w.is_zero())?;
        Some(Self { count, window })
    }
}

/// The configured limits (`RATE_LIMIT=off` disables them all: benchmarks only).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub enabled: bool,
    pub sign_in: Rate,
    pub register: Rate,
    pub refresh: Rate,
    pub token: Rate,
    /// Failed sign-ins (per account and IP) allowed before delays start.
    pub free_failures: u32,
    /// The longest delay a run of failures can impose.
    pub max_delay: Duration,
    /// Failed sign-ins per account from unknown browsers, all addresses together
    /// (`ACCOUNT_FAILURE_LIMIT`); past it, unknown browsers wait out the window.
    pub account_failures: Rate,
    /// Failed sign-ins one device cookie may make before it stops counting as known
    /// (`DEVICE_FAILURE_LIMIT`).
    pub device_failures: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        let per = |count, secs| Rate {
            count,
            window: Duration::from_secs(secs),
        };
        Self {
            enabled: true,
            sign_in: per(30, 300),
            register: per(10, 3600),
            refresh: per(120, 60),
            token: per(60, 300),
            free_failures: 5,
            max_delay: Duration::from_secs(60),
            account_failures: per(10, 3600),
            device_failures: per(10, 3600),
        }
    }
}
