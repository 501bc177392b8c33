//! Server functions for the admin console: thin adapters over `crate::server::admin`,
//! each asking the policy for [`Permission::ManageUsers`] first.

use leptos::prelude::*;
use uuid::Uuid;

use super::{AdminUser, UserPage};
use crate::{error::AuthError, policy::Role};

/// One page of users whose name contains `query`.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_users")]
pub async fn admin_users(query: String, page: u64) -> Result<UserPage, AuthError> {
    use crate::{policy::Permission, server::*};
    let state = app_state()?;
    request_authn()
        .require(Permission::ManageUsers)
        .map_err(respond)?;
    admin::list_users(&state, &query, page, admin::DEFAULT_PER_PAGE)
        .await
        .map_err(respond)
}

/// Gives a user another role.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_set_role")]
pub async fn admin_set_role(id: Uuid, role: Role) -> Result<AdminUser, AuthError> {
    use crate::{policy::Permission, server::*};
    let state = app_state()?;
    let authn = request_authn();
    let me = authn.require(Permission::ManageUsers).map_err(respond)?;
    admin::set_role(&state, me, id, role).await.map_err(respond)
}

/// Disables (ending their sessions) or re-enables a user.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_set_disabled")]
pub async fn admin_set_disabled(id: Uuid, disabled: bool) -> Result<AdminUser, AuthError> {
    use crate::{policy::Permission, server::*};
    let state = app_state()?;
    let authn = request_authn();
    let me = authn.require(Permission::ManageUsers).map_err(respond)?;
    admin::set_disabled(&state, me, id, disabled)
        .await
        .map_err(respond)
}

/// Signs a user out everywhere; returns how many sessions ended.
#[server(client = crate::auth::transport::AppClient, prefix = "/api/fn", endpoint = "admin_revoke_sessions")]
pub async fn admin_revoke_sessions(id: Uuid) -> Result<u64, AuthError> {
    use crate::{policy::Permission, server::*};
    let state = app_state()?;
    let authn = request_authn();
    let me = authn.require(Permission::ManageUsers).map_err(respond)?;
    admin::revoke_sessions(&state, me, id)
        .await
        .map_err(respond)
}
