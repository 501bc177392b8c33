//! When refreshes fail for a reason that passes (an outage, a limit, the
//! network): the backoff every tab shares, and the notice that shows it. The
//! keeper reports a failure (`failed`); the next try, in any tab, waits at
//! least the server's `Retry-After`, otherwise 1 s, 2 s, 4 s … up to 30 s,
//! jittered; a small status line says so, and the page stays usable. The
//! first success anywhere clears it (`cleared`).

use leptos::prelude::*;

/// localStorage key of the backoff after failed refreshes
/// (`{"at": not_before_ms, "n": failures, "busy": bool}`): never a token.
pub const RETRY_KEY: &str = "portcullis.refresh-retry";
/// The longest backoff, before jitter.
pub const BACKOFF_CAP_MS: u64 = 30_000;

/// The wait after `failures` failed refreshes in a row (0 after the first):
/// 1 s, 2 s, 4 s … up to [`BACKOFF_CAP_MS`], never less than the server's
/// `retry_after`, plus up to a fifth more at random (`random` in 0..1), so
/// that the browsers one outage synchronised do not all come back at once.
#[must_use]
pub fn backoff_ms(failures: u32, retry_after: Option<u64>, random: f64) -> u64 {
    let server = retry_after.unwrap_or(0).saturating_mul(1_000);
    let base = (1_000u64 << failures.min(5))
        .min(BACKOFF_CAP_MS)
        .max(server);
    base + (base as f64 * random.clamp(0.0, 1.0) / 5.0) as u64
}

#[cfg(feature = "hydrate")]
pub use client::*;

/// Why the notice shows, and when the next try is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trouble {
    /// The server answered "too many" or "busy" (rather than not at all, or 503).
    pub busy: bool,
    /// Whole seconds until the next try (0: any moment now).
    pub in_s: u64,
}

/// The notice for a refresh that is `due`, given the shared backoff (its
/// "not before" time in ms, and whether the server was busy): shown only
/// while a due refresh is failing, so a backoff left behind by a closed tab
/// shows nothing until this tab's next refresh clears it.
#[must_use]
pub fn trouble(due: bool, retry: Option<(u64, bool)>, now_ms: u64) -> Option<Trouble> {
    let (at, busy) = retry.filter(|_| due)?;
    let in_s = at.saturating_sub(now_ms).div_ceil(1_000);
    Some(Trouble { busy, in_s })
}

#[cfg(feature = "hydrate")]
mod client {
    use gloo_storage::{LocalStorage, Storage};
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::{backoff_ms, trouble, Trouble, RETRY_KEY};
    use crate::error::AuthError;

    /// The shared backoff.
    #[derive(Serialize, Deserialize, Clone, Copy)]
    struct Retry {
        at: u64,
        n: u32,
        busy: bool,
    }

    thread_local! {
        static SHOWN: ArcRwSignal<Option<Trouble>> = ArcRwSignal::new(None);
    }

    pub(super) fn shown() -> ArcRwSignal<Option<Trouble>> {
        SHOWN.with(Clone::clone)
    }

    /// Shows `trouble`, or hides the notice.
    pub fn show(trouble: Option<Trouble>) {
        let shown = shown();
        if shown.get_untracked() != trouble {
            shown.set(trouble);
        }
    }

    /// Pushes every tab's next try back after a failure that passes, and says so.
    pub fn failed(err: &AuthError) {
        let n = LocalStorage::get::<Retry>(RETRY_KEY).map_or(0, |r| r.n);
        let wait = backoff_ms(n, err.retry_after(), js_sys::Math::random());
        let busy = matches!(err, AuthError::RateLimited { .. } | AuthError::Busy);
        let at = js_sys::Date::now() as u64 + wait;
        let _ = LocalStorage::set(RETRY_KEY, Retry { at, n: n + 1, busy });
        update(true);
    }

    /// A refresh succeeded (here or in another tab): no more backoff.
    pub fn cleared() {
        LocalStorage::delete(RETRY_KEY);
        show(None);
    }

    /// Shows what the shared state calls for when a refresh is (or is not)
    /// `due`; true when the backoff, if any, allows a try now.
    pub fn update(due: bool) -> bool {
        let retry = LocalStorage::get::<Retry>(RETRY_KEY).ok();
        let now = js_sys::Date::now() as u64;
        show(trouble(due, retry.map(|r| (r.at, r.busy)), now));
        retry.is_none_or(|r| r.at <= now)
    }
}

/// The notice, mounted once in the layout. An empty live region is always
/// there (it takes no room, and has no role, so the page's other `status`
/// lines stay the only ones) so that screen readers hear the notice appear;
/// the countdown is hidden from them, or they would hear it every second.
#[component]
pub fn KeeperNotice() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let shown = client::shown();
    #[cfg(not(feature = "hydrate"))]
    let shown = ArcRwSignal::<Option<Trouble>>::new(None);
    // The paragraph is rebuilt only when it appears, goes or changes its
    // headline; the countdown ticks inside it.
    let busy = Memo::new({
        let shown = shown.clone();
        move |_| shown.get().map(|t| t.busy)
    });
    let when = move || match shown.get().map_or(0, |t| t.in_s) {
        0 => "Retrying now…".to_owned(),
        n => format!("Retrying in {n} s…"),
    };
    let notice = move || {
        let when = when.clone();
        busy.get().map(|busy| {
            let headline = if busy {
                "The server is busy."
            } else {
                "Can't reach the server."
            };
            view! {
                <p class="notice warn" role="status" aria-live="polite" data-testid="keeper-notice">
                    <strong>{headline}</strong>
                    " You are still signed in. "
                    <span class="visually-hidden">"It will retry by itself."</span>
                    <span aria-hidden="true">{when}</span>
                </p>
            }
        })
    };
    view! { <div class="keeper-notice" aria-live="polite">{notice}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_thirty_never_before_the_servers_retry_after() {
        let waits: Vec<u64> = (0..8).map(|n| backoff_ms(n, None, 0.0) / 1_000).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff_ms(u32::MAX, None, 0.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(0, Some(2), 0.0), 2_000);
        assert_eq!(backoff_ms(3, Some(2), 0.0), 8_000);
        assert_eq!(backoff_ms(0, Some(600), 0.0), 600_000);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth_and_never_takes_away() {
        for (n, base) in (0..7).map(|n| (n, backoff_ms(n, Some(1), 0.0))) {
            for r in [0.25, 0.5, 0.999, 1.0, -3.0, 7.0] {
                let wait = backoff_ms(n, Some(1), r);
                assert!(wait >= base && wait <= base + base / 5, "{n} {r}: {wait}");
            }
        }
        assert!(backoff_ms(2, None, 0.1) < backoff_ms(2, None, 0.9));
    }

    #[test]
    fn the_notice_shows_only_while_a_due_refresh_is_failing() {
        assert_eq!(trouble(true, None, 5_000), None);
        assert_eq!(trouble(false, Some((9_000, false)), 5_000), None);
        let busy = Trouble {
            busy: true,
            in_s: 5,
        };
        assert_eq!(trouble(true, Some((9_001, true)), 5_000), Some(busy));
        let now = Trouble {
            busy: false,
            in_s: 0,
        };
        assert_eq!(trouble(true, Some((4_000, false)), 5_000), Some(now));
    }
}
