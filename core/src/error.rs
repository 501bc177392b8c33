//! The one error type shared by the server, the JSON API and the UI.
//!
//! On the wire every error is `{"error": "<snake_case_code>", "message": "<human text>"}`
//! (plus `"field"` when a single form field is at fault). The UI matches on the
//! variants, never on the strings.

use serde::{Deserialize, Serialize};

/// A form field an error can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    Password,
    /// The current password, when changing it.
    CurrentPassword,
    /// The new password, when changing it.
    NewPassword,
    Role,
}

impl Field {
    /// The snake_case name used on the wire and in redirect queries.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Username => "username",
            Field::Password => "password",
            Field::CurrentPassword => "current_password",
            Field::NewPassword => "new_password",
            Field::Role => "role",
        }
    }

    /// Parses [`Field::as_str`].
    #[must_use]
    pub fn parse(name: &str) -> Option<Field> {
        [
            Field::Username,
            Field::Password,
            Field::CurrentPassword,
            Field::NewPassword,
            Field::Role,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::policy::deserialize_name(
            deserializer,
            Field::parse,
            &[
                "username",
                "password",
                "current_password",
                "new_password",
                "role",
            ],
        )
    }
}

/// Everything that can go wrong in an authentication request, as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account: deliberately indistinguishable.
    #[error("Incorrect username or password.")]
    InvalidCredentials,
    #[error("That username is already taken.")]
    UsernameTaken,
    /// Input that fails validation; `field` says which form field to mark.
    #[error("{message}")]
    Validation { field: Field, message: String },
    /// A request that could not be read at all (malformed JSON, missing fields).
    #[error("{0}")]
    BadRequest(String),
    /// A request body over the server's limit (64 KiB).
    #[error("The request is too large.")]
    TooLarge,
    #[error("You are not signed in.")]
    TokenMissing,
    #[error("Your access token has expired.")]
    TokenExpired,
    #[error("Your access token is not valid.")]
    TokenInvalid,
    #[error("This session has been signed out.")]
    SessionRevoked,
    #[error("Your session has ended. Please sign in again.")]
    SessionExpired,
    #[error("This refresh token was already used; the session has been signed out.")]
    RefreshReused,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    /// A state-changing browser request that did not come from our own origin.
    #[error("This request did not come from this site and was refused.")]
    CrossSite,
    /// The change would leave no enabled admin.
    #[error("This is the last admin account: promote someone else first.")]
    LastAdmin,
    #[error("Too many attempts. Try again in {retry_after} seconds.")]
    RateLimited { retry_after: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy,
    /// A part the request needs (the database) cannot be reached just now: try
    /// again after `retry_after` seconds. Never a reason to sign anyone out.
    #[error("The service is briefly unavailable. Try again in {retry_after} seconds.")]
    Unavailable { retry_after: u64 },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached our code (network or encoding failure).
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AuthError {
    /// The stable snake_case code clients switch on.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::UsernameTaken => "username_taken",
            Self::Validation { .. } => "validation_failed",
            Self::BadRequest(_) => "bad_request",
            Self::TooLarge => "payload_too_large",
            Self::TokenMissing => "token_missing",
            Self::TokenExpired => "token_expired",
            Self::TokenInvalid => "token_invalid",
            Self::SessionRevoked => "session_revoked",
            Self::SessionExpired => "session_expired",
            Self::RefreshReused => "refresh_reused",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::LastAdmin => "last_admin",
            Self::CrossSite => "cross_site_request",
            Self::RateLimited { .. } => "rate_limited",
            Self::Busy => "busy",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal => "internal",
            Self::Transport(_) => "transport",
        }
    }

    /// The HTTP status this error is answered with.
    #[must_use]
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::Validation { .. } => 400,
            Self::InvalidCredentials
            | Self::TokenMissing
            | Self::TokenExpired
            | Self::TokenInvalid
            | Self::SessionRevoked
            | Self::SessionExpired
            | Self::RefreshReused => 401,
            Self::Forbidden | Self::CrossSite => 403,
            Self::NotFound => 404,
            Self::TooLarge => 413,
            Self::UsernameTaken | Self::LastAdmin => 409,
            Self::RateLimited { .. } => 429,
            Self::Internal | Self::Transport(_) => 500,
            Self::Busy | Self::Unavailable { .. } => 503,
        }
    }

    /// The form field this error belongs beside, if any.
    #[must_use]
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Validation { field, .. } => Some(*field),
            Self::UsernameTaken => Some(Field::Username),
            _ => None,
        }
    }

    /// True when the caller is not (or no longer) signed in and must sign in again.
    #[must_use]
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Self::TokenMissing
                | Self::TokenInvalid
                | Self::SessionRevoked
                | Self::SessionExpired
                | Self::RefreshReused
        )
    }

    /// True for a failure that passes by itself (a limit, a busy hasher, an
    /// outage): the client keeps its session and tries again later.
    #[must_use]
    pub fn is_passing(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Busy | Self::Unavailable { .. } | Self::Internal
        )
    }

    /// Seconds to wait before trying again, for the errors that have them.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::Unavailable { retry_after } => {
                Some(*retry_after)
            }
            Self::Busy => Some(1),
            _ => None,
        }
    }

    /// Shorthand for a validation error.
    #[must_use]
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }
}

mod envelope;
pub use envelope::ErrorBody;
#[cfg(all(feature = "server-fn", not(target_arch = "wasm32")))]
pub use envelope::ON_SERVER_FN_ERROR;

#[cfg(test)]
mod tests;
