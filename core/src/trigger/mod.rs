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

pub use crate::pool::lambda::{
    TriggerKind, configured, configured_references, is_plugin_name, plugin_reference,
};
mod authentication;
mod message;
mod migration;
mod sign_up;
mod tokens;

pub use authentication::{post_authentication, pre_authentication};
pub use message::{MessageSource, check_delivery, deliver, delivery_request};
pub use migration::{Migration, store_migrated_user, user_migration};
pub use sign_up::{PreSignUp, post_confirmation, pre_sign_up};
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
