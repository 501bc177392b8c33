//! `server create-user`: the first admin, password resets and clear refusals.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use common::{spawn_app, Client};
use reqwest::StatusCode;

fn create_user(data_dir: &Path, args: &[&str], stdin: &str) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(root)
        .arg("create-user")
        .args(args)
        .env("DATA_DIR", data_dir)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/portcullis.db?mode=rwc", data_dir.display()),
        )
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

#[tokio::test]
async fn create_user_makes_an_admin_who_can_sign_in_and_resets_passwords() {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, out) = create_user(
        &dir,
        &["--username", "root", "--role", "admin"],
        "first admin pw\n",
    );
    assert!(ok, "{out}");
    assert!(out.contains("created root with role admin"), "{out}");
    let (ok, out) = create_user(
        &dir,
        &["--username", "root", "--role", "admin", "--reset-password"],
        "second admin pw\n",
    );
    assert!(ok, "{out}");

    let db = format!("sqlite://{}/portcullis.db?mode=rwc", dir.display());
    let app = spawn_app(&[("DATABASE_URL", db.as_str())]);
    let mut c = Client::new(&app);
    assert_eq!(
        c.login("root", "first admin pw").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.login("root", "second admin pw").await.status,
        StatusCode::OK
    );
    assert_eq!(c.me().await.body["role"], "admin");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn create_user_refuses_bad_input_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&[&str], &str, &str); 6] = [
        (&[], "pw long enough", "--username is required"),
        (&["--username", "x y"], "pw long enough", "Usernames"),
        (&["--username", "eve"], "short", "at least 8 characters"),
        (
            &["--username", "eve", "--role", "root"],
            "pw long enough",
            "unknown role `root`",
        ),
        (&["--username", "eve"], "", "no password on standard input"),
        (
            &["--username", "nobody", "--reset-password"],
            "pw long enough",
            "no user named `nobody`",
        ),
    ];
    for (args, stdin, expected) in cases {
        let (ok, out) = create_user(&dir, args, stdin);
        assert!(!ok, "{args:?} should fail");
        assert!(out.contains(expected), "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{out}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
