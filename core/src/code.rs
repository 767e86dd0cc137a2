//! One-time codes: 6 digits, stored only as a salted SHA-256, expiring, single use, and with a
//! small attempt limit.
//!
//! A 6-digit code has only a million values, so its hash does not resist an offline search by
//! someone who has read the store; what protects it is its short life and the attempt limit.
//! Hashing still keeps codes out of backups, logs and casual reads.

use alloc::string::String;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorKind};
use crate::ports::Random;

/// Wrong guesses allowed before the code is void.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a sign-up confirmation code lives.
pub const SIGN_UP_CODE_TTL_MILLIS: u64 = 24 * 3600 * 1000;
/// How long a password-reset code lives (Cognito: one hour).
pub const FORGOT_PASSWORD_CODE_TTL_MILLIS: u64 = 3600 * 1000;
/// How long an attribute verification code lives.
pub const VERIFY_ATTRIBUTE_CODE_TTL_MILLIS: u64 = 24 * 3600 * 1000;

/// How long an MFA code sent by SMS or email lives (Cognito: 3 minutes, the session's life).
pub const AUTHENTICATION_CODE_TTL_MILLIS: u64 = 3 * 60 * 1000;

/// What a code confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
    VerifyAttribute,
    /// A sign-in's SMS or email MFA code (kept in the sign-in session, not on the user).
    Authentication,
}

impl CodePurpose {
    /// The slot a pending code of this purpose occupies on the user record: one per purpose,
    /// and one per attribute for verification codes, so a new code replaces the old one.
    pub fn slot(self, attribute: Option<&str>) -> String {
        match self {
            Self::SignUp => "sign_up".into(),
            Self::ForgotPassword => "forgot_password".into(),
            Self::VerifyAttribute => alloc::format!("verify:{}", attribute.unwrap_or_default()),
            Self::Authentication => "authentication".into(),
        }
    }
    pub fn ttl_millis(self) -> u64 {
        match self {
            Self::SignUp => SIGN_UP_CODE_TTL_MILLIS,
            Self::ForgotPassword => FORGOT_PASSWORD_CODE_TTL_MILLIS,
            Self::VerifyAttribute => VERIFY_ATTRIBUTE_CODE_TTL_MILLIS,
            Self::Authentication => AUTHENTICATION_CODE_TTL_MILLIS,
        }
    }
}

/// A pending code as stored on the user record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub purpose: CodePurpose,
    pub salt: String,
    pub digest: String,
    pub expires_millis: u64,
    pub failed_attempts: u32,
    /// The attribute the code was sent to (`email` or `phone_number`), verified on success.
    pub attribute: Option<String>,
}

/// A fresh code: the plain value (to deliver) and its stored form.
pub fn issue(
    random: &dyn Random,
    purpose: CodePurpose,
    attribute: Option<String>,
    now_millis: u64,
    ttl_millis: u64,
) -> (crate::secret::Secret, PendingCode) {
    let digits = crate::ids::random_string(random, b"0123456789", 6);
    let salt = crate::ids::random_token(random, 16);
    let digest = crate::codec::sha256_hex(&[salt.as_bytes(), digits.as_bytes()]);
    (
        crate::secret::Secret::new(digits),
        PendingCode {
            purpose,
            salt,
            digest,
            expires_millis: now_millis.saturating_add(ttl_millis),
            failed_attempts: 0,
            attribute,
        },
    )
}

/// The outcome of checking a code; the caller persists `Wrong`'s new count with a
/// compare-and-set so concurrent guesses cannot exceed the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    Correct,
    Wrong,
}

/// Checks `given` against a pending code. Expired codes and codes out of attempts are refused
/// before comparing.
pub fn check(
    pending: &PendingCode,
    purpose: CodePurpose,
    given: &str,
    now_millis: u64,
) -> Result<CodeCheck, Error> {
    if pending.purpose != purpose {
        return Err(mismatch());
    }
    if pending.failed_attempts >= MAX_ATTEMPTS {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "Attempt limit exceeded, please try after some time.",
        ));
    }
    if now_millis >= pending.expires_millis {
        return Err(Error::new(
            ErrorKind::ExpiredCode,
            "Invalid code provided, please request a code again.",
        ));
    }
    let digest = crate::codec::sha256_hex(&[pending.salt.as_bytes(), given.as_bytes()]);
    if bool::from(digest.as_bytes().ct_eq(pending.digest.as_bytes())) {
        Ok(CodeCheck::Correct)
    } else {
        Ok(CodeCheck::Wrong)
    }
}

pub fn mismatch() -> Error {
    Error::new(
        ErrorKind::CodeMismatch,
        "Invalid verification code provided, please try again.",
    )
}

/// Validates the shape of a code input (Cognito: `[\S]+`, 1..=2048).
pub fn check_input(code: &str) -> Result<(), Error> {
    if code.is_empty() || code.len() > 2048 || code.chars().any(char::is_whitespace) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRandom;

    #[test]
    fn codes_check_expire_and_limit() {
        let r = SeededRandom::new(3);
        let (code, mut pending) = issue(&r, CodePurpose::SignUp, None, 1000, 500);
        assert_eq!(code.expose().len(), 6);
        assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        assert!(!pending.digest.contains(code.expose()));
        assert_eq!(
            check(&pending, CodePurpose::SignUp, code.expose(), 1000).unwrap(),
            CodeCheck::Correct
        );
        assert_eq!(
            check(&pending, CodePurpose::SignUp, "000000x", 1000).unwrap(),
            CodeCheck::Wrong
        );
        assert_eq!(
            check(&pending, CodePurpose::SignUp, code.expose(), 1500)
                .unwrap_err()
                .kind,
            ErrorKind::ExpiredCode
        );
        pending.failed_attempts = MAX_ATTEMPTS;
        assert_eq!(
            check(&pending, CodePurpose::SignUp, code.expose(), 1000)
                .unwrap_err()
                .kind,
            ErrorKind::LimitExceeded
        );
    }
}
