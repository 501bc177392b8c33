//! A PostgreSQL server of the test's own, for outages a test causes itself:
//! Debian's server binaries (`/usr/lib/postgresql/<highest version>/bin`),
//! `initdb` into a fresh temporary directory, trust authentication, listening
//! only on 127.0.0.1 at a free port, its unix socket inside that directory.
//! Run as the `postgres` OS user when the tests run as root (PostgreSQL
//! refuses to run as root). Stopped and its directory removed when dropped.
//!
//! Never the machine's shared server (127.0.0.1:5432): every command here
//! names this server's own data directory.

use std::{
    net::TcpStream,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use super::nginx::free_port;

/// How long starting or stopping may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

pub struct OwnPostgres {
    pub port: u16,
    /// The temporary directory: `data/` (the cluster), `log`, the socket.
    dir: PathBuf,
    bin: PathBuf,
    /// Whether the tools run as the `postgres` user (the tests run as root).
    as_postgres: bool,
    running: bool,
    frozen: bool,
}

impl OwnPostgres {
    /// Creates a cluster in a fresh directory and starts it; returns once it
    /// accepts connections.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("portcullis-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        // The directory is ours: its owner is the user the tests run as.
        let as_postgres = std::fs::metadata(&dir).unwrap().uid() == 0;
        let mut pg = Self {
            port: free_port(),
            dir,
            bin: bin_dir(),
            as_postgres,
            running: false,
            frozen: false,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&pg.dir)
                .status()
                .unwrap();
            assert!(chown.success(), "chown postgres {}", pg.dir.display());
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        // fsync off: this cluster lives for one test; a clean stop still
        // writes everything, so stopping and starting again loses nothing.
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\n",
            pg.port,
            pg.dir.display()
        );
        append(&Path::new(&data).join("postgresql.conf"), &conf);
        pg.start_again();
        pg
    }

    /// The `postgres` database as its superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (`pg_ctl stop -m fast`: connections are cut, as in
    /// an outage) and returns once its port refuses connections.
    pub fn stop(&mut self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["stop", "-D", &data, "-m", "fast", "-w", "-t", "60"],
        );
        self.running = false;
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "port {} still open", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the same cluster again on the same port; returns once it
    /// accepts connections (`pg_isready`).
    pub fn start_again(&mut self) {
        let data = self.data();
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["start", "-D", &data, "-l", &log, "-w", "-t", "60"],
        );
        self.running = true;
        let port = self.port.to_string();
        let deadline = Instant::now() + PATIENCE;
        while !self
            .tool("pg_isready", &["-q", "-h", "127.0.0.1", "-p", &port])
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(Instant::now() < deadline, "not ready: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes the server and every backend (SIGSTOP): the database of a
    /// machine that hangs. Connections stay open and nothing answers them,
    /// which only timeouts can end. [`thaw`](Self::thaw) undoes it (so does drop).
    pub fn freeze(&mut self) {
        self.signal("-STOP");
        self.frozen = true;
    }

    /// Lets a frozen server run on (SIGCONT).
    pub fn thaw(&mut self) {
        self.signal("-CONT");
        self.frozen = false;
    }

    /// Sends `signal` to this cluster's postmaster (its pid is the first
    /// line of `postmaster.pid`) and its children, never to another server.
    fn signal(&self, signal: &str) {
        let pid_file = self.dir.join("data/postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).unwrap();
        let pid = text.lines().next().unwrap().trim().to_owned();
        let children = Command::new("pgrep").args(["-P", &pid]).output().unwrap();
        let mut pids: Vec<String> = String::from_utf8_lossy(&children.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        pids.push(pid);
        let status = Command::new("kill")
            .arg(signal)
            .args(&pids)
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pids:?}");
    }

    /// The server's log (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// A command running one of the server's tools as the right user.
    fn tool(&self, name: &str, args: &[&str]) -> Command {
        let path = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        // The test's own working directory may be closed to `postgres`.
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// Runs a tool and fails the test, with its output, if it fails.
    fn run(&self, name: &str, args: &[&str]) {
        let out = self
            .tool(name, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("{name} runs: {e}"));
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.frozen {
            self.signal("-CONT");
        }
        if self.running {
            let data = self.data();
            let _ = self
                .tool("pg_ctl", &["stop", "-D", &data, "-m", "immediate", "-w"])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest Debian server binaries (`postgresql-NN`).
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|v| root.join(v.to_string()).join("bin/initdb").exists())
        .max()
        .expect("Debian's PostgreSQL server under /usr/lib/postgresql/*/bin");
    root.join(newest.to_string()).join("bin")
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
