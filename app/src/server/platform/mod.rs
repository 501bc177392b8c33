//! What every feature stands on: configuration, the database, the shared
//! state, the abuse limits and the hardening headers.

pub mod clock;
pub mod config;
pub mod db;
pub mod duration;
pub mod limits;
pub mod proxies;
pub mod security;
pub mod state;
pub mod vars;
