//! The sign-in, registration and sign-out UI.
//!
//! Each form is an `ActionForm` posting to its server function, so it works
//! before the WASM has loaded (the server answers a plain form post with a
//! redirect) and, once hydrated, without a page load.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{keeper, Login, Logout, Register};
use crate::error::{AuthError, Field};

/// The message for `field`, when the error belongs beside it.
fn field_error(error: Option<AuthError>, field: Field) -> Option<String> {
    error
        .filter(|e| e.field() == Some(field))
        .map(|e| e.to_string())
}

/// The message for the whole form, when the error belongs to no single field.
fn form_error(error: Option<AuthError>) -> Option<String> {
    error.filter(|e| e.field().is_none()).map(|e| e.to_string())
}

/// Sends the browser to `to` with a full page load, so that every piece of
/// client state is rebuilt for the new user (or for nobody).
fn hard_navigate(to: &str) {
    let _ = window().location().set_href(to);
}

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let registered = move || query.read().get("registered").is_some();
    let ended = move || query.read().get("ended").is_some();
    let error = move || action.value().get().and_then(Result::err);
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = action.value().get() {
            keeper::remember(&outcome.signed_in);
            keeper::announce(true);
            hard_navigate(&outcome.next);
        }
    });
    view! {
        <section class="card">
            <h1>"Sign in"</h1>
            <Show when=registered>
                <p class="notice" role="status">"Your account is ready. Sign in to continue."</p>
            </Show>
            <Show when=ended>
                <p class="notice warn" role="status">"Your session has ended. Please sign in again."</p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate="">
                <input type="hidden" name="next" value=next />
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <p class="error" role="alert" aria-live="polite">{move || form_error(error())}</p>
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="aside">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}

/// `/register`
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let navigate = use_navigate();
    let error = move || action.value().get().and_then(Result::err);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            navigate("/login?registered=1", Default::default());
        }
    });
    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate="">
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required autofocus
                    aria-describedby="username-error" />
                <p id="username-error" class="field-error" aria-live="polite">
                    {move || field_error(error(), Field::Username)}
                </p>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required
                    minlength="8" aria-describedby="password-hint password-error" />
                <p id="password-hint" class="aside hint" data-testid="password-hint">
                    "At least 8 characters. A few unrelated words make a strong password; \
                     common passwords and your username are refused."
                </p>
                <p id="password-error" class="field-error" aria-live="polite">
                    {move || field_error(error(), Field::Password)}
                </p>
                <p class="error" role="alert" aria-live="polite">{move || form_error(error())}</p>
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="aside">"Already registered? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// The header's sign-out button.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if action.value().get().is_some() {
            keeper::announce(false);
            hard_navigate("/login");
        }
    });
    view! {
        <ActionForm action=action attr:class="inline">
            <input type="hidden" name="scope" value="local" />
            <button type="submit" class="link" disabled=move || action.pending().get()>"Sign out"</button>
        </ActionForm>
    }
}
