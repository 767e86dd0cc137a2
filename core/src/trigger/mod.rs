//! Trigger plugins: Cognito's Lambda triggers, run as user-supplied Wasm plugins.
//!
//! A pool's `LambdaConfig` names a plugin for each trigger. Cognito's fields hold Lambda ARNs;
//! Cognate accepts a *plugin reference* in the same fields (see [`plugin_reference`]):
//!
//! | field value                                        | plugin                              |
//! |----------------------------------------------------|-------------------------------------|
//! | `my-plugin`                                        | registered under the name `my-plugin` |
//! | `sha256:<64 hex digits>`                           | the module with that SHA-256        |
//! | `arn:aws:lambda:<region>:<account>:function:NAME`  | registered under the name `NAME` (a qualifier `:alias` is ignored) |
//!
//! At each trigger point the core builds Cognito's event for that trigger, field for field
//! (`version`, `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext`,
//! `request`, `response`), hands it to the [`Triggers`](crate::ports::Triggers) port as JSON,
//! validates the answer and applies it. Failures map to Cognito's exceptions:
//!
//! - the plugin answers `{"error": "m"}`: `UserLambdaValidationException`,
//!   "`<Trigger>` failed with error m.";
//! - it cannot run to an answer (not registered, trap, timeout, memory, missing export):
//!   `UnexpectedLambdaException`;
//! - its answer is not JSON, too large, or not a valid response: `InvalidLambdaResponseException`.

pub mod admin;

pub use crate::pool::lambda::{
    TriggerKind, configured, configured_references, is_plugin_name, plugin_reference,
};
mod message;
mod tokens;

pub use message::{MessageSource, check_delivery, deliver, delivery_request};
pub use tokens::{
    TokenSource, apply_answer as apply_pre_token_answer, apply_pre_token,
    apply_pre_token_client_credentials,
};

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::{Env, InvocationError};
use crate::user::UserRecord;

/// The `region` of a pool's events: its id's prefix.
fn region_of(pool_id: &str) -> &str {
    pool_id.split('_').next().unwrap_or_default()
}

/// Cognito's `userAttributes` in trigger events: every attribute as a string, with `sub` and
/// `cognito:user_status`.
pub fn user_attributes(user: &UserRecord) -> Value {
    let mut map = Map::new();
    map.insert("sub".into(), json!(user.sub));
    for (name, value) in &user.attributes {
        map.insert(name.clone(), json!(value));
    }
    map.insert("cognito:user_status".into(), json!(user.status.as_str()));
    Value::Object(map)
}

/// A string map (`clientMetadata`, `validationData`) as JSON.
pub fn string_map(map: &alloc::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// One trigger invocation.
#[derive(Debug)]
pub struct Invocation<'a> {
    pub kind: TriggerKind,
    pub source: &'a str,
    pub user_name: &'a str,
    /// The app client, when the operation has one.
    pub client_id: Option<&'a str>,
    pub request: Value,
    pub response: Value,
}

/// The event JSON Cognito sends for `invocation`.
pub fn event(pool: &PoolRecord, version: &str, invocation: &Invocation<'_>) -> Value {
    json!({
        "version": version,
        "triggerSource": invocation.source,
        "region": region_of(&pool.id),
        "userPoolId": pool.id,
        "userName": invocation.user_name,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": invocation.client_id.unwrap_or("CLIENT_ID_NOT_APPLICABLE"),
        },
        "request": invocation.request,
        "response": invocation.response,
    })
}

/// Runs the pool's plugin for `invocation.kind`, if one is configured. Returns the plugin's
/// `response` object (`None`: no plugin configured).
pub async fn run(
    env: &dyn Env,
    pool: &PoolRecord,
    invocation: Invocation<'_>,
) -> Result<Option<Map<String, Value>>, Error> {
    let Some((reference, version)) = configured(pool, invocation.kind) else {
        return Ok(None);
    };
    run_plugin(env, pool, &reference, version, invocation)
        .await
        .map(Some)
}

/// Runs a named plugin with `invocation` and returns its `response` object.
pub async fn run_plugin(
    env: &dyn Env,
    pool: &PoolRecord,
    reference: &str,
    version: &str,
    invocation: Invocation<'_>,
) -> Result<Map<String, Value>, Error> {
    let event = event(pool, version, &invocation);
    let bytes = serde_json::to_vec(&event)?;
    let output = env
        .triggers()
        .invoke(reference, &bytes)
        .await
        .map_err(|e| invocation_error(invocation.kind, reference, &e))?;
    parse_output(invocation.kind, &output)
}

/// Cognito's error for a plugin that could not run to an answer.
pub fn invocation_error(kind: TriggerKind, reference: &str, error: &InvocationError) -> Error {
    let detail = match error {
        InvocationError::NotFound => {
            "no plugin is registered under this reference (register it with `cognate plugins add`)"
                .to_string()
        }
        InvocationError::MissingExport(what) => {
            format!("the plugin does not follow the contract: {what}")
        }
        InvocationError::Trap(what) => format!("the plugin trapped: {what}"),
        InvocationError::Timeout => "the plugin ran out of time".to_string(),
        InvocationError::OutOfMemory => "the plugin exceeded its memory limit".to_string(),
        InvocationError::Unavailable(what) => format!("the plugin runtime is unavailable: {what}"),
        InvocationError::BadOutput(what) => {
            return Error::new(
                ErrorKind::InvalidLambdaResponse,
                format!("Unrecognizable lambda output: {what}"),
            );
        }
        InvocationError::OutputTooLarge => {
            return Error::new(
                ErrorKind::InvalidLambdaResponse,
                "Unrecognizable lambda output: the answer exceeds the output size limit",
            );
        }
    };
    Error::new(
        ErrorKind::UnexpectedLambda,
        format!(
            "{} ({reference}) failed due to error {detail}.",
            kind.error_name()
        ),
    )
}

/// Parses a plugin's answer: its `response` object (or the whole event with `response` filled,
/// as a Lambda returns it), or `{"error": "message"}`.
pub fn parse_output(kind: TriggerKind, output: &[u8]) -> Result<Map<String, Value>, Error> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidLambdaResponse,
            "Unrecognizable lambda output",
        )
    };
    let value: Value = serde_json::from_slice(output).map_err(|_| invalid())?;
    let Value::Object(mut map) = value else {
        return Err(invalid());
    };
    if let Some(error) = map.get("error") {
        let message = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(Error::new(
            ErrorKind::UserLambdaValidation,
            format!("{} failed with error {message}.", kind.error_name()),
        ));
    }
    if map.contains_key("triggerSource") {
        return match map.remove("response") {
            Some(Value::Object(response)) => Ok(response),
            Some(Value::Null) | None => Ok(Map::new()),
            Some(_) => Err(invalid()),
        };
    }
    Ok(map)
}

/// A boolean member of a response: absent or null is false; anything but a boolean is an invalid
/// response.
pub(crate) fn flag(response: &Map<String, Value>, name: &str) -> Result<bool, Error> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::new(
            ErrorKind::InvalidLambdaResponse,
            format!("Invalid lambda response: {name} must be a boolean"),
        )),
    }
}

/// Pre sign-up's decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreSignUp {
    pub auto_confirm_user: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

/// Runs pre sign-up (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`).
#[allow(clippy::too_many_arguments)]
pub async fn pre_sign_up(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    username: &str,
    client_id: Option<&str>,
    attributes: &alloc::collections::BTreeMap<String, String>,
    validation_data: Value,
    client_metadata: Value,
) -> Result<PreSignUp, Error> {
    let Some(response) = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PreSignUp,
            source,
            user_name: username,
            client_id,
            request: json!({
                "userAttributes": string_map(attributes),
                "validationData": validation_data,
                "clientMetadata": client_metadata,
            }),
            response: json!({
                "autoConfirmUser": false,
                "autoVerifyEmail": false,
                "autoVerifyPhone": false,
            }),
        },
    )
    .await?
    else {
        return Ok(PreSignUp::default());
    };
    Ok(PreSignUp {
        auto_confirm_user: flag(&response, "autoConfirmUser")?,
        auto_verify_email: flag(&response, "autoVerifyEmail")?,
        auto_verify_phone: flag(&response, "autoVerifyPhone")?,
    })
}

/// Runs post confirmation (`PostConfirmation_ConfirmSignUp`,
/// `PostConfirmation_ConfirmForgotPassword`). The confirmation has happened; an error still
/// fails the call, as in Cognito.
pub async fn post_confirmation(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    user: &UserRecord,
    client_id: Option<&str>,
    client_metadata: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PostConfirmation,
            source,
            user_name: &user.username,
            client_id,
            request: json!({
                "userAttributes": user_attributes(user),
                "clientMetadata": client_metadata,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}

/// Runs pre authentication (`PreAuthentication_Authentication`): an error refuses the sign-in.
pub async fn pre_authentication(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client_id: &str,
    validation_data: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PreAuthentication,
            source: "PreAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": user_attributes(user),
                "validationData": validation_data,
                "userNotFound": false,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}

/// Runs post authentication (`PostAuthentication_Authentication`): an error refuses the tokens.
pub async fn post_authentication(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client_id: &str,
    client_metadata: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PostAuthentication,
            source: "PostAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": user_attributes(user),
                "newDeviceUsed": false,
                "clientMetadata": client_metadata,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}

/// What a user migration plugin returned for a user it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub attributes: alloc::collections::BTreeMap<String, String>,
    /// `CONFIRMED` or `RESET_REQUIRED`.
    pub final_status: crate::user::UserStatus,
    pub suppress_message: bool,
    pub force_alias_creation: bool,
}

/// Runs user migration (`UserMigration_Authentication` with the password the user typed,
/// `UserMigration_ForgotPassword` without). `None`: the plugin does not know the user (it
/// returned no `userAttributes`), or no plugin is configured.
pub async fn user_migration(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    login: &str,
    client_id: &str,
    password: Option<&str>,
    client_metadata: Value,
) -> Result<Option<Migration>, Error> {
    let mut request = json!({
        "validationData": {},
        "clientMetadata": client_metadata,
    });
    if let (Some(p), Value::Object(map)) = (password, &mut request) {
        map.insert("password".into(), json!(p));
    }
    let Some(response) = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::UserMigration,
            source,
            user_name: login,
            client_id: Some(client_id),
            request,
            response: json!({
                "userAttributes": null,
                "finalUserStatus": null,
                "messageAction": null,
                "desiredDeliveryMediums": null,
                "forceAliasCreation": null,
                "enableSMSMFA": null,
            }),
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let invalid = |what: &str| {
        Error::new(
            ErrorKind::InvalidLambdaResponse,
            format!("Invalid lambda response: {what}"),
        )
    };
    let attributes = match response.get("userAttributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => {
            let mut out = alloc::collections::BTreeMap::new();
            for (name, value) in map {
                let v = match value {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(invalid("userAttributes values must be strings")),
                };
                // Cognito generates these itself.
                if name == "sub" || name.starts_with("cognito:") || name == "username" {
                    continue;
                }
                out.insert(name.clone(), v);
            }
            out
        }
        Some(_) => return Err(invalid("userAttributes must be an object")),
    };
    let final_status = match response.get("finalUserStatus").and_then(Value::as_str) {
        None | Some("CONFIRMED") => crate::user::UserStatus::Confirmed,
        Some("RESET_REQUIRED") => crate::user::UserStatus::ResetRequired,
        Some(_) => {
            return Err(invalid(
                "finalUserStatus must be CONFIRMED or RESET_REQUIRED",
            ));
        }
    };
    Ok(Some(Migration {
        attributes,
        final_status,
        suppress_message: response.get("messageAction").and_then(Value::as_str) == Some("SUPPRESS"),
        force_alias_creation: flag(&response, "forceAliasCreation")?,
    }))
}

/// Stores a migrated user: the name typed (or, in pools whose usernames are emails or phone
/// numbers, a new sub with that attribute), the plugin's attributes, the password typed (if
/// any, hashed with the pool's parameters) and the final status. Aliases are reserved as for a
/// new user. Returns the stored record.
pub async fn store_migrated_user(
    env: &dyn Env,
    pool: &PoolRecord,
    login: &str,
    password: Option<&str>,
    migration: Migration,
) -> Result<UserRecord, Error> {
    use crate::store::{Expect, StoreError};
    use crate::user;
    let mut attributes = migration.attributes;
    let sub = crate::ids::uuid_v4(env.random());
    let (username, unique_alias) = if pool.username_attributes.is_empty() {
        (login.to_string(), None)
    } else {
        let attr = if user::looks_like_email(login)
            && pool.username_attributes.iter().any(|a| a == "email")
        {
            "email"
        } else if user::looks_like_phone(login)
            && pool.username_attributes.iter().any(|a| a == "phone_number")
        {
            "phone_number"
        } else {
            return Err(Error::new(
                ErrorKind::InvalidLambdaResponse,
                "Invalid lambda response: the username must be an email or phone number in this pool",
            ));
        };
        attributes.insert(attr.to_string(), login.to_string());
        (sub.clone(), Some(attr))
    };
    user::validate_values(pool, &mut attributes, true).map_err(|e| {
        Error::new(
            ErrorKind::InvalidLambdaResponse,
            format!("Invalid lambda response: {}", e.message),
        )
    })?;
    let hash = match password {
        Some(p) if migration.final_status == user::UserStatus::Confirmed => {
            let mut salt = [0u8; 16];
            env.random().fill(&mut salt);
            Some(env.passwords().hash(p, salt, pool.hash_params()).await?)
        }
        _ => None,
    };
    let now = env.clock().now_millis();
    let record = UserRecord::new(username, sub, attributes, migration.final_status, hash, now);
    let key = pool.normalize_username(&record.username);
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        let exists = Error::new(
            ErrorKind::UsernameExists,
            format!("An account with the given {attr} already exists."),
        );
        user::alias::reserve(env, pool, attr, &value, &key, false, exists).await?;
    }
    for attr in &pool.alias_attributes {
        let eligible = attr == "preferred_username" || record.is_verified(attr);
        let Some(value) = record.attribute(attr).filter(|_| eligible) else {
            continue;
        };
        let exists = Error::new(
            ErrorKind::AliasExists,
            format!("An account with the given {attr} already exists."),
        );
        user::alias::reserve(
            env,
            pool,
            attr,
            value,
            &key,
            migration.force_alias_creation,
            exists,
        )
        .await?;
    }
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => Ok(record),
        Err(StoreError::Conflict) => {
            Err(Error::new(ErrorKind::UsernameExists, "User already exists"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Names of claims a plugin may not add, override or suppress (Cognito's list, plus every
/// `cognito:` claim, which the group override sets).
pub(crate) fn protected_claim(name: &str) -> bool {
    const PROTECTED: &[&str] = &[
        "acr",
        "amr",
        "at_hash",
        "auth_time",
        "azp",
        "c_hash",
        "exp",
        "iat",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
        "aud",
        "client_id",
        "username",
        "event_id",
        "scope",
        "identities",
    ];
    PROTECTED.contains(&name) || name.starts_with("cognito:")
}

#[cfg(test)]
mod tests;
