//! Codes and messages to users: which contact a code goes to, the code itself on the user
//! record, the message from the pool's template, and the masked delivery details the API
//! answers with.

use alloc::format;
use alloc::string::{String, ToString};

use crate::code::{self, CodeCheck, CodePurpose};
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::ports::{Env, Medium, Message};
use crate::user::{self, UserRecord};

/// Where a code went, as Cognito reports it (`CodeDeliveryDetailsType`): the destination masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDelivery {
    pub destination: String,
    pub medium: Medium,
    pub attribute: String,
}

impl CodeDelivery {
    /// The details of a code sent to `attribute` at `destination`.
    pub fn to(attribute: &str, destination: &str) -> Self {
        Self {
            destination: user::mask_destination(destination),
            medium: medium_of(attribute),
            attribute: attribute.to_string(),
        }
    }

    /// What PreventUserExistenceErrors answers for an unknown user: a plausible delivery, so the
    /// response does not tell whether the user exists.
    pub fn decoy(pool: &PoolRecord, name: &str) -> Self {
        let (medium, attribute, destination) = if user::looks_like_phone(name) {
            (Medium::Sms, "phone_number", user::mask_destination(name))
        } else if user::looks_like_email(name) {
            (Medium::Email, "email", user::mask_destination(name))
        } else if pool.auto_verifies("phone_number") && !pool.auto_verifies("email") {
            (Medium::Sms, "phone_number", "+*******0000".to_string())
        } else {
            (
                Medium::Email,
                "email",
                format!("{}***@e***", name.chars().next().unwrap_or('u')),
            )
        };
        Self {
            destination,
            medium,
            attribute: attribute.to_string(),
        }
    }
}

/// The medium of a contact attribute.
pub fn medium_of(attribute: &str) -> Medium {
    if attribute == "phone_number" {
        Medium::Sms
    } else {
        Medium::Email
    }
}

/// A code message from the pool's verification template (`{####}` is the code, `{username}` the
/// user). Cognito sends sign-up, attribute verification and password reset codes with it (only a
/// custom message plugin tells them apart, by its trigger source).
pub fn verification(
    pool: &PoolRecord,
    user: &UserRecord,
    attribute: &str,
    destination: &str,
    purpose: &str,
    code: crate::Secret,
) -> Message {
    let medium = medium_of(attribute);
    let (subject, body) = crate::delivery::verification_template(pool, medium);
    crate::delivery::compose(
        pool,
        &user.username,
        medium,
        destination,
        purpose,
        subject,
        &body,
        code,
    )
}

/// A sign-up confirmation email that carries a link instead of a bare code (a pool whose
/// `DefaultEmailOption` is `CONFIRM_WITH_LINK`): the pool's link template, each `{##text##}`
/// a link to the hosted UI's `/confirmUser` at `hosted_ui` (its domain, see
/// `crate::oidc::domain::hosted_ui_base`) for `client_id`.
pub fn confirmation_link(
    pool: &PoolRecord,
    user: &UserRecord,
    destination: &str,
    purpose: &str,
    hosted_ui: &str,
    client_id: &str,
    code: crate::Secret,
) -> Message {
    use crate::codec::url_encode;
    let url = format!(
        "{hosted_ui}/confirmUser?client_id={}&user_name={}&confirmation_code={}",
        url_encode(client_id),
        url_encode(&user.username),
        url_encode(code.expose()),
    );
    let (subject, template) = crate::delivery::link_template(pool);
    let mut message = crate::delivery::compose(
        pool,
        &user.username,
        Medium::Email,
        destination,
        purpose,
        subject,
        &crate::delivery::fill_link(&template, &url),
        code,
    );
    message.link = Some(url);
    message
}

/// Puts a fresh code of `purpose` for `attribute` on the record; returns the plain code.
pub fn put_code(
    env: &dyn Env,
    record: &mut UserRecord,
    purpose: CodePurpose,
    attribute: &str,
) -> crate::Secret {
    let (secret, pending) = code::issue(
        env.random(),
        purpose,
        Some(attribute.to_string()),
        env.clock().now_millis(),
        purpose.ttl_millis(),
    );
    record.codes.insert(purpose.slot(Some(attribute)), pending);
    secret
}

/// Checks a code in its slot on the record, counting a wrong guess. On success the code is
/// removed and its attribute returned; a wrong code is the inner error (the caller saves the
/// counted attempt, then fails).
pub fn take_code(
    record: &mut UserRecord,
    purpose: CodePurpose,
    attribute: Option<&str>,
    given: &str,
    now: u64,
) -> Result<Result<Option<String>, Error>, Error> {
    let slot = purpose.slot(attribute);
    let pending = record
        .codes
        .get(&slot)
        .cloned()
        .ok_or_else(code::mismatch)?;
    match code::check(&pending, purpose, given, now)? {
        CodeCheck::Wrong => {
            if let Some(p) = record.codes.get_mut(&slot) {
                p.failed_attempts += 1;
            }
            Ok(Err(code::mismatch()))
        }
        CodeCheck::Correct => {
            record.codes.remove(&slot);
            Ok(Ok(pending.attribute))
        }
    }
}
