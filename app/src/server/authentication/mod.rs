//! Who the caller is: accounts and their passwords (argon2id on a bounded
//! pool), the signing keys and access tokens, and the in-memory record of
//! role changes that live tokens must follow.

pub mod account;
mod argon;
pub mod authorized;
pub mod device_cookie;
pub mod keys;
pub mod password;
pub mod principal;
pub mod standing;
pub mod tokens;
pub mod users;
mod verified_cache;
