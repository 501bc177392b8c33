//! A typed client for the Portcullis JSON API (for apps, scripts, services and
//! the integration tests), and [`JwksVerifier`], which lets a downstream service
//! verify access tokens offline from `/.well-known/jwks.json`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), portcullis_client::ClientError> {
//! let api = portcullis_client::Client::new("http://127.0.0.1:3000");
//! let tokens = api.sign_in("alice", "correct horse battery").await?;
//! let me = api.me(&tokens.access_token).await?;
//! let tokens = api.refresh(&tokens.refresh_token).await?; // rotates: keep the new one
//! # Ok(()) }
//! ```

mod verify;

pub use portcullis_core::{
    claims::AccessClaims,
    error::{AuthError, ErrorBody},
    policy::Role,
    wire::{AdminUser, LogoutScope, SessionInfo, User, UserPage},
};
pub use verify::{JwksVerifier, VerifyError};

use reqwest::{header, Method, StatusCode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// What `POST /api/token` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Seconds until the refresh token expires if unused.
    pub refresh_expires_in: i64,
}

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with its error envelope (`error` is the typed code).
    #[error("{status}: {error}")]
    Api { status: u16, error: AuthError },
    /// The request did not complete, or the answer was not what the API promises.
    #[error("transport: {0}")]
    Transport(String),
}

impl ClientError {
    /// The typed API error, if the server answered with one.
    #[must_use]
    pub fn api_error(&self) -> Option<&AuthError> {
        match self {
            Self::Api { error, .. } => Some(error),
            Self::Transport(_) => None,
        }
    }

    /// The HTTP status, if the server answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Transport(_) => None,
        }
    }
}

/// The JSON API over reqwest, authenticated with Bearer tokens (no cookies).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:3000`).
    #[must_use]
    pub fn new(base: impl Into<String>) -> Self {
        Self::with_http(base, reqwest::Client::new())
    }

    /// The same, over a configured reqwest client (timeouts, proxies, TLS roots).
    #[must_use]
    pub fn with_http(base: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// The server's base URL.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /api/auth/register`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `username_taken`, `validation_failed`, `rate_limited`, ….
    pub async fn register(&self, username: &str, password: &str) -> Result<User, ClientError> {
        let body = serde_json::json!({ "username": username, "password": password });
        // Registration is the browser app's endpoint: it wants our Origin and CSRF header.
        self.call(Method::POST, "/api/auth/register", None, Some(&body), true)
            .await
    }

    /// `POST /api/token` with `grant_type=password`: starts a session.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `invalid_credentials`, `rate_limited`, `busy`, ….
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({
            "grant_type": "password", "username": username, "password": password,
        });
        self.call(Method::POST, "/api/token", None, Some(&body), false)
            .await
    }

    /// `POST /api/token` with `grant_type=refresh_token`: rotates the refresh
    /// token. Keep the returned one; the old one is spent.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `refresh_reused`, `session_revoked`, `session_expired`, ….
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({
            "grant_type": "refresh_token", "refresh_token": refresh_token,
        });
        self.call(Method::POST, "/api/token", None, Some(&body), false)
            .await
    }

    /// `GET /api/me`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `token_expired` (refresh and retry), `token_invalid`, ….
    pub async fn me(&self, access: &str) -> Result<User, ClientError> {
        self.call(Method::GET, "/api/me", Some(access), None, false)
            .await
    }

    /// `GET /api/auth/sessions`.
    ///
    /// # Errors
    /// As for [`Client::me`].
    pub async fn sessions(&self, access: &str) -> Result<Vec<SessionInfo>, ClientError> {
        #[derive(Deserialize)]
        struct List {
            sessions: Vec<SessionInfo>,
        }
        let list: List = self
            .call(Method::GET, "/api/auth/sessions", Some(access), None, false)
            .await?;
        Ok(list.sessions)
    }

    /// `POST /api/auth/logout` with a scope.
    ///
    /// # Errors
    /// As for [`Client::me`].
    pub async fn logout(&self, access: &str, scope: LogoutScope) -> Result<(), ClientError> {
        let body = serde_json::json!({ "scope": scope });
        self.call_empty(Method::POST, "/api/auth/logout", access, Some(&body))
            .await
    }

    /// `GET /api/admin/users`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `forbidden` for non-admins, `bad_request` for bad paging.
    pub async fn admin_users(
        &self,
        access: &str,
        query: &str,
        page: u64,
        per_page: u64,
    ) -> Result<UserPage, ClientError> {
        let params = serde_urlencoded::to_string([
            ("q", query.to_owned()),
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ])
        .map_err(|e| ClientError::Transport(e.to_string()))?;
        let path = format!("/api/admin/users?{params}");
        self.call(Method::GET, &path, Some(access), None, false)
            .await
    }

    /// `POST /api/admin/users/{id}/role`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `forbidden`, `not_found`, `last_admin`, ….
    pub async fn set_role(
        &self,
        access: &str,
        id: Uuid,
        role: Role,
    ) -> Result<AdminUser, ClientError> {
        let body = serde_json::json!({ "role": role.as_str() });
        self.call(
            Method::POST,
            &format!("/api/admin/users/{id}/role"),
            Some(access),
            Some(&body),
            false,
        )
        .await
    }

    /// `POST /api/admin/users/{id}/disable` or `/enable`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with `forbidden`, `not_found`, `last_admin`, ….
    pub async fn set_disabled(
        &self,
        access: &str,
        id: Uuid,
        disabled: bool,
    ) -> Result<AdminUser, ClientError> {
        let verb = if disabled { "disable" } else { "enable" };
        self.call(
            Method::POST,
            &format!("/api/admin/users/{id}/{verb}"),
            Some(access),
            None,
            false,
        )
        .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&serde_json::Value>,
        browser_origin: bool,
    ) -> Result<reqwest::Response, ClientError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(access) = access {
            req = req.bearer_auth(access);
        }
        if browser_origin {
            // Endpoints meant for the browser app pass its CSRF checks the way it does.
            req = req
                .header(header::ORIGIN, &self.base)
                .header(portcullis_core::transport::CSRF_HEADER, "1");
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status().as_u16();
        let text = res
            .text()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let error = serde_json::from_str::<ErrorBody>(&text)
            .map(AuthError::from)
            .map_err(|_| {
                ClientError::Transport(format!("{status} without an error envelope: {text}"))
            })?;
        Err(ClientError::Api { status, error })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        access: Option<&str>,
        body: Option<&serde_json::Value>,
        browser_origin: bool,
    ) -> Result<T, ClientError> {
        self.send(method, path, access, body, browser_origin)
            .await?
            .json()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        access: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), ClientError> {
        let res = self.send(method, path, Some(access), body, false).await?;
        if res.status() == StatusCode::NO_CONTENT || res.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Transport(format!(
                "unexpected {}",
                res.status()
            )))
        }
    }
}
