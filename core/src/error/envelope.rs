//! How an [`AuthError`] travels: the JSON envelope every error is sent in,
//! and the query string a form posted without JavaScript is redirected back with.

use serde::{Deserialize, Serialize};

use super::{AuthError, Field};

impl AuthError {
    /// The query a form posted without JavaScript is redirected back with:
    /// `error=<code>` plus `field` and `retry_after` when they apply.
    #[must_use]
    pub fn to_query(&self) -> String {
        let mut query = format!("error={}", self.code());
        if let Some(field) = self.field() {
            query.push_str("&field=");
            query.push_str(field.as_str());
        }
        if let Self::RateLimited { retry_after } | Self::Unavailable { retry_after } = self {
            query.push_str(&format!("&retry_after={retry_after}"));
        }
        query
    }

    /// The error a [`to_query`](Self::to_query) redirect names. Only the code
    /// and the field travel in the URL, so a crafted link can choose which of
    /// our own messages appears, never its text. `None` for an unknown code.
    #[must_use]
    pub fn from_query(code: &str, field: Option<&str>, retry_after: Option<u64>) -> Option<Self> {
        let field = field.and_then(Field::parse);
        let err = match code {
            "validation_failed" => {
                let field = field?;
                Self::invalid(field, canned_validation_message(field))
            }
            "rate_limited" => Self::RateLimited {
                retry_after: retry_after.unwrap_or(60).min(3600),
            },
            "unavailable" => Self::Unavailable {
                retry_after: retry_after.unwrap_or(2).min(3600),
            },
            "bad_request" => {
                Self::BadRequest("The form could not be read. Please try again.".into())
            }
            "transport" => return None,
            other => Self::from(ErrorBody {
                error: other.to_owned(),
                message: String::new(),
                field: None,
                retry_after: None,
            }),
        };
        (!matches!(err, Self::Transport(_))).then_some(err)
    }
}

/// What a validation error on `field` says when only its code is known.
fn canned_validation_message(field: Field) -> &'static str {
    match field {
        Field::Username => "Usernames are 3 to 32 characters: letters, digits, '.', '-' and '_'.",
        Field::Password | Field::NewPassword => {
            "Choose a password of at least 8 characters that is not common or easy to guess: \
             a few unrelated words work well."
        }
        Field::CurrentPassword => "Your current password is not correct.",
        Field::Role => "That role does not exist.",
    }
}

/// The JSON envelope every error travels in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl From<AuthError> for ErrorBody {
    fn from(err: AuthError) -> Self {
        let retry_after = match err {
            AuthError::RateLimited { retry_after } | AuthError::Unavailable { retry_after } => {
                Some(retry_after)
            }
            _ => None,
        };
        Self {
            error: err.code().to_owned(),
            message: err.to_string(),
            field: err.field(),
            retry_after,
        }
    }
}

impl From<ErrorBody> for AuthError {
    fn from(body: ErrorBody) -> Self {
        match body.error.as_str() {
            "invalid_credentials" => Self::InvalidCredentials,
            "username_taken" => Self::UsernameTaken,
            "validation_failed" => Self::Validation {
                field: body.field.unwrap_or(Field::Username),
                message: body.message,
            },
            "bad_request" => Self::BadRequest(body.message),
            "payload_too_large" => Self::TooLarge,
            "token_missing" => Self::TokenMissing,
            "token_expired" => Self::TokenExpired,
            "token_invalid" => Self::TokenInvalid,
            "session_revoked" => Self::SessionRevoked,
            "session_expired" => Self::SessionExpired,
            "refresh_reused" => Self::RefreshReused,
            "forbidden" => Self::Forbidden,
            "not_found" => Self::NotFound,
            "last_admin" => Self::LastAdmin,
            "cross_site_request" => Self::CrossSite,
            "rate_limited" => Self::RateLimited {
                retry_after: body.retry_after.unwrap_or(1),
            },
            "busy" => Self::Busy,
            "unavailable" => Self::Unavailable {
                retry_after: body.retry_after.unwrap_or(2),
            },
            "internal" => Self::Internal,
            _ => Self::Transport(body.message),
        }
    }
}

/// Called with every error a server function's machinery makes for us (most
/// often arguments that could not be decoded, before our code runs). The
/// server sets it at start-up to give the response the error's own status
/// (400, not leptos's 500). The browser build has no such hook.
#[cfg(all(feature = "server-fn", not(target_arch = "wasm32")))]
pub static ON_SERVER_FN_ERROR: std::sync::OnceLock<fn(&AuthError)> = std::sync::OnceLock::new();

/// Server functions carry our error, not Leptos's string-typed one.
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AuthError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        let err = match value {
            E::Args(msg) | E::Deserialization(msg) => Self::BadRequest(msg),
            E::Request(msg) | E::Response(msg) => Self::Transport(msg),
            other => Self::Transport(other.to_string()),
        };
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(hook) = ON_SERVER_FN_ERROR.get() {
            hook(&err);
        }
        err
    }
}
