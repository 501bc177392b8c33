//! Issue #18: multi-step writes happen together or not at all. The second
//! step is made to fail by a real trigger in the real database, and the
//! first must not have happened: a password change whose "sign out my other
//! devices" fails keeps the old password; a sign-in whose token row fails
//! leaves no session behind.
#![allow(clippy::unwrap_used)]

mod common;

use app::server::{entity::session, AppState};
use common::{spawn_app, Client};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait};

const PW: &str = "correct horse battery staple";

/// Makes every statement of `kind` (`UPDATE OF revoked_at ON sessions`,
/// `INSERT ON refresh_tokens`) fail from now on.
async fn fail_every(state: &AppState, kind: &str) {
    let sql = match state.db.get_database_backend() {
        DbBackend::Postgres => format!(
            "CREATE FUNCTION pt_injected() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$; \
             CREATE TRIGGER pt_injected BEFORE {kind} FOR EACH ROW EXECUTE FUNCTION pt_injected();"
        ),
        _ => format!(
            "CREATE TRIGGER pt_injected BEFORE {kind} \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
        ),
    };
    state.db.execute_unprepared(&sql).await.unwrap();
}

#[tokio::test]
async fn a_password_change_whose_sign_out_of_other_devices_fails_keeps_the_old_password() {
    let app = spawn_app(&[]).await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let mut laptop = Client::new(&app);
    assert_eq!(laptop.login(&name, PW).await.status, StatusCode::OK);
    fail_every(&state, "UPDATE OF revoked_at ON sessions").await;

    let body = serde_json::json!({
        "current_password": PW,
        "new_password": "a brand new passphrase",
        "sign_out_others": true,
    });
    let out = c.send(Method::POST, "/api/auth/password", Some(body)).await;
    assert!(out.status.is_server_error(), "{} {}", out.status, out.text);
    // Neither step happened: the old password still signs in, the new one
    // does not, and the other device is still signed in.
    let mut again = Client::new(&app);
    assert_eq!(again.login(&name, PW).await.status, StatusCode::OK);
    let mut new = Client::new(&app);
    let refused = new.login(&name, "a brand new passphrase").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    assert_eq!(laptop.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sign_in_whose_token_row_fails_leaves_no_session_behind() {
    let app = spawn_app(&[]).await;
    let state = app.state.clone().unwrap();
    let mut c = Client::new(&app);
    let name = c.signed_in_user(PW).await;
    let before = session::Entity::find().count(&state.db).await.unwrap();
    fail_every(&state, "INSERT ON refresh_tokens").await;

    let mut other = Client::new(&app);
    let out = other.login(&name, PW).await;
    assert!(out.status.is_server_error(), "{} {}", out.status, out.text);
    assert!(
        other.signed_out(),
        "no cookie for a session that does not exist"
    );
    let after = session::Entity::find().count(&state.db).await.unwrap();
    assert_eq!(
        after, before,
        "a session row without its token was left behind"
    );
}
