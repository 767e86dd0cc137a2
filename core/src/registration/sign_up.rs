//! Signing up: SignUp, the confirmation code (ConfirmSignUp, ResendConfirmationCode) and
//! AdminConfirmSignUp.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::{apply_auto_verify, new_username, reserve_username_attribute};
use crate::code::{self, CodeCheck, CodePurpose};
use crate::error::{Error, ErrorKind};
use crate::message::{self, CodeDelivery};
use crate::pool::{AppClient, ClientProof, PoolRecord};
use crate::ports::{Env, Medium, Message};
use crate::store::{Expect, StoreError};
use crate::user::{self, Step, UserRecord, UserStatus, alias};

/// Which attribute a confirmation code goes to: an auto-verified email, else phone number.
fn delivery_attribute(
    pool: &PoolRecord,
    user: &UserRecord,
) -> Option<(&'static str, Medium, String)> {
    [("email", Medium::Email), ("phone_number", Medium::Sms)]
        .into_iter()
        .find_map(|(attr, medium)| {
            (pool.auto_verifies(attr))
                .then(|| user.attribute(attr).map(|v| (attr, medium, v.to_string())))
                .flatten()
        })
}

/// Where a confirmation link points: the pool's hosted UI and the client the user signed up
/// through. Given when the pool confirms email by link (`PoolRecord::confirms_with_link`).
#[derive(Debug, Clone, Copy)]
pub struct LinkTarget<'a> {
    pub hosted_ui: &'a str,
    pub client_id: &'a str,
}

/// Issues a sign-up code on `user` (not yet saved) and returns what to deliver: the code, or
/// for an email when `link` is given, a confirmation link carrying it.
fn issue_sign_up_code(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &mut UserRecord,
    link: Option<LinkTarget<'_>>,
) -> Option<(Message, CodeDelivery)> {
    let (attribute, medium, destination) = delivery_attribute(pool, user)?;
    let (secret, pending) = code::issue(
        env.random(),
        CodePurpose::SignUp,
        Some(attribute.to_string()),
        env.clock().now_millis(),
        code::SIGN_UP_CODE_TTL_MILLIS,
    );
    user.codes.insert(CodePurpose::SignUp.slot(None), pending);
    let details = CodeDelivery::to(attribute, &destination);
    let message = match link {
        Some(target) if medium == Medium::Email => message::confirmation_link(
            pool,
            user,
            &destination,
            "SignUp",
            target.hosted_ui,
            target.client_id,
            secret,
        ),
        _ => message::verification(pool, user, attribute, &destination, "SignUp", secret),
    };
    Some((message, details))
}

/// SignUp's members, parsed.
#[allow(missing_debug_implementations)] // holds the password
pub struct SignUp<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub proof: ClientProof<'a>,
    pub attributes: BTreeMap<String, String>,
    pub validation_data: BTreeMap<String, String>,
    pub client_metadata: BTreeMap<String, String>,
    /// The pool's hosted UI, when its confirmation emails carry a link.
    pub hosted_ui: Option<&'a str>,
}

/// What SignUp did: whether the user is confirmed already (the pre sign-up plugin), their `sub`,
/// and where the confirmation code went.
#[derive(Debug)]
pub struct SignedUp {
    pub confirmed: bool,
    pub sub: String,
    pub delivery: Option<CodeDelivery>,
}

/// SignUp: a new user with a password, unconfirmed until a code proves their email or phone
/// number (unless the pre sign-up plugin confirms them).
pub async fn sign_up(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    input: SignUp<'_>,
) -> Result<SignedUp, Error> {
    input.proof.check(client, &[input.username])?;
    user::check_username(input.username)?;
    crate::password::check_input(input.password)?;
    let mut attributes = input.attributes;
    let sub = crate::ids::uuid_v4(env.random());
    let (username, unique_alias) = new_username(pool, input.username, &mut attributes, &sub, true)?;
    user::validate_attributes(pool, &mut attributes, false)?;
    pool.password_policy().check(input.password)?;
    crate::password::check_breached(env, input.password).await?;
    let username_key = pool.normalize_username(&username);
    if unique_alias.is_none() && user::load(env, pool, &username).await?.is_some() {
        return Err(username_exists());
    }
    let metadata = crate::trigger::string_map(&input.client_metadata);
    let decision = crate::trigger::pre_sign_up(
        env,
        pool,
        "PreSignUp_SignUp",
        &username,
        Some(&client.client_id),
        &attributes,
        crate::trigger::string_map(&input.validation_data),
        metadata.clone(),
    )
    .await?;
    apply_auto_verify(&mut attributes, decision);
    let hash = crate::password::hash(
        env,
        pool.hash_params(),
        pool.srp_user(&username),
        input.password,
    )
    .await?;
    let now = env.clock().now_millis();
    let mut record = UserRecord::new(
        username,
        sub.clone(),
        attributes,
        if decision.auto_confirm_user {
            UserStatus::Confirmed
        } else {
            UserStatus::Unconfirmed
        },
        Some(hash),
        now,
    );
    let delivery = if decision.auto_confirm_user {
        None
    } else {
        let link = input.hosted_ui.map(|hosted_ui| LinkTarget {
            hosted_ui,
            client_id: &client.client_id,
        });
        issue_sign_up_code(env, pool, &mut record, link)
    };
    // Counted before the user is stored: a refused sign-up leaves nothing behind.
    if let Some((message, _)) = &delivery {
        crate::delivery::check_rate(env, &pool.id, &message.destination).await?;
    }
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        reserve_username_attribute(env, pool, attr, &value, &username_key).await?;
    }
    // Auto-confirmed by the pre sign-up trigger: the user holds their aliases now.
    let moved = if decision.auto_confirm_user {
        alias::reserve_new(env, pool, &record, None, false).await?
    } else {
        Vec::new()
    };
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => return Err(username_exists()),
        Err(e) => return Err(e.into()),
    }
    alias::unverify_previous_holders(env, pool, moved).await?;
    let mut code_delivery = None;
    if let Some((message, details)) = delivery {
        crate::trigger::deliver(
            env,
            pool,
            &record,
            message,
            crate::trigger::MessageSource::SignUp,
            Some(&client.client_id),
        )
        .await?;
        code_delivery = Some(details);
    }
    if decision.auto_confirm_user {
        crate::trigger::post_confirmation(
            env,
            pool,
            "PostConfirmation_ConfirmSignUp",
            &record,
            Some(&client.client_id),
            metadata,
        )
        .await?;
    }
    Ok(SignedUp {
        confirmed: decision.auto_confirm_user,
        sub,
        delivery: code_delivery,
    })
}

fn username_exists() -> Error {
    Error::new(ErrorKind::UsernameExists, "User already exists")
}

/// ConfirmSignUp: the code confirms the user and the contact it went to; the user then holds
/// their aliases.
#[allow(clippy::too_many_arguments)] // the operation's members
pub async fn confirm(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    username: &str,
    code: &str,
    proof: ClientProof<'_>,
    force_alias_creation: bool,
    client_metadata: Value,
) -> Result<(), Error> {
    let Some((found, _)) = user::resolve(env, pool, username).await? else {
        proof.check(client, &[username])?;
        // Under PreventUserExistenceErrors an unknown user gets what a known user with a wrong
        // code gets, so the answer does not tell who has an account.
        if client.prevents_user_existence_errors() {
            return Err(code::mismatch());
        }
        return Err(Error::unknown_user_for_client());
    };
    proof.check(client, &[username, &found.username])?;
    // Compare-and-set: a code is consumed exactly once, and wrong guesses are counted exactly,
    // even when requests race.
    let now = env.clock().now_millis();
    let slot = CodePurpose::SignUp.slot(None);
    // A correct code claims the user's aliases first: if another user holds one, nothing is
    // confirmed and the code stays valid (AliasExistsException, or ForceAliasCreation).
    let mut moved = Vec::new();
    if let Some(pending) = found.codes.get(&slot)
        && found.status == UserStatus::Unconfirmed
        && code::check(pending, CodePurpose::SignUp, code, now)? == CodeCheck::Correct
    {
        let mut preview = found.clone();
        if let Some(attr) = &pending.attribute {
            preview
                .attributes
                .insert(format!("{attr}_verified"), "true".to_string());
        }
        moved = alias::reserve_new(env, pool, &preview, None, force_alias_creation).await?;
    }
    let (confirmed, ()) = user::modify(env, pool, &found.username, |record| {
        if record.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                record.status.as_str()
            )));
        }
        let pending = record
            .codes
            .get(&slot)
            .cloned()
            .ok_or_else(code::mismatch)?;
        match code::check(&pending, CodePurpose::SignUp, code, now)? {
            CodeCheck::Wrong => {
                if let Some(p) = record.codes.get_mut(&slot) {
                    p.failed_attempts += 1;
                }
                Ok(Step::SaveThenFail(code::mismatch()))
            }
            CodeCheck::Correct => {
                record.status = UserStatus::Confirmed;
                record.codes.remove(&slot);
                if let Some(attr) = &pending.attribute {
                    record
                        .attributes
                        .insert(format!("{attr}_verified"), "true".to_string());
                }
                Ok(Step::Save(()))
            }
        }
    })
    .await
    .map_err(|e| {
        if e.kind == ErrorKind::UserNotFound {
            Error::unknown_user_for_client()
        } else {
            e
        }
    })?;
    alias::unverify_previous_holders(env, pool, moved).await?;
    crate::trigger::post_confirmation(
        env,
        pool,
        "PostConfirmation_ConfirmSignUp",
        &confirmed,
        Some(&client.client_id),
        client_metadata,
    )
    .await?;
    Ok(())
}

/// ResendConfirmationCode: a new sign-up code for an unconfirmed user.
pub async fn resend_code(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    username: &str,
    proof: ClientProof<'_>,
    hosted_ui: Option<&str>,
) -> Result<CodeDelivery, Error> {
    let Some((found, _)) = user::resolve(env, pool, username).await? else {
        proof.check(client, &[username])?;
        if client.prevents_user_existence_errors() {
            return Ok(CodeDelivery::decoy(pool, username));
        }
        return Err(Error::unknown_user_for_client());
    };
    proof.check(client, &[username, &found.username])?;
    if found.status != UserStatus::Unconfirmed {
        return Err(Error::invalid_parameter("User is already confirmed."));
    }
    // Counted before the new code replaces the old one: a refused resend changes nothing.
    if let Some((_, _, destination)) = delivery_attribute(pool, &found) {
        crate::delivery::check_rate(env, &pool.id, &destination).await?;
    }
    let mut outgoing = None;
    user::modify(env, pool, &found.username, |record| {
        if record.status != UserStatus::Unconfirmed {
            return Err(Error::invalid_parameter("User is already confirmed."));
        }
        let link = hosted_ui.map(|hosted_ui| LinkTarget {
            hosted_ui,
            client_id: &client.client_id,
        });
        let Some(delivery) = issue_sign_up_code(env, pool, record, link) else {
            return Err(Error::invalid_parameter(
                "Cannot resend codes. Auto verification not turned on.",
            ));
        };
        outgoing = Some(delivery);
        Ok(Step::Save(()))
    })
    .await?;
    let (message, details) = outgoing.ok_or_else(|| Error::internal("no code issued"))?;
    crate::trigger::deliver(
        env,
        pool,
        &found,
        message,
        crate::trigger::MessageSource::ResendCode,
        Some(&client.client_id),
    )
    .await?;
    Ok(details)
}

/// AdminConfirmSignUp: confirms without a code.
pub async fn admin_confirm(env: &dyn Env, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    let (found, _) = user::resolve_existing(env, pool, username).await?;
    // Aliases first: a taken alias leaves the user unconfirmed.
    let moved = if found.status == UserStatus::Unconfirmed {
        alias::reserve_new(env, pool, &found, None, false).await?
    } else {
        Vec::new()
    };
    let (confirmed, ()) = user::modify(env, pool, &found.username, |record| {
        if record.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                record.status.as_str()
            )));
        }
        record.status = UserStatus::Confirmed;
        record.codes.remove(&CodePurpose::SignUp.slot(None));
        Ok(Step::Save(()))
    })
    .await?;
    alias::unverify_previous_holders(env, pool, moved).await?;
    crate::trigger::post_confirmation(
        env,
        pool,
        "PostConfirmation_ConfirmSignUp",
        &confirmed,
        None,
        json!({}),
    )
    .await?;
    Ok(())
}
