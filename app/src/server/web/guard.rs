//! Layer 4 of the request pipeline: the page guard. A page load asks the route
//! table in [`crate::policy`]: anonymous visitors are sent to sign in (with a
//! notice when their session ended), signed-in users without the permission
//! get status 403 and the page renders the 403 view. Everything that is not a
//! page load passes; its handler asks the policy itself.

use axum::{
    extract::Request,
    http::{header, request::Parts, HeaderName, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{context::is_page_load, cookies};
use crate::{
    policy::{self, Decision, Role},
    server::platform::state::AppState,
};

/// Whether the visitor may see the page, as the policy decides.
#[must_use]
pub fn decide(parts: &Parts, role: Option<Role>) -> Decision {
    if !is_page_load(parts) {
        return Decision::Allow;
    }
    policy::decide(parts.uri.path(), role)
}

/// Runs the rest of the stack, or redirects, as `decision` says.
pub async fn apply(
    decision: Decision,
    state: &AppState,
    ended: bool,
    headers: &mut Vec<(HeaderName, HeaderValue)>,
    req: Request,
    next: Next,
) -> Response {
    match decision {
        Decision::Allow => next.run(req).await,
        Decision::Forbidden => {
            let mut response = next.run(req).await;
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        Decision::SignIn => {
            let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let login = if ended {
                if headers.is_empty() {
                    *headers = cookies::clear(&state.config);
                }
                policy::ended_login_url(target)
            } else {
                policy::login_url(target)
            };
            (StatusCode::SEE_OTHER, [(header::LOCATION, login)]).into_response()
        }
    }
}
