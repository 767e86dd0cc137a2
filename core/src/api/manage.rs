//! User management: the administrator's operations (AdminCreateUser, AdminSetUserPassword, ...)
//! and the signed-in user's own (UpdateUserAttributes, ChangePassword, ForgotPassword, ...),
//! the NEW_PASSWORD_REQUIRED challenge, sign-out and token revocation.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::users::{
    AdminUser, AttributeType, client_and_pool, decoy_delivery, outcome_json,
    unverify_previous_holders,
};
use super::wire::{
    AccessTokenRequest, ChangePasswordRequest, ConfirmForgotPasswordRequest,
    DeleteUserAttributesRequest, ForgotPasswordRequest, GetTokensFromRefreshTokenRequest,
    GetUserAttributeVerificationCodeRequest, RespondToAuthChallengeRequest, RevokeTokenRequest,
    UpdateUserAttributesRequest, VerifyUserAttributeRequest,
};
use super::{Ctx, attribute_map, decode_token, encode_token, input};
use crate::auth::{self, RefreshIssue, Session, SignInOutcome};
use crate::code::{self, CodeCheck, CodePurpose};
use crate::error::{Error, ErrorKind};
use crate::pool::{self, AppClient, PoolRecord};
use crate::ports::{Medium, Message};
use crate::store::{Expect, StoreError};
use crate::user::{self, Step, UserRecord, UserStatus};

fn unsupported_state(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnsupportedUserState, message)
}

async fn admin_target(
    ctx: &Ctx<'_>,
    pool_id: &str,
    username: &str,
) -> Result<(PoolRecord, UserRecord), Error> {
    user::check_username(username)?;
    let (pool, _) = pool::load_pool(ctx.env, pool_id).await?;
    let (record, _) = user::resolve_existing(ctx.env, &pool, username).await?;
    Ok((pool, record))
}

/// A message to a user, from a template with `{####}` (the code) and `{username}`.
#[allow(clippy::too_many_arguments)] // each is one field of the message
fn message(
    pool: &PoolRecord,
    user: &UserRecord,
    medium: Medium,
    destination: &str,
    purpose: &str,
    subject: String,
    template: String,
    code: crate::Secret,
) -> Message {
    crate::delivery::compose(
        pool,
        &user.username,
        medium,
        destination,
        purpose,
        subject,
        &template,
        code,
    )
}

fn medium_of(attribute: &str) -> Medium {
    if attribute == "phone_number" {
        Medium::Sms
    } else {
        Medium::Email
    }
}

fn delivery_details(attribute: &str, destination: &str) -> Value {
    let details = super::wire::CodeDeliveryDetails {
        destination: user::mask_destination(destination),
        delivery_medium: if attribute == "phone_number" {
            "SMS"
        } else {
            "EMAIL"
        }
        .into(),
        attribute_name: attribute.into(),
    };
    serde_json::to_value(details).unwrap_or_default()
}

/// Puts a fresh code of `purpose` for `attribute` on the record; returns the plain code.
fn put_code(
    ctx: &Ctx<'_>,
    record: &mut UserRecord,
    purpose: CodePurpose,
    attribute: &str,
) -> crate::Secret {
    let (secret, pending) = code::issue(
        ctx.env.random(),
        purpose,
        Some(attribute.to_string()),
        ctx.env.clock().now_millis(),
        purpose.ttl_millis(),
    );
    record.codes.insert(purpose.slot(Some(attribute)), pending);
    secret
}

/// Checks a code in its slot on the record, counting a wrong guess. On success the code is
/// removed and its attribute returned.
fn take_code(
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

// ---------------------------------------------------------------------------------------------
// AdminCreateUser

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUser {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    temporary_password: Option<String>,
    #[serde(default)]
    message_action: Option<String>,
    #[serde(default)]
    desired_delivery_mediums: Vec<String>,
    #[serde(default)]
    force_alias_creation: bool,
    #[serde(default)]
    validation_data: Vec<AttributeType>,
    #[serde(default)]
    client_metadata: BTreeMap<String, String>,
}

fn invite_template(pool: &PoolRecord, medium: Medium) -> (String, String) {
    crate::delivery::invitation_template(pool, medium)
}

/// Sends the invitation with the temporary password to the mediums asked for.
async fn send_invitation(
    ctx: &Ctx<'_>,
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
        let (subject, body) = invite_template(pool, kind);
        let m = message(
            pool,
            record,
            kind,
            destination,
            "AdminCreateUser",
            subject,
            body,
            crate::Secret::new(password),
        );
        crate::trigger::deliver(
            ctx.env,
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
    ctx: &Ctx<'_>,
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
            ctx.env.random(),
            pool.password_policy(),
        )),
    }
}

fn temporary_expiry(pool: &PoolRecord, now: u64) -> u64 {
    let days = u64::from(
        pool.password_policy()
            .temporary_password_validity_days
            .max(1),
    );
    now.saturating_add(days * 86_400_000)
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

pub(super) async fn admin_create_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminCreateUser = input(body)?;
    user::check_username(&req.username)?;
    check_mediums(&req.desired_delivery_mediums)?;
    let mediums = if req.desired_delivery_mediums.is_empty() {
        alloc::vec!["SMS".to_string()]
    } else {
        req.desired_delivery_mediums.clone()
    };
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let now = ctx.env.clock().now_millis();
    match req.message_action.as_deref() {
        None | Some("SUPPRESS") => {}
        Some("RESEND") => {
            let (existing, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
            let password = temporary_password(ctx, &pool, req.temporary_password.as_deref())?;
            let mut salt = [0u8; 16];
            ctx.env.random().fill(&mut salt);
            let hash = ctx
                .env
                .passwords()
                .hash(&password, salt, pool.hash_params())
                .await?;
            let (record, ()) = user::modify(ctx.env, &pool, &existing.username, |u| {
                if u.status != UserStatus::ForceChangePassword {
                    return Err(unsupported_state("User is already confirmed."));
                }
                u.password_hash = Some(hash.clone());
                u.temporary_password_expires_millis = Some(temporary_expiry(&pool, now));
                Ok(Step::Save(()))
            })
            .await?;
            send_invitation(ctx, &pool, &record, &mediums, &password).await?;
            return Ok(json!({ "User": list_wire(&record, None) }));
        }
        Some(other) => {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]",
                other.chars().take(32).collect::<String>()
            )));
        }
    }
    let mut attributes = attribute_map(&req.user_attributes)?;
    let sub = crate::ids::uuid_v4(ctx.env.random());
    let (username, unique_alias) = if pool.username_attributes.is_empty() {
        (req.username.clone(), None)
    } else {
        let attr = if user::looks_like_email(&req.username)
            && pool.username_attributes.iter().any(|a| a == "email")
        {
            "email"
        } else if user::looks_like_phone(&req.username)
            && pool.username_attributes.iter().any(|a| a == "phone_number")
        {
            "phone_number"
        } else {
            return Err(Error::invalid_parameter(
                "Username should be either an email or a phone number.",
            ));
        };
        attributes.insert(attr.to_string(), req.username.clone());
        (sub.clone(), Some(attr))
    };
    // Required attributes may be left to the user (NEW_PASSWORD_REQUIRED collects them).
    user::validate_values(&pool, &mut attributes, true)?;
    // Without DesiredDeliveryMediums (SMS by default) the user is created even when it has no
    // phone number: the invitation just goes nowhere. Only a medium asked for explicitly, that
    // the user has no attribute for, is refused.
    let asked = &req.desired_delivery_mediums;
    if req.message_action.is_none()
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
    let password = temporary_password(ctx, &pool, req.temporary_password.as_deref())?;
    let decision = crate::trigger::pre_sign_up(
        ctx.env,
        &pool,
        "PreSignUp_AdminCreateUser",
        &username,
        None,
        &attributes,
        crate::trigger::string_map(&attribute_map(&req.validation_data)?),
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    super::users::apply_auto_verify(&mut attributes, decision);
    let username_key = pool.normalize_username(&username);
    if unique_alias.is_none() && user::load(ctx.env, &pool, &username).await?.is_some() {
        return Err(Error::new(
            ErrorKind::UsernameExists,
            "User account already exists",
        ));
    }
    let mut salt = [0u8; 16];
    ctx.env.random().fill(&mut salt);
    let hash = ctx
        .env
        .passwords()
        .hash(&password, salt, pool.hash_params())
        .await?;
    let mut record = UserRecord::new(
        username,
        sub,
        attributes,
        UserStatus::ForceChangePassword,
        Some(hash),
        now,
    );
    record.temporary_password_expires_millis = Some(temporary_expiry(&pool, now));
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        let exists = Error::new(
            ErrorKind::UsernameExists,
            format!("An account with the given {attr} already exists."),
        );
        user::reserve_alias(ctx.env, &pool, attr, &value, &username_key, false, exists).await?;
    }
    let moved = reserve_new_aliases(ctx, &pool, &record, None, req.force_alias_creation).await?;
    match user::save(ctx.env, &pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::UsernameExists,
                "User account already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    unverify_previous_holders(ctx, &pool, moved).await?;
    if req.message_action.is_none() {
        send_invitation(ctx, &pool, &record, &mediums, &password).await?;
    }
    Ok(json!({ "User": list_wire(&record, None) }))
}

/// The alias values (AliasAttributes) `after` holds and `before` did not, reserved before the
/// record is written. Returns the users an alias was moved from (ForceAliasCreation).
async fn reserve_new_aliases(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    after: &UserRecord,
    before: Option<&UserRecord>,
    force: bool,
) -> Result<Vec<(String, String)>, Error> {
    let key = pool.normalize_username(&after.username);
    let mut moved = Vec::new();
    let attrs: Vec<String> = pool
        .alias_attributes
        .iter()
        .chain(pool.username_attributes.iter())
        .cloned()
        .collect();
    for attr in &attrs {
        let eligible = |u: &UserRecord| {
            !pool.username_attributes.is_empty()
                || attr == "preferred_username"
                || u.is_verified(attr)
        };
        let Some(value) = after.attribute(attr).filter(|_| eligible(after)) else {
            continue;
        };
        let held_before = before.is_some_and(|b| {
            eligible(b)
                && b.attribute(attr)
                    .map(|v| user::normalize_alias(pool, attr, v))
                    == Some(user::normalize_alias(pool, attr, value))
        });
        if held_before {
            continue;
        }
        let exists = Error::new(
            ErrorKind::AliasExists,
            format!("An account with the given {attr} already exists."),
        );
        if let Some(previous) =
            user::reserve_alias(ctx.env, pool, attr, value, &key, force, exists).await?
        {
            moved.push((previous, attr.clone()));
        }
    }
    Ok(moved)
}

/// Releases aliases `before` held that `after` no longer holds.
async fn release_old_aliases(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    before: &UserRecord,
    after: &UserRecord,
) -> Result<(), Error> {
    let key = pool.normalize_username(&before.username);
    for attr in ["email", "phone_number", "preferred_username"] {
        let Some(old) = before.attribute(attr) else {
            continue;
        };
        let same = after
            .attribute(attr)
            .map(|v| user::normalize_alias(pool, attr, v))
            == Some(user::normalize_alias(pool, attr, old));
        let still_eligible = !pool.username_attributes.is_empty()
            || attr == "preferred_username"
            || after.is_verified(attr);
        if !same || !still_eligible {
            user::release_alias(ctx.env, pool, attr, old, &key).await?;
        }
    }
    Ok(())
}

/// ListUsers' and AdminCreateUser's `UserType` (attributes under `Attributes`).
pub(super) fn list_wire(record: &UserRecord, only: Option<&[String]>) -> Value {
    let mut out = record.to_admin_wire();
    if let Value::Object(map) = &mut out {
        let attributes = map.remove("UserAttributes").unwrap_or(Value::Null);
        let attributes = match (only, attributes) {
            (Some(names), Value::Array(list)) => Value::Array(
                list.into_iter()
                    .filter(|a| {
                        a.get("Name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| names.iter().any(|x| x == n))
                    })
                    .collect(),
            ),
            (_, other) => other,
        };
        map.insert("Attributes".into(), attributes);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Deleting, disabling, passwords

pub(super) async fn admin_delete_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    delete_user_record(ctx, &pool, &found.username).await?;
    Ok(json!({}))
}

async fn delete_user_record(ctx: &Ctx<'_>, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    for _ in 0..8 {
        let (record, version) = user::load(ctx.env, pool, username)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
        match user::delete(ctx.env, pool, &record, version).await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind == ErrorKind::TooManyRequests => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "The user changed while it was being deleted; try again.",
    ))
}

pub(super) async fn admin_set_enabled(
    ctx: &Ctx<'_>,
    body: Value,
    enabled: bool,
) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let now = ctx.env.clock().now_millis();
    user::modify(ctx.env, &pool, &found.username, |u| {
        if u.enabled == enabled {
            return Ok(Step::Keep(()));
        }
        u.enabled = enabled;
        if !enabled {
            // Cognito: disabling "revokes all access tokens for the user"; they stay revoked
            // when the user is enabled again (as after a global sign-out).
            u.tokens_valid_after_millis = now;
            u.revoked_sessions.clear();
        }
        Ok(Step::Save(()))
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminSetUserPassword {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

async fn hash_new_password(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    password: &str,
) -> Result<String, Error> {
    crate::password::check_input(password)?;
    pool.password_policy().check(password)?;
    let mut salt = [0u8; 16];
    ctx.env.random().fill(&mut salt);
    ctx.env
        .passwords()
        .hash(password, salt, pool.hash_params())
        .await
}

pub(super) async fn admin_set_user_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminSetUserPassword = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let hash = hash_new_password(ctx, &pool, &req.password).await?;
    let now = ctx.env.clock().now_millis();
    user::modify(ctx.env, &pool, &found.username, |u| {
        u.password_hash = Some(hash.clone());
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        u.codes.remove(&CodePurpose::ForgotPassword.slot(None));
        if req.permanent {
            u.status = UserStatus::Confirmed;
            u.temporary_password_expires_millis = None;
        } else {
            u.status = UserStatus::ForceChangePassword;
            u.temporary_password_expires_millis = Some(temporary_expiry(&pool, now));
        }
        Ok(Step::Save(()))
    })
    .await?;
    Ok(json!({}))
}

/// The verified contact a password-reset code goes to: email first, then phone number.
fn recovery_contact(record: &UserRecord) -> Option<(&'static str, String)> {
    ["email", "phone_number"].into_iter().find_map(|attr| {
        record
            .attribute(attr)
            .filter(|_| record.is_verified(attr))
            .map(|v| (attr, v.to_string()))
    })
}

fn reset_message(
    pool: &PoolRecord,
    record: &UserRecord,
    attr: &str,
    destination: &str,
    code: crate::Secret,
) -> Message {
    // Cognito sends a reset code with the verification template (only a custom message
    // plugin tells the two apart, by its trigger source).
    let (subject, body) = crate::delivery::verification_template(pool, medium_of(attr));
    message(
        pool,
        record,
        medium_of(attr),
        destination,
        "ForgotPassword",
        subject,
        body,
        code,
    )
}

pub(super) async fn admin_reset_user_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let mut outgoing = None;
    let (record, ()) = user::modify(ctx.env, &pool, &found.username, |u| {
        if !u.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        if u.status == UserStatus::Unconfirmed {
            return Err(Error::not_authorized(
                "User password cannot be reset in the current state.",
            ));
        }
        u.status = UserStatus::ResetRequired;
        outgoing = recovery_contact(u).map(|(attr, dest)| {
            let secret = put_code(ctx, u, CodePurpose::ForgotPassword, attr);
            (attr, dest, secret)
        });
        Ok(Step::Save(()))
    })
    .await?;
    if let Some((attr, dest, secret)) = outgoing {
        crate::trigger::deliver(
            ctx.env,
            &pool,
            &record,
            reset_message(&pool, &record, attr, &dest, secret),
            crate::trigger::MessageSource::ForgotPassword,
            None,
        )
        .await?;
    }
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Attributes

/// Which attributes keep their old value until a code confirms the new one.
fn verify_before_update(pool: &PoolRecord, attribute: &str) -> bool {
    pool.settings
        .user_attribute_update_settings
        .as_ref()
        .and_then(|s| s.get("AttributesRequireVerificationBeforeUpdate"))
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|v| v.as_str() == Some(attribute)))
}

/// Applies attribute updates to a record. Returns the attributes a verification code must go
/// to (`(attribute, destination)`).
fn apply_updates(
    pool: &PoolRecord,
    record: &mut UserRecord,
    updates: &BTreeMap<String, String>,
    admin: bool,
) -> Result<Vec<(String, String)>, Error> {
    for name in updates.keys() {
        if let Some(schema) = pool.schema_attribute(name)
            && !schema.mutable
            && record
                .attribute(name)
                .is_some_and(|v| Some(v) != updates.get(name).map(String::as_str))
        {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute cannot be updated. (changing an immutable attribute)"
            )));
        }
        if !pool.username_attributes.is_empty()
            && pool.username_attributes.iter().any(|a| a == name)
            && updates.get(name).is_some_and(|v| v.is_empty())
        {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: The attribute is required"
            )));
        }
    }
    let mut to_verify = Vec::new();
    for (name, value) in updates {
        if name.ends_with("_verified") {
            continue;
        }
        let contact = name == "email" || name == "phone_number";
        let changed = record.attribute(name) != Some(value.as_str());
        if !contact || !changed {
            record.attributes.insert(name.clone(), value.clone());
            if contact {
                record.pending_attributes.remove(name);
            }
            continue;
        }
        let verified_flag = format!("{name}_verified");
        let marked_verified =
            admin && updates.get(&verified_flag).map(String::as_str) == Some("true");
        if marked_verified {
            record.attributes.insert(name.clone(), value.clone());
            record.pending_attributes.remove(name);
        } else if verify_before_update(pool, name) && record.is_verified(name) {
            record
                .pending_attributes
                .insert(name.clone(), value.clone());
            to_verify.push((name.clone(), value.clone()));
        } else {
            record.attributes.insert(name.clone(), value.clone());
            record.attributes.insert(verified_flag, "false".to_string());
            record.pending_attributes.remove(name);
            if pool.auto_verifies(name) {
                to_verify.push((name.clone(), value.clone()));
            }
        }
    }
    for (name, value) in updates {
        if name.ends_with("_verified") {
            record.attributes.insert(name.clone(), value.clone());
        }
    }
    user::check_required(pool, &record.attributes)?;
    Ok(to_verify)
}

/// Sends verification codes for changed contact attributes; returns `CodeDeliveryDetailsList`.
async fn send_verifications(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    username: &str,
    targets: Vec<(String, String)>,
    source: crate::trigger::MessageSource,
) -> Result<Vec<Value>, Error> {
    let mut details = Vec::new();
    for (attr, destination) in targets {
        let mut secret = None;
        let (record, ()) = user::modify(ctx.env, pool, username, |u| {
            secret = Some(put_code(ctx, u, CodePurpose::VerifyAttribute, &attr));
            Ok(Step::Save(()))
        })
        .await?;
        let secret = secret.ok_or_else(|| Error::internal("no code issued"))?;
        let (subject, body) = super::users::template_text(pool, medium_of(&attr));
        let m = message(
            pool,
            &record,
            medium_of(&attr),
            &destination,
            "VerifyUserAttribute",
            subject,
            body,
            secret,
        );
        crate::trigger::deliver(ctx.env, pool, &record, m, source, None).await?;
        details.push(delivery_details(&attr, &destination));
    }
    Ok(details)
}

async fn update_attributes(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    username: &str,
    list: &[AttributeType],
    admin: bool,
) -> Result<Vec<Value>, Error> {
    let mut updates = attribute_map(list)?;
    user::validate_values(pool, &mut updates, admin)?;
    let (before, _) = user::load(ctx.env, pool, username)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
    // Reserve the aliases the update will give the user before writing it.
    let mut preview = before.clone();
    apply_updates(pool, &mut preview, &updates, admin)?;
    let moved = reserve_new_aliases(ctx, pool, &preview, Some(&before), false).await?;
    let (after, targets) = user::modify(ctx.env, pool, username, |u| {
        Ok(Step::Save(apply_updates(pool, u, &updates, admin)?))
    })
    .await?;
    unverify_previous_holders(ctx, pool, moved).await?;
    release_old_aliases(ctx, pool, &before, &after).await?;
    send_verifications(
        ctx,
        pool,
        &after.username,
        targets,
        crate::trigger::MessageSource::UpdateUserAttribute,
    )
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUpdateUserAttributes {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
}

pub(super) async fn admin_update_user_attributes(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminUpdateUserAttributes = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    update_attributes(ctx, &pool, &found.username, &req.user_attributes, true).await?;
    Ok(json!({}))
}

pub(super) async fn update_user_attributes(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: UpdateUserAttributesRequest = input(body)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    let details =
        update_attributes(ctx, &pool, &record.username, &req.user_attributes, false).await?;
    Ok(json!({ "CodeDeliveryDetailsList": details }))
}

fn delete_attributes(pool: &PoolRecord, u: &mut UserRecord, names: &[String]) -> Result<(), Error> {
    for name in names {
        let Some(schema) = pool.schema_attribute(name) else {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        };
        if name == "sub" || schema.required || pool.username_attributes.iter().any(|a| a == name) {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: The attribute is required"
            )));
        }
        if !schema.mutable {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute cannot be updated. (changing an immutable attribute)"
            )));
        }
        u.attributes.remove(name);
        u.pending_attributes.remove(name);
        if name == "email" || name == "phone_number" {
            u.attributes.remove(&format!("{name}_verified"));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminDeleteUserAttributes {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

async fn delete_attributes_of(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    username: &str,
    names: &[String],
) -> Result<(), Error> {
    let (before, _) = user::load(ctx.env, pool, username)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
    let (after, ()) = user::modify(ctx.env, pool, username, |u| {
        delete_attributes(pool, u, names)?;
        Ok(Step::Save(()))
    })
    .await?;
    release_old_aliases(ctx, pool, &before, &after).await
}

pub(super) async fn admin_delete_user_attributes(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminDeleteUserAttributes = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    delete_attributes_of(ctx, &pool, &found.username, &req.user_attribute_names).await?;
    Ok(json!({}))
}

pub(super) async fn delete_user_attributes(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: DeleteUserAttributesRequest = input(body)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    delete_attributes_of(ctx, &pool, &record.username, &req.user_attribute_names).await?;
    Ok(json!({}))
}

fn check_contact_attribute(name: &str) -> Result<(), Error> {
    if name == "email" || name == "phone_number" {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "Only email and phone_number can be verified, not {}.",
            name.chars().take(64).collect::<String>()
        )))
    }
}

pub(super) async fn get_user_attribute_verification_code(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: GetUserAttributeVerificationCodeRequest = input(body)?;
    check_contact_attribute(&req.attribute_name)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    let destination = record
        .pending_attributes
        .get(&req.attribute_name)
        .map(String::as_str)
        .or_else(|| record.attribute(&req.attribute_name))
        .ok_or_else(|| {
            Error::invalid_parameter(format!("The user has no {} to verify.", req.attribute_name))
        })?
        .to_string();
    let mut details = send_verifications(
        ctx,
        &pool,
        &record.username,
        alloc::vec![(req.attribute_name.clone(), destination)],
        crate::trigger::MessageSource::VerifyUserAttribute,
    )
    .await?;
    Ok(json!({ "CodeDeliveryDetails": details.pop().unwrap_or(Value::Null) }))
}

pub(super) async fn verify_user_attribute(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: VerifyUserAttributeRequest = input(body)?;
    check_contact_attribute(&req.attribute_name)?;
    code::check_input(&req.code)?;
    let (pool, before, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    let now = ctx.env.clock().now_millis();
    let attr = req.attribute_name.clone();
    // The value that will be verified: a pending new value, else the current one.
    let mut preview = before.clone();
    if let Some(v) = preview.pending_attributes.get(&attr).cloned() {
        preview.attributes.insert(attr.clone(), v);
    }
    preview
        .attributes
        .insert(format!("{attr}_verified"), "true".into());
    let verified_value = preview.attribute(&attr).map(str::to_string);
    let (after, ()) = user::modify(ctx.env, &pool, &before.username, |u| {
        match take_code(u, CodePurpose::VerifyAttribute, Some(&attr), &req.code, now)? {
            Err(wrong) => Ok(Step::SaveThenFail(wrong)),
            Ok(_) => {
                // The code was sent to one value; if the attribute changed since, it proves
                // nothing about the new one.
                let current = u
                    .pending_attributes
                    .get(&attr)
                    .cloned()
                    .or_else(|| u.attribute(&attr).map(str::to_string));
                if current != verified_value {
                    return Ok(Step::SaveThenFail(code::mismatch()));
                }
                if let Some(v) = u.pending_attributes.remove(&attr) {
                    u.attributes.insert(attr.clone(), v);
                }
                u.attributes
                    .insert(format!("{attr}_verified"), "true".into());
                Ok(Step::Save(()))
            }
        }
    })
    .await?;
    let moved = reserve_new_aliases(ctx, &pool, &after, Some(&before), false).await;
    match moved {
        Ok(moved) => unverify_previous_holders(ctx, &pool, moved).await?,
        // Another user holds this alias: the attribute is verified, but cannot sign in.
        Err(e) if e.kind == ErrorKind::AliasExists => {}
        Err(e) => return Err(e),
    }
    release_old_aliases(ctx, &pool, &before, &after).await?;
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Self-service account operations

pub(super) async fn delete_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    delete_user_record(ctx, &pool, &record.username).await?;
    Ok(json!({}))
}

pub(super) async fn global_sign_out(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    auth::global_sign_out(ctx.env, &pool, &record.username).await?;
    Ok(json!({}))
}

pub(super) async fn admin_user_global_sign_out(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    auth::global_sign_out(ctx.env, &pool, &found.username).await?;
    Ok(json!({}))
}

pub(super) async fn change_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ChangePasswordRequest = input(body)?;
    let (pool, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    let previous = req.previous_password.as_deref().ok_or_else(|| {
        Error::invalid_parameter("PreviousPassword is required for users that have a password.")
    })?;
    crate::password::check_input(previous)?;
    let now = ctx.env.clock().now_millis();
    if record.locked_until_millis > now {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "Attempt limit exceeded, please try after some time.",
        ));
    }
    let current = record
        .password_hash
        .clone()
        .ok_or_else(Error::bad_credentials)?;
    let check = ctx
        .env
        .passwords()
        .verify(previous, &current, pool.hash_params())
        .await?;
    if check == crate::ports::PasswordCheck::Mismatch {
        // Wrong previous passwords count toward the lockout, as failed sign-ins do.
        auth::record_failure(ctx.env, &pool, &record.username).await?;
        return Err(Error::bad_credentials());
    }
    let hash = hash_new_password(ctx, &pool, &req.proposed_password).await?;
    user::modify(ctx.env, &pool, &record.username, |u| {
        if u.password_hash.as_deref() != Some(current.as_str()) {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "The password changed concurrently; try again.",
            ));
        }
        u.password_hash = Some(hash.clone());
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(Step::Save(()))
    })
    .await?;
    Ok(json!({}))
}

pub(super) async fn forgot_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ForgotPasswordRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let mut found = user::resolve(ctx.env, &pool, &req.username)
        .await?
        .map(|(u, _)| u);
    if found.is_none()
        && crate::trigger::configured(&pool, crate::trigger::TriggerKind::UserMigration).is_some()
    {
        // Unknown here: a user migration plugin may know them; they arrive needing a reset.
        pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
        if let Some(migration) = crate::trigger::user_migration(
            ctx.env,
            &pool,
            "UserMigration_ForgotPassword",
            &req.username,
            &client.client_id,
            None,
            crate::trigger::string_map(&req.client_metadata),
        )
        .await?
        {
            let migration = crate::trigger::Migration {
                final_status: UserStatus::ResetRequired,
                ..migration
            };
            found = Some(
                crate::trigger::store_migrated_user(ctx.env, &pool, &req.username, None, migration)
                    .await?,
            );
        }
    }
    let Some(found) = found else {
        pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
        if client.prevents_user_existence_errors() {
            return Ok(json!({ "CodeDeliveryDetails": decoy_delivery(&pool, &req.username) }));
        }
        return Err(Error::new(
            ErrorKind::UserNotFound,
            "Username/client id combination not found.",
        ));
    };
    pool::check_secret_hash(
        &client,
        req.secret_hash.as_deref(),
        &[&req.username, &found.username],
    )?;
    let mut outgoing = None;
    let (record, ()) = user::modify(ctx.env, &pool, &found.username, |u| {
        if !u.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let (attr, dest) = recovery_contact(u).ok_or_else(|| {
            Error::invalid_parameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number",
            )
        })?;
        let secret = put_code(ctx, u, CodePurpose::ForgotPassword, attr);
        outgoing = Some((attr, dest, secret));
        Ok(Step::Save(()))
    })
    .await?;
    let (attr, dest, secret) = outgoing.ok_or_else(|| Error::internal("no code issued"))?;
    crate::trigger::deliver(
        ctx.env,
        &pool,
        &record,
        reset_message(&pool, &record, attr, &dest, secret),
        crate::trigger::MessageSource::ForgotPassword,
        Some(&client.client_id),
    )
    .await?;
    Ok(json!({ "CodeDeliveryDetails": delivery_details(attr, &dest) }))
}

pub(super) async fn confirm_forgot_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ConfirmForgotPasswordRequest = input(body)?;
    user::check_username(&req.username)?;
    code::check_input(&req.confirmation_code)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let Some((found, _)) = user::resolve(ctx.env, &pool, &req.username).await? else {
        pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
        if client.prevents_user_existence_errors() {
            // What a known user with a wrong code gets, after the same work: the new password
            // is checked against the policy and hashed (a weak one is InvalidPasswordException
            // for everyone, and the time taken does not tell either).
            hash_new_password(ctx, &pool, &req.password).await?;
            return Err(code::mismatch());
        }
        return Err(Error::new(
            ErrorKind::UserNotFound,
            "Username/client id combination not found.",
        ));
    };
    pool::check_secret_hash(
        &client,
        req.secret_hash.as_deref(),
        &[&req.username, &found.username],
    )?;
    let hash = hash_new_password(ctx, &pool, &req.password).await?;
    let now = ctx.env.clock().now_millis();
    let (confirmed, ()) = user::modify(ctx.env, &pool, &found.username, |u| {
        match take_code(
            u,
            CodePurpose::ForgotPassword,
            None,
            &req.confirmation_code,
            now,
        )? {
            Err(wrong) => Ok(Step::SaveThenFail(wrong)),
            Ok(_) => {
                u.password_hash = Some(hash.clone());
                u.failed_sign_ins = 0;
                u.locked_until_millis = 0;
                u.temporary_password_expires_millis = None;
                if matches!(
                    u.status,
                    UserStatus::ResetRequired | UserStatus::ForceChangePassword
                ) {
                    u.status = UserStatus::Confirmed;
                }
                Ok(Step::Save(()))
            }
        }
    })
    .await?;
    crate::trigger::post_confirmation(
        ctx.env,
        &pool,
        "PostConfirmation_ConfirmForgotPassword",
        &confirmed,
        Some(&client.client_id),
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Challenges

pub(super) async fn respond_to_auth_challenge(
    ctx: &Ctx<'_>,
    body: Value,
    admin: bool,
) -> Result<Value, Error> {
    let req: RespondToAuthChallengeRequest = input(body)?;
    let (client, pool) = if admin {
        let pool_id = req.user_pool_id.clone().ok_or_else(|| {
            Error::invalid_parameter(
                "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
            )
        })?;
        let (pool, _) = pool::load_pool(ctx.env, &pool_id).await?;
        let (client, _) = pool::load_pool_client(ctx.env, &pool_id, &req.client_id).await?;
        (client, pool)
    } else {
        client_and_pool(ctx, &req.client_id).await?
    };
    match req.challenge_name.as_str() {
        "NEW_PASSWORD_REQUIRED" => new_password_required(ctx, &pool, &client, &req).await,
        "CUSTOM_CHALLENGE" => {
            let session = req.session.as_deref().ok_or_else(|| {
                Error::invalid_parameter("Session is required for this challenge.")
            })?;
            let (authenticated, _) = crate::trigger::custom_auth_respond(
                ctx.env,
                &pool,
                &client,
                session,
                &req.challenge_responses,
                crate::trigger::string_map(&req.client_metadata),
                &ctx.origin,
            )
            .await?;
            let outcome = crate::auth::sign_in_outcome(
                ctx.env,
                &ctx.issuer(&pool.id),
                &pool,
                &client,
                authenticated,
                &ctx.origin,
            )
            .await?;
            Ok(outcome_json(outcome))
        }
        "SMS_MFA"
        | "SOFTWARE_TOKEN_MFA"
        | "EMAIL_OTP"
        | "SELECT_MFA_TYPE"
        | "MFA_SETUP"
        | "PASSWORD_VERIFIER"
        | "DEVICE_SRP_AUTH"
        | "DEVICE_PASSWORD_VERIFIER"
        | "ADMIN_NO_SRP_AUTH"
        | "SELECT_CHALLENGE"
        | "SMS_OTP"
        | "WEB_AUTHN"
        | "PASSWORD"
        | "PASSWORD_SRP" => Err(Error::invalid_parameter(format!(
            "The {} challenge is not supported by this server yet.",
            req.challenge_name
        ))),
        other => Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'challengeName' failed to satisfy constraint: Member must satisfy enum value set",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

async fn new_password_required(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    client: &AppClient,
    req: &RespondToAuthChallengeRequest,
) -> Result<Value, Error> {
    let session_value = req
        .session
        .as_deref()
        .ok_or_else(|| Error::invalid_parameter("Session is required for this challenge."))?;
    let username = req
        .challenge_responses
        .get("USERNAME")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter USERNAME"))?;
    let new_password = req
        .challenge_responses
        .get("NEW_PASSWORD")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter NEW_PASSWORD"))?;
    let (session, version) = crate::challenge::find(
        ctx.env,
        pool,
        client,
        session_value,
        "NEW_PASSWORD_REQUIRED",
    )
    .await?;
    let (found, _) = user::resolve(ctx.env, pool, username)
        .await?
        .filter(|(u, _)| {
            pool.normalize_username(&u.username) == session.username_key && u.sub == session.sub
        })
        .ok_or_else(|| Error::not_authorized("Invalid session for the user."))?;
    pool::check_secret_hash(
        client,
        req.challenge_responses
            .get("SECRET_HASH")
            .map(String::as_str),
        &[username, &found.username],
    )?;
    let mut updates = BTreeMap::new();
    for (key, value) in &req.challenge_responses {
        if let Some(name) = key.strip_prefix("userAttributes.") {
            updates.insert(name.to_string(), value.clone());
        }
    }
    user::validate_values(pool, &mut updates, false)?;
    // Refuse a missing required attribute before the session is used up, so it can be retried.
    apply_updates(pool, &mut found.clone(), &updates, false)?;
    let hash = hash_new_password(ctx, pool, new_password).await?;
    crate::challenge::finish(ctx.env, pool, session_value, version).await?;
    let (record, targets) = user::modify(ctx.env, pool, &found.username, |u| {
        if u.status != UserStatus::ForceChangePassword {
            return Err(Error::not_authorized("Invalid session for the user."));
        }
        let targets = apply_updates(pool, u, &updates, false)?;
        u.password_hash = Some(hash.clone());
        u.status = UserStatus::Confirmed;
        u.temporary_password_expires_millis = None;
        Ok(Step::Save(targets))
    })
    .await?;
    send_verifications(
        ctx,
        pool,
        &record.username,
        targets,
        crate::trigger::MessageSource::UpdateUserAttribute,
    )
    .await?;
    let now = ctx.env.clock().now_millis();
    let tokens_session = Session {
        origin_jti: crate::ids::uuid_v4(ctx.env.random()),
        event_id: crate::ids::uuid_v4(ctx.env.random()),
        auth_time: now / 1000,
    };
    let issuer = ctx.issuer(&pool.id);
    let tokens = auth::issue_tokens_for(
        ctx.env,
        &issuer,
        pool,
        client,
        &record,
        &tokens_session,
        RefreshIssue::NewSession,
        &auth::Grant::default(),
        crate::trigger::TokenSource::NewPasswordChallenge,
    )
    .await?;
    crate::events::record(ctx.env, pool, &record, client, "SignIn", true, &ctx.origin).await?;
    Ok(outcome_json(SignInOutcome::Tokens(tokens)))
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens: rotation and revocation

/// Checks a `ClientSecret` parameter (GetTokensFromRefreshToken, RevokeToken).
fn check_client_secret(client: &AppClient, given: Option<&str>) -> Result<(), Error> {
    use subtle::ConstantTimeEq;
    match (&client.client_secret, given) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(Error::not_authorized(format!(
            "Client {} is configured with secret but ClientSecret was not received",
            client.client_id
        ))),
        (Some(secret), Some(given)) => {
            if bool::from(secret.expose().as_bytes().ct_eq(given.as_bytes())) {
                Ok(())
            } else {
                Err(Error::not_authorized(
                    "Unable to verify secret hash for client",
                ))
            }
        }
    }
}

pub(super) async fn get_tokens_from_refresh_token(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: GetTokensFromRefreshTokenRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    check_client_secret(&client, req.client_secret.as_deref())?;
    let issuer = ctx.issuer(&pool.id);
    // The secret was checked as ClientSecret; SECRET_HASH does not apply here.
    let mut unsecret = client.clone();
    unsecret.client_secret = None;
    let tokens =
        auth::refresh(ctx.env, &issuer, &pool, &unsecret, &req.refresh_token, None).await?;
    Ok(json!({ "AuthenticationResult": tokens }))
}

pub(super) async fn revoke_token(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: RevokeTokenRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    // RevokeToken's model has no NotAuthorizedException: a refused client is Unauthorized.
    check_client_secret(&client, req.client_secret.as_deref())
        .map_err(|e| Error::new(ErrorKind::Unauthorized, e.message))?;
    if client.settings.enable_token_revocation == Some(false) {
        return Err(Error::new(
            ErrorKind::UnsupportedOperation,
            "Token revocation is not enabled for this app client.",
        ));
    }
    if crate::token::decode_unverified(&req.token).is_some() {
        return Err(Error::new(
            ErrorKind::UnsupportedTokenType,
            "Only refresh tokens can be revoked.",
        ));
    }
    let Some(record) = auth::find_refresh(ctx.env, &pool, &req.token).await? else {
        // RFC 7009: an unknown token is not an error.
        return Ok(json!({}));
    };
    if record.client_id != client.client_id {
        return Err(Error::new(
            ErrorKind::Unauthorized,
            "The token was not issued to this client.",
        ));
    }
    auth::revoke_family(ctx.env, &pool, &record, &client).await?;
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Auth events

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminListUserAuthEvents {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    max_results: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

pub(super) async fn admin_list_user_auth_events(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminListUserAuthEvents = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let limit = req.max_results.unwrap_or(10);
    if !(0..=60).contains(&limit) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60",
        ));
    }
    let prefix = crate::events::events_prefix(&pool.id, &pool.normalize_username(&found.username));
    let after = decode_token(req.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), limit.max(1) as usize)
        .await?;
    let mut events = Vec::new();
    for (_, item) in &page.items {
        let event: crate::events::AuthEvent = serde_json::from_slice(&item.value)?;
        events.push(event.to_wire());
    }
    let mut out = json!({ "AuthEvents": events });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", json!(encode_token(&next)));
    }
    Ok(out)
}
