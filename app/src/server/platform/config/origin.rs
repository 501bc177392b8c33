//! `PUBLIC_URL` as an origin: the form browsers send in `Origin`, which the
//! CSRF check compares it with.

/// `https://Auth.Example.com:443/` → `https://auth.example.com`.
///
/// # Errors
/// Why the text is not an http(s) origin.
pub fn normalise_origin(raw: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https origin");
    }
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "must be an origin only (no path, query or fragment): Portcullis serves at the root",
        );
    }
    Ok(url.origin().ascii_serialization())
}

/// Whether the origin's host is this machine: `localhost` itself or a
/// loopback address (not merely a name that starts with `localhost`).
pub(super) fn is_loopback_url(origin: &str) -> bool {
    match url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
