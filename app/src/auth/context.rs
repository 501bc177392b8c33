//! The client's view of who is signed in, and the route guard that uses the
//! same policy as the server.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::{current_user, SignedIn};
use crate::{
    error::AuthError,
    pages::Forbidden,
    policy::{decide, login_url, Decision},
};

/// Who is signed in, resolved on the server during render and carried to the client.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub state: Resource<Result<Option<SignedIn>, AuthError>>,
}

impl AuthContext {
    /// The signed-in state if it has loaded (`None` while loading or when anonymous).
    #[must_use]
    pub fn signed_in(&self) -> Option<SignedIn> {
        self.state.get().and_then(|r| r.ok().flatten())
    }
}

/// Creates the auth state for the app; call once, in `App`.
pub fn provide_auth() {
    let state = Resource::new(|| (), |()| current_user());
    provide_context(AuthContext { state });
    // In the browser, start the silent-refresh keeper once the state is known.
    #[cfg(feature = "hydrate")]
    {
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            if let Some(result) = state.get() {
                if !started.get_value() {
                    started.set_value(true);
                    super::keeper::start(result.ok().flatten());
                }
            }
        });
    }
}

/// The auth state provided by `App`.
#[must_use]
pub fn use_auth() -> AuthContext {
    expect_context()
}

/// Shows `children` only when the policy allows `path` for the visitor;
/// otherwise redirects to sign in or shows the 403 page. Nothing protected is
/// rendered before the answer is known.
#[component]
pub fn Guard(path: &'static str, children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let signed_in = auth.state.await.ok().flatten();
                    match decide(path, signed_in.map(|s| s.user.role)) {
                        Decision::Allow => children().into_any(),
                        Decision::SignIn => view! { <Redirect path=login_url(path) /> }.into_any(),
                        Decision::Forbidden => view! { <Forbidden /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
