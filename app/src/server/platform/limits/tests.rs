//! The limits, on the in-memory store.
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

/// Fifty attempts at once from fifty addresses: each is counted before any
/// password is checked, so no more than the ceiling get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attempts_cannot_all_pass_the_ceiling() {
    let limiter = std::sync::Arc::new(limiter(Limits::default()));
    let mut tasks = Vec::new();
    for n in 0..50u8 {
        let limiter = limiter.clone();
        tasks.push(tokio::spawn(async move {
            limiter
                .check_sign_in(&attempt("carol", n, Trust::Unknown))
                .await
                .is_ok()
        }));
    }
    let mut passed = 0;
    for t in tasks {
        passed += usize::from(t.await.unwrap());
    }
    assert_eq!(passed, 10, "exactly the ceiling passed");
}
