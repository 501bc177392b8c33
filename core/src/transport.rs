//! The names a browser request carries: the CSRF header, the two token
//! cookies and the device cookie. The server, the test harness and `portcullis-client` read them
//! from here, so a rename cannot leave one of them behind.

/// The custom header every call from the browser app carries (value `1`): the
/// second CSRF layer, after the server's `Origin` / `Sec-Fetch-Site` check. A
/// cross-site page cannot add it without a CORS preflight, which is never granted.
pub const CSRF_HEADER: &str = "x-portcullis-csrf";

/// The names of the access-token and refresh-token cookies, and of the device
/// cookie: proof that this browser signed into an account before, which keeps
/// it clear of the slow-down a stranger's failures put on that account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieNames {
    pub access: &'static str,
    pub refresh: &'static str,
    pub device: &'static str,
}

impl CookieNames {
    /// Over https the cookies are `Secure` and `__Host-` prefixed, which binds
    /// each to the exact host and path `/`: a sibling subdomain cannot plant a
    /// cookie of the same name for the browser to send first (cookie tossing).
    /// Plain-http development
    /// on localhost uses the bare names, since browsers drop prefixed cookies
    /// that are not `Secure`.
    #[must_use]
    pub const fn new(secure: bool) -> Self {
        if secure {
            Self {
                access: "__Host-portcullis-at",
                refresh: "__Host-portcullis-rt",
                device: "__Host-portcullis-dev",
            }
        } else {
            Self {
                access: "portcullis-at",
                refresh: "portcullis-rt",
                device: "portcullis-dev",
            }
        }
    }
}
