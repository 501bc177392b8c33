//! Server functions for the admin console: thin adapters over
//! `crate::server::admin`. Each names its operation; the policy decides.

use leptos::prelude::*;
use uuid::Uuid;

use super::{AdminUser, UserPage};
use crate::{error::AuthError, policy::Role};

/// One page of users whose name contains `query`.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_users")]
pub async fn admin_users(query: String, page: u64) -> Result<UserPage, AuthError> {
    use crate::{
        operations::Operation,
        server::{
            admin,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx.authorize(Operation::ListUsers).map_err(respond)?;
    admin::list_users(&ctx.state, &authz, &query, page, admin::DEFAULT_PER_PAGE)
        .await
        .map_err(respond)
}

/// Gives a user another role.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_set_role")]
pub async fn admin_set_role(id: Uuid, role: Role) -> Result<AdminUser, AuthError> {
    use crate::{
        operations::Operation,
        server::{
            admin,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx.authorize(Operation::SetRole).map_err(respond)?;
    admin::set_role(&ctx.state, &authz, id, role)
        .await
        .map_err(respond)
}

/// Disables (ending their sessions) or re-enables a user.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_set_disabled")]
pub async fn admin_set_disabled(id: Uuid, disabled: bool) -> Result<AdminUser, AuthError> {
    use crate::{
        operations::Operation,
        server::{
            admin,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx.authorize(Operation::SetDisabled).map_err(respond)?;
    admin::set_disabled(&ctx.state, &authz, id, disabled)
        .await
        .map_err(respond)
}

/// Signs a user out everywhere; returns how many sessions ended.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_revoke_sessions")]
pub async fn admin_revoke_sessions(id: Uuid) -> Result<u64, AuthError> {
    use crate::{
        operations::Operation,
        server::{
            admin,
            web::context::{respond, RequestContext},
        },
    };
    let ctx = RequestContext::current()?;
    let authz = ctx
        .authorize(Operation::RevokeUserSessions)
        .map_err(respond)?;
    admin::revoke_sessions(&ctx.state, &authz, id)
        .await
        .map_err(respond)
}
