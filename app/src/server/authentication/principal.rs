//! The caller an access token proves, and how it reads on the wire.

use uuid::Uuid;

use crate::{
    auth::{SignedIn, User},
    policy::Role,
};

/// Who is calling, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// Shared, so the per-request copy out of the verified-token cache
    /// allocates nothing.
    pub username: std::sync::Arc<str>,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
}

impl From<&Principal> for User {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.user_id,
            username: p.username.to_string(),
            role: p.role,
        }
    }
}

impl From<&Principal> for SignedIn {
    fn from(p: &Principal) -> Self {
        Self {
            user: User::from(p),
            access_expires_at: p.expires_at,
        }
    }
}
