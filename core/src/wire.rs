//! The JSON shapes of the API and the server functions: what the browser app,
//! `portcullis-client` and the server exchange. Plain serde types.

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

/// A user as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// One page of a user search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<AdminUser>,
    /// How many users match the search, over all pages.
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

impl UserPage {
    /// How many pages the search has (at least 1).
    #[must_use]
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}
