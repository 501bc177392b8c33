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

pub mod store;

use std::{net::IpAddr, time::Duration};

use crate::error::AuthError;
use crate::server::platform::proxies::limit_group;
use store::{Count, CounterStore, Key};
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
    /// recent failures for the account has not passed, or, for a browser the
    /// account does not know, while the account is past its failure ceiling.
    /// Returns the trust the attempt is to be recorded with.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] with the seconds left.
    pub async fn check_sign_in<'a>(&self, attempt: &Attempt<'a>) -> Result<Trust<'a>, AuthError> {
        if !self.limits.enabled {
            return Ok(attempt.trust);
        }
        let keys: Vec<Key> = [
            attempt.delay_key(),
            Some(attempt.account_key()),
            attempt.device_key(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut counts = self.store.peek(&keys).await?.into_iter();
        let delay = if attempt.delay_key().is_some() {
            counts.next().flatten()
        } else {
            None
        };
        let account = counts.next().flatten();
        let device = counts.next().flatten();
        if let Some(f) = delay {
            let wait = self.delay(f.count).saturating_sub(f.since_last);
            if !wait.is_zero() {
                tracing::warn!(ip = ?attempt.ip, failures = f.count, "sign-in throttled");
                return Err(limited(wait));
            }
        }
        let trust = match attempt.trust {
            Trust::Device(_) if !over(device, self.limits.device_failures) => attempt.trust,
            _ => Trust::Unknown,
        };
        if trust == Trust::Unknown && over(account, self.limits.account_failures) {
            let age = account.map_or(Duration::ZERO, |a| a.window_age);
            tracing::warn!("sign-in refused: the account is past its failure ceiling");
            return Err(limited(
                self.limits.account_failures.window.saturating_sub(age),
            ));
        }
        Ok(trust)
    }

    /// Records the outcome of a sign-in attempt checked with [`Self::check_sign_in`]
    /// (with the trust it returned): a success clears this address's run.
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
        let keep = self.keep();
        if succeeded {
            if let Some(key) = attempt.delay_key() {
                self.store.clear(key).await?;
            }
            if let Some(key) = attempt.device_key() {
                self.store.clear(key).await?;
            }
            return Ok(());
        }
        if let Some(key) = attempt.delay_key() {
            self.store
                .bump(key, self.limits.max_delay * 10, keep)
                .await?;
        }
        match attempt.device_key() {
            Some(key) => {
                self.store
                    .bump(key, self.limits.device_failures.window, keep)
                    .await?
            }
            None => {
                self.store
                    .bump(
                        attempt.account_key(),
                        self.limits.account_failures.window,
                        keep,
                    )
                    .await?
            }
        };
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

/// Whether a counter has reached its rate within the current window.
fn over(count: Option<Count>, rate: Rate) -> bool {
    count.is_some_and(|c| c.window_age < rate.window && c.count >= rate.count)
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
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    fn limiter(limits: Limits) -> RateLimiter {
        RateLimiter::new(limits, CounterStore::default())
    }

    fn attempt<'a>(account: &'a str, last: u8, trust: Trust<'a>) -> Attempt<'a> {
        Attempt {
            account,
            ip: ip(last),
            trust,
        }
    }

    /// Checks, then records a failure with the trust the check granted.
    async fn fail(limiter: &RateLimiter, a: Attempt<'_>) -> Result<(), AuthError> {
        let trust = limiter.check_sign_in(&a).await?;
        limiter.record_sign_in(&Attempt { trust, ..a }, false).await
    }

    #[test]
    fn rates_parse_from_count_and_window() {
        assert_eq!(
            Rate::parse("30/5m"),
            Some(Rate {
                count: 30,
                window: Duration::from_secs(300)
            })
        );
        for bad in ["", "30", "0/5m", "x/5m", "30/", "30/0s", "-1/5m"] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_bucket_fills_per_ip_and_says_when_to_retry() {
        let limiter = limiter(Limits {
            sign_in: Rate {
                count: 3,
                window: Duration::from_secs(300),
            },
            ..Limits::default()
        });
        for _ in 0..3 {
            assert!(limiter.hit(Bucket::SignIn, ip(1)).await.is_ok());
        }
        match limiter.hit(Bucket::SignIn, ip(1)).await {
            Err(AuthError::RateLimited { retry_after }) => {
                assert!((299..=300).contains(&retry_after))
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        assert!(
            limiter.hit(Bucket::SignIn, ip(2)).await.is_ok(),
            "other IPs are unaffected"
        );
        assert!(
            limiter.hit(Bucket::Register, ip(1)).await.is_ok(),
            "other buckets too"
        );
    }

    #[tokio::test]
    async fn ipv6_addresses_share_their_64() {
        let limiter = limiter(Limits {
            sign_in: Rate {
                count: 2,
                window: Duration::from_secs(300),
            },
            ..Limits::default()
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.hit(Bucket::SignIn, Some(a)).await.is_ok());
        assert!(limiter.hit(Bucket::SignIn, Some(b)).await.is_ok());
        assert!(
            limiter.hit(Bucket::SignIn, Some(a)).await.is_err(),
            "one /64, one budget"
        );
        assert!(limiter.hit(Bucket::SignIn, Some(other)).await.is_ok());
    }

    #[tokio::test]
    async fn failures_earn_a_growing_delay_for_that_ip_only_and_success_clears_it() {
        let limiter = limiter(Limits::default());
        for _ in 0..5 {
            fail(&limiter, attempt("victim", 1, Trust::Unknown))
                .await
                .unwrap();
        }
        fail(&limiter, attempt("victim", 1, Trust::Unknown))
            .await
            .unwrap();
        assert!(limiter
            .check_sign_in(&attempt("victim", 1, Trust::Unknown))
            .await
            .is_err());
        assert!(
            limiter
                .check_sign_in(&attempt("victim", 2, Trust::Unknown))
                .await
                .is_ok(),
            "the victim elsewhere is not slowed"
        );
        assert_eq!(limiter.delay(6), Duration::from_secs(1));
        assert_eq!(limiter.delay(8), Duration::from_secs(4));
        assert_eq!(
            limiter.delay(40),
            Duration::from_secs(60),
            "capped, never permanent"
        );
        let ok = attempt("victim", 1, Trust::Unknown);
        limiter.record_sign_in(&ok, true).await.unwrap();
        assert!(limiter.check_sign_in(&ok).await.is_ok());
    }

    /// A botnet, one failure per address: the ceiling stops strangers, the
    /// owner's known browser goes through, and a device cookie of its own is capped.
    #[tokio::test]
    async fn the_account_ceiling_stops_strangers_but_not_the_owners_browser() {
        let limiter = limiter(Limits::default());
        for bot in 0..10 {
            fail(&limiter, attempt("alice", 100 + bot, Trust::Unknown))
                .await
                .unwrap();
        }
        for bot in 0..5 {
            assert!(
                matches!(
                    limiter.check_sign_in(&attempt("alice", 200 + bot, Trust::Unknown)).await,
                    Err(AuthError::RateLimited { retry_after }) if retry_after > 3000
                ),
                "a fresh address gets nothing past the ceiling"
            );
        }
        let owner = attempt("alice", 7, Trust::Device("owner-nonce"));
        assert_eq!(limiter.check_sign_in(&owner).await.unwrap(), owner.trust);
        assert!(
            limiter
                .check_sign_in(&attempt("bob", 200, Trust::Unknown))
                .await
                .is_ok(),
            "other accounts are unaffected"
        );
        // The device cookie's own failures (from many addresses) are capped too.
        for n in 0..10 {
            fail(&limiter, attempt("alice", 50 + n, Trust::Device("stolen")))
                .await
                .unwrap();
        }
        let stolen = attempt("alice", 60, Trust::Device("stolen"));
        assert!(
            limiter.check_sign_in(&stolen).await.is_err(),
            "now it is a stranger"
        );
        assert!(
            limiter.check_sign_in(&owner).await.is_ok(),
            "the owner still is not"
        );
    }

    #[tokio::test]
    async fn off_means_off() {
        let limiter = limiter(Limits {
            enabled: false,
            ..Limits::default()
        });
        for _ in 0..1000 {
            assert!(limiter.hit(Bucket::SignIn, ip(1)).await.is_ok());
        }
    }

    #[tokio::test]
    async fn memory_stays_bounded_under_a_flood_of_distinct_keys() {
        let limiter = limiter(Limits::default());
        for n in 0..(store::MAX_MEMORY_KEYS as u32 + 1_000) {
            let ip = IpAddr::from(n.to_be_bytes());
            limiter.hit(Bucket::SignIn, Some(ip)).await.unwrap();
        }
        let held = limiter.store().held().unwrap();
        assert!(held <= store::MAX_MEMORY_KEYS, "{held}");
        assert!(held >= store::MAX_MEMORY_KEYS / 2, "{held}");
    }
}
