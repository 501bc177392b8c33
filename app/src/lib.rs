//! Portcullis: the Leptos app (components, routes, server functions) and, behind
//! the `ssr` feature, the server-side services they call.

#![recursion_limit = "256"]

pub mod admin;
pub mod auth;
pub mod error;
pub mod pages;
pub mod policy;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use admin::AdminPage;
use auth::{provide_auth, use_auth, LoginPage, RegisterPage, SessionsPage, SignOutButton};
use pages::{DashboardPage, HomePage, NotFound};
use policy::Permission;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    server::security::set_page_csp(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: header and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_auth();
    view! {
        <Stylesheet id="leptos" href="/pkg/portcullis.css" />
        <Title text="Portcullis" />
        <Router>
            <Header />
            <main>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/register") view=RegisterPage />
                    <Route path=path!("/dashboard") view=DashboardPage />
                    <Route path=path!("/sessions") view=SessionsPage />
                    <Route path=path!("/admin") view=AdminPage />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="top">
            <a class="brand" href="/">"Portcullis"</a>
            <Transition fallback=|| ()>
                {move || match auth.signed_in() {
                    Some(s) => view! {
                        <nav class="menu">
                            <a href="/dashboard">"Dashboard"</a>
                            <a href="/sessions">"Sessions"</a>
                            {s.user.role.allows(Permission::ManageUsers).then(|| view! { <a href="/admin">"Admin"</a> })}
                            <span class="who" data-testid="who">{s.user.username.clone()}</span>
                            <SignOutButton />
                        </nav>
                    }.into_any(),
                    None => view! {
                        <nav class="menu">
                            <a href="/login">"Sign in"</a>
                            <a href="/register">"Register"</a>
                        </nav>
                    }.into_any(),
                }}
            </Transition>
        </header>
    }
}
