//! `/sessions`: the user's signed-in devices, each of which can be signed out.

use leptos::prelude::*;

use super::{keeper::authed, list_sessions, revoke_session, Guard, SessionInfo};
use crate::error::AuthError;

async fn load() -> Result<Vec<SessionInfo>, AuthError> {
    authed(list_sessions).await
}

async fn revoke(id: uuid::Uuid) -> Result<(), AuthError> {
    authed(move || revoke_session(id)).await
}

/// `/sessions`: nothing loads unless the guard lets the visitor in.
#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <Guard path="/sessions">
            <SessionsList />
        </Guard>
    }
}

#[component]
fn SessionsList() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let sessions = LocalResource::new(move || {
        version.track();
        load()
    });
    let revoke_action = Action::new_local(|id: &uuid::Uuid| revoke(*id));
    Effect::new(move |_| {
        if revoke_action.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    view! {
            <section class="card wide">
                <h1>"Your sessions"</h1>
                <p class="aside">"Every device signed in to your account. Sign out any you do not recognise."</p>
                // No <Transition>: see the admin page (a LocalResource hydrates as it rendered).
                {move || match sessions.get() {
                        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                        Some(Err(err)) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                        Some(Ok(list)) => view! {
                            <ul class="sessions" data-testid="sessions">
                                {list.into_iter().map(|s| {
                                    let id = s.id;
                                    view! {
                                        <li data-session=id.to_string()>
                                            <div>
                                                <strong>{device_name(&s.user_agent)}</strong>
                                                {s.current.then(|| view! { <span class="badge">"This device"</span> })}
                                                <div class="aside">{format!("{} · last active {}", s.ip, short_time(&s.last_used_at))}</div>
                                            </div>
                                            {(!s.current).then(|| view! {
                                                <button class="secondary" on:click=move |_| { revoke_action.dispatch(id); }>
                                                    "Sign out"
                                                </button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                }}
            </section>
    }
}

/// A readable name for a user agent string.
fn device_name(user_agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/", "reqwest"]
        .into_iter()
        .find(|b| user_agent.contains(b))
        .map_or("Unknown browser", |b| b.trim_end_matches('/'));
    let os = ["Windows", "Mac OS X", "Android", "iPhone", "Linux"]
        .into_iter()
        .find(|o| user_agent.contains(o))
        .unwrap_or("unknown system");
    format!("{browser} on {os}")
}

fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map_or_else(|| rfc3339.to_owned(), |t| t.replace('T', " "))
}
