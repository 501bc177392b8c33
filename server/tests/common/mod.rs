//! Test harness, in the style of zero2prod's `spawn_app`: the real app
//! started **in process** on port 0 with a fresh database (a SQLite file, or a
//! PostgreSQL database of its own when `TEST_DATABASE_URL` is set), and one
//! request builder that behaves like the browser app: the origin, the CSRF
//! header and cookies kept in a map that tests can read, replay and steal.
//! Header and cookie names come from `portcullis_core`, not from copies here.
//!
//! `spawn_binary` starts the real `server` process instead, for the few tests
//! that are about the process (two instances, the command line).
#![allow(dead_code, clippy::unwrap_used)]

pub mod nginx;
pub mod postgres;

use std::{
    collections::{BTreeMap, HashMap},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use app::{
    operations::Operation,
    policy::Role,
    server::{admin::accounts, authentication::authorized::Authorized, AppState},
};
use portcullis_core::transport::{CookieNames, CSRF_HEADER};
use reqwest::{header, Method, StatusCode};
use serde_json::Value;

/// The cookie names of a plain-http deployment (every test app is one).
pub const ACCESS: &str = CookieNames::new(false).access;
pub const REFRESH: &str = CookieNames::new(false).refresh;

/// A running app and its private data directory.
pub struct TestApp {
    pub base: String,
    pub dir: PathBuf,
    /// The `DATABASE_URL` the server runs with.
    pub db_url: String,
    /// The in-process app's state (services can be called directly); `None`
    /// for a separate process.
    pub state: Option<AppState>,
    running: Running,
}

enum Running {
    InProcess(Option<tokio::sync::oneshot::Sender<()>>),
    Process(Child),
}

impl TestApp {
    /// Creates a user with `role` (the operator's service, as `server create-user` does).
    pub async fn create_user(&self, username: &str, role: &str, password: &str) {
        if let Some(state) = &self.state {
            let role = Role::parse(role).unwrap();
            let proof = Authorized::operator(Operation::CreateUser);
            accounts::create_user(state, &proof, username, password.to_owned().into(), role)
                .await
                .unwrap_or_else(|e| panic!("create-user {username}: {e}"));
            return;
        }
        let (ok, out) = run_cli(
            &self.dir,
            &self.db_url,
            &["--username", username, "--role", role],
            &format!("{password}\n"),
        );
        assert!(ok, "create-user {username}: {out}");
    }
}

impl TestApp {
    /// Sends the server process SIGINT (Ctrl-C) and waits for it to exit;
    /// `None` for an in-process app, or if it has not exited within 30 s.
    pub fn interrupt(&mut self) -> Option<std::process::ExitStatus> {
        self.signal("-INT")
    }

    /// Sends SIGTERM (a rolling restart) and waits for the process to exit.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        self.signal("-TERM")
    }

    fn signal(&mut self, which: &str) -> Option<std::process::ExitStatus> {
        let Running::Process(child) = &mut self.running else {
            return None;
        };
        let sent = Command::new("kill")
            .args([which, &child.id().to_string()])
            .status()
            .ok()?;
        assert!(sent.success(), "kill {which}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Some(status) = child.try_wait().ok()? {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match &mut self.running {
            Running::InProcess(stop) => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
            Running::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The settings every test app starts from: its own data directory and
/// database, and no rate limits (most tests sign in far more often than a
/// person would; the limits have their own tests, which turn them back on).
/// `env` adds to or overrides them.
fn settings(dir: &Path, env: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATA_DIR".into(), dir.display().to_string());
    vars.insert("RATE_LIMIT".into(), "off".into());
    // Said outright: a test app may pose as an https site (PUBLIC_URL), which
    // an unset mode refuses.
    vars.insert("PORTCULLIS_ENV".into(), "development".into());
    for (k, v) in env {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    if !vars.contains_key("DATABASE_URL") {
        vars.insert("DATABASE_URL".into(), database_url(dir));
    }
    vars
}

/// The app's state on a fresh database, without any HTTP: for service tests.
/// Returns the state and its data directory (remove it when done).
pub async fn fresh_state(env: &[(&str, &str)]) -> (AppState, PathBuf) {
    let dir = fresh_dir();
    let vars = settings(&dir, env);
    let config =
        app::server::platform::config::Config::from_lookup("127.0.0.1:9".parse().unwrap(), |key| {
            vars.get(key).cloned()
        })
        .unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("portcullis")
        .build();
    let state = app::server::build_state(config, options).await.unwrap();
    (state, dir)
}

/// Starts the app in this process on 127.0.0.1:0 with `env` as its whole
/// environment (on top of [`settings`]). It stops when the `TestApp` drops.
pub async fn spawn_app(env: &[(&str, &str)]) -> TestApp {
    let dir = fresh_dir();
    let vars = settings(&dir, env);
    let mut options =
        leptos::config::get_configuration(Some(root().join("Leptos.toml").to_str().unwrap()))
            .unwrap()
            .leptos_options;
    options.site_addr = "127.0.0.1:0".parse().unwrap();
    options.site_root = root().join("target/site").display().to_string().into();
    let db_url = vars["DATABASE_URL"].clone();
    let bound = server::bind(options, move |key| vars.get(key).cloned())
        .await
        .unwrap_or_else(|e| panic!("the app starts: {e}"));
    let base = format!("http://{}", bound.local_addr().unwrap());
    let state = bound.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(bound, async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        dir,
        db_url,
        state: Some(state),
        running: Running::InProcess(Some(stop)),
    }
}

/// Starts the real `server` binary with `env` as its whole environment (on
/// top of [`settings`]) and waits for the address it prints.
pub fn spawn_binary(env: &[(&str, &str)]) -> TestApp {
    let dir = fresh_dir();
    let vars = settings(&dir, env);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_CONFIG", root().join("Leptos.toml"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env(
            "RUST_LOG",
            std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .envs(&vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
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
        dir,
        db_url: vars["DATABASE_URL"].clone(),
        state: None,
        running: Running::Process(child),
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
    // A command that refuses its arguments exits without reading standard
    // input; writing to it then fails with a broken pipe, which is no error here.
    if let Err(err) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A fresh Ed25519 signing key as PKCS#8 PEM (`JWT_PRIVATE_KEY`), for
/// several processes that must share one.
pub fn signing_key_pem() -> String {
    use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string()
}

/// Polls `check` every 25 ms until it holds or `limit` passes; returns how
/// long it took.
pub async fn within<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
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
    /// Whether requests carry the app's CSRF header ([`CSRF_HEADER`]), as
    /// every call of the WASM app does.
    pub csrf_header: bool,
}

/// One request being built: [`Client::request`] is the only place a request
/// gets its origin, CSRF header and cookies.
pub struct Request<'a> {
    client: &'a mut Client,
    builder: reqwest::RequestBuilder,
    origin_set: bool,
}

impl Request<'_> {
    /// Adds a header (an `Origin` here replaces the client's).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.origin_set |= name.eq_ignore_ascii_case("origin");
        self.builder = self.builder.header(name, value);
        self
    }

    /// Adds several headers.
    pub fn headers(self, headers: &[(&str, &str)]) -> Self {
        headers.iter().fold(self, |req, (k, v)| req.header(k, v))
    }

    /// A JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.json(body);
        self
    }

    /// A form body, as a browser posts a form.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.body("application/x-www-form-urlencoded", &body)
    }

    /// Any body with its content type.
    pub fn body(mut self, content_type: &str, body: &str) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, content_type)
            .body(body.to_owned());
        self
    }

    /// Sends it and takes in the cookies the answer sets or clears.
    pub async fn send(self) -> Reply {
        let mut builder = self.builder;
        if let (Some(origin), false) = (&self.client.origin, self.origin_set) {
            builder = builder.header(header::ORIGIN, origin);
        }
        let res = builder.send().await.expect("request reaches the server");
        self.client.absorb(res).await
    }
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

    /// The same client, connecting from `local` (another 127.0.0.N: a
    /// distinct client address as the server sees it).
    #[must_use]
    pub fn connecting_from(mut self, local: std::net::IpAddr) -> Self {
        self.http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local)
            .build()
            .unwrap();
        self
    }

    /// Whether neither token cookie is held (the device cookie, which is
    /// not a credential, outlives a sign-out).
    pub fn signed_out(&self) -> bool {
        !self.cookies.contains_key(ACCESS) && !self.cookies.contains_key(REFRESH)
    }

    /// Starts a request as the browser app would send it.
    pub fn request(&mut self, method: Method, path: &str) -> Request<'_> {
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(jar) = self.cookie_header() {
            builder = builder.header(header::COOKIE, jar);
        }
        if self.csrf_header {
            builder = builder.header(CSRF_HEADER, "1");
        }
        Request {
            client: self,
            builder,
            origin_set: false,
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
        let mut req = self.request(method, path).headers(headers);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await
    }

    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Reply {
        self.request(method, path)
            .body(content_type, body)
            .send()
            .await
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
        self.request(Method::POST, path)
            .headers(headers)
            .form(fields)
            .send()
            .await
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

impl TestApp {
    /// Kills the server process with SIGKILL, as a crash or the OOM killer
    /// would (no shutdown code runs), and waits for it; `None` for an
    /// in-process app.
    pub fn kill(&mut self) -> Option<std::process::ExitStatus> {
        let Running::Process(child) = &mut self.running else {
            return None;
        };
        child.kill().ok()?;
        child.wait().ok()
    }
}

impl Request<'_> {
    /// Sends it as [`Request::send`] does, but a request that got no answer
    /// (the server died) is an `Err` rather than a panic, and then the
    /// client's cookies stay as they were.
    ///
    /// # Errors
    /// The transport error: no connection, or no response headers.
    pub async fn try_send(self) -> Result<Reply, reqwest::Error> {
        let mut builder = self.builder;
        if let (Some(origin), false) = (&self.client.origin, self.origin_set) {
            builder = builder.header(header::ORIGIN, origin);
        }
        let res = builder.send().await?;
        Ok(self.client.absorb(res).await)
    }
}
