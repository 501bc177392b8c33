//! Abuse limits: requests per client address on the credential endpoints, a
//! growing delay after failed sign-ins per account and address, and a ceiling
//! on failures per account from browsers it does not know.
//!
//! - The per-(account, address) delay slows the one who keeps failing, only
//!   them: the owner, signing in from elsewhere, is not affected.
//! - The per-account ceiling bounds what a botnet or an IPv6 range gets against
//!   one account, however many addresses it has: past `ACCOUNT_FAILURE_LIMIT`
//!   failures in its window, sign-ins to that account from browsers without
//!   its device cookie are refused until the window ends. A browser that signed
//!   into the account before carries a signed device cookie
//!   (`authentication::device_cookie`, OWASP's "device cookies") and is not
//!   refused: the owner is never locked out by a stranger. A device cookie's own
//!   failures are counted too (`DEVICE_FAILURE_LIMIT`); past them it is no
//!   better than no cookie, so a stolen one buys only that many guesses.
//!
//! Addresses count by [`proxies::limit_group`] (IPv6 by /64). Counters live
//! in [`store::CounterStore`]: the database with PostgreSQL, shared by every
//! instance; memory with SQLite.

pub mod rates;
pub mod store;

pub use rates::{Bucket, Limits, Rate};

use std::{net::IpAddr, time::Duration};

use crate::error::AuthError;
use crate::server::platform::proxies::limit_group;
use store::{CounterStore, Key};
/// Whether a sign-in attempt comes from a browser the account knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust<'a> {
    /// It carries a valid device cookie for the account (its nonce).
    Device(&'a str),
    Unknown,
}

/// One sign-in attempt as the limits see it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The normalised username.
    pub account: &'a str,
    pub ip: Option<IpAddr>,
    pub trust: Trust<'a>,
}

impl Attempt<'_> {
    fn delay_key(&self) -> Option<Key> {
        self.ip
            .map(|ip| Key::of(&[b"fail", self.account.as_bytes(), ip_bytes(ip).as_slice()]))
    }

    fn account_key(&self) -> Key {
        Key::of(&[b"account", self.account.as_bytes()])
    }

    fn device_key(&self) -> Option<Key> {
        match self.trust {
            Trust::Device(nonce) => Some(Key::of(&[b"device", nonce.as_bytes()])),
            Trust::Unknown => None,
        }
    }
}

/// The shared limiter.
#[derive(Clone, Default)]
pub struct RateLimiter {
    limits: Limits,
    store: CounterStore,
}

impl RateLimiter {
    #[must_use]
    pub fn new(limits: Limits, store: CounterStore) -> Self {
        Self { limits, store }
    }

    /// The counters (the benchmark reads how many are held).
    #[must_use]
    pub fn store(&self) -> &CounterStore {
        &self.store
    }

    /// How long a counter can matter: the longest window or failure run.
    fn keep(&self) -> Duration {
        let l = &self.limits;
        [
            l.sign_in.window,
            l.register.window,
            l.refresh.window,
            l.token.window,
            l.account_failures.window,
            l.device_failures.window,
            l.max_delay * 10,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }

    /// Counts one request from `ip` against `bucket`.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] with the seconds until the window reopens.
    pub async fn hit(&self, bucket: Bucket, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let (Some(ip), true) = (ip, self.limits.enabled) else {
            return Ok(());
        };
        let rate = match bucket {
            Bucket::SignIn => self.limits.sign_in,
            Bucket::Register => self.limits.register,
            Bucket::Refresh => self.limits.refresh,
            Bucket::Token => self.limits.token,
        };
        let key = Key::of(&[bucket.name().as_bytes(), ip_bytes(ip).as_slice()]);
        let count = self.store.bump(key, rate.window, self.keep()).await?;
        if count.count > rate.count {
            tracing::warn!(?bucket, %ip, "rate limited");
            return Err(limited(rate.window.saturating_sub(count.window_age)));
        }
        Ok(())
    }

    /// Refuses a sign-in attempt while the delay earned by this address's
    /// recent failures for the account has not passed, and counts it: against
    /// its device cookie when it has a valid one under that cookie's ceiling,
    /// else against the account's ceiling for unknown browsers, refusing past
    /// it. The count is one atomic increment made *before* the password is
    /// checked, so concurrent attempts cannot all pass a count read earlier.
    /// Returns the trust the attempt is to be recorded with.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] with the seconds left; [`AuthError::Internal`]
    /// when the counters cannot be written (the attempt is then refused).
    pub async fn check_sign_in<'a>(&self, attempt: &Attempt<'a>) -> Result<Trust<'a>, AuthError> {
        if !self.limits.enabled {
            return Ok(attempt.trust);
        }
        if let Some(key) = attempt.delay_key() {
            if let Some(f) = self.store.peek(key).await? {
                let wait = self.delay(f.count).saturating_sub(f.since_last);
                if !wait.is_zero() {
                    tracing::warn!(ip = ?attempt.ip, failures = f.count, "sign-in throttled");
                    return Err(limited(wait));
                }
            }
        }
        let keep = self.keep();
        if let Some(key) = attempt.device_key() {
            let rate = self.limits.device_failures;
            if self.store.bump(key, rate.window, keep).await?.count <= rate.count {
                return Ok(attempt.trust);
            }
        }
        let rate = self.limits.account_failures;
        let count = self
            .store
            .bump(attempt.account_key(), rate.window, keep)
            .await?;
        if count.count > rate.count {
            tracing::warn!("sign-in refused: the account is past its ceiling for unknown browsers");
            return Err(limited(rate.window.saturating_sub(count.window_age)));
        }
        Ok(Trust::Unknown)
    }

    /// Records the outcome of a sign-in attempt checked with [`Self::check_sign_in`]
    /// (with the trust it returned): a failure extends this address's run, a
    /// success clears it and the device cookie's count.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the counters cannot be written.
    pub async fn record_sign_in(
        &self,
        attempt: &Attempt<'_>,
        succeeded: bool,
    ) -> Result<(), AuthError> {
        if !self.limits.enabled {
            return Ok(());
        }
        if succeeded {
            if let Some(key) = attempt.delay_key() {
                self.store.clear(key).await?;
            }
            if let Some(key) = attempt.device_key() {
                self.store.clear(key).await?;
            }
        } else if let Some(key) = attempt.delay_key() {
            self.store
                .bump(key, self.limits.max_delay * 10, self.keep())
                .await?;
        }
        Ok(())
    }

    /// The delay owed after `count` failures: none for the first few, then
    /// 1 s, 2 s, 4 s … up to the maximum.
    fn delay(&self, count: u32) -> Duration {
        let over = count.saturating_sub(self.limits.free_failures);
        if over == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs(1u64 << (over - 1).min(16)).min(self.limits.max_delay)
    }

    /// Forgets counters that no longer matter.
    pub async fn prune(&self) {
        if let Err(err) = self.store.prune(self.keep()).await {
            tracing::warn!(%err, "could not prune limit counters");
        }
    }
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign-in",
            Self::Register => "register",
            Self::Refresh => "refresh",
            Self::Token => "token",
        }
    }
}

/// The bytes an address counts under (its limit group).
fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match limit_group(ip) {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn limited(wait: Duration) -> AuthError {
    AuthError::RateLimited {
        retry_after: seconds(wait).max(1),
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests;
