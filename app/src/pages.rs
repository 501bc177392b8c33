//! The app's own pages (the auth pages live in `crate::auth`).

use leptos::prelude::*;

use crate::{
    auth::{use_auth, Guard},
    policy::Permission,
};

/// `/`
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <section class="hero">
            <span class="logo large" aria-hidden="true"></span>
            <h1>"Portcullis"</h1>
            <p class="lede">
                "Sign-in that stays out of your way: short-lived tokens in HttpOnly cookies, \
                 refreshed silently, with one role policy for the browser and the server."
            </p>
            <Transition fallback=|| ()>
                {move || match auth.signed_in() {
                    Some(_) => view! {
                        <nav class="links" aria-label="Start">
                            <a class="button" href="/dashboard">"Go to your dashboard"</a>
                        </nav>
                    }.into_any(),
                    None => view! {
                        <nav class="links" aria-label="Start">
                            <a class="button" href="/login">"Sign in"</a>
                            <a class="button secondary" href="/register">"Create an account"</a>
                        </nav>
                    }.into_any(),
                }}
            </Transition>
        </section>
    }
}

/// `/dashboard`: the signed-in user.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Guard path="/dashboard">
            {move || auth.signed_in().map(|s| {
                let admin = s.user.role.allows(Permission::ManageUsers);
                view! {
                    <section class="card wide">
                        <h1>"Dashboard"</h1>
                        <p data-testid="welcome">"Signed in as " <strong>{s.user.username.clone()}</strong></p>
                        <dl class="facts">
                            <dt>"Role"</dt><dd data-testid="role">{s.user.role.as_str()}</dd>
                            <dt>"User id"</dt><dd><code>{s.user.id.to_string()}</code></dd>
                        </dl>
                        <div class="tiles">
                            <a class="tile" href="/sessions">
                                <strong>"Sessions"</strong>
                                <span>"See where you are signed in and sign devices out."</span>
                            </a>
                            <a class="tile" href="/account">
                                <strong>"Account"</strong>
                                <span>"Change your password."</span>
                            </a>
                            {admin.then(|| view! {
                                <a class="tile" href="/admin">
                                    <strong>"Users"</strong>
                                    <span>"Manage roles, disable accounts, end sessions."</span>
                                </a>
                            })}
                        </div>
                    </section>
                }
            })}
        </Guard>
    }
}

/// Shown with status 403 when a signed-in user lacks a page's permission.
#[component]
pub fn Forbidden() -> impl IntoView {
    set_status(403);
    view! {
        <section class="card status-page" data-testid="forbidden">
            <p class="status-code" aria-hidden="true">"403"</p>
            <h1>"This page is not for your account"</h1>
            <p>"You are signed in, but your role does not include access to this page. \
                If you think it should, ask an administrator."</p>
            <a class="button" href="/dashboard">"Back to your dashboard"</a>
        </section>
    }
}

/// Shown with status 404 for unknown paths.
#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <section class="card status-page" data-testid="not-found">
            <p class="status-code" aria-hidden="true">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <a class="button" href="/">"Go to the home page"</a>
        </section>
    }
}

/// Sets the status of a server-rendered response (no-op in the browser).
fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        options.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}
