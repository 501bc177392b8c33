//! Silent refresh in the browser.
//!
//! The app never sees a token. It knows only when its access token expires (a
//! time returned by sign-in and refresh) and keeps that in `localStorage`, shared
//! by all tabs. A one-second tick refreshes ahead of expiry; a short-lived lock
//! in `localStorage` lets one tab refresh at a time (a lock older than
//! `LOCK_MS` is ignored, so a closed or frozen tab cannot wedge the others), and
//! the others pick up the new cookies and the new expiry through storage events.
//! Signing in or out writes an event key that every other tab reacts to.
//! Every refresh answer gets a [`verdict`]. A failure that passes (429, 503, a
//! 500, the network) means "try later": the tabs back off together and a
//! notice says so (`notice.rs`); the page stays. "Signed out" is believed only
//! after a second opinion (see `refresh_judged`).

use super::SignedIn;
use crate::error::AuthError;

/// localStorage key of the shared expiry (`{"exp": unix_s, "ttl": s}`): never a token.
pub const EXPIRY_KEY: &str = "portcullis.expiry";
/// localStorage key of the refresh lock (`"<tab>:<until_ms>"`).
pub const LOCK_KEY: &str = "portcullis.refresh-lock";
/// localStorage key written on sign-in and sign-out (`"in:<ms>"` / `"out:<ms>"`).
pub const EVENT_KEY: &str = "portcullis.auth-event";
/// How long a tab may hold the refresh lock.
pub const LOCK_MS: f64 = 8_000.0;
/// When, given an expiry and the token's lifetime (seconds), a refresh is due:
/// a quarter of the lifetime early, at least two seconds, at most two minutes.
#[must_use]
pub fn refresh_due_at(exp: i64, ttl: i64) -> i64 {
    exp - (ttl / 4).clamp(2, 120)
}

/// Whether an error from a call means the access token only needs refreshing.
#[must_use]
pub fn is_expired(err: &AuthError) -> bool {
    matches!(err, AuthError::TokenExpired)
}

/// What a refresh answer means to the keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Signed in: this refresh succeeded, or another tab's did meanwhile.
    Live,
    /// Any other failure (a limit, an outage, the network): back off, stay.
    Later,
    /// "Signed out", once: ask the server again before believing it.
    AskAgain,
    /// "Signed out" twice, and no tab refreshed meanwhile: the session is over.
    Ended,
}

/// Judges a refresh answer. `moved`: the shared expiry moved on while the
/// request was out (another tab holds newer cookies); `again`: this answer is
/// already the second opinion.
#[must_use]
pub fn verdict(answer: Result<(), &AuthError>, moved: bool, again: bool) -> Verdict {
    match answer {
        Ok(()) => Verdict::Live,
        // Only the sign-in codes end a session: nothing else (a 403 included) leaves the page.
        Err(err) if !err.needs_sign_in() => Verdict::Later,
        Err(_) if moved => Verdict::Live,
        Err(_) if again => Verdict::Ended,
        Err(_) => Verdict::AskAgain,
    }
}

#[cfg(feature = "hydrate")]
pub use client::*;

/// Calls a server function for a signed-in page. In the browser an expired
/// access token is refreshed once and the call retried, so the user never sees
/// the expiry; during server rendering the call simply runs.
///
/// # Errors
/// Whatever the call returns once a refresh could not help.
pub async fn authed<T, F, Fut>(call: F) -> Result<T, AuthError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, AuthError>>,
{
    #[cfg(feature = "hydrate")]
    return with_refresh(call).await;
    #[cfg(not(feature = "hydrate"))]
    call().await
}

/// On the server there is nothing to remember or announce.
#[cfg(not(feature = "hydrate"))]
pub fn remember(_signed_in: &SignedIn) {}

/// On the server there is nothing to remember or announce.
#[cfg(not(feature = "hydrate"))]
pub fn announce(_signed_in: bool) {}

#[cfg(feature = "hydrate")]
mod client {
    use std::{cell::Cell, future::Future, rc::Rc};

    use gloo_storage::{LocalStorage, Storage};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::{closure::Closure, JsCast};

    use super::*;
    use crate::auth::{notice, refresh_session};

    #[derive(Serialize, Deserialize, Clone, Copy)]
    struct Expiry {
        exp: i64,
        ttl: i64,
    }

    thread_local! {
        static IN_FLIGHT: Cell<bool> = const { Cell::new(false) };
        static TAB_ID: String = format!("{:x}", (js_sys::Math::random() * 1e12) as u64);
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    fn stored_exp() -> i64 {
        LocalStorage::get::<Expiry>(EXPIRY_KEY).map_or(0, |e| e.exp)
    }

    /// Records a fresh access token's expiry for every tab, and ends any backoff.
    pub fn remember(signed_in: &SignedIn) {
        let exp = signed_in.access_expires_at;
        let ttl = (exp - (now_ms() / 1000.0) as i64).max(1);
        let _ = LocalStorage::set(EXPIRY_KEY, Expiry { exp, ttl });
        notice::cleared();
    }

    /// Tells the other tabs that this one signed in or out.
    pub fn announce(signed_in: bool) {
        let what = if signed_in { "in" } else { "out" };
        let _ = LocalStorage::set(EVENT_KEY, format!("{what}:{}", now_ms() as u64));
        if !signed_in {
            LocalStorage::delete(EXPIRY_KEY);
        }
    }

    /// Sends the browser to the sign-in page with a notice that the session ended.
    pub fn session_ended() {
        LocalStorage::delete(EXPIRY_KEY);
        notice::cleared();
        let location = window().location();
        let path = location.pathname().unwrap_or_default();
        let _ = location.set_href(&crate::policy::ended_login_url(&path));
    }

    fn try_lock() -> bool {
        let me = TAB_ID.with(Clone::clone);
        let held = LocalStorage::get::<String>(LOCK_KEY).ok().and_then(|v| {
            let (owner, until) = v.split_once(':')?;
            Some((owner.to_owned(), until.parse::<u64>().ok()? as f64))
        });
        match held {
            Some((owner, until)) if owner != me && until > now_ms() => false,
            _ => {
                LocalStorage::set(LOCK_KEY, format!("{me}:{}", (now_ms() + LOCK_MS) as u64)).is_ok()
            }
        }
    }

    /// Refreshes now (one refresh in flight per tab). Returns false if the session ended.
    pub async fn refresh_now() -> bool {
        if IN_FLIGHT.with(|f| f.replace(true)) {
            // Another call in this tab is refreshing: wait for it.
            while IN_FLIGHT.with(Cell::get) {
                TimeoutFuture::new(50).await;
            }
            return true;
        }
        let live = refresh_judged().await;
        IN_FLIGHT.with(|f| f.set(false));
        LocalStorage::delete(LOCK_KEY);
        if !live {
            session_ended();
        }
        live
    }

    /// One refresh, judged by [`verdict`]; false only when the session is over.
    /// Why a second opinion: "signed out" judged the cookies its request left
    /// with. If another tab rotated them meanwhile, the shared expiry moved on
    /// and the answer is stale; if not, a second refresh a moment later, with
    /// the cookies the browser holds by then, decides.
    async fn refresh_judged() -> bool {
        let exp_before = stored_exp();
        let mut again = false;
        loop {
            let result = refresh_session().await;
            let moved = stored_exp() > exp_before;
            match (verdict(result.as_ref().map(|_| ()), moved, again), result) {
                // Keep the later expiry if another tab's answer came first.
                (Verdict::Live, Ok(s)) if s.access_expires_at >= stored_exp() => remember(&s),
                (Verdict::Later, Err(err)) => notice::failed(&err),
                (Verdict::Ended, _) => return false,
                (Verdict::AskAgain, _) => {
                    again = true;
                    // Give another tab's refresh time to land; keep the lock.
                    TimeoutFuture::new(1_000).await;
                    try_lock();
                    continue;
                }
                _ => {}
            }
            return true;
        }
    }

    /// Runs a server call; after a `token_expired` answer, refreshes once and retries.
    pub async fn with_refresh<T, F, Fut>(call: F) -> Result<T, AuthError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AuthError>>,
    {
        match call().await {
            Err(err) if is_expired(&err) => {
                if refresh_now().await {
                    call().await
                } else {
                    Err(err)
                }
            }
            other => other,
        }
    }

    async fn tick() {
        let Ok(expiry) = LocalStorage::get::<Expiry>(EXPIRY_KEY) else {
            return notice::show(None);
        };
        let due = (now_ms() / 1000.0) as i64 >= refresh_due_at(expiry.exp, expiry.ttl);
        // The notice first, so its countdown moves in every tab, waiting or not.
        if notice::update(due) && due && !IN_FLIGHT.with(Cell::get) && try_lock() {
            refresh_now().await;
        }
    }

    /// Starts the keeper for a signed-in page: the tick, the visibility check and
    /// the cross-tab listener. Call once after hydration.
    pub fn start(signed_in: Option<SignedIn>) {
        if let Some(s) = &signed_in {
            if s.access_expires_at > stored_exp() {
                remember(s);
            }
            let _ = set_interval_with_handle(
                || leptos::task::spawn_local(tick()),
                std::time::Duration::from_secs(1),
            );
            let on_visible = Closure::<dyn Fn()>::new(|| {
                if document().visibility_state() == web_sys::VisibilityState::Visible {
                    leptos::task::spawn_local(tick());
                }
            });
            let _ = document().add_event_listener_with_callback(
                "visibilitychange",
                on_visible.as_ref().unchecked_ref(),
            );
            on_visible.forget();
        }
        let was_signed_in = Rc::new(signed_in.is_some());
        let handle = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().as_deref() != Some(EVENT_KEY) {
                return;
            }
            // gloo-storage stores values as JSON: the string arrives quoted.
            let value = ev.new_value().unwrap_or_default();
            let value = value.trim_matches('"');
            let location = window().location();
            if value.starts_with("out:") && *was_signed_in {
                let path = location.pathname().unwrap_or_default();
                let _ = location.set_href(&crate::policy::login_url(&path));
            } else if value.starts_with("in:") && !*was_signed_in {
                let _ = location.reload();
            }
        });
        std::mem::forget(handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthError as E;

    #[test]
    fn a_failure_that_passes_is_tried_later_and_never_ends_the_session() {
        let passing = [
            E::RateLimited { retry_after: 5 },
            E::Unavailable { retry_after: 1 },
        ];
        let more = [E::Busy, E::Internal, E::Transport("offline".into())];
        for err in passing.into_iter().chain(more) {
            for (moved, again) in [(false, false), (true, false), (false, true)] {
                assert_eq!(verdict(Err(&err), moved, again), Verdict::Later, "{err:?}");
            }
        }
        assert_eq!(verdict(Ok(()), false, true), Verdict::Live);
    }

    #[test]
    fn signed_out_is_believed_only_when_asked_twice_and_no_tab_refreshed_meanwhile() {
        let ended = [E::TokenMissing, E::TokenInvalid, E::SessionRevoked];
        for err in ended
            .into_iter()
            .chain([E::SessionExpired, E::RefreshReused])
        {
            assert_eq!(verdict(Err(&err), false, false), Verdict::AskAgain);
            assert_eq!(verdict(Err(&err), false, true), Verdict::Ended);
            // Another tab refreshed while this answer was on its way: it is stale.
            assert_eq!(verdict(Err(&err), true, false), Verdict::Live);
            assert_eq!(verdict(Err(&err), true, true), Verdict::Live);
        }
    }
}
