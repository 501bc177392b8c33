//! The proof that the policy was asked. Services that act for a caller take an
//! [`Authorized`] as an argument, and the only ways to get one are
//! [`Authorized::check`], which asks [`crate::policy::require`] about an
//! [`Operation`], and [`Authorized::operator`] for the command line. So no
//! adapter can call such a service without the check, and none can pick the
//! wrong helper: each names its operation and the table decides.

use crate::{
    error::AuthError,
    operations::Operation,
    policy::{self, Access, Decision},
    server::authentication::tokens::Principal,
};

/// Who a checked operation acts for.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in user, as their access token (and any later role change) says.
    User(Principal),
    /// Someone running `server create-user` with the database's credentials:
    /// they could write any row anyway, so the policy does not apply to them,
    /// but the services' own rules (the last-admin guard) still do.
    Operator,
}

/// A caller the policy allowed to run `operation`.
#[derive(Debug, Clone)]
pub struct Authorized {
    actor: Actor,
    operation: Operation,
}

impl Authorized {
    /// Asks the policy whether `caller` (the request's authentication outcome)
    /// may run `operation`.
    ///
    /// # Errors
    /// The reason there is no caller (401) when the operation needs one and
    /// nobody is signed in; [`AuthError::Forbidden`] (403) when the caller's
    /// role lacks the permission.
    pub fn check(
        caller: Result<&Principal, &AuthError>,
        operation: Operation,
    ) -> Result<Self, AuthError> {
        let permission = match operation.access() {
            Access::Public => return caller_or_missing(caller, operation),
            Access::Requires(permission) => permission,
        };
        match policy::require(caller.ok().map(|p| p.role), permission) {
            Decision::Allow => caller_or_missing(caller, operation),
            Decision::SignIn => Err(caller.err().cloned().unwrap_or(AuthError::TokenMissing)),
            Decision::Forbidden => Err(AuthError::Forbidden),
        }
    }

    /// The command line's authority (see [`Actor::Operator`]).
    #[must_use]
    pub fn operator(operation: Operation) -> Self {
        Self {
            actor: Actor::Operator,
            operation,
        }
    }

    /// The signed-in user, unless this is the operator.
    #[must_use]
    pub fn user(&self) -> Option<&Principal> {
        match &self.actor {
            Actor::User(principal) => Some(principal),
            Actor::Operator => None,
        }
    }

    /// The signed-in user an operation on one's own account acts for.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for the operator, who has no account of their own here.
    pub fn own(&self) -> Result<&Principal, AuthError> {
        self.user().ok_or(AuthError::Forbidden)
    }

    /// Checks that this proof is for `operation`: a service states which
    /// operation it performs, so a proof obtained for another one (say, a
    /// user's own sign-out) cannot be passed to it.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for a proof of another operation (a wiring bug, logged).
    pub fn expect(&self, operation: Operation) -> Result<&Self, AuthError> {
        if self.operation == operation {
            Ok(self)
        } else {
            tracing::error!(proof = ?self.operation, needed = ?operation, "a service got the proof of another operation");
            Err(AuthError::Forbidden)
        }
    }

    /// A log field naming the actor.
    #[must_use]
    pub fn actor_id(&self) -> String {
        match &self.actor {
            Actor::User(p) => p.user_id.to_string(),
            Actor::Operator => "operator".to_owned(),
        }
    }
}

/// Public operations that still act for a caller need one.
fn caller_or_missing(
    caller: Result<&Principal, &AuthError>,
    operation: Operation,
) -> Result<Authorized, AuthError> {
    caller
        .map(|principal| Authorized {
            actor: Actor::User(principal.clone()),
            operation,
        })
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: uuid::Uuid::new_v4(),
            session_id: uuid::Uuid::new_v4(),
            username: "alice".into(),
            role,
            expires_at: 0,
        }
    }

    #[test]
    fn the_proof_follows_the_operation_table() {
        let user = principal(Role::User);
        let admin = principal(Role::Admin);
        let none = AuthError::TokenExpired;
        assert!(Authorized::check(Ok(&user), Operation::ListSessions).is_ok());
        assert_eq!(
            Authorized::check(Ok(&user), Operation::SetRole).err(),
            Some(AuthError::Forbidden)
        );
        assert_eq!(
            Authorized::check(Ok(&user), Operation::RevokeUserSessions).err(),
            Some(AuthError::Forbidden)
        );
        assert!(Authorized::check(Ok(&admin), Operation::RevokeUserSessions).is_ok());
        assert_eq!(
            Authorized::check(Err(&none), Operation::ListUsers).err(),
            Some(AuthError::TokenExpired),
            "anonymous callers learn why they are not signed in"
        );
    }

    #[test]
    fn a_proof_serves_only_its_own_operation() {
        let user = principal(Role::User);
        let proof = Authorized::check(Ok(&user), Operation::SignOut).expect("allowed");
        assert!(proof.expect(Operation::SignOut).is_ok());
        assert_eq!(
            proof.expect(Operation::SetRole).err(),
            Some(AuthError::Forbidden)
        );
    }
}
