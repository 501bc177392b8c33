//! User administration as a feature: the shared types, the server functions
//! behind the console, and the `/admin` page. Every operation needs
//! [`Permission::ManageUsers`](crate::policy::Permission::ManageUsers).

mod api;
mod page;

pub use api::*;
pub use page::AdminPage;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::policy::Role;

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
