//! Debian's nginx (installed by `scripts/setup.sh --test`), started by a test
//! on a free 127.0.0.1 port with a generated configuration in a temporary
//! directory, in front of some upstream servers; stopped when dropped.

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Nginx {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// A port that was free a moment ago (the OS hands out a new one each time).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map_or_else(|| "nginx".to_owned(), str::to_owned)
}

impl Nginx {
    /// Starts nginx on `port`, balancing over `upstreams` (`127.0.0.1:PORT`)
    /// round-robin, as the README's example configures it.
    pub fn start(port: u16, upstreams: &[String]) -> Self {
        let dir = std::env::temp_dir().join(format!("portcullis-nginx-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let servers: String = upstreams
            .iter()
            // max_fails=0: never mark an instance down. A restarting one
            // refuses the connection, which costs one retry on the next;
            // marking it down for fail_timeout could mark both down during
            // a quick rolling restart and answer 502.
            .map(|u| format!("    server {u} max_fails=0;\n"))
            .collect();
        // Workers would switch to `nobody` when started as root; they only
        // need this directory, so keep the test's own user.
        let user = if is_root() { "user root;" } else { "" };
        let d = dir.display();
        let conf = format!(
            r#"{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream portcullis {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://portcullis;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # An instance that stopped accepting (a restart) refuses the
      # connection before any request reached it: try the next one, even
      # for a POST.
      proxy_next_upstream error timeout non_idempotent;
      proxy_connect_timeout 2s;
    }}
  }}
}}
"#
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(binary())
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts (scripts/setup.sh --test installs Debian's nginx-light)");
        let nginx = Self { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {port}: {}",
                nginx.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// nginx's error log (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
