//! The SDK's one error type, surfaced to JavaScript as an `Error` whose `name` is Cognito's
//! exception name (`NotAuthorizedException`, ...) as Amplify's `AuthError` does.

use std::fmt;

use wasm_bindgen::{JsCast as _, JsValue};

/// An error with Cognito's exception name (or the SDK's own, for client-side failures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub name: String,
    pub message: String,
}

/// Names of the errors the SDK raises itself.
pub mod names {
    /// `configure` was not called, or given an unusable config.
    pub const CONFIG: &str = "AuthUserPoolException";
    /// No user is signed in (Amplify's name).
    pub const UNAUTHENTICATED: &str = "UserUnAuthenticatedException";
    /// A call's input is missing or malformed.
    pub const VALIDATION: &str = "AuthValidationErrorCode";
    /// The network failed or the server's answer was not Cognito's shape.
    pub const NETWORK: &str = "NetworkError";
    /// An ID token failed verification (signature, `iss`, `aud`, `token_use`, `exp`, `nonce`).
    pub const TOKEN: &str = "InvalidIdTokenException";
    /// `confirmSignIn` without a pending challenge, or a challenge this SDK cannot answer.
    pub const SIGN_IN_STATE: &str = "SignInException";
    /// The hosted UI's redirect carried an error, or its `state` did not match.
    pub const OAUTH: &str = "OAuthSignInException";
}

impl AuthError {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for AuthError {}

impl From<AuthError> for JsValue {
    fn from(error: AuthError) -> Self {
        let js = js_sys::Error::new(&error.message);
        js.set_name(&error.name);
        js.into()
    }
}

/// A JavaScript exception (from `fetch`, WebCrypto, a custom storage, or one of ours passed
/// through a promise) as an [`AuthError`]: a specific error name is kept, a generic one becomes
/// `name`.
pub fn from_js(name: &str, value: JsValue) -> AuthError {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => {
            let own: String = error.name().into();
            let generic = matches!(own.as_str(), "Error" | "TypeError" | "DOMException" | "");
            AuthError::new(
                if generic { name } else { &own },
                String::from(error.message()),
            )
        }
        None => AuthError::new(
            name,
            value
                .as_string()
                .unwrap_or_else(|| "unknown JavaScript error".to_owned()),
        ),
    }
}

pub type Result<T> = std::result::Result<T, AuthError>;
