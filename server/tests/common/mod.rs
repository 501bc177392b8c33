//! Test harness: the real server binary on port 0 with a fresh SQLite file,
//! and a small HTTP client that keeps cookies by hand so tests can replay,
//! steal and inspect them.
#![allow(dead_code, clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use reqwest::{header, Method, StatusCode};
use serde_json::Value;

pub const ACCESS: &str = "portcullis-at";
pub const REFRESH: &str = "portcullis-rt";

/// A running server process and its private data directory.
pub struct TestApp {
    pub base: String,
    child: Child,
    dir: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the server with the given extra environment.
pub fn spawn_app(env: &[(&str, &str)]) -> TestApp {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("portcullis-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.current_dir(&root)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_CONFIG", root.join("Leptos.toml"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", &dir)
        .env(
            "RUST_LOG",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        cmd.env("DATABASE_URL", url);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("server binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");
    TestApp { base, child, dir }
}

/// A browser-like client: cookies kept in a map we can read and change.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub fn error_code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }
}

impl Client {
    pub fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: app.base.clone(),
            http,
            cookies: BTreeMap::new(),
        }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send_with(method, path, body, &[]).await
    }

    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request reaches the server");
        self.absorb(res).await
    }

    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        self.absorb(res).await
    }

    async fn absorb(&mut self, res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), val.to_owned());
            }
        }
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn register(&mut self, username: &str, password: &str) -> Reply {
        let body = serde_json::json!({ "username": username, "password": password });
        self.send(Method::POST, "/api/auth/register", Some(body))
            .await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        let body = serde_json::json!({ "username": username, "password": password });
        self.send(Method::POST, "/api/auth/login", Some(body)).await
    }

    pub async fn me(&mut self) -> Reply {
        self.send(Method::GET, "/api/me", None).await
    }

    pub async fn refresh(&mut self) -> Reply {
        self.send(Method::POST, "/api/auth/refresh", None).await
    }

    pub async fn logout(&mut self, scope: &str) -> Reply {
        self.send(
            Method::POST,
            "/api/auth/logout",
            Some(serde_json::json!({ "scope": scope })),
        )
        .await
    }

    /// Registers and signs in a fresh user; returns its name.
    pub async fn signed_in_user(&mut self, password: &str) -> String {
        let name = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        assert_eq!(
            self.register(&name, password).await.status,
            StatusCode::CREATED
        );
        assert_eq!(self.login(&name, password).await.status, StatusCode::OK);
        name
    }
}
