//! Portcullis: the Leptos app (components, routes, server functions) and, behind
//! the `ssr` feature, the server-side services they call.

#![recursion_limit = "256"]

pub mod admin;
// The shared crate's modules, under the names the app has always used.
pub use portcullis_core::{error, operations, policy};
pub mod auth;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
pub mod site;
pub mod ui;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use admin::AdminPage;
use auth::{
    provide_auth, use_auth, AccountPage, LoginPage, RegisterPage, SessionsPage, SignOutButton,
};
use pages::{DashboardPage, HomePage, NotFound};
use policy::Permission;

/// The HTML document the server renders around the app.
///
/// The title and description come from [`site::page_meta`] for the request's
/// path and visitor, and are plain tags rather than `leptos_meta` components:
/// that keeps `leptos_meta` out of the WASM ([`DocumentMeta`] updates them on
/// client-side navigation). On the server, leptos_axum still collects
/// `<head>` tags through leptos_meta (the preload hints for lazy pages) and
/// puts them where `<MetaTags />` stands.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;

    server::platform::security::set_page_csp(&options);
    let path = use_context::<http::request::Parts>()
        .map(|parts| parts.uri.path().to_owned())
        .unwrap_or_default();
    let role = server::web::context::render_role();
    let meta = site::page_meta(&path, role);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <title>{meta.document_title()}</title>
                <meta name="description" content=meta.description />
                // `id="leptos"` is the link cargo-leptos swaps when the CSS changes in watch mode.
                <link rel="stylesheet" id="leptos" href="/pkg/portcullis.css" />
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
///
/// Every route renders with `SsrMode::Async`: the server waits for the auth
/// state (already known from the request, no database call) and sends the
/// whole page at once, so it is complete without JavaScript; out-of-order
/// streaming would leave "Loading…" until a script swapped the content in.
///
/// `/` and `/login`, where visits start, are in the main WASM module; the other
/// pages are [`lazy_page!`]s.
#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    view! {
        <Router>
            <DocumentMeta />
            <Header />
            <main>
                <auth::notice::KeeperNotice />
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/sessions") view={Lazy::<SessionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Defines a route whose page is loaded on demand: built with
/// `cargo leptos build --split`, the page's code is a WASM chunk of its own,
/// fetched on the first visit (a server-rendered page usually also carries a
/// preload hint for it), so the main module holds only what every page uses.
macro_rules! lazy_page {
    ($route:ident => $page:ident) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded on demand.")]
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(RegisterRoute => RegisterPage);
lazy_page!(DashboardRoute => DashboardPage);
lazy_page!(SessionsRoute => SessionsPage);
lazy_page!(AccountRoute => AccountPage);
lazy_page!(AdminRoute => AdminPage);

/// Keeps the document's title and description in step with client-side
/// navigation (the server wrote them for the first page; see [`shell`]).
#[component]
fn DocumentMeta() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let auth = use_auth();
        let location = leptos_router::hooks::use_location();
        Effect::new(move |_| {
            let path = location.pathname.get();
            let role = auth.signed_in().map(|s| s.user.role);
            let meta = site::page_meta(&path, role);
            let document = document();
            document.set_title(&meta.document_title());
            if let Ok(Some(tag)) = document.query_selector("meta[name=description]") {
                let _ = tag.set_attribute("content", meta.description);
            }
        });
    }
}

/// The top bar: the brand, the main links and the account menu for a signed-in
/// user, or the sign-in links for a visitor.
#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="top">
            <a class="brand" href="/">
                <span class="logo" aria-hidden="true"></span>
                "Portcullis"
            </a>
            <Transition fallback=|| ()>
                {move || match auth.signed_in() {
                    Some(s) => view! { <SignedInMenu signed_in=s /> }.into_any(),
                    None => view! {
                        <nav class="menu" aria-label="Account">
                            <a href="/login">"Sign in"</a>
                            <a class="button small" href="/register">"Register"</a>
                        </nav>
                    }.into_any(),
                }}
            </Transition>
        </header>
    }
}

/// The main links (inline on wide screens) and a `<details>` account menu,
/// which opens with the keyboard and works before the WASM has loaded.
#[component]
fn SignedInMenu(signed_in: auth::SignedIn) -> impl IntoView {
    let user = signed_in.user;
    let admin = user.role.allows(Permission::ManageUsers);
    let initial = user
        .username
        .chars()
        .next()
        .unwrap_or('?')
        .to_ascii_uppercase()
        .to_string();
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(menu) = menu.get() {
            menu.set_open(false);
        }
    };
    view! {
        <nav class="menu" aria-label="Main">
            <a href="/dashboard">"Dashboard"</a>
            <a href="/sessions">"Sessions"</a>
            {admin.then(|| view! { <a href="/admin">"Admin"</a> })}
        </nav>
        <details class="account-menu" node_ref=menu
            on:keydown=move |ev| if ev.key() == "Escape" { close() }>
            // Named by its content ("Account menu for alice"), so the name holds
            // the visible text, which voice control users say (WCAG 2.5.3).
            <summary>
                <span class="avatar" aria-hidden="true">{initial}</span>
                <span class="visually-hidden">"Account menu for "</span>
                <span class="who" data-testid="who">{user.username.clone()}</span>
            </summary>
            // A link followed by client-side routing leaves the page as it is: close the menu.
            <div class="menu-panel" on:click=move |ev| {
                if event_target::<leptos::web_sys::Element>(&ev).tag_name() == "A" { close() }
            }>
                <p class="menu-head">
                    "Signed in as " <strong>{user.username.clone()}</strong>
                    <span class="role-badge">{user.role.as_str()}</span>
                </p>
                <a class="menu-item narrow-only" href="/dashboard">"Dashboard"</a>
                <a class="menu-item narrow-only" href="/sessions">"Sessions"</a>
                {admin.then(|| view! { <a class="menu-item narrow-only" href="/admin">"Admin"</a> })}
                <a class="menu-item" href="/account">"Account"</a>
                <SignOutButton />
            </div>
        </details>
    }
}
