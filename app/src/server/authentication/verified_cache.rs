//! The cache of verified access tokens.

use super::principal::Principal;

/// Tokens already verified, keyed by their exact bytes, so the Ed25519 check
/// runs once per token rather than once per request. An entry is used only
/// until its token's `exp`, and the cache is bounded: when full, expired
/// entries go, and if that is not enough it starts over. Revocation and role
/// changes are checked after this, on every request.
#[derive(Default)]
pub struct VerifiedCache {
    entries: std::sync::RwLock<std::collections::HashMap<Box<str>, Principal>>,
}

/// How many verified tokens are remembered (about 0.5 KiB each).
const VERIFIED_CAPACITY: usize = 20_000;

impl VerifiedCache {
    pub fn get(&self, token: &str, now: i64) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        entries.get(token).filter(|p| p.expires_at > now).cloned()
    }

    pub fn insert(&self, token: &str, principal: &Principal, now: i64) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= VERIFIED_CAPACITY {
            entries.retain(|_, p| p.expires_at > now);
            if entries.len() >= VERIFIED_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.into(), principal.clone());
    }
}
