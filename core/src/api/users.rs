//! Sign-up, confirmation, sign-in and profile operations.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) use super::wire::AttributeType;
use super::wire::{
    AccessTokenRequest, ConfirmSignUpRequest, InitiateAuthRequest, ResendConfirmationCodeRequest,
    SignUpRequest,
};
use super::{Ctx, attribute_map, input};
use crate::auth::{self, SignInOutcome};
use crate::code::{self, CodeCheck, CodePurpose};
use crate::error::{Error, ErrorKind};
use crate::pool::{self, AppClient, PoolRecord};
use crate::ports::{Medium, Message};
use crate::store::{Expect, StoreError};
use crate::user::{self, Step, UserRecord, UserStatus};

/// Loads the client and its pool for a public operation.
pub(super) async fn client_and_pool(
    ctx: &Ctx<'_>,
    client_id: &str,
) -> Result<(AppClient, PoolRecord), Error> {
    let (client, _) = pool::load_client(ctx.env, client_id).await?;
    let (pool, _) = pool::load_pool(ctx.env, &client.user_pool_id).await?;
    Ok((client, pool))
}

pub(super) fn template_text(pool: &PoolRecord, medium: Medium) -> (String, String) {
    crate::delivery::verification_template(pool, medium)
}

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

/// Issues a sign-up code on `user` (not yet saved) and returns what to deliver.
fn issue_sign_up_code(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    user: &mut UserRecord,
) -> Option<(Message, Value)> {
    let (attribute, medium, destination) = delivery_attribute(pool, user)?;
    let (secret, pending) = code::issue(
        ctx.env.random(),
        CodePurpose::SignUp,
        Some(attribute.to_string()),
        ctx.env.clock().now_millis(),
        code::SIGN_UP_CODE_TTL_MILLIS,
    );
    user.codes.insert(CodePurpose::SignUp.slot(None), pending);
    let (subject, body) = template_text(pool, medium);
    let details = json!({
        "Destination": user::mask_destination(&destination),
        "DeliveryMedium": match medium { Medium::Email => "EMAIL", Medium::Sms => "SMS" },
        "AttributeName": attribute,
    });
    let message = crate::delivery::compose(
        pool,
        &user.username,
        medium,
        &destination,
        "SignUp",
        subject,
        &body,
        secret,
    );
    Some((message, details))
}

pub(super) async fn sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SignUpRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
    user::check_username(&req.username)?;
    crate::password::check_input(&req.password)?;
    let mut attributes = attribute_map(&req.user_attributes)?;
    let sub = crate::ids::uuid_v4(ctx.env.random());
    // Pools whose usernames are emails or phone numbers: the typed name is that attribute, and
    // the internal username is the sub.
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
        if let Some(given) = attributes.get(attr)
            && given != &req.username
        {
            return Err(Error::invalid_parameter(format!(
                "The {attr} attribute must match the username."
            )));
        }
        attributes.insert(attr.to_string(), req.username.clone());
        (sub.clone(), Some(attr))
    };
    user::validate_attributes(&pool, &mut attributes, false)?;
    pool.password_policy().check(&req.password)?;
    let username_key = pool.normalize_username(&username);
    if unique_alias.is_none() && user::load(ctx.env, &pool, &username).await?.is_some() {
        return Err(username_exists());
    }
    let metadata = crate::trigger::string_map(&req.client_metadata);
    let decision = crate::trigger::pre_sign_up(
        ctx.env,
        &pool,
        "PreSignUp_SignUp",
        &username,
        Some(&client.client_id),
        &attributes,
        crate::trigger::string_map(&attribute_map(&req.validation_data)?),
        metadata.clone(),
    )
    .await?;
    apply_auto_verify(&mut attributes, decision);
    let mut salt = [0u8; 16];
    ctx.env.random().fill(&mut salt);
    let hash = ctx
        .env
        .passwords()
        .hash(&req.password, salt, pool.hash_params())
        .await?;
    let now = ctx.env.clock().now_millis();
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
        issue_sign_up_code(ctx, &pool, &mut record)
    };
    // Reserve the unique alias before the user exists, so two sign-ups cannot share it.
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        let exists = || {
            Error::new(
                ErrorKind::UsernameExists,
                format!("An account with the given {attr} already exists."),
            )
        };
        user::reserve_alias(ctx.env, &pool, attr, &value, &username_key, false, exists()).await?;
    }
    // Auto-confirmed by the pre sign-up trigger: the user holds their aliases now.
    let moved = if decision.auto_confirm_user {
        claim_aliases(ctx, &pool, &record, false).await?
    } else {
        Vec::new()
    };
    match user::save(ctx.env, &pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => return Err(username_exists()),
        Err(e) => return Err(e.into()),
    }
    unverify_previous_holders(ctx, &pool, moved).await?;
    let mut out = json!({ "UserConfirmed": decision.auto_confirm_user, "UserSub": sub });
    if let Some((message, details)) = delivery {
        crate::trigger::deliver(
            ctx.env,
            &pool,
            &record,
            message,
            crate::trigger::MessageSource::SignUp,
            Some(&client.client_id),
        )
        .await?;
        super::set(&mut out, "CodeDeliveryDetails", details);
    }
    if decision.auto_confirm_user {
        crate::trigger::post_confirmation(
            ctx.env,
            &pool,
            "PostConfirmation_ConfirmSignUp",
            &record,
            Some(&client.client_id),
            metadata,
        )
        .await?;
    }
    Ok(out)
}

/// The pre sign-up trigger's `autoVerifyEmail` / `autoVerifyPhone`: the attribute, if given, is
/// verified.
pub(super) fn apply_auto_verify(
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

fn username_exists() -> Error {
    Error::new(ErrorKind::UsernameExists, "User already exists")
}

pub(super) async fn confirm_sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ConfirmSignUpRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    code::check_input(&req.confirmation_code)?;
    let not_found = || {
        Error::new(
            ErrorKind::UserNotFound,
            "Username/client id combination not found.",
        )
    };
    let Some((found, _)) = user::resolve(ctx.env, &pool, &req.username).await? else {
        pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
        // Under PreventUserExistenceErrors an unknown user gets what a known user with a wrong
        // code gets, so the answer does not tell who has an account.
        if client.prevents_user_existence_errors() {
            return Err(code::mismatch());
        }
        return Err(not_found());
    };
    pool::check_secret_hash(
        &client,
        req.secret_hash.as_deref(),
        &[&req.username, &found.username],
    )?;
    // Compare-and-set: a code is consumed exactly once, and wrong guesses are counted exactly,
    // even when requests race.
    let now = ctx.env.clock().now_millis();
    let slot = CodePurpose::SignUp.slot(None);
    // A correct code claims the user's aliases first: if another user holds one, nothing is
    // confirmed and the code stays valid (AliasExistsException, or ForceAliasCreation).
    let mut moved = Vec::new();
    if let Some(pending) = found.codes.get(&slot)
        && found.status == UserStatus::Unconfirmed
        && code::check(pending, CodePurpose::SignUp, &req.confirmation_code, now)?
            == CodeCheck::Correct
    {
        let mut preview = found.clone();
        if let Some(attr) = &pending.attribute {
            preview
                .attributes
                .insert(format!("{attr}_verified"), "true".to_string());
        }
        moved = claim_aliases(ctx, &pool, &preview, req.force_alias_creation).await?;
    }
    let (confirmed, ()) = user::modify(ctx.env, &pool, &found.username, |record| {
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
        match code::check(&pending, CodePurpose::SignUp, &req.confirmation_code, now)? {
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
            not_found()
        } else {
            e
        }
    })?;
    unverify_previous_holders(ctx, &pool, moved).await?;
    crate::trigger::post_confirmation(
        ctx.env,
        &pool,
        "PostConfirmation_ConfirmSignUp",
        &confirmed,
        Some(&client.client_id),
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    Ok(json!({}))
}

/// Reserves the aliases (AliasAttributes) a confirmed user now holds. Returns the users an
/// alias was taken from (with ForceAliasCreation).
async fn claim_aliases(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    record: &UserRecord,
    force: bool,
) -> Result<Vec<(String, String)>, Error> {
    let mut moved = Vec::new();
    let key = pool.normalize_username(&record.username);
    for attr in &pool.alias_attributes {
        let eligible = attr == "preferred_username" || record.is_verified(attr);
        let Some(value) = record.attribute(attr).filter(|_| eligible) else {
            continue;
        };
        let exists = || {
            Error::new(
                ErrorKind::AliasExists,
                "An account with the given email already exists.",
            )
        };
        let exists_attr = || {
            if attr == "email" {
                exists()
            } else {
                Error::new(
                    ErrorKind::AliasExists,
                    format!("An account with the given {attr} already exists."),
                )
            }
        };
        if let Some(previous) =
            user::reserve_alias(ctx.env, pool, attr, value, &key, force, exists_attr()).await?
        {
            moved.push((previous, attr.clone()));
        }
    }
    Ok(moved)
}

/// With ForceAliasCreation the alias moved: the previous holder's attribute is no longer
/// verified (so it no longer signs in with it), as in Cognito.
pub(super) async fn unverify_previous_holders(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    moved: Vec<(String, String)>,
) -> Result<(), Error> {
    for (username_key, attr) in moved {
        let outcome = user::modify(ctx.env, pool, &username_key, |other| {
            other
                .attributes
                .insert(format!("{attr}_verified"), "false".to_string());
            Ok(Step::Save(()))
        })
        .await;
        match outcome {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::UserNotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(super) async fn resend_confirmation_code(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ResendConfirmationCodeRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let not_found = || {
        Error::new(
            ErrorKind::UserNotFound,
            "Username/client id combination not found.",
        )
    };
    let Some((found, _)) = user::resolve(ctx.env, &pool, &req.username).await? else {
        pool::check_secret_hash(&client, req.secret_hash.as_deref(), &[&req.username])?;
        if client.prevents_user_existence_errors() {
            return Ok(json!({ "CodeDeliveryDetails": decoy_delivery(&pool, &req.username) }));
        }
        return Err(not_found());
    };
    pool::check_secret_hash(
        &client,
        req.secret_hash.as_deref(),
        &[&req.username, &found.username],
    )?;
    let mut outgoing = None;
    user::modify(ctx.env, &pool, &found.username, |record| {
        if record.status != UserStatus::Unconfirmed {
            return Err(Error::invalid_parameter("User is already confirmed."));
        }
        let Some(delivery) = issue_sign_up_code(ctx, &pool, record) else {
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
        ctx.env,
        &pool,
        &found,
        message,
        crate::trigger::MessageSource::ResendCode,
        Some(&client.client_id),
    )
    .await?;
    Ok(json!({ "CodeDeliveryDetails": details }))
}

/// What PreventUserExistenceErrors answers for an unknown user: a plausible delivery, so the
/// response does not tell whether the user exists.
pub(super) fn decoy_delivery(pool: &PoolRecord, name: &str) -> Value {
    let (medium, attribute, destination) = if user::looks_like_phone(name) {
        ("SMS", "phone_number", user::mask_destination(name))
    } else if user::looks_like_email(name) {
        ("EMAIL", "email", user::mask_destination(name))
    } else if pool.auto_verifies("phone_number") && !pool.auto_verifies("email") {
        ("SMS", "phone_number", "+*******0000".to_string())
    } else {
        (
            "EMAIL",
            "email",
            format!("{}***@e***", name.chars().next().unwrap_or('u')),
        )
    };
    json!({"Destination": destination, "DeliveryMedium": medium, "AttributeName": attribute})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminUser {
    pub user_pool_id: String,
    pub username: String,
}

pub(super) async fn admin_confirm_sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (found, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    // Aliases first: a taken alias leaves the user unconfirmed.
    let moved = if found.status == UserStatus::Unconfirmed {
        claim_aliases(ctx, &pool, &found, false).await?
    } else {
        Vec::new()
    };
    let (confirmed, ()) = user::modify(ctx.env, &pool, &found.username, |record| {
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
    unverify_previous_holders(ctx, &pool, moved).await?;
    crate::trigger::post_confirmation(
        ctx.env,
        &pool,
        "PostConfirmation_ConfirmSignUp",
        &confirmed,
        None,
        json!({}),
    )
    .await?;
    Ok(json!({}))
}

pub(super) async fn get_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (_, record, _, _) =
        auth::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    let mut attributes = Vec::with_capacity(record.attributes.len() + 1);
    attributes.push(AttributeType {
        name: "sub".into(),
        value: Some(record.sub.clone()),
    });
    attributes.extend(record.attributes.iter().map(|(name, value)| AttributeType {
        name: name.clone(),
        value: Some(value.clone()),
    }));
    super::output(&super::wire::GetUserResponse {
        username: record.username,
        user_attributes: attributes,
        ..Default::default()
    })
}

pub(super) async fn admin_get_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (record, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    // No MFA members for a user without MFA: Cognito leaves them out rather than send `[]`.
    Ok(record.to_admin_wire())
}

pub(super) async fn initiate_auth(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: InitiateAuthRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    run_auth_flow(ctx, &pool, &client, &req, false).await
}

pub(super) async fn admin_initiate_auth(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: InitiateAuthRequest = input(body)?;
    let pool_id = req.user_pool_id.clone().ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let (pool, _) = pool::load_pool(ctx.env, &pool_id).await?;
    let (client, _) = pool::load_pool_client(ctx.env, &pool_id, &req.client_id).await?;
    run_auth_flow(ctx, &pool, &client, &req, true).await
}

fn param<'a>(req: &'a InitiateAuthRequest, name: &str) -> Result<&'a str, Error> {
    req.auth_parameters
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {name}")))
}

async fn run_auth_flow(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    client: &AppClient,
    req: &InitiateAuthRequest,
    admin: bool,
) -> Result<Value, Error> {
    let issuer = ctx.issuer(&pool.id);
    let secret_hash = req.auth_parameters.get("SECRET_HASH").map(String::as_str);
    let flow = req.auth_flow.as_str();
    let password_flow = match (admin, flow) {
        (false, "USER_PASSWORD_AUTH") => Some(("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH")),
        (true, "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH") => {
            Some(("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"))
        }
        _ => None,
    };
    if let Some((allow, legacy)) = password_flow {
        if !client.allows(allow, Some(legacy)) {
            return Err(Error::invalid_parameter(format!(
                "{flow} flow not enabled for this client"
            )));
        }
        let username = param(req, "USERNAME")?;
        let password = param(req, "PASSWORD")?;
        let outcome = auth::password_sign_in(
            ctx.env,
            &issuer,
            pool,
            client,
            username,
            password,
            secret_hash,
            &ctx.origin,
        )
        .await?;
        return Ok(outcome_json(outcome));
    }
    match flow {
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            if !client.allows("ALLOW_REFRESH_TOKEN_AUTH", None)
                && client
                    .settings
                    .explicit_auth_flows
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|f| f.starts_with("ALLOW_"))
            {
                return Err(Error::invalid_parameter(
                    "REFRESH_TOKEN_AUTH flow not enabled for this client",
                ));
            }
            // Cognito: REFRESH_TOKEN_AUTH is not available on clients that rotate refresh
            // tokens; they refresh with GetTokensFromRefreshToken.
            if auth::rotates_refresh_tokens(client) {
                return Err(Error::invalid_parameter(
                    "REFRESH_TOKEN_AUTH flow not enabled for this client",
                ));
            }
            let token = param(req, "REFRESH_TOKEN")?;
            let tokens = auth::refresh(ctx.env, &issuer, pool, client, token, secret_hash).await?;
            Ok(outcome_json(SignInOutcome::Tokens(tokens)))
        }
        "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            Err(Error::invalid_parameter(format!(
                "{flow} is not a valid flow for {}",
                if admin {
                    "AdminInitiateAuth"
                } else {
                    "InitiateAuth"
                }
            )))
        }
        "CUSTOM_AUTH" => {
            if !client.allows("ALLOW_CUSTOM_AUTH", Some("CUSTOM_AUTH_FLOW_ONLY")) {
                return Err(Error::invalid_parameter(
                    "CUSTOM_AUTH flow not enabled for this client",
                ));
            }
            let username = param(req, "USERNAME")?;
            let authenticated = crate::trigger::custom_auth_start(
                ctx.env,
                pool,
                client,
                username,
                secret_hash,
                crate::trigger::string_map(&req.client_metadata),
                &ctx.origin,
            )
            .await?;
            let outcome = crate::auth::sign_in_outcome(
                ctx.env,
                &issuer,
                pool,
                client,
                authenticated,
                &ctx.origin,
            )
            .await?;
            Ok(outcome_json(outcome))
        }
        "USER_SRP_AUTH" | "USER_AUTH" => Err(Error::invalid_parameter(format!(
            "The {flow} flow is not supported by this server yet; use USER_PASSWORD_AUTH."
        ))),
        other => Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// The InitiateAuth / RespondToAuthChallenge response for a sign-in outcome.
pub(super) fn outcome_json(outcome: SignInOutcome) -> Value {
    let response = match outcome {
        SignInOutcome::Tokens(tokens) => super::wire::AuthResponse {
            authentication_result: Some(tokens),
            ..Default::default()
        },
        SignInOutcome::Challenge {
            name,
            session,
            parameters,
        } => super::wire::AuthResponse {
            challenge_name: Some(name.into()),
            session: Some(session),
            challenge_parameters: parameters,
            authentication_result: None,
        },
    };
    serde_json::to_value(response).unwrap_or_default()
}
