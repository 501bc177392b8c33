//! Abuse limits, in memory: requests per client IP on the credential
//! endpoints, and a growing delay after failed sign-ins per account and IP.
//!
//! The per-account throttle is keyed by account *and* IP, so an attacker who
//! keeps failing against a victim's name slows down only themself: the victim,
//! signing in from elsewhere, is never locked out. With several instances each
//! keeps its own counts (the limit is per instance; see the README).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::error::AuthError;

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
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    used: u32,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The shared limiter.
#[derive(Clone, Default)]
pub struct RateLimiter {
    limits: Limits,
    windows: Arc<Mutex<HashMap<(Bucket, IpAddr), Window>>>,
    failures: Arc<Mutex<HashMap<(String, IpAddr), Failures>>>,
}

impl RateLimiter {
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Counts one request from `ip` against `bucket`.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] with the seconds until the window reopens.
    pub fn hit(&self, bucket: Bucket, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let (Some(ip), true) = (ip, self.limits.enabled) else {
            return Ok(());
        };
        let rate = match bucket {
            Bucket::SignIn => self.limits.sign_in,
            Bucket::Register => self.limits.register,
            Bucket::Refresh => self.limits.refresh,
            Bucket::Token => self.limits.token,
        };
        let now = Instant::now();
        let mut windows = self.windows.lock().map_err(|_| AuthError::Internal)?;
        let window = windows.entry((bucket, ip)).or_insert(Window {
            start: now,
            used: 0,
        });
        if now.duration_since(window.start) >= rate.window {
            *window = Window {
                start: now,
                used: 0,
            };
        }
        if window.used >= rate.count {
            let left = rate.window.saturating_sub(now.duration_since(window.start));
            tracing::warn!(?bucket, %ip, "rate limited");
            return Err(AuthError::RateLimited {
                retry_after: seconds(left),
            });
        }
        window.used += 1;
        Ok(())
    }

    /// Refuses a sign-in attempt for `account` from `ip` while the delay earned
    /// by its recent failures has not passed.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`] with the seconds left.
    pub fn check_account(&self, account: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let (Some(ip), true) = (ip, self.limits.enabled) else {
            return Ok(());
        };
        let failures = self.failures.lock().map_err(|_| AuthError::Internal)?;
        let Some(f) = failures.get(&(account.to_owned(), ip)) else {
            return Ok(());
        };
        let wait = self.delay(f.count).saturating_sub(f.last.elapsed());
        if wait.is_zero() {
            Ok(())
        } else {
            tracing::warn!(%ip, failures = f.count, "sign-in throttled");
            Err(AuthError::RateLimited {
                retry_after: seconds(wait),
            })
        }
    }

    /// Records the outcome of a sign-in attempt: a success clears the count.
    pub fn record_sign_in(&self, account: &str, ip: Option<IpAddr>, succeeded: bool) {
        let Some(ip) = ip else { return };
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let key = (account.to_owned(), ip);
        if succeeded {
            failures.remove(&key);
        } else {
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                last: Instant::now(),
            });
            entry.count = entry.count.saturating_add(1);
            entry.last = Instant::now();
        }
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

    /// Forgets windows and failure runs that no longer matter.
    pub fn prune(&self) {
        let now = Instant::now();
        let longest = [
            self.limits.sign_in,
            self.limits.register,
            self.limits.refresh,
            self.limits.token,
        ]
        .iter()
        .map(|r| r.window)
        .max()
        .unwrap_or_default();
        if let Ok(mut w) = self.windows.lock() {
            w.retain(|_, win| now.duration_since(win.start) < longest);
        }
        let keep = self.limits.max_delay * 10;
        if let Ok(mut f) = self.failures.lock() {
            f.retain(|_, fail| now.duration_since(fail.last) < keep);
        }
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
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

    #[test]
    fn a_bucket_fills_per_ip_and_says_when_to_retry() {
        let limiter = RateLimiter::new(Limits {
            sign_in: Rate {
                count: 3,
                window: Duration::from_secs(300),
            },
            ..Limits::default()
        });
        for _ in 0..3 {
            assert!(limiter.hit(Bucket::SignIn, ip(1)).is_ok());
        }
        match limiter.hit(Bucket::SignIn, ip(1)) {
            Err(AuthError::RateLimited { retry_after }) => {
                assert!((299..=300).contains(&retry_after))
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        assert!(
            limiter.hit(Bucket::SignIn, ip(2)).is_ok(),
            "other IPs are unaffected"
        );
        assert!(
            limiter.hit(Bucket::Register, ip(1)).is_ok(),
            "other buckets too"
        );
    }

    #[test]
    fn failures_earn_a_growing_delay_for_that_ip_only_and_success_clears_it() {
        let limiter = RateLimiter::new(Limits::default());
        for _ in 0..5 {
            limiter.record_sign_in("victim", ip(1), false);
        }
        assert!(
            limiter.check_account("victim", ip(1)).is_ok(),
            "five are free"
        );
        limiter.record_sign_in("victim", ip(1), false);
        assert!(limiter.check_account("victim", ip(1)).is_err());
        assert!(
            limiter.check_account("victim", ip(2)).is_ok(),
            "the victim elsewhere is not locked out"
        );
        assert_eq!(limiter.delay(6), Duration::from_secs(1));
        assert_eq!(limiter.delay(8), Duration::from_secs(4));
        assert_eq!(
            limiter.delay(40),
            Duration::from_secs(60),
            "capped, never permanent"
        );
        limiter.record_sign_in("victim", ip(1), true);
        assert!(limiter.check_account("victim", ip(1)).is_ok());
    }

    #[test]
    fn off_means_off() {
        let limiter = RateLimiter::new(Limits {
            enabled: false,
            ..Limits::default()
        });
        for _ in 0..1000 {
            assert!(limiter.hit(Bucket::SignIn, ip(1)).is_ok());
        }
    }
}
