//! The OAuth 2.0 error (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1) and how it
//! reaches the client: a JSON body from the token, revocation and userinfo endpoints, a redirect
//! to a registered redirect URI from the authorization endpoint.

use alloc::string::{String, ToString};

use crate::http::Response;

/// The `error` codes Cognate answers, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    /// RFC 7009: the revocation endpoint only revokes refresh tokens.
    UnsupportedTokenType,
    /// RFC 6750: the bearer token is missing scope.
    InsufficientScope,
    /// RFC 6750: the bearer token is invalid, expired or revoked.
    InvalidToken,
    /// OIDC Core 3.1.2.6: `prompt=none` and no session.
    LoginRequired,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidToken => "invalid_token",
            Self::LoginRequired => "login_required",
        }
    }
    /// The HTTP status of the JSON error response.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::ServerError => 500,
            _ => 400,
        }
    }
}

/// An OAuth error with a description safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    status: Option<u16>,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(pub fn $name(description: impl Into<String>) -> Self {
            Self::new(OAuthErrorCode::$code, description)
        })*
    };
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            status: None,
        }
    }
    constructors! {
        invalid_request => InvalidRequest,
        invalid_client => InvalidClient,
        invalid_grant => InvalidGrant,
        unauthorized_client => UnauthorizedClient,
        unsupported_grant_type => UnsupportedGrantType,
        unsupported_response_type => UnsupportedResponseType,
        invalid_scope => InvalidScope,
        server_error => ServerError,
        unsupported_token_type => UnsupportedTokenType,
        invalid_token => InvalidToken,
        insufficient_scope => InsufficientScope,
        login_required => LoginRequired,
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The JSON error response of the token and revocation endpoints (RFC 6749 §5.2):
    /// `invalid_client` is a 401 with `WWW-Authenticate` naming the scheme the client used.
    /// The page for an authorization error that must not be redirected (unknown client,
    /// redirect URI not registered).
    pub fn page(&self) -> Response {
        crate::html::plain_error(
            400,
            &alloc::format!("{}: {}", self.code.as_str(), self.description),
        )
    }

    pub fn into_json(self) -> Response {
        let body = serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        });
        let mut response = Response::json(
            self.status(),
            "application/json;charset=UTF-8",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache");
        if self.code == OAuthErrorCode::InvalidClient {
            response = response.with_header(
                "www-authenticate",
                "Basic realm=\"cognate\", error=\"invalid_client\"",
            );
        }
        response
    }

    /// The bearer-token error of a protected resource (RFC 6750 §3): the error goes in the
    /// `WWW-Authenticate` header; a request without any token gets no error code (§3.1).
    pub fn into_bearer(self, token_present: bool) -> Response {
        let header = if token_present {
            alloc::format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                self.description.replace(['"', '\\'], "'")
            )
        } else {
            "Bearer".to_string()
        };
        let body = serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        });
        Response::json(
            self.status(),
            "application/json;charset=UTF-8",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
        .with_header("www-authenticate", &header)
        .with_header("cache-control", "no-store")
    }
}

impl From<crate::Error> for OAuthError {
    /// A core error inside an OAuth endpoint: store and signing failures are `server_error`
    /// (details stay in the server), the rest is the client's fault.
    fn from(error: crate::Error) -> Self {
        use crate::error::ErrorKind;
        match error.kind {
            ErrorKind::Internal => Self::server_error("The server could not complete the request."),
            ErrorKind::TooManyRequests => Self::invalid_request(error.message).with_status(429),
            _ => Self::invalid_grant(error.message),
        }
    }
}
