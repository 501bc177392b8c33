//! The sign-in, registration and sign-out UI.
//!
//! Each form posts to its server function, so it works before the WASM has
//! loaded and with JavaScript off: the server answers a plain form post with a
//! redirect, to the next page or back to the form with
//! `?error=<code>&field=<field>`, which the page renders. Once hydrated, the
//! same forms submit with `fetch` (see [`Submitted`]) and never reload the page
//! on an error. They dispatch a plain [`Action`] rather than a `ServerAction`:
//! that one also decodes leptos's own no-JS error from the URL (base64 and
//! its error envelope, about 4 KB of WASM), which our `?error=` replaces.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{
    keeper, login, logout, register, strength::StrengthMeter, Login, Logout, LogoutScope, Register,
};
use crate::{
    error::{AuthError, Field},
    ui::{focus_error, query_error, FormAlert, FormField, Submit, Submitted},
};

/// Sends the browser to `to` with a full page load, so that every piece of
/// client state is rebuilt for the new user (or for nobody).
fn hard_navigate(to: &str) {
    let _ = window().location().set_href(to);
}

/// The error to show: the action's latest answer once it has one, before that
/// the error a plain form post was redirected back with.
fn shown_error<T, S>(value: S) -> Memo<Option<AuthError>>
where
    S: Get<Value = Option<Result<T, AuthError>>> + Copy + Send + Sync + 'static,
{
    let query = use_query_map();
    Memo::new(move |_| match value.get() {
        Some(Ok(_)) => None,
        Some(Err(err)) => Some(err),
        None => query_error(&query.read()),
    })
}

/// Focuses the field (or the alert) an error is about, each time one arrives.
fn focus_on_errors<T, S>(value: S)
where
    S: Get<Value = Option<Result<T, AuthError>>> + Copy + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Err(err)) = value.get() {
            focus_error(&err);
        }
    });
}

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = Action::new_local(|l: &Login| {
        login(l.username.clone(), l.password.clone(), l.next.clone())
    });
    let auth = super::use_auth();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let registered = move || query.read().get("registered").is_some();
    let ended = move || query.read().get("ended").is_some();
    let error = shown_error(action.value());
    focus_on_errors(action.value());
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = action.value().get() {
            keeper::remember(&outcome.signed_in);
            keeper::announce(true);
            hard_navigate(&outcome.next);
        }
    });
    let pending = action.pending();
    let on_submit = move |ev| {
        let form = Submitted::take(&ev);
        action.dispatch(Login {
            username: form.get("username"),
            password: form.get("password"),
            next: Some(form.get("next")),
        });
    };
    view! {
        <section class="card auth">
            <h1>"Sign in"</h1>
            <p class="lede">"Welcome back. Sign in to continue."</p>
            <Show when=registered>
                <p class="notice ok" role="status">"Your account is ready. Sign in to continue."</p>
            </Show>
            <Show when=ended>
                <p class="notice warn" role="status" data-testid="session-ended">
                    "Your session has ended, so you have been signed out. Please sign in again."
                </p>
            </Show>
            <Transition fallback=|| ()>
                {move || auth.signed_in().map(|s| view! {
                    <p class="notice" data-testid="already-signed-in">
                        "You are signed in as " <strong>{s.user.username}</strong> ". "
                        <a href="/dashboard">"Go to your dashboard"</a>
                        ", or sign in as someone else below."
                    </p>
                })}
            </Transition>
            <form class="form" method="post" action=Login::PATH novalidate="" on:submit=on_submit>
                <input type="hidden" name="next" value=next />
                <FormAlert error=error />
                <FormField field=Field::Username label="Username" autocomplete="username" first=true error=error />
                <FormField field=Field::Password label="Password" autocomplete="current-password" password=true error=error />
                <Submit label="Sign in" pending_label="Signing in…" pending=pending />
            </form>
            <p class="aside">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}

/// `/register`
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = Action::new_local(|r: &Register| register(r.username.clone(), r.password.clone()));
    let navigate = use_navigate();
    let error = shown_error(action.value());
    focus_on_errors(action.value());
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            navigate("/login?registered=1", Default::default());
        }
    });
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let on_submit = move |ev| {
        let form = Submitted::take(&ev);
        action.dispatch(Register {
            username: form.get("username"),
            password: form.get("password"),
        });
    };
    view! {
        <section class="card auth">
            <h1>"Create an account"</h1>
            <p class="lede">"One account, every device. It takes a few seconds."</p>
            <form class="form" method="post" action=Register::PATH novalidate="" on:submit=on_submit>
                <FormAlert error=error />
                <FormField field=Field::Username label="Username" autocomplete="username" first=true error=error
                    hint="3 to 32 letters, digits, '.', '-' or '_'."
                    on_input=Callback::new(move |v| username.set(v)) />
                <FormField field=Field::Password label="Password" autocomplete="new-password" password=true error=error
                    hint="At least 8 characters. A few unrelated words make a strong password; common passwords and your username are refused."
                    on_input=Callback::new(move |v| password.set(v))>
                    <StrengthMeter password=password username=username />
                </FormField>
                <Submit label="Create account" pending_label="Creating account…" pending=action.pending() />
            </form>
            <p class="aside">"Already registered? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// The sign-out button of the account menu.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let action = Action::new_local(|l: &Logout| logout(l.scope));
    Effect::new(move |_| {
        if action.value().get().is_some() {
            keeper::announce(false);
            hard_navigate("/login");
        }
    });
    view! {
        <form class="inline" method="post" action=Logout::PATH on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            action.dispatch(Logout { scope: LogoutScope::Local });
        }>
            <input type="hidden" name="scope" value="local" />
            <button type="submit" class="menu-item" disabled=move || action.pending().get()>"Sign out"</button>
        </form>
    }
}
