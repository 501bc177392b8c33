//! Memory of the abuse-limit counters under a flood of distinct keys
//! (`cargo bench -p portcullis-bench --bench limits_memory`; `bench/run.sh`
//! prints it). 100,000 distinct client addresses each make a sign-in attempt
//! that fails against a distinct username, with the in-memory store a single
//! SQLite instance uses: three counters each (the address's window, the
//! address-and-account run, the account's ceiling), 300,000 keys offered
//! against a cap of `MAX_MEMORY_KEYS`. Prints the process RSS before and after.
//! (With PostgreSQL the counters are rows in `rate_limits`: no process memory.)

use std::net::IpAddr;

use app::server::platform::limits::{
    store::{CounterStore, MAX_MEMORY_KEYS},
    Attempt, Bucket, Limits, RateLimiter, Trust,
};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let limiter = RateLimiter::new(Limits::default(), CounterStore::default());
    let before = rss_kib();
    let started = std::time::Instant::now();
    rt.block_on(async {
        for n in 0..100_000u32 {
            let ip = IpAddr::from((0x0a00_0000 + n).to_be_bytes());
            let account = format!("user-{n}");
            let _ = limiter.hit(Bucket::SignIn, Some(ip)).await;
            let attempt = Attempt {
                account: &account,
                ip: Some(ip),
                trust: Trust::Unknown,
            };
            let trust = limiter
                .check_sign_in(&attempt)
                .await
                .unwrap_or(Trust::Unknown);
            let _ = limiter
                .record_sign_in(&Attempt { trust, ..attempt }, false)
                .await;
        }
    });
    let after = rss_kib();
    println!(
        "limit counters: 100000 distinct addresses and names (300000 keys offered, cap {MAX_MEMORY_KEYS}): \
         {} held, RSS {:.1} MiB -> {:.1} MiB (+{:.1} MiB), {:.2} s",
        limiter.store().held().unwrap_or(0),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
}
