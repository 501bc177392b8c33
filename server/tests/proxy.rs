//! Behind a real proxy: Debian's nginx in front of two server processes on
//! one fresh PostgreSQL database (run by `.ci/run`'s PostgreSQL stage; on the
//! SQLite stage these tests say they are skipped). Clients come from distinct
//! 127.0.0.N addresses, as distinct people would.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use common::{
    database_url,
    nginx::{free_port, Nginx},
    signing_key_pem, spawn_binary, within, Client, TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const PW: &str = "correct horse battery";

/// Two instances behind nginx, and what it takes to restart one in place.
struct Fleet {
    nginx: Nginx,
    instances: Vec<TestApp>,
    ports: Vec<u16>,
    env: Vec<(String, String)>,
    dir: std::path::PathBuf,
}

fn postgres() -> bool {
    let on = std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    if !on {
        eprintln!("skipped: these tests need PostgreSQL (TEST_DATABASE_URL); the PostgreSQL stage runs them");
    }
    on
}

impl Fleet {
    /// nginx on a free port; instance 1 gets `skewed` as extra settings.
    fn start(common: &[(&str, &str)], skewed: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("portcullis-fleet-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = signing_key_pem();
        let lb_port = free_port();
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url(&dir)),
            ("JWT_PRIVATE_KEY".into(), pem),
            ("JWT_ISSUER".into(), "portcullis-fleet".into()),
            ("PUBLIC_URL".into(), format!("http://127.0.0.1:{lb_port}")),
            ("TRUSTED_PROXIES".into(), "127.0.0.1".into()),
            ("SHUTDOWN_DRAIN".into(), "10s".into()),
        ];
        env.extend(
            common
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let ports = vec![free_port(), free_port()];
        let instances: Vec<TestApp> = std::thread::scope(|s| {
            let handles: Vec<_> = ports
                .iter()
                .enumerate()
                .map(|(i, port)| {
                    let mut vars = env.clone();
                    vars.push(("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}")));
                    if i == 1 {
                        vars.extend(
                            skewed
                                .iter()
                                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
                        );
                    }
                    s.spawn(move || spawn_binary(&borrowed(&vars)))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let upstreams: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let nginx = Nginx::start(lb_port, &upstreams);
        Self {
            nginx,
            instances,
            ports,
            env,
            dir,
        }
    }

    /// A browser at 127.0.0.`n` whose requests go through nginx.
    fn browser(&self, n: u8) -> Client {
        let mut c = Client::new(&self.instances[0]).connecting_from(IpAddr::from([127, 0, 0, n]));
        c.base = self.nginx.base();
        c.origin = Some(self.nginx.base());
        c
    }

    /// The same client, talking to instance `i` directly.
    fn direct(&self, c: &Client, i: usize) -> Client {
        let mut d = c.clone();
        d.base = self.instances[i].base.clone();
        d
    }

    /// SIGTERM instance `i`, wait for exit 0, start it again on its port,
    /// wait until `/readyz` says ready.
    async fn restart(&mut self, i: usize) {
        let status = self.instances[i].terminate().expect("exits within 30 s");
        assert!(status.success(), "instance {i} exited with {status}");
        let mut vars = self.env.clone();
        vars.push((
            "LEPTOS_SITE_ADDR".into(),
            format!("127.0.0.1:{}", self.ports[i]),
        ));
        self.instances[i] = tokio::task::block_in_place(|| spawn_binary(&borrowed(&vars)));
        let url = format!("{}/readyz", self.instances[i].base);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "instance {i} never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.instances.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn ips(sessions: &Value) -> Vec<String> {
    sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ip"].as_str().unwrap().to_owned())
        .collect()
}

async fn sessions(c: &mut Client) -> Value {
    let r = c.send(Method::GET, "/api/auth/sessions", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_addresses_limits_and_revocation_hold_across_two_instances() {
    if !postgres() {
        return;
    }
    let fleet = Fleet::start(
        &[("RATE_LIMIT", "on"), ("SIGN_IN_RATE_LIMIT", "20/5m")],
        // Instance 1's clock runs 30 s behind; nothing may depend on it.
        &[("TEST_CLOCK_OFFSET", "-30s")],
    );

    // Each user's own address in the sessions list, whichever instance served.
    let mut alice = fleet.browser(2);
    let alice_name = alice.signed_in_user(PW).await;
    let mut bob = fleet.browser(3);
    let bob_name = bob.signed_in_user(PW).await;
    assert_eq!(ips(&sessions(&mut alice).await), vec!["127.0.0.2"]);
    assert_eq!(ips(&sessions(&mut bob).await), vec!["127.0.0.3"]);

    // A forged X-Forwarded-For through nginx: the hop nginx appended wins.
    let mut forger = fleet.browser(7);
    forger.register(&format!("{alice_name}x"), PW).await;
    let r = forger
        .request(Method::POST, "/api/auth/login")
        .header("x-forwarded-for", "203.0.113.66")
        .json(&serde_json::json!({ "username": format!("{alice_name}x"), "password": PW }))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ips(&sessions(&mut forger).await), vec!["127.0.0.7"]);

    // An attacker at .4 fails against alice 25 times: limited at 21 in all
    // (the two instances share one count), yet alice's browser, which signed
    // in before, and bob's, elsewhere, sign in at once.
    let mut attacker = fleet.browser(4);
    let mut limited_at = None;
    for n in 1..=25 {
        let r = attacker.login(&alice_name, "wrong password here").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS && limited_at.is_none() {
            limited_at = Some(n);
        }
    }
    let limited_at = limited_at.expect("the attacker is limited");
    assert!(
        limited_at <= 21,
        "limited only at attempt {limited_at}: per-instance counts"
    );
    assert_eq!(alice.login(&alice_name, PW).await.status, StatusCode::OK);
    assert_eq!(bob.login(&bob_name, PW).await.status, StatusCode::OK);

    // A direct client forging X-Forwarded-For cannot escape its own limit,
    // nor record a forged address.
    let direct = fleet.direct(&fleet.browser(6), 0);
    let mut forged = direct.clone();
    let mut refused = false;
    for n in 0..22u8 {
        let r = forged
            .request(Method::POST, "/api/auth/login")
            .header("x-forwarded-for", &format!("198.51.100.{n}"))
            .json(&serde_json::json!({ "username": "nobody-here", "password": "whatever it is" }))
            .send()
            .await;
        refused |= r.status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(
        refused,
        "forged addresses bought the direct client a fresh budget"
    );
    let mut carol_direct = fleet.direct(&fleet.browser(8), 1);
    let carol = carol_direct.signed_in_user(PW).await;
    let r = carol_direct
        .request(Method::GET, "/api/auth/sessions")
        .header("x-forwarded-for", "192.0.2.1")
        .send()
        .await;
    assert_eq!(ips(&r.body), vec!["127.0.0.8"], "{carol}");

    // Sign-in, refresh and /api/me through either instance.
    for i in 0..2 {
        let mut c = fleet.direct(&alice, i);
        assert_eq!(
            c.login(&alice_name, PW).await.status,
            StatusCode::OK,
            "login via {i}"
        );
        assert_eq!(c.refresh().await.status, StatusCode::OK, "refresh via {i}");
        let mut other = fleet.direct(&c, 1 - i);
        assert_eq!(other.me().await.status, StatusCode::OK, "me via {}", 1 - i);
        assert_eq!(
            other.refresh().await.status,
            StatusCode::OK,
            "refresh via {}",
            1 - i
        );
    }

    // Logout-everywhere through instance 0 is honoured by instance 1 (whose
    // clock is 30 s behind) within 1 s.
    let mut phone = fleet.direct(&fleet.browser(9), 1);
    assert_eq!(phone.login(&bob_name, PW).await.status, StatusCode::OK);
    assert_eq!(phone.me().await.status, StatusCode::OK);
    let mut laptop = fleet.direct(&bob, 0);
    assert_eq!(laptop.logout("global").await.status, StatusCode::NO_CONTENT);
    let honoured = within(Duration::from_secs(1), || {
        let mut p = phone.clone();
        async move { p.me().await.status == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert!(
        honoured.is_some(),
        "instance 1 still accepts a token revoked on instance 0 after 1 s"
    );

    // Health, through the proxy.
    let health = reqwest::get(format!("{}/healthz", fleet.nginx.base()))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = reqwest::get(format!("{}/readyz", fleet.nginx.base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
}

/// Steady traffic through nginx while each instance is restarted in turn
/// (SIGTERM, drain, start again): no request fails, no session is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_drops_no_request_and_no_session() {
    if !postgres() {
        return;
    }
    let mut fleet = Fleet::start(&[], &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..4u8 {
        let mut c = fleet.browser(20 + w);
        let stop = stop.clone();
        let done = done.clone();
        workers.push(tokio::spawn(async move {
            let name = c.signed_in_user(PW).await;
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let me = c.me().await;
                let refreshed = c.refresh().await;
                let mut fresh = c.clone();
                fresh.cookies.clear();
                let signed_in = fresh.login(&name, PW).await;
                for (what, status) in [
                    ("me", me.status),
                    ("refresh", refreshed.status),
                    ("sign-in", signed_in.status),
                ] {
                    if status != StatusCode::OK {
                        failures.push(format!("{what}: {status}"));
                    }
                }
                done.fetch_add(3, Ordering::Relaxed);
            }
            // The session lived through both restarts.
            let last = c.refresh().await.status;
            (failures, last)
        }));
    }
    let warm = within(Duration::from_secs(30), || {
        let done = done.clone();
        async move { done.load(Ordering::Relaxed) >= 40 }
    })
    .await;
    assert!(warm.is_some(), "traffic started");
    for i in 0..2 {
        let before = done.load(Ordering::Relaxed);
        fleet.restart(i).await;
        // Some traffic reaches the fleet with the new instance in it.
        let moved = within(Duration::from_secs(30), || {
            let done = done.clone();
            async move { done.load(Ordering::Relaxed) >= before + 40 }
        })
        .await;
        assert!(
            moved.is_some(),
            "traffic continued after restarting instance {i}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut total_failures = Vec::new();
    for w in workers {
        let (failures, last) = w.await.unwrap();
        total_failures.extend(failures);
        assert_eq!(last, StatusCode::OK, "a session was lost");
    }
    assert!(
        total_failures.is_empty(),
        "{} of {} requests failed: {:?}\n{}",
        total_failures.len(),
        done.load(Ordering::Relaxed),
        total_failures,
        fleet.nginx.log()
    );
}
