//! Sessions and refresh tokens: sign-in, rotation with a concurrent-refresh
//! grace, reuse detection, and revocation.
//!
//! A refresh token is 32 random bytes (base64url). Only its SHA-256 is stored,
//! one row per generation, so a replayed ancestor is recognised as theft. The
//! current token is also kept *sealed under its parent* (XOR with a hash of the
//! parent token): whoever presents the parent within the reuse interval can
//! recover the successor, so concurrent tabs converge on one token, while the
//! database alone reveals no usable token.
//!
//! - [`lifecycle`]: sign-in, starting a session and the refresh rotation;
//! - [`ending`]: sign-out, revocation and the list of a user's sessions;
//! - [`refresh_token`]: the token itself (randomness, hashing, sealing);
//! - [`revocation`]: the in-memory list that lets access tokens die at once;
//! - [`feed`]: how every instance learns of revocations and role changes;
//! - [`retention`]: deleting ended sessions and retired tokens in time.

mod device;
pub mod ending;
pub mod feed;
pub mod lifecycle;
pub mod refresh_token;
pub mod retention;
pub mod revocation;

pub use device::Device;
pub use ending::{
    describe, end_sessions_in, list, logout, logout_by_refresh_token, revoke, revoke_all,
    revoke_own,
};
pub use lifecycle::{refresh, sign_in, start};

use uuid::Uuid;

use crate::{
    auth::{SignedIn, User},
    server::authentication::tokens::Principal,
};

/// A freshly issued pair of tokens and what the client may know about them.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user: User,
    pub session_id: Uuid,
    pub access_token: String,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_token: String,
    /// Unix seconds: when the refresh token stops working if unused.
    pub refresh_expires_at: i64,
    /// A new device cookie for the browser (set by a password sign-in only).
    pub device_cookie: Option<String>,
}

impl From<&Issued> for SignedIn {
    fn from(issued: &Issued) -> Self {
        Self {
            user: issued.user.clone(),
            access_expires_at: issued.access_expires_at,
        }
    }
}

/// The caller a freshly issued access token names (a resumed page load).
impl From<&Issued> for Principal {
    fn from(issued: &Issued) -> Self {
        Self {
            user_id: issued.user.id,
            session_id: issued.session_id,
            username: issued.user.username.as_str().into(),
            role: issued.user.role,
            expires_at: issued.access_expires_at,
        }
    }
}
