//! The app's own pages (the auth pages live in `crate::auth`).

use leptos::prelude::*;

use crate::auth::{use_auth, Guard};

/// `/`
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Portcullis"</h1>
            <p>"Sign-in that stays out of your way: short-lived tokens in HttpOnly cookies, refreshed silently."</p>
            <nav class="links">
                <a class="button" href="/login">"Sign in"</a>
                <a class="button secondary" href="/register">"Create an account"</a>
                <a href="/dashboard">"Dashboard"</a>
            </nav>
        </section>
    }
}

/// `/dashboard`: the signed-in user.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Guard path="/dashboard">
            {move || auth.signed_in().map(|s| view! {
                <section class="card wide">
                    <h1>"Dashboard"</h1>
                    <p data-testid="welcome">"Signed in as " <strong>{s.user.username.clone()}</strong></p>
                    <dl class="facts">
                        <dt>"Role"</dt><dd data-testid="role">{s.user.role.as_str()}</dd>
                        <dt>"User id"</dt><dd><code>{s.user.id.to_string()}</code></dd>
                    </dl>
                </section>
            })}
        </Guard>
    }
}

/// Shown with status 403 when a signed-in user lacks a page's permission.
#[component]
pub fn Forbidden() -> impl IntoView {
    set_status(403);
    view! {
        <section class="card" data-testid="forbidden">
            <h1>"403 · Not allowed"</h1>
            <p>"Your account does not have access to this page."</p>
            <a href="/dashboard">"Back to your dashboard"</a>
        </section>
    }
}

/// Shown with status 404 for unknown paths.
#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <section class="card">
            <h1>"404 · Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a href="/">"Go home"</a>
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
