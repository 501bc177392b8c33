//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device
//! Cookies"): after a successful sign-in the browser gets a cookie saying
//! "this browser signed into this account before", MACed by the server. A
//! sign-in that presents a valid one for the account it names is not held to
//! the account's failure ceiling (`platform::limits`).
//!
//! The value is `v1.<nonce>.<issued-at>.<mac>`: the account is not in it (the
//! MAC covers it, and a sign-in attempt names it), so the cookie tells nobody
//! whose browser this is. The MAC also covers the account's stored password
//! hash, whose salt is new with every password: a password change retires
//! every device cookie issued before it, so someone who once knew the
//! password keeps no trusted browsers. The MAC key is derived from the token signing key,
//! which every instance shares; rotating that key retires every device cookie,
//! which costs the owner nothing unless their account is under attack then.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A device cookie is honoured for a year after it was issued.
pub const LIFETIME_SECS: i64 = 365 * 86_400;

/// Issues and checks device cookies.
#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
}

impl DeviceCookies {
    #[must_use]
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, account: &str, stamp: &str, nonce: &str, issued: i64) -> Hmac<Sha256> {
        // A 32-byte key is always accepted.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"device-cookie v1\0");
        mac.update(account.as_bytes());
        mac.update(b"\0");
        mac.update(stamp.as_bytes());
        mac.update(b"\0");
        mac.update(nonce.as_bytes());
        mac.update(b"\0");
        mac.update(issued.to_string().as_bytes());
        mac
    }

    /// A new cookie value for `account` (the normalised username) whose
    /// password hash is now `stamp`.
    ///
    /// # Errors
    /// When the system's randomness fails.
    pub fn issue(&self, account: &str, stamp: &str, now: i64) -> Result<String, getrandom::Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let tag = URL_SAFE_NO_PAD.encode(
            self.mac(account, stamp, &nonce, now)
                .finalize()
                .into_bytes(),
        );
        Ok(format!("v1.{nonce}.{now}.{tag}"))
    }

    /// The cookie's nonce when it is a valid, current cookie for `account`
    /// issued since its password became the one hashed as `stamp`.
    #[must_use]
    pub fn verify<'a>(
        &self,
        cookie: &'a str,
        account: &str,
        stamp: &str,
        now: i64,
    ) -> Option<&'a str> {
        if cookie.len() > 128 {
            return None;
        }
        let mut parts = cookie.split('.');
        let (Some("v1"), Some(nonce), Some(issued), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let issued: i64 = issued.parse().ok()?;
        if issued > now.saturating_add(300) || now.saturating_sub(issued) > LIFETIME_SECS {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(account, stamp, nonce, issued)
            .verify_slice(&tag)
            .ok()
            .map(|()| nonce)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cookie_vouches_for_its_own_account_only_and_only_unaltered() {
        let cookies = DeviceCookies::new([7; 32]);
        let now = 1_800_000_000;
        let cookie = cookies.issue("alice", "hash-1", now).unwrap();
        let nonce = cookies
            .verify(&cookie, "alice", "hash-1", now + 60)
            .unwrap();
        assert!(cookie.contains(nonce));
        assert_eq!(
            cookies.verify(&cookie, "bob", "hash-1", now),
            None,
            "another account"
        );
        assert_eq!(
            cookies.verify(&cookie, "alice", "hash-2", now),
            None,
            "the password changed since"
        );
        assert_eq!(
            DeviceCookies::new([8; 32]).verify(&cookie, "alice", "hash-1", now),
            None,
            "another key"
        );
        let parts: Vec<&str> = cookie.split('.').collect();
        let later = format!("v1.{}.{}.{}", parts[1], now + 1000, parts[3]);
        assert_eq!(
            cookies.verify(&later, "alice", "hash-1", now),
            None,
            "issue time altered"
        );
        assert_eq!(
            cookies.verify(&cookie, "alice", "hash-1", now + LIFETIME_SECS + 1),
            None,
            "expired"
        );
        for junk in ["", "v1", "v1.a.b.c", "v2.a.1.c", &format!("{cookie}.x")] {
            assert_eq!(cookies.verify(junk, "alice", "hash-1", now), None, "{junk}");
        }
    }
}
