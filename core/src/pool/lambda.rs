//! A pool's `LambdaConfig`: which trigger plugin each Cognito trigger runs, and which event
//! version it gets. (Running them is `crate::trigger`'s job.)

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::PoolRecord;
use crate::error::Error;

/// Every trigger Cognito has (V3 pre token generation comes with client credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    CustomMessage,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    CustomEmailSender,
    CustomSmsSender,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 12] = [
        Self::PreSignUp,
        Self::PostConfirmation,
        Self::PreAuthentication,
        Self::PostAuthentication,
        Self::PreTokenGeneration,
        Self::CustomMessage,
        Self::UserMigration,
        Self::DefineAuthChallenge,
        Self::CreateAuthChallenge,
        Self::VerifyAuthChallengeResponse,
        Self::CustomEmailSender,
        Self::CustomSmsSender,
    ];

    /// The `LambdaConfig` member that names the plugin.
    pub fn config_field(self) -> &'static str {
        match self {
            Self::PreSignUp => "PreSignUp",
            Self::PostConfirmation => "PostConfirmation",
            Self::PreAuthentication => "PreAuthentication",
            Self::PostAuthentication => "PostAuthentication",
            Self::PreTokenGeneration => "PreTokenGeneration",
            Self::CustomMessage => "CustomMessage",
            Self::UserMigration => "UserMigration",
            Self::DefineAuthChallenge => "DefineAuthChallenge",
            Self::CreateAuthChallenge => "CreateAuthChallenge",
            Self::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Self::CustomEmailSender => "CustomEmailSender",
            Self::CustomSmsSender => "CustomSMSSender",
        }
    }

    /// The name in Cognito's error messages ("PreSignUp failed with error ...").
    pub fn error_name(self) -> &'static str {
        self.config_field()
    }
}

/// Turns a `LambdaConfig` value into a plugin reference: `sha256:<hex>` (lower-cased), or a
/// name (taken from a Lambda ARN's function name). `None`: not a valid reference.
pub fn plugin_reference(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(hex) = value.strip_prefix("sha256:") {
        return (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| format!("sha256:{}", hex.to_ascii_lowercase()));
    }
    let name = if value.starts_with("arn:") {
        // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
        let mut parts = value.split(':');
        let function = parts.nth(5)?;
        if function != "function" {
            return None;
        }
        parts.next()?
    } else {
        value
    };
    is_plugin_name(name).then(|| name.to_string())
}

/// A registered plugin name: 1 to 64 of `[A-Za-z0-9_.-]`, not starting with `sha256:`.
pub fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The configured plugin for `kind` and the event version it gets (`"1"`, or `"2"` for pre token
/// generation V2).
pub fn configured(pool: &PoolRecord, kind: TriggerKind) -> Option<(String, &'static str)> {
    let config = pool.settings.lambda_config.as_ref()?;
    let versioned = |field: &str| {
        let c = config.get(field)?;
        let arn = c.get("LambdaArn")?.as_str()?;
        Some((plugin_reference(arn)?, c.get("LambdaVersion")?.as_str()?))
    };
    match kind {
        TriggerKind::PreTokenGeneration => {
            if let Some((reference, version)) = versioned("PreTokenGenerationConfig") {
                let v = match version {
                    "V1_0" => "1",
                    "V3_0" => "3",
                    _ => "2",
                };
                return Some((reference, v));
            }
            let arn = config.get("PreTokenGeneration")?.as_str()?;
            Some((plugin_reference(arn)?, "1"))
        }
        TriggerKind::CustomEmailSender | TriggerKind::CustomSmsSender => {
            versioned(kind.config_field()).map(|(r, _)| (r, "1"))
        }
        _ => {
            let arn = config.get(kind.config_field())?.as_str()?;
            Some((plugin_reference(arn)?, "1"))
        }
    }
}

/// Checks a CreateUserPool/UpdateUserPool `LambdaConfig`: every trigger field holds a plugin
/// reference; versioned configs name a version Cognate runs.
pub fn validate_lambda_config(config: Option<&Value>) -> Result<(), Error> {
    let Some(config) = config else { return Ok(()) };
    let Some(map) = config.as_object() else {
        return Err(Error::invalid_parameter("LambdaConfig must be an object."));
    };
    let bad = |field: &str, value: &str| {
        Error::invalid_parameter(format!(
            "LambdaConfig.{field}: '{}' is not a plugin reference (a registered plugin name, sha256:<hex>, or a Lambda ARN whose function name is a registered plugin).",
            value.chars().take(200).collect::<String>()
        ))
    };
    for (field, value) in map {
        match field.as_str() {
            "PreTokenGenerationConfig" | "CustomEmailSender" | "CustomSMSSender" => {
                let arn = value.get("LambdaArn").and_then(Value::as_str).unwrap_or("");
                plugin_reference(arn).ok_or_else(|| bad(field, arn))?;
                let version = value
                    .get("LambdaVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let allowed: &[&str] = if field == "PreTokenGenerationConfig" {
                    &["V1_0", "V2_0", "V3_0"]
                } else {
                    &["V1_0"]
                };
                if !allowed.contains(&version) {
                    return Err(Error::invalid_parameter(format!(
                        "LambdaConfig.{field}.LambdaVersion must be one of {allowed:?}."
                    )));
                }
            }
            "KMSKeyID" => {}
            other => {
                if !TriggerKind::ALL.iter().any(|k| k.config_field() == other) {
                    return Err(Error::invalid_parameter(format!(
                        "LambdaConfig has no member {}.",
                        other.chars().take(64).collect::<String>()
                    )));
                }
                let arn = value.as_str().unwrap_or("");
                plugin_reference(arn).ok_or_else(|| bad(field, arn))?;
            }
        }
    }
    Ok(())
}

/// The ids of every trigger a pool configures (for listings and checks).
pub fn configured_references(pool: &PoolRecord) -> Vec<(TriggerKind, String)> {
    TriggerKind::ALL
        .iter()
        .filter_map(|k| configured(pool, *k).map(|(r, _)| (*k, r)))
        .collect()
}
