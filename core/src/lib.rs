//! The part of Portcullis every side shares, with no Leptos and no server code:
//! the role policy ([`policy`]) and the operations it guards ([`operations`]), the one error type and its wire envelope
//! ([`error`]), the JSON shapes ([`wire`]), the access-token claims
//! ([`claims`]) and the names a request carries ([`transport`]).
//!
//! The browser app, the server and `portcullis-client` all compile this crate,
//! so the client guard, the server check and a downstream verifier cannot drift.

pub mod claims;
pub mod error;
pub mod operations;
pub mod policy;
pub mod transport;
pub mod wire;
