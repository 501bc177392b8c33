//! Test harness: the real server binary on port 0 with a fresh SQLite file,
//! and a small HTTP client that keeps cookies by hand so tests can replay,
//! steal and inspect them.
#![allow(dead_code, clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
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
    pub dir: PathBuf,
    /// The `DATABASE_URL` the server runs with.
    pub db_url: String,
}

impl TestApp {
    /// Creates a user through `server create-user` on this app's database.
    pub fn create_user(&self, username: &str, role: &str, password: &str) {
        let (ok, out) = run_cli(
            &self.dir,
            &self.db_url,
            &["--username", username, "--role", role],
            &format!("{password}\n"),
        );
        assert!(ok, "create-user {username}: {out}");
    }
}

/// A database of its own for one test: a new PostgreSQL database (named
/// `pt_…`; `scripts/test.sh` drops them afterwards) on the server
/// `TEST_DATABASE_URL` names, or else a SQLite file in `data_dir`.
pub fn database_url(data_dir: &Path) -> String {
    let Some(base) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return format!("sqlite://{}/portcullis.db?mode=rwc", data_dir.display());
    };
    let name = format!("pt_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let out = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", &base, "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql runs (TEST_DATABASE_URL needs the PostgreSQL client)");
    assert!(
        out.status.success(),
        "creating {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (server, _) = base
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends in /DBNAME");
    format!("{server}/{name}")
}

/// Runs `server create-user ARGS` with `stdin` against `db_url`; returns
/// success and all output.
pub fn run_cli(data_dir: &Path, db_url: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(root)
        .arg("create-user")
        .args(args)
        .env("DATA_DIR", data_dir)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
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
    let db_url = env
        .iter()
        .find(|(k, _)| *k == "DATABASE_URL")
        .map_or_else(|| database_url(&dir), |(_, v)| (*v).to_owned());
    cmd.env("DATABASE_URL", &db_url);
    // Most tests sign in far more often than a person would; the limits have
    // their own tests, which turn them back on.
    cmd.env("RATE_LIMIT", "off");
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
    TestApp {
        base,
        child,
        dir,
        db_url,
    }
}

/// A browser-like client: cookies kept in a map we can read and change.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// The `Origin` sent with every request, as a browser on our site would
    /// (`None` to leave it out, as a forged or non-browser request might).
    pub origin: Option<String>,
    /// Whether requests carry the app's CSRF header (`x-portcullis-csrf: 1`),
    /// as every call of the WASM app does.
    pub csrf_header: bool,
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
            origin: Some(app.base.clone()),
            csrf_header: true,
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
        if let Some(jar) = self.cookie_header() {
            req = req.header(header::COOKIE, jar);
        }
        if let Some(origin) = &self.origin {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("origin"))
            {
                req = req.header(header::ORIGIN, origin);
            }
        }
        if self.csrf_header {
            req = req.header("x-portcullis-csrf", "1");
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
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.to_owned());
        if let Some(origin) = &self.origin {
            req = req.header(header::ORIGIN, origin);
        }
        if self.csrf_header {
            req = req.header("x-portcullis-csrf", "1");
        }
        let res = req.send().await.unwrap();
        self.absorb(res).await
    }

    /// The `Cookie` header a browser would send, if it has cookies.
    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Posts a form (how the WASM app calls server functions), with the cookies.
    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.form_with(path, fields, &[]).await
    }

    /// Posts a form with extra headers.
    pub async fn form_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = &self.origin {
            req = req.header(header::ORIGIN, origin);
        }
        if self.csrf_header {
            req = req.header("x-portcullis-csrf", "1");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(jar) = self.cookie_header() {
            req = req.header(header::COOKIE, jar);
        }
        let res = req.send().await.expect("request reaches the server");
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
