//! The one duration syntax of every setting (`TOKEN_TTL=15m`, `RATE_LIMIT_SIGN_IN=10/1m`).

use std::time::Duration;

/// The longest duration any setting may have: ten years. Longer ones are
/// refused when read, so that adding one to a date can never overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(3_650 * 86_400);

/// Parses durations such as `900`, `500ms`, `5s`, `15m`, `2h`, `14d`, up to
/// [`MAX_DURATION`].
#[must_use]
pub fn parse_duration(raw: &str) -> Option<Duration> {
    parse_unbounded(raw).filter(|d| *d <= MAX_DURATION)
}

fn parse_unbounded(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let secs = |mult: u64| n.checked_mul(mult).map(Duration::from_secs);
    match unit {
        "" | "s" => secs(1),
        "ms" => Some(Duration::from_millis(n)),
        "m" => secs(60),
        "h" => secs(3_600),
        "d" => secs(86_400),
        _ => None,
    }
}

/// A std duration as chrono's, saturating (settings are bounded, but a
/// conversion must never panic).
#[must_use]
pub fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_the_documented_units() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_duration("14d"),
            Some(Duration::from_secs(14 * 86_400))
        );
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("3650d"), Some(MAX_DURATION));
        for bad in [
            "",
            "m",
            "5 minutes",
            "-5s",
            "1.5h",
            "99999999999999999999d",
            "3651d",
            "18446744073709551615s",
            "9999999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
