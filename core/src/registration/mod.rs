//! Registration: users signing themselves up (with a confirmation code) and administrators
//! creating users (with a temporary password and an invitation).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;

pub mod invite;
pub mod sign_up;

/// The username a new user is stored under, and the username attribute it stands for. In pools
/// whose usernames are emails or phone numbers the typed name is that attribute (added to the
/// attributes; with `must_match`, a different value given for it is refused) and the stored
/// username is the `sub`.
fn new_username(
    pool: &PoolRecord,
    given: &str,
    attributes: &mut BTreeMap<String, String>,
    sub: &str,
    must_match: bool,
) -> Result<(String, Option<&'static str>), Error> {
    if pool.username_attributes.is_empty() {
        return Ok((given.to_string(), None));
    }
    let attr = if crate::user::looks_like_email(given)
        && pool.username_attributes.iter().any(|a| a == "email")
    {
        "email"
    } else if crate::user::looks_like_phone(given)
        && pool.username_attributes.iter().any(|a| a == "phone_number")
    {
        "phone_number"
    } else {
        return Err(Error::invalid_parameter(
            "Username should be either an email or a phone number.",
        ));
    };
    if must_match
        && let Some(value) = attributes.get(attr)
        && value != given
    {
        return Err(Error::invalid_parameter(format!(
            "The {attr} attribute must match the username."
        )));
    }
    attributes.insert(attr.to_string(), given.to_string());
    Ok((sub.to_string(), Some(attr)))
}

/// Reserves the username attribute of a new user (pools whose usernames are emails or phone
/// numbers) before the user exists, so two users cannot share it.
async fn reserve_username_attribute(
    env: &dyn crate::ports::Env,
    pool: &PoolRecord,
    attr: &str,
    value: &str,
    username_key: &str,
) -> Result<(), Error> {
    let exists = Error::new(
        ErrorKind::UsernameExists,
        format!("An account with the given {attr} already exists."),
    );
    crate::user::alias::reserve(env, pool, attr, value, username_key, false, exists).await?;
    Ok(())
}

/// The pre sign-up trigger's `autoVerifyEmail` / `autoVerifyPhone`: the attribute, if given, is
/// verified.
fn apply_auto_verify(
    attributes: &mut BTreeMap<String, String>,
    decision: crate::trigger::PreSignUp,
) {
    for (wanted, attr) in [
        (decision.auto_verify_email, "email"),
        (decision.auto_verify_phone, "phone_number"),
    ] {
        if wanted && attributes.contains_key(attr) {
            attributes.insert(format!("{attr}_verified"), "true".to_string());
        }
    }
}
