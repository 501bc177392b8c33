//! `server create-user`: the first admin, password resets and clear refusals.
#![allow(clippy::unwrap_used)]

mod common;

use common::{database_url, run_cli, spawn_app, spawn_binary, Client};
use reqwest::StatusCode;

#[tokio::test]
async fn create_user_makes_an_admin_who_can_sign_in_and_resets_passwords() {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = database_url(&dir);
    let (ok, out) = run_cli(
        &dir,
        &db,
        &["--username", "root", "--role", "admin"],
        "first admin pw\n",
    );
    assert!(ok, "{out}");
    assert!(out.contains("created root with role admin"), "{out}");
    let (ok, out) = run_cli(
        &dir,
        &db,
        &["--username", "root", "--reset-password"],
        "second admin pw\n",
    );
    assert!(ok, "{out}");
    // A reset without --role keeps the role: it must never demote the only admin.
    assert!(out.contains("(role admin)"), "{out}");

    let app = spawn_app(&[("DATABASE_URL", db.as_str())]).await;
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
    let db = database_url(&dir);
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
        let (ok, out) = run_cli(&dir, &db, args, stdin);
        assert!(!ok, "{args:?} should fail");
        assert!(out.contains(expected), "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{out}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_command_line_cannot_demote_the_last_admin() {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = database_url(&dir);
    let (ok, out) = run_cli(
        &dir,
        &db,
        &["--username", "root", "--role", "admin"],
        "first admin pw\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = run_cli(
        &dir,
        &db,
        &["--username", "root", "--reset-password", "--role", "user"],
        "second admin pw\n",
    );
    assert!(!ok, "{out}");
    assert!(out.contains("last admin"), "{out}");
    // Refused as a whole: the role and the password are both unchanged.
    let app = spawn_app(&[("DATABASE_URL", db.as_str())]).await;
    let mut c = Client::new(&app);
    assert_eq!(
        c.login("root", "first admin pw").await.status,
        StatusCode::OK
    );
    assert_eq!(c.me().await.body["role"], "admin");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_server_process_stops_cleanly_on_ctrl_c() {
    let mut app = spawn_binary(&[]);
    let mut c = Client::new(&app);
    c.signed_in_user("correct horse battery").await;
    let status = app.interrupt().expect("the server exits after SIGINT");
    assert!(status.success(), "graceful shutdown exits 0: {status}");
    // Nothing listens any more.
    assert!(reqwest::get(format!("{}/api/me", app.base)).await.is_err());
}
