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
    pub username: String,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
}

impl From<&Principal> for User {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.user_id,
            username: p.username.clone(),
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
