//! The core's one error type, and the table that maps it to the wire.

use alloc::string::{String, ToString};
use core::fmt;

use crate::store::StoreError;

/// What went wrong, as a closed set. Each kind maps to exactly one Cognito exception name
/// (`__type`) and HTTP status in [`ErrorKind::wire`]. Serde gives it to the guest ABI (one
/// definition: a new kind needs no codec change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorKind {
    /// The request body is not valid JSON, or a field has the wrong JSON type.
    Serialization,
    /// The `X-Amz-Target` names no operation Cognate knows.
    UnknownOperation,
    /// A field is missing, malformed or out of range.
    InvalidParameter,
    /// An admin request is unsigned, or signed with an unknown access key.
    UnrecognizedClient,
    /// An admin request's signature does not match.
    InvalidSignature,
    /// Wrong credentials, a bad or expired token, a disabled user, a forbidden flow.
    NotAuthorized,
    UserNotFound,
    UserNotConfirmed,
    UsernameExists,
    AliasExists,
    InvalidPassword,
    CodeMismatch,
    ExpiredCode,
    TooManyFailedAttempts,
    LimitExceeded,
    TooManyRequests,
    /// A message (code, temporary password) could not be delivered.
    CodeDeliveryFailure,
    GroupExists,
    /// A rotated refresh token was replayed after its grace period; its family is revoked.
    RefreshTokenReuse,
    UnsupportedTokenType,
    /// RevokeToken's refusal of a client (Cognito's `UnauthorizedException`).
    Unauthorized,
    UnsupportedOperation,
    UnsupportedUserState,
    ResourceNotFound,
    PasswordResetRequired,
    InvalidUserPoolConfiguration,
    /// VerifySoftwareToken got a wrong code (MFA, issue 17).
    EnableSoftwareTokenMfa,
    /// The pool does not offer software-token MFA.
    SoftwareTokenMfaNotFound,
    UnsupportedMediaType,
    RequestTooLarge,
    /// An app client names a custom scope no resource server has (OAuth 2.0 / hosted UI).
    ScopeDoesNotExist,
    /// A bug or an unavailable dependency: 500, and the details go to the log, not the client.
    Internal,
    // Trigger plugins (`crate::trigger`).
    /// The plugin answered with an error (`{"error": "..."}`): "<Trigger> failed with error <m>."
    UserLambdaValidation,
    /// The plugin could not run to an answer: not registered, trapped, timed out, out of memory.
    UnexpectedLambda,
    /// The plugin's answer is not a valid response for its trigger.
    InvalidLambdaResponse,
    // Identity pools (`crate::identity`).
    /// A login already belongs to another identity; an identity pool name or developer user
    /// identifier is taken.
    ResourceConflict,
    /// A developer user identifier is already linked to another identity.
    DeveloperUserAlreadyRegistered,
    /// The identity pool's roles or role mappings cannot give credentials (no role, an STS
    /// refusal of the role).
    InvalidIdentityPoolConfiguration,
    /// An outside service (the STS, a login provider) failed.
    ExternalService,
    /// A concurrent update of the same resource won.
    ConcurrentModification,
    // Federation (`crate::federation`).
    /// An identity provider of this name (or with one of these identifiers) exists.
    DuplicateProvider,
    /// The identity provider cannot be used for this (a SAML provider's flow, for now).
    UnsupportedIdentityProvider,
    // Passkeys (`crate::auth::webauthn`), Cognito's seven WebAuthn answers.
    /// The pool does not allow WEB_AUTHN as a first factor.
    WebAuthnNotEnabled,
    /// The pool has neither a relying party id nor a domain to take one from.
    WebAuthnConfigurationMissing,
    /// No live registration challenge: never started, already used, or expired.
    WebAuthnChallengeNotFound,
    /// The credential was made for another relying party id.
    WebAuthnRelyingPartyMismatch,
    /// The access token's client is not the one that started the registration.
    WebAuthnClientMismatch,
    /// The credential's origin does not belong to the relying party id.
    WebAuthnOriginNotAllowed,
    /// The credential cannot be used (attestation format, algorithm, flags, malformed).
    WebAuthnCredentialNotSupported,
    /// A precondition of the operation does not hold (a user import job with no file).
    PreconditionNotMet,
}

impl ErrorKind {
    /// The Cognito exception name and the HTTP status.
    pub fn wire(self) -> (&'static str, u16) {
        match self {
            Self::Serialization => ("SerializationException", 400),
            Self::UnknownOperation => ("UnknownOperationException", 400),
            Self::InvalidParameter => ("InvalidParameterException", 400),
            Self::UnrecognizedClient => ("UnrecognizedClientException", 400),
            Self::InvalidSignature => ("InvalidSignatureException", 400),
            Self::NotAuthorized => ("NotAuthorizedException", 400),
            Self::UserNotFound => ("UserNotFoundException", 400),
            Self::UserNotConfirmed => ("UserNotConfirmedException", 400),
            Self::UsernameExists => ("UsernameExistsException", 400),
            Self::AliasExists => ("AliasExistsException", 400),
            Self::InvalidPassword => ("InvalidPasswordException", 400),
            Self::CodeMismatch => ("CodeMismatchException", 400),
            Self::ExpiredCode => ("ExpiredCodeException", 400),
            Self::TooManyFailedAttempts => ("TooManyFailedAttemptsException", 400),
            Self::LimitExceeded => ("LimitExceededException", 400),
            Self::TooManyRequests => ("TooManyRequestsException", 400),
            Self::CodeDeliveryFailure => ("CodeDeliveryFailureException", 400),
            Self::GroupExists => ("GroupExistsException", 400),
            Self::RefreshTokenReuse => ("RefreshTokenReuseException", 400),
            Self::UnsupportedTokenType => ("UnsupportedTokenTypeException", 400),
            Self::Unauthorized => ("UnauthorizedException", 400),
            Self::UnsupportedOperation => ("UnsupportedOperationException", 400),
            Self::UnsupportedUserState => ("UnsupportedUserStateException", 400),
            Self::ResourceNotFound => ("ResourceNotFoundException", 400),
            Self::PasswordResetRequired => ("PasswordResetRequiredException", 400),
            Self::InvalidUserPoolConfiguration => ("InvalidUserPoolConfigurationException", 400),
            Self::EnableSoftwareTokenMfa => ("EnableSoftwareTokenMFAException", 400),
            Self::SoftwareTokenMfaNotFound => ("SoftwareTokenMFANotFoundException", 400),
            Self::UnsupportedMediaType => ("SerializationException", 415),
            Self::RequestTooLarge => ("RequestEntityTooLargeException", 413),
            Self::ScopeDoesNotExist => ("ScopeDoesNotExistException", 400),
            Self::Internal => ("InternalErrorException", 500),
            Self::UserLambdaValidation => ("UserLambdaValidationException", 400),
            Self::UnexpectedLambda => ("UnexpectedLambdaException", 400),
            Self::InvalidLambdaResponse => ("InvalidLambdaResponseException", 400),
            Self::ResourceConflict => ("ResourceConflictException", 400),
            Self::DeveloperUserAlreadyRegistered => {
                ("DeveloperUserAlreadyRegisteredException", 400)
            }
            Self::InvalidIdentityPoolConfiguration => {
                ("InvalidIdentityPoolConfigurationException", 400)
            }
            Self::ExternalService => ("ExternalServiceException", 400),
            Self::ConcurrentModification => ("ConcurrentModificationException", 400),
            Self::DuplicateProvider => ("DuplicateProviderException", 400),
            Self::UnsupportedIdentityProvider => ("UnsupportedIdentityProviderException", 400),
            Self::WebAuthnNotEnabled => ("WebAuthnNotEnabledException", 400),
            Self::WebAuthnConfigurationMissing => ("WebAuthnConfigurationMissingException", 400),
            Self::WebAuthnChallengeNotFound => ("WebAuthnChallengeNotFoundException", 400),
            Self::WebAuthnRelyingPartyMismatch => ("WebAuthnRelyingPartyMismatchException", 400),
            Self::WebAuthnClientMismatch => ("WebAuthnClientMismatchException", 400),
            Self::WebAuthnOriginNotAllowed => ("WebAuthnOriginNotAllowedException", 400),
            Self::WebAuthnCredentialNotSupported => {
                ("WebAuthnCredentialNotSupportedException", 400)
            }
            Self::PreconditionNotMet => ("PreconditionNotMetException", 400),
        }
    }
}

/// An error with a message safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotAuthorized, message)
    }
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// The one answer for both "no such user" and "wrong password".
    pub fn bad_credentials() -> Self {
        Self::not_authorized("Incorrect username or password.")
    }
    /// An unknown user on an operation that names a client (ConfirmSignUp, ForgotPassword, ...),
    /// when the client does not prevent user existence errors.
    pub fn unknown_user_for_client() -> Self {
        Self::new(
            ErrorKind::UserNotFound,
            "Username/client id combination not found.",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.wire().0, self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::TooLarge => Self::invalid_parameter("The request is too large to store."),
            other => Self::internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for Error {
    /// A stored record that does not decode is corruption or a bug, never the client's fault.
    fn from(error: serde_json::Error) -> Self {
        Self::internal(alloc::format!("stored record does not decode: {error}"))
    }
}
