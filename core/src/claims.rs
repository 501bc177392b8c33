//! The access token's claims: the wire format the server signs and every
//! verifier (the server, `portcullis-client`'s `JwksVerifier`) reads.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token: the wire format the server signs and every
/// verifier (the server, `portcullis-client`'s `JwksVerifier`) reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session id.
    pub sid: Uuid,
    pub name: String,
    pub role: String,
    /// Token kind: always `access`; other kinds are never accepted as one.
    pub typ: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Access tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 4096;
