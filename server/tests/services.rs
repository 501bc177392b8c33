//! The services called directly, with no HTTP in between, on a fresh SQLite
//! file (or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set): the
//! rules hold whichever adapter calls them, the command line included.
#![allow(clippy::unwrap_used)]

mod common;

use app::{
    auth::LogoutScope,
    error::AuthError,
    operations::Operation,
    policy::Role,
    server::{
        admin::{self, accounts},
        authentication::{authorized::Authorized, tokens::Principal, users},
        sessions::{self, Device},
        AppState,
    },
};
use common::fresh_state;

const PW: &str = "correct horse battery";

async fn user(state: &AppState, name: &str, role: Role) -> app::auth::User {
    let proof = Authorized::operator(Operation::CreateUser);
    accounts::create_user(state, &proof, name, PW.to_owned().into(), role)
        .await
        .unwrap()
}

fn device() -> Device {
    Device {
        user_agent: "service test".into(),
        ip: "127.0.0.1".into(),
        cookie: None,
    }
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_its_session_and_its_access_token() {
    let (state, dir) = fresh_state(&[("REFRESH_REUSE_INTERVAL", "0s")]).await;
    user(&state, "alice", Role::User).await;
    let first = sessions::sign_in(&state, "alice", PW.to_owned().into(), device())
        .await
        .unwrap();
    let second = sessions::refresh(&state, &first.refresh_token, device())
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token, "it rotates");
    assert_eq!(second.session_id, first.session_id);
    let replay = sessions::refresh(&state, &first.refresh_token, device()).await;
    assert_eq!(replay.err(), Some(AuthError::RefreshReused));
    assert!(
        state.revoked.contains(first.session_id),
        "live access tokens die at once"
    );
    let after = sessions::refresh(&state, &second.refresh_token, device()).await;
    assert_eq!(after.err(), Some(AuthError::SessionRevoked));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_even_by_the_operator() {
    let (state, dir) = fresh_state(&[]).await;
    let root = user(&state, "root", Role::Admin).await;
    let demote = Authorized::operator(Operation::SetRole);
    let refused = admin::set_role(&state, &demote, root.id, Role::User).await;
    assert_eq!(refused.err(), Some(AuthError::LastAdmin));
    let disable = Authorized::operator(Operation::SetDisabled);
    let refused = admin::set_disabled(&state, &disable, root.id, true).await;
    assert_eq!(refused.err(), Some(AuthError::LastAdmin));
    // With a second admin, the first may step down.
    user(&state, "deputy", Role::Admin).await;
    let demoted = admin::set_role(&state, &demote, root.id, Role::User)
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::User);
    assert_eq!(
        state.standing.get(root.id).map(|s| s.role),
        Some(Role::User)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_service_refuses_the_proof_of_another_operation() {
    let (state, dir) = fresh_state(&[]).await;
    let alice = user(&state, "alice", Role::User).await;
    let issued = sessions::sign_in(&state, "alice", PW.to_owned().into(), device())
        .await
        .unwrap();
    let me = Principal::from(&issued);
    // A user's proof for signing out is a real proof, but not for a role change.
    let sign_out = Authorized::check(Ok(&me), Operation::SignOut).unwrap();
    let escalate = admin::set_role(&state, &sign_out, alice.id, Role::Admin).await;
    assert_eq!(escalate.err(), Some(AuthError::Forbidden));
    let listed = admin::list_users(&state, &sign_out, "", 1, 20).await;
    assert_eq!(listed.err(), Some(AuthError::Forbidden));
    // And the policy gives a user no proof for it at all.
    assert_eq!(
        Authorized::check(Ok(&me), Operation::SetRole).err(),
        Some(AuthError::Forbidden)
    );
    let again = users::find(&state.db, alice.id).await.unwrap().unwrap();
    assert_eq!(Role::from(again.role), Role::User);
    // Her own sign-out works with it, and ends exactly her session.
    assert_eq!(
        sessions::logout(&state, &sign_out, LogoutScope::Local).await,
        Ok(1)
    );
    assert!(state.revoked.contains(issued.session_id));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_keeps_the_role() {
    let (state, dir) = fresh_state(&[]).await;
    user(&state, "bob", Role::Admin).await;
    let issued = sessions::sign_in(&state, "bob", PW.to_owned().into(), device())
        .await
        .unwrap();
    let proof = Authorized::operator(Operation::ResetPassword);
    let weak = accounts::reset_password(&state, &proof, "bob", "password".to_owned().into()).await;
    assert!(
        matches!(weak, Err(AuthError::Validation { .. })),
        "{weak:?}"
    );
    let (bob, ended) = accounts::reset_password(
        &state,
        &proof,
        "bob",
        "a brand new passphrase".to_owned().into(),
    )
    .await
    .unwrap();
    assert_eq!((bob.role, ended), (Role::Admin, 1));
    assert!(state.revoked.contains(issued.session_id));
    let old = sessions::sign_in(&state, "bob", PW.to_owned().into(), device()).await;
    assert_eq!(old.err(), Some(AuthError::InvalidCredentials));
    let missing = accounts::reset_password(&state, &proof, "nobody", PW.to_owned().into()).await;
    assert_eq!(missing.err(), Some(AuthError::NotFound));
    let _ = std::fs::remove_dir_all(dir);
}
