//! `/admin`: find users, change their role, disable or re-enable them, and
//! sign them out everywhere.

use leptos::{ev::SubmitEvent, prelude::*};
use uuid::Uuid;

use super::{
    admin_revoke_sessions, admin_set_disabled, admin_set_role, admin_users, AdminUser, UserPage,
};
use crate::{
    auth::{keeper::authed, use_auth, Guard},
    error::AuthError,
    policy::Role,
};

/// What an admin asked for, with the username for the confirmation message.
#[derive(Clone)]
enum Change {
    Role(Uuid, String, Role),
    Disabled(Uuid, String, bool),
    RevokeSessions(Uuid, String),
}

/// Runs a change; returns the sentence that confirms it.
async fn apply(change: Change) -> Result<(Uuid, String), AuthError> {
    match change {
        Change::Role(id, name, role) => {
            let user = authed(move || admin_set_role(id, role)).await?;
            Ok((id, format!("{name} is now {}.", user.role.as_str())))
        }
        Change::Disabled(id, name, disabled) => {
            authed(move || admin_set_disabled(id, disabled)).await?;
            let what = if disabled {
                "disabled and signed out everywhere"
            } else {
                "enabled again"
            };
            Ok((id, format!("{name} is {what}.")))
        }
        Change::RevokeSessions(id, name) => {
            let ended = authed(move || admin_revoke_sessions(id)).await?;
            Ok((id, format!("{name} was signed out of {ended} session(s).")))
        }
    }
}

/// `/admin`: the console, shown only when the policy allows it (nothing of it,
/// not even a request for the user list, happens for anyone else).
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Guard path="/admin">
            <AdminConsole />
        </Guard>
    }
}

#[component]
fn AdminConsole() -> impl IntoView {
    let auth = use_auth();
    let query = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let version = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        version.track();
        let (query, page) = (query.get(), page.get());
        async move { authed(move || admin_users(query.clone(), page)).await }
    });
    let change = Action::new_local(|c: &Change| apply(c.clone()));
    let me = move || auth.signed_in().map(|s| s.user.id);
    Effect::new(move |_| {
        match change.value().get() {
            // A change to one's own account (a demotion, signing oneself out)
            // changes what this page may show: let the server render it afresh.
            Some(Ok((id, _))) if Some(id) == me() => {
                let _ = window().location().reload();
            }
            Some(_) => version.update(|v| *v += 1),
            None => {}
        }
    });
    let search_input = NodeRef::<leptos::html::Input>::new();
    let on_search = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = search_input.get() {
            query.set(input.value());
            page.set(1);
        }
    };

    view! {
        <section class="card wider">
                <h1>"Users"</h1>
                <form class="search" role="search" on:submit=on_search>
                    <label for="user-search" class="visually-hidden">"Search users"</label>
                    <input id="user-search" type="search" name="q" placeholder="Search by username"
                        node_ref=search_input autocomplete="off" />
                    <button type="submit">"Search"</button>
                </form>
                <p class="status" role="status" aria-live="polite" data-testid="admin-status">
                    {move || change.value().get().map(|r| match r {
                        Ok((_, message)) => view! { <span class="notice">{message}</span> }.into_any(),
                        Err(err) => view! { <span class="error">{err.to_string()}</span> }.into_any(),
                    })}
                </p>
                // No <Transition> here: the list is a LocalResource, pending on the
                // server, and a Transition would hydrate differently from how it rendered.
                {move || match users.get() {
                    None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                    Some(Err(err)) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <UserTable list=list.clone() me=me() change=change />
                        <Pager list page />
                    }.into_any(),
                }}
        </section>
    }
}

#[component]
fn UserTable(
    list: UserPage,
    me: Option<Uuid>,
    change: Action<Change, Result<(Uuid, String), AuthError>>,
) -> impl IntoView {
    if list.users.is_empty() {
        return view! { <p class="aside" data-testid="no-users">"No users match."</p> }.into_any();
    }
    let busy = change.pending();
    view! {
        <div class="table-wrap">
            <table class="users" data-testid="users">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.users.into_iter().map(|user| view! { <UserRow user me change busy /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn UserRow(
    user: AdminUser,
    me: Option<Uuid>,
    change: Action<Change, Result<(Uuid, String), AuthError>>,
    busy: Memo<bool>,
) -> impl IntoView {
    let AdminUser {
        id,
        username,
        role,
        disabled,
        created_at,
    } = user;
    let is_me = me == Some(id);
    let role_label = format!("Role for {username}");
    let (n1, n2, n3) = (username.clone(), username.clone(), username.clone());
    let on_role = move |ev: leptos::ev::Event| {
        if let Some(new_role) = Role::parse(&event_target_value(&ev)) {
            change.dispatch(Change::Role(id, n1.clone(), new_role));
        }
    };
    view! {
        <tr data-user=username.clone() class:disabled=disabled>
            <th scope="row">
                {username.clone()}
                {is_me.then(|| view! { <span class="badge">"You"</span> })}
                <div class="aside">{format!("since {}", created_at.get(..10).unwrap_or(&created_at))}</div>
            </th>
            <td>
                <select aria-label=role_label on:change=on_role disabled=move || busy.get()>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == role>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td data-testid="standing">{if disabled { "Disabled" } else { "Active" }}</td>
            <td class="actions">
                <button class="secondary" disabled=move || busy.get()
                    on:click=move |_| { change.dispatch(Change::Disabled(id, n2.clone(), !disabled)); }>
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <button class="secondary" disabled=move || busy.get()
                    on:click=move |_| { change.dispatch(Change::RevokeSessions(id, n3.clone())); }>
                    "Sign out everywhere"
                </button>
            </td>
        </tr>
    }
}

#[component]
fn Pager(list: UserPage, page: RwSignal<u64>) -> impl IntoView {
    let pages = list.pages();
    let current = list.page;
    view! {
        <nav class="pager" aria-label="Pages">
            <button class="secondary" disabled={current <= 1} on:click=move |_| page.set(current - 1)>
                "Previous"
            </button>
            <span class="page-of" data-testid="page">{format!("Page {current} of {pages} · {} users", list.total)}</span>
            <button class="secondary" disabled={current >= pages} on:click=move |_| page.set(current + 1)>
                "Next"
            </button>
        </nav>
    }
}
