//! The device a session was started from, as far as the request tells.

use crate::server::platform::{
    limits::{Attempt, Trust},
    state::AppState,
};

/// What we record about the device a session was started from.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: String,
    /// The device cookie it presented, if any (checked at sign-in, not stored).
    pub cookie: Option<String>,
}

impl Device {
    /// The client IP, for the abuse limits.
    #[must_use]
    pub fn ip_addr(&self) -> Option<std::net::IpAddr> {
        self.ip.parse().ok()
    }

    /// A sign-in attempt for `account` (normalised) from this device, as the
    /// limits see it: known when its device cookie is valid for the account
    /// and its current password hash `stamp` (`None`: no such account).
    #[must_use]
    pub fn attempt<'a>(
        &'a self,
        state: &AppState,
        account: &'a str,
        stamp: Option<&str>,
    ) -> Attempt<'a> {
        let now = state.clock.timestamp();
        let nonce = self
            .cookie
            .as_deref()
            .zip(stamp)
            .and_then(|(c, stamp)| state.device_cookies.verify(c, account, stamp, now));
        Attempt {
            account,
            ip: self.ip_addr(),
            trust: nonce.map_or(Trust::Unknown, Trust::Device),
        }
    }
}
