//! Authentication as a feature: the shared types, the server functions the
//! pages call, the client-side session state and the sign-in pages.

mod account_page;
mod api;
mod context;
pub mod keeper;
pub mod notice;
mod pages;
mod sessions_page;
pub mod strength;
pub mod transport;

pub use account_page::AccountPage;
pub use api::*;
pub use context::{provide_auth, use_auth, AuthContext, Guard};
pub use pages::{LoginPage, RegisterPage, SignOutButton};
pub use sessions_page::SessionsPage;

pub use portcullis_core::claims::{AccessClaims, MAX_TOKEN_BYTES};
pub use portcullis_core::wire::{
    LoginOutcome, LogoutScope, PasswordChanged, SessionInfo, SignedIn, User,
};
