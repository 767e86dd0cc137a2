//! A user's profile: attribute updates (by the user or an administrator), attribute deletion,
//! and the codes that verify an email or phone number.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use crate::code::{self, CodePurpose};
use crate::error::{Error, ErrorKind};
use crate::message::{self, CodeDelivery};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::{self, Step, UserRecord, alias};

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
pub fn apply_updates(
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
pub async fn send_verifications(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    targets: Vec<(String, String)>,
    source: crate::trigger::MessageSource,
) -> Result<Vec<CodeDelivery>, Error> {
    let mut details = Vec::new();
    for (attr, destination) in targets {
        // Counted before the new code replaces the old one.
        crate::delivery::check_rate(env, &pool.id, &destination).await?;
        let mut secret = None;
        let (record, ()) = user::modify(env, pool, username, |u| {
            secret = Some(message::put_code(
                env,
                u,
                CodePurpose::VerifyAttribute,
                &attr,
            ));
            Ok(Step::Save(()))
        })
        .await?;
        let secret = secret.ok_or_else(|| Error::internal("no code issued"))?;
        let m = message::verification(
            pool,
            &record,
            &attr,
            &destination,
            "VerifyUserAttribute",
            secret,
        );
        crate::trigger::deliver(env, pool, &record, m, source, None).await?;
        details.push(CodeDelivery::to(&attr, &destination));
    }
    Ok(details)
}

pub async fn update_attributes(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    mut updates: BTreeMap<String, String>,
    admin: bool,
) -> Result<Vec<CodeDelivery>, Error> {
    user::validate_values(pool, &mut updates, admin)?;
    let (before, _) = user::load(env, pool, username)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
    // Reserve the aliases the update will give the user before writing it.
    let mut preview = before.clone();
    apply_updates(pool, &mut preview, &updates, admin)?;
    let moved = alias::reserve_new(env, pool, &preview, Some(&before), false).await?;
    let (after, targets) = user::modify(env, pool, username, |u| {
        Ok(Step::Save(apply_updates(pool, u, &updates, admin)?))
    })
    .await?;
    alias::unverify_previous_holders(env, pool, moved).await?;
    alias::release_old(env, pool, &before, &after).await?;
    send_verifications(
        env,
        pool,
        &after.username,
        targets,
        crate::trigger::MessageSource::UpdateUserAttribute,
    )
    .await
}

fn remove_attributes(pool: &PoolRecord, u: &mut UserRecord, names: &[String]) -> Result<(), Error> {
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

pub async fn delete_attributes(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    names: &[String],
) -> Result<(), Error> {
    let (before, _) = user::load(env, pool, username)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
    let (after, ()) = user::modify(env, pool, username, |u| {
        remove_attributes(pool, u, names)?;
        Ok(Step::Save(()))
    })
    .await?;
    alias::release_old(env, pool, &before, &after).await
}

pub fn check_contact_attribute(name: &str) -> Result<(), Error> {
    if name == "email" || name == "phone_number" {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "Only email and phone_number can be verified, not {}.",
            name.chars().take(64).collect::<String>()
        )))
    }
}

/// GetUserAttributeVerificationCode: a code to the attribute's pending new value, else its
/// current one.
pub async fn send_verification_code(
    env: &dyn Env,
    pool: &PoolRecord,
    record: &UserRecord,
    attribute: &str,
) -> Result<Option<CodeDelivery>, Error> {
    check_contact_attribute(attribute)?;
    let destination = record
        .pending_attributes
        .get(attribute)
        .map(String::as_str)
        .or_else(|| record.attribute(attribute))
        .ok_or_else(|| Error::invalid_parameter(format!("The user has no {attribute} to verify.")))?
        .to_string();
    let mut details = send_verifications(
        env,
        pool,
        &record.username,
        alloc::vec![(attribute.to_string(), destination)],
        crate::trigger::MessageSource::VerifyUserAttribute,
    )
    .await?;
    Ok(details.pop())
}

/// VerifyUserAttribute: the code sent to the attribute's value verifies that value (a pending
/// new value takes effect), and the verified value becomes an alias if the pool has it as one.
pub async fn verify_attribute(
    env: &dyn Env,
    pool: &PoolRecord,
    before: &UserRecord,
    attribute: &str,
    given_code: &str,
) -> Result<(), Error> {
    check_contact_attribute(attribute)?;
    code::check_input(given_code)?;
    let now = env.clock().now_millis();
    let attr = attribute.to_string();
    // The value that will be verified: a pending new value, else the current one.
    let mut preview = before.clone();
    if let Some(v) = preview.pending_attributes.get(&attr).cloned() {
        preview.attributes.insert(attr.clone(), v);
    }
    preview
        .attributes
        .insert(format!("{attr}_verified"), "true".into());
    let verified_value = preview.attribute(&attr).map(str::to_string);
    let (after, ()) = user::modify(env, pool, &before.username, |u| {
        match message::take_code(
            u,
            CodePurpose::VerifyAttribute,
            Some(&attr),
            given_code,
            now,
        )? {
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
    let moved = alias::reserve_new(env, pool, &after, Some(before), false).await;
    match moved {
        Ok(moved) => alias::unverify_previous_holders(env, pool, moved).await?,
        // Another user holds this alias: the attribute is verified, but cannot sign in.
        Err(e) if e.kind == ErrorKind::AliasExists => {}
        Err(e) => return Err(e),
    }
    alias::release_old(env, pool, before, &after).await?;
    Ok(())
}
