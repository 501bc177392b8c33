//! User administration as a feature: the shared types, the server functions
//! behind the console, and the `/admin` page. Every operation needs
//! [`Permission::ManageUsers`](crate::policy::Permission::ManageUsers).

mod api;
mod page;

pub use api::*;
pub use page::AdminPage;

pub use portcullis_core::wire::{AdminUser, UserPage};
