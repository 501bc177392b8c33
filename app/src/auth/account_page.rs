//! `/account`: the signed-in user's own account, and changing the password.
//!
//! The form posts to the `change_password` server function, so it works with
//! JavaScript off (the server redirects back with `?changed=1` or `?error=…`).
//! Once hydrated it submits through [`authed`], so an access token that expired
//! while the page sat open is refreshed and the change still goes through.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    change_password, keeper::authed, strength::StrengthMeter, use_auth, Guard, PasswordChanged,
};
use crate::{
    error::{AuthError, Field},
    ui::{focus_error, query_error, FormAlert, FormField, Submit},
};

/// `/account`
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Guard path="/account">
            <Account />
        </Guard>
    }
}

/// What the form sends.
#[derive(Clone)]
struct Change {
    current: String,
    new: String,
    sign_out_others: bool,
}

async fn submit(change: Change) -> Result<PasswordChanged, AuthError> {
    authed(move || {
        change_password(
            change.current.clone(),
            change.new.clone(),
            change.sign_out_others.then(|| "on".to_owned()),
        )
    })
    .await
}

/// The sentence telling what a change did.
fn changed_message(signed_out_others: u64) -> String {
    match signed_out_others {
        0 => "Your password has been changed.".to_owned(),
        1 => "Your password has been changed, and your 1 other session was signed out.".to_owned(),
        n => {
            format!("Your password has been changed, and your {n} other sessions were signed out.")
        }
    }
}

#[component]
fn Account() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let action = Action::new_local(|change: &Change| submit(change.clone()));
    let form = NodeRef::<leptos::html::Form>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(true);

    // The answer of the last submit, or of the plain form post that led here.
    let outcome = Memo::new(move |_| match action.value().get() {
        Some(result) => Some(result.map(|c| c.signed_out_others)),
        None => {
            let q = query.read();
            match query_error(&q) {
                Some(err) => Some(Err(err)),
                None => q.get("changed").map(|_| {
                    Ok(q.get("signed_out")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0))
                }),
            }
        }
    });
    let error = Memo::new(move |_| outcome.get().and_then(Result::err));
    Effect::new(move |_| match action.value().get() {
        Some(Err(err)) => focus_error(&err),
        Some(Ok(_)) => {
            if let Some(form) = form.get() {
                form.reset();
            }
            current.set(String::new());
            new.set(String::new());
            sign_out_others.set(true);
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Change {
            current: current.get_untracked(),
            new: new.get_untracked(),
            sign_out_others: sign_out_others.get_untracked(),
        });
    };
    let username = Signal::derive(move || {
        auth.signed_in()
            .map(|s| s.user.username)
            .unwrap_or_default()
    });
    let action_url = <super::ChangePassword as leptos::server_fn::ServerFn>::PATH;
    view! {
        <section class="card wide">
            <h1>"Account"</h1>
            <dl class="facts">
                <dt>"Username"</dt><dd data-testid="account-username">{username}</dd>
                <dt>"Role"</dt><dd>{move || auth.signed_in().map(|s| s.user.role.as_str())}</dd>
            </dl>
            <h2 id="change-password">"Change password"</h2>
            <p class="notice ok" role="status" data-testid="password-changed">
                {move || outcome.get().and_then(Result::ok).map(changed_message)}
            </p>
            <form node_ref=form class="form" method="post" action=action_url
                novalidate="" aria-labelledby="change-password" on:submit=on_submit>
                <FormAlert error=error />
                // For password managers: which account this new password belongs to.
                <input type="text" name="username" autocomplete="username" value=username readonly hidden />
                <FormField field=Field::CurrentPassword label="Current password" autocomplete="current-password" password=true error=error
                    on_input=Callback::new(move |v| current.set(v)) />
                <FormField field=Field::NewPassword label="New password" autocomplete="new-password" password=true error=error
                    hint="At least 8 characters; common passwords and your username are refused."
                    on_input=Callback::new(move |v| new.set(v))>
                    <StrengthMeter password=new username=username />
                </FormField>
                <label class="check">
                    <input type="checkbox" name="sign_out_others" value="on"
                        checked=true
                        on:change=move |ev| sign_out_others.set(event_target_checked(&ev)) />
                    "Sign out my other sessions"
                </label>
                <Submit label="Change password" pending_label="Changing password…" pending=action.pending() />
            </form>
        </section>
    }
}
