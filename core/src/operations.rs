//! Every operation Portcullis offers, the access it needs and where it is
//! reached: the one table behind the server's permission checks, the README's
//! table of operations and the tests that hold the router to it.
//!
//! Adding an endpoint means adding its [`Operation`] here first: the server
//! asks `Operation::access` before it calls the service, and a test fails while
//! a JSON route or a server function has no entry (or an entry no route).

use crate::policy::{Access, Permission};

/// One thing a client can ask of the server, whichever door it comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Register,
    SignIn,
    /// The OAuth-2-shaped token endpoint for non-browser clients.
    Token,
    Refresh,
    SignOut,
    ChangePassword,
    /// Who is signed in, if anyone (the SPA's first question).
    CurrentUser,
    /// Who the caller is (a signed-in caller only).
    Me,
    ListSessions,
    RevokeSession,
    PublicKeys,
    ListUsers,
    SetRole,
    SetDisabled,
    RevokeUserSessions,
    /// Create a user with any role (the command line).
    CreateUser,
    /// Set a user's password (the command line).
    ResetPassword,
}

/// Where an operation is reached and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub operation: Operation,
    pub access: Access,
    /// `(method, path)` of its JSON routes.
    pub json: &'static [(&'static str, &'static str)],
    /// Its server function's endpoint under `/api/fn/`, if it has one.
    pub server_fn: Option<&'static str>,
    pub summary: &'static str,
}

const fn spec(
    operation: Operation,
    access: Access,
    json: &'static [(&'static str, &'static str)],
    server_fn: Option<&'static str>,
    summary: &'static str,
) -> Spec {
    Spec {
        operation,
        access,
        json,
        server_fn,
        summary,
    }
}

use Access::{Public, Requires};
use Operation as Op;
use Permission::*;

/// The table, in the order the README lists it.
#[rustfmt::skip]
pub const OPERATIONS: &[Spec] = &[
    spec(Op::Register, Public, &[("POST", "/api/auth/register")], Some("register"), "create an account (role `user`)"),
    spec(Op::SignIn, Public, &[("POST", "/api/auth/login")], Some("login"), "sign in; sets the token cookies"),
    spec(Op::Token, Public, &[("POST", "/api/token")], None, "password or refresh-token grant for non-browser clients"),
    spec(Op::Refresh, Public, &[("POST", "/api/auth/refresh")], Some("refresh"), "rotate the refresh cookie, new access token"),
    spec(Op::SignOut, Requires(ManageOwnSessions), &[("POST", "/api/auth/logout")], Some("logout"), "end this, the other or all sessions"),
    spec(Op::ChangePassword, Requires(ManageOwnAccount), &[("POST", "/api/auth/password")], Some("change_password"), "change one's password"),
    spec(Op::CurrentUser, Public, &[], Some("current_user"), "the signed-in user, or none"),
    spec(Op::Me, Requires(ManageOwnAccount), &[("GET", "/api/me")], None, "the caller's account"),
    spec(Op::ListSessions, Requires(ManageOwnSessions), &[("GET", "/api/auth/sessions")], Some("list_sessions"), "the caller's signed-in devices"),
    spec(Op::RevokeSession, Requires(ManageOwnSessions), &[("DELETE", "/api/auth/sessions/{id}")], Some("revoke_session"), "sign one of the caller's devices out"),
    spec(Op::PublicKeys, Public, &[("GET", "/.well-known/jwks.json")], None, "the keys that verify access tokens"),
    spec(Op::ListUsers, Requires(ManageUsers), &[("GET", "/api/admin/users")], Some("admin_users"), "search and page through users"),
    spec(Op::SetRole, Requires(ManageUsers), &[("POST", "/api/admin/users/{id}/role")], Some("admin_set_role"), "give a user another role"),
    spec(Op::SetDisabled, Requires(ManageUsers), &[("POST", "/api/admin/users/{id}/disable"), ("POST", "/api/admin/users/{id}/enable")], Some("admin_set_disabled"), "disable (ending their sessions) or enable a user"),
    spec(Op::RevokeUserSessions, Requires(ManageSessions), &[("POST", "/api/admin/users/{id}/revoke-sessions")], Some("admin_revoke_sessions"), "sign a user out everywhere"),
    spec(Op::CreateUser, Requires(ManageUsers), &[], None, "create a user with any role: `server create-user` only"),
    spec(Op::ResetPassword, Requires(ManageUsers), &[], None, "set a user's password, ending their sessions: `server create-user --reset-password` only"),
];

impl Operation {
    /// This operation's row of [`OPERATIONS`].
    #[must_use]
    pub fn spec(self) -> &'static Spec {
        // Every variant has a row (a test walks them all); the first row is a
        // harmless answer should that ever break, never a panic.
        OPERATIONS
            .iter()
            .find(|s| s.operation == self)
            .unwrap_or(&OPERATIONS[0])
    }

    /// What a caller needs before this operation runs.
    #[must_use]
    pub fn access(self) -> Access {
        self.spec().access
    }
}

/// The README's table of operations, generated from [`OPERATIONS`] (a test
/// keeps the README's copy equal to it).
#[must_use]
pub fn markdown_table() -> String {
    let mut out =
        String::from("| operation | needs | JSON route | server function |\n|---|---|---|---|\n");
    for spec in OPERATIONS {
        let needs = match spec.access {
            Access::Public => "anyone".to_owned(),
            Access::Requires(permission) => format!("`{permission:?}`"),
        };
        let json = spec
            .json
            .iter()
            .map(|(method, path)| format!("`{method} {path}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let server_fn = spec
            .server_fn
            .map(|name| format!("`/api/fn/{name}`"))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {:?}: {} | {needs} | {json} | {server_fn} |\n",
            spec.operation, spec.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;

    const ALL: [Operation; 17] = [
        Op::Register,
        Op::SignIn,
        Op::Token,
        Op::Refresh,
        Op::SignOut,
        Op::ChangePassword,
        Op::CurrentUser,
        Op::Me,
        Op::ListSessions,
        Op::RevokeSession,
        Op::PublicKeys,
        Op::ListUsers,
        Op::SetRole,
        Op::SetDisabled,
        Op::RevokeUserSessions,
        Op::CreateUser,
        Op::ResetPassword,
    ];

    /// An exhaustive match: a new variant does not compile until it is listed above.
    fn listed(op: Operation) -> bool {
        match op {
            Op::Register
            | Op::SignIn
            | Op::Token
            | Op::Refresh
            | Op::SignOut
            | Op::ChangePassword
            | Op::CurrentUser
            | Op::Me
            | Op::ListSessions
            | Op::RevokeSession
            | Op::PublicKeys
            | Op::ListUsers
            | Op::SetRole
            | Op::SetDisabled
            | Op::RevokeUserSessions
            | Op::CreateUser
            | Op::ResetPassword => ALL.contains(&op),
        }
    }

    #[test]
    fn every_operation_has_exactly_one_row() {
        for op in ALL {
            assert!(listed(op));
            assert_eq!(
                OPERATIONS.iter().filter(|s| s.operation == op).count(),
                1,
                "{op:?}"
            );
        }
        assert_eq!(OPERATIONS.len(), ALL.len());
    }

    #[test]
    fn every_permission_guards_some_operation_and_some_role_holds_it() {
        for permission in Permission::ALL {
            let guarded = OPERATIONS
                .iter()
                .any(|s| s.access == Access::Requires(permission))
                || crate::policy::ROUTES
                    .iter()
                    .any(|(_, access)| *access == Access::Requires(permission));
            assert!(guarded, "{permission:?} is granted but checked nowhere");
            assert!(Role::ALL.iter().any(|r| r.allows(permission)));
        }
    }

    #[test]
    fn the_readme_lists_every_operation_as_the_table_says() {
        let readme = include_str!("../../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's table of operations is out of date; paste this:\n\n{table}"
        );
    }
}
