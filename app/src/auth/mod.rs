//! Authentication as a feature: the shared types, the server functions the
//! pages call, the client-side session state and the sign-in pages.

mod account_page;
mod api;
mod context;
pub mod keeper;
mod pages;
mod sessions_page;
pub mod strength;
pub mod transport;

pub use account_page::AccountPage;
pub use api::*;
pub use context::{provide_auth, use_auth, AuthContext, Guard};
pub use pages::{LoginPage, RegisterPage, SignOutButton};
pub use sessions_page::SessionsPage;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::policy::Role;

/// A user as the UI and the JSON API see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
}

/// The signed-in state the client may know: who, and when the access token
/// expires (a non-secret time, never a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user: User,
    /// Unix seconds.
    pub access_expires_at: i64,
}

/// The answer to a successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOutcome {
    pub signed_in: SignedIn,
    /// Where to go next: a same-site path.
    pub next: String,
}

/// The answer to a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChanged {
    /// How many other sessions were signed out (0 unless asked for).
    pub signed_out_others: u64,
}

/// Which sessions a sign-out ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogoutScope {
    /// This session only.
    #[default]
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user.
    Global,
}

/// The claims of an access token: the wire format the server signs and every
/// verifier (the server, `portcullis-client`'s `JwksVerifier`) reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session id.
    pub sid: Uuid,
    pub name: String,
    pub role: String,
    /// Token kind: always `access`; other kinds are never accepted as one.
    pub typ: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Access tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// One of the user's sessions (a signed-in device), as listed on the Sessions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_used_at: String,
    pub user_agent: String,
    pub ip: String,
    /// True for the session making the request.
    pub current: bool,
}
