//! Access tokens: short-lived EdDSA JWTs carrying the user, role and session id.

use std::time::Duration;

use jsonwebtoken::{
    decode, decode_header, encode, errors::ErrorKind, Algorithm, Header, Validation,
};
use uuid::Uuid;

pub use super::principal::Principal;
use super::verified_cache::VerifiedCache;
pub use crate::auth::{AccessClaims, MAX_TOKEN_BYTES};
use crate::server::authentication::keys::{SigningKeyPair, VerifyingKeyEntry};
use crate::{error::AuthError, policy::Role};

/// The JOSE `typ` of our access tokens (RFC 9068).
const ACCESS_TYP: &str = "at+jwt";

/// Signs and verifies access tokens.
pub struct TokenService {
    verified: VerifiedCache,
    key: SigningKeyPair,
    /// Every key that verifies: the signing key first, then retired ones.
    verifiers: Vec<VerifyingKeyEntry>,
    issuer: String,
    audience: String,
    ttl: Duration,
    validation: Validation,
}

impl TokenService {
    /// Builds the service around the signing key and any retired keys that
    /// must still verify the tokens they signed.
    ///
    /// # Errors
    /// A readable message if a key cannot be prepared for verification.
    pub fn new(
        key: SigningKeyPair,
        previous: Vec<VerifyingKeyEntry>,
        issuer: String,
        audience: String,
        ttl: Duration,
        leeway: Duration,
    ) -> Result<Self, String> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_audience(&[audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = leeway.as_secs();
        let mut verifiers = vec![key.verifier()?];
        verifiers.extend(previous.into_iter().filter(|p| p.kid != key.kid));
        Ok(Self {
            verified: VerifiedCache::default(),
            key,
            verifiers,
            issuer,
            audience,
            ttl,
            validation,
        })
    }

    /// The public keys as a JWK Set (`/.well-known/jwks.json`): public parts only.
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .verifiers
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": k.public_x,
                    "kid": k.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// The key id of the signing key.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// Issues an access token; returns it with its expiry (unix seconds).
    ///
    /// # Errors
    /// [`AuthError::Internal`] if signing fails.
    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        username: &str,
        role: Role,
        now: i64,
    ) -> Result<(String, i64), AuthError> {
        let exp = now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session_id,
            name: username.to_owned(),
            role: role.as_str().to_owned(),
            typ: "access".to_owned(),
            iat: now,
            nbf: now,
            exp,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.kid.clone());
        header.typ = Some(ACCESS_TYP.to_owned());
        let token = encode(&header, &claims, &self.key.encoding).map_err(|err| {
            tracing::error!(%err, "signing an access token failed");
            AuthError::Internal
        })?;
        Ok((token, exp))
    }

    /// Verifies an access token: size, algorithm, key id, signature, `iss`, `aud`,
    /// `exp`, `nbf`, `iat` and the token kind.
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`] for an expired token, [`AuthError::TokenInvalid`] for anything else.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TokenInvalid);
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(principal) = self.verified.get(token, now) {
            return Ok(principal);
        }
        let principal = self.verify_uncached(token)?;
        self.verified.insert(token, &principal, now);
        Ok(principal)
    }

    fn verify_uncached(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::TokenInvalid)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(ACCESS_TYP) {
            return Err(AuthError::TokenInvalid);
        }
        // `kid` only selects among the loaded keys; `jku`, `jwk` and `x5u` are never followed.
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifiers.iter().find(|k| k.kid == kid))
            .ok_or(AuthError::TokenInvalid)?;
        let data = decode::<AccessClaims>(token, &key.decoding, &self.validation).map_err(
            |err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                _ => AuthError::TokenInvalid,
            },
        )?;
        let claims = data.claims;
        let role = Role::parse(&claims.role).ok_or(AuthError::TokenInvalid)?;
        if claims.typ != "access" || claims.iat > claims.exp {
            return Err(AuthError::TokenInvalid);
        }
        Ok(Principal {
            user_id: claims.sub,
            session_id: claims.sid,
            username: claims.name.into(),
            role,
            expires_at: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{authentication::keys, platform::config::KeySource};

    fn service(ttl: u64) -> TokenService {
        let dir = std::env::temp_dir().join(format!("portcullis-tok-{}", Uuid::new_v4()));
        let key = keys::load(&KeySource::Generated(dir.join("k.pem"))).expect("key");
        TokenService::new(
            key,
            Vec::new(),
            "iss".into(),
            "aud".into(),
            Duration::from_secs(ttl),
            Duration::from_secs(0),
        )
        .expect("service")
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn an_issued_token_verifies_to_its_principal() {
        let s = service(60);
        let (user, sid) = (Uuid::new_v4(), Uuid::new_v4());
        let (token, exp) = s
            .issue(user, sid, "alice", Role::Admin, now())
            .expect("issue");
        let p = s.verify(&token).expect("verify");
        assert_eq!(
            (p.user_id, p.session_id, p.role, p.expires_at),
            (user, sid, Role::Admin, exp)
        );
        assert_eq!(&*p.username, "alice");
    }

    #[test]
    fn a_cached_token_is_served_only_until_it_expires() {
        let s = service(60);
        let (token, exp) = s
            .issue(Uuid::new_v4(), Uuid::new_v4(), "a", Role::User, now())
            .expect("issue");
        let first = s.verify(&token).expect("verifies");
        assert_eq!(s.verify(&token).expect("cached"), first);
        assert_eq!(s.verified.get(&token, exp - 1), Some(first));
        assert_eq!(s.verified.get(&token, exp), None, "not past its exp");
        let mut other = token.clone();
        other.push('x');
        assert_eq!(
            s.verify(&other),
            Err(AuthError::TokenInvalid),
            "exact bytes only"
        );
    }

    #[test]
    fn an_expired_token_says_so() {
        let s = service(60);
        let (token, _) = s
            .issue(
                Uuid::new_v4(),
                Uuid::new_v4(),
                "a",
                Role::User,
                now() - 3_600,
            )
            .expect("issue");
        assert_eq!(s.verify(&token), Err(AuthError::TokenExpired));
    }

    #[test]
    fn a_token_from_another_key_is_invalid() {
        let (a, b) = (service(60), service(60));
        let (token, _) = a
            .issue(Uuid::new_v4(), Uuid::new_v4(), "a", Role::User, now())
            .expect("issue");
        assert_eq!(b.verify(&token), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn tampered_oversized_and_garbage_tokens_are_invalid() {
        let s = service(60);
        let (token, _) = s
            .issue(Uuid::new_v4(), Uuid::new_v4(), "a", Role::User, now())
            .expect("issue");
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        for bad in [
            tampered,
            "x".repeat(MAX_TOKEN_BYTES + 1),
            "a.b.c".into(),
            String::new(),
        ] {
            assert_eq!(s.verify(&bad), Err(AuthError::TokenInvalid));
        }
    }
}
