//! The device a session was started from, as far as the request tells.

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
}
