//! Users an administrator creates: a temporary password and an invitation.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{apply_auto_verify, new_username, reserve_username_attribute};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::{Env, Medium};
use crate::store::{Expect, StoreError};
use crate::user::{self, Step, UserRecord, UserStatus, alias};

fn unsupported_state(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnsupportedUserState, message)
}

/// Sends the invitation with the temporary password to the mediums asked for.
async fn send_invitation(
    env: &dyn Env,
    pool: &PoolRecord,
    record: &UserRecord,
    mediums: &[String],
    password: &str,
) -> Result<(), Error> {
    for medium in mediums {
        let (attribute, kind) = match medium.as_str() {
            "EMAIL" => ("email", Medium::Email),
            _ => ("phone_number", Medium::Sms),
        };
        let Some(destination) = record.attribute(attribute) else {
            continue;
        };
        let (subject, body) = crate::delivery::invitation_template(pool, kind);
        let m = crate::delivery::compose(
            pool,
            &record.username,
            kind,
            destination,
            "AdminCreateUser",
            subject,
            &body,
            crate::Secret::new(password),
        );
        crate::delivery::check_rate(env, &pool.id, destination).await?;
        crate::trigger::deliver(
            env,
            pool,
            record,
            m,
            crate::trigger::MessageSource::AdminCreateUser,
            None,
        )
        .await?;
    }
    Ok(())
}

fn temporary_password(
    env: &dyn Env,
    pool: &PoolRecord,
    given: Option<&str>,
) -> Result<String, Error> {
    match given {
        Some(p) => {
            crate::password::check_input(p)?;
            pool.password_policy().check(p)?;
            Ok(p.to_string())
        }
        None => Ok(crate::password::generate_temporary(
            env.random(),
            pool.password_policy(),
        )),
    }
}

fn check_mediums(mediums: &[String]) -> Result<(), Error> {
    for m in mediums {
        if m != "EMAIL" && m != "SMS" {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'desiredDeliveryMediums' failed to satisfy constraint: Member must satisfy enum value set: [SMS, EMAIL]",
                m.chars().take(32).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// AdminCreateUser's members, parsed.
#[allow(missing_debug_implementations)] // holds the temporary password
pub struct CreateUser<'a> {
    pub username: &'a str,
    pub attributes: BTreeMap<String, String>,
    pub temporary_password: Option<&'a str>,
    pub message_action: Option<&'a str>,
    pub desired_delivery_mediums: Vec<String>,
    pub force_alias_creation: bool,
    pub validation_data: BTreeMap<String, String>,
    pub client_metadata: BTreeMap<String, String>,
}

/// AdminCreateUser: a user with a temporary password, who sets their own at the first sign-in
/// (NEW_PASSWORD_REQUIRED); the invitation goes to the mediums asked for (`RESEND`: again, with
/// a new temporary password).
pub async fn create_user(
    env: &dyn Env,
    pool: &PoolRecord,
    input: CreateUser<'_>,
) -> Result<UserRecord, Error> {
    check_mediums(&input.desired_delivery_mediums)?;
    let mediums = if input.desired_delivery_mediums.is_empty() {
        alloc::vec!["SMS".to_string()]
    } else {
        input.desired_delivery_mediums.clone()
    };
    let now = env.clock().now_millis();
    match input.message_action {
        None | Some("SUPPRESS") => {}
        Some("RESEND") => {
            let (existing, _) = user::resolve_existing(env, pool, input.username).await?;
            let password = temporary_password(env, pool, input.temporary_password)?;
            crate::password::check_breached(env, &password).await?;
            let hash = crate::password::hash(
                env,
                pool.hash_params(),
                pool.srp_user(&existing.username),
                &password,
            )
            .await?;
            let (record, ()) = user::modify(env, pool, &existing.username, |u| {
                if u.status != UserStatus::ForceChangePassword {
                    return Err(unsupported_state("User is already confirmed."));
                }
                u.set_password(&hash);
                u.temporary_password_expires_millis =
                    Some(crate::account::temporary_expiry(pool, now));
                Ok(Step::Save(()))
            })
            .await?;
            send_invitation(env, pool, &record, &mediums, &password).await?;
            return Ok(record);
        }
        Some(other) => {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]",
                other.chars().take(32).collect::<String>()
            )));
        }
    }
    let mut attributes = input.attributes;
    let sub = crate::ids::uuid_v4(env.random());
    let (username, unique_alias) =
        new_username(pool, input.username, &mut attributes, &sub, false)?;
    // Required attributes may be left to the user (NEW_PASSWORD_REQUIRED collects them).
    user::validate_values(pool, &mut attributes, true)?;
    // Without DesiredDeliveryMediums (SMS by default) the user is created even when it has no
    // phone number: the invitation just goes nowhere. Only a medium asked for explicitly, that
    // the user has no attribute for, is refused.
    let asked = &input.desired_delivery_mediums;
    if input.message_action.is_none()
        && !asked.is_empty()
        && !asked.iter().any(|medium| {
            attributes.contains_key(if medium == "EMAIL" {
                "email"
            } else {
                "phone_number"
            })
        })
    {
        return Err(Error::invalid_parameter(
            "User has no attribute matching desired delivery mediums",
        ));
    }
    let password = temporary_password(env, pool, input.temporary_password)?;
    crate::password::check_breached(env, &password).await?;
    let decision = crate::trigger::pre_sign_up(
        env,
        pool,
        "PreSignUp_AdminCreateUser",
        &username,
        None,
        &attributes,
        crate::trigger::string_map(&input.validation_data),
        crate::trigger::string_map(&input.client_metadata),
    )
    .await?;
    apply_auto_verify(&mut attributes, decision);
    let username_key = pool.normalize_username(&username);
    if unique_alias.is_none() && user::load(env, pool, &username).await?.is_some() {
        return Err(Error::new(
            ErrorKind::UsernameExists,
            "User account already exists",
        ));
    }
    let hash =
        crate::password::hash(env, pool.hash_params(), pool.srp_user(&username), &password).await?;
    let mut record = UserRecord::new(
        username,
        sub,
        attributes,
        UserStatus::ForceChangePassword,
        Some(hash),
        now,
    );
    record.temporary_password_expires_millis = Some(crate::account::temporary_expiry(pool, now));
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        reserve_username_attribute(env, pool, attr, &value, &username_key).await?;
    }
    let moved = alias::reserve_new(env, pool, &record, None, input.force_alias_creation).await?;
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::UsernameExists,
                "User account already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    alias::unverify_previous_holders(env, pool, moved).await?;
    if input.message_action.is_none() {
        send_invitation(env, pool, &record, &mediums, &password).await?;
    }
    Ok(record)
}

/// What importing one user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Created,
    /// A user with this username (or username attribute) exists: left alone.
    Exists,
}

/// A user from a CSV import job (`crate::user_import`): stored with status `RESET_REQUIRED`, no
/// password, no message and no trigger (Cognito runs no PreSignUp for imports); the attributes
/// are checked as AdminCreateUser checks them, and aliases reserved the same way. A user who
/// exists is [`Imported::Exists`]; any other refusal is the error.
pub async fn import_user(
    env: &dyn Env,
    pool: &PoolRecord,
    row: crate::user_import::ImportedUser,
) -> Result<Imported, Error> {
    user::check_username(&row.username)?;
    if user::resolve(env, pool, &row.username).await?.is_some() {
        return Ok(Imported::Exists);
    }
    let now = env.clock().now_millis();
    let mut attributes = row.attributes;
    let sub = crate::ids::uuid_v4(env.random());
    let (username, unique_alias) = new_username(pool, &row.username, &mut attributes, &sub, true)?;
    user::validate_values(pool, &mut attributes, true)?;
    let username_key = pool.normalize_username(&username);
    let mut record = UserRecord::new(
        username,
        sub,
        attributes,
        UserStatus::ResetRequired,
        None,
        now,
    );
    if row.mfa_enabled {
        record.mfa.enabled = alloc::vec![crate::pool::mfa::MfaMethod::Sms];
        record.mfa.preferred = Some(crate::pool::mfa::MfaMethod::Sms);
    }
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        match reserve_username_attribute(env, pool, attr, &value, &username_key).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::UsernameExists => return Ok(Imported::Exists),
            Err(e) => return Err(e),
        }
    }
    let moved = alias::reserve_new(env, pool, &record, None, false).await?;
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => return Ok(Imported::Exists),
        Err(e) => return Err(e.into()),
    }
    alias::unverify_previous_holders(env, pool, moved).await?;
    Ok(Imported::Created)
}
