//! A pool's multi-factor authentication settings: `MfaConfiguration` (OFF, ON, OPTIONAL, a
//! field of the pool itself) and which second factors the pool offers (software tokens, SMS,
//! email), as SetUserPoolMfaConfig / GetUserPoolMfaConfig show them.
//!
//! What Cognate requires:
//! - ON or OPTIONAL needs at least one method enabled.
//! - SMS MFA needs an `SmsConfiguration` (given with it, or already on the pool). CreateUserPool
//!   and UpdateUserPool with `MfaConfiguration` ON/OPTIONAL and an `SmsConfiguration` enable SMS
//!   MFA, Cognito's historical behaviour (SMS was its only second factor).
//! - Email MFA: Cognito requires `EmailSendingAccount` DEVELOPER (SES); Cognate does not (its
//!   own delivery layer sends the mail). `Message` must hold `{####}`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::PoolRecord;
use crate::error::Error;

/// A second factor, by Cognito's name (`ChallengeName`, `UserMFASettingList`, `MFAS_CAN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MfaMethod {
    #[serde(rename = "SMS_MFA")]
    Sms,
    #[serde(rename = "SOFTWARE_TOKEN_MFA")]
    SoftwareToken,
    #[serde(rename = "EMAIL_OTP")]
    Email,
}

impl MfaMethod {
    /// In the order Cognito lists them.
    pub const ALL: [MfaMethod; 3] = [Self::Sms, Self::SoftwareToken, Self::Email];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Sms => "SMS_MFA",
            Self::SoftwareToken => "SOFTWARE_TOKEN_MFA",
            Self::Email => "EMAIL_OTP",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Email MFA's message template (`EmailMfaConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailMfa {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The second factors a pool offers (stored on the pool record; `MfaConfiguration` and the SMS
/// template live in the pool's settings, as in Cognito's `UserPoolType`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolMfa {
    #[serde(default)]
    pub software_token: bool,
    #[serde(default)]
    pub sms: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailMfa>,
}

/// Cognito's default MFA texts.
pub const DEFAULT_SMS_MESSAGE: &str = "Your authentication code is {####}. ";
pub const DEFAULT_EMAIL_SUBJECT: &str = "Your sign-in code";
pub const DEFAULT_EMAIL_MESSAGE: &str = "Your authentication code is {####}.";

impl PoolRecord {
    /// `MfaConfiguration`: OFF, ON or OPTIONAL.
    pub fn mfa_mode(&self) -> &str {
        &self.settings.mfa_configuration
    }

    /// Whether the pool offers `method`.
    pub fn offers_mfa(&self, method: MfaMethod) -> bool {
        match method {
            MfaMethod::Sms => self.mfa.sms && self.settings.sms_configuration.is_some(),
            MfaMethod::SoftwareToken => self.mfa.software_token,
            MfaMethod::Email => self.mfa.email.is_some(),
        }
    }

    /// The methods the pool offers, in Cognito's order.
    pub fn mfa_methods(&self) -> Vec<MfaMethod> {
        MfaMethod::ALL
            .into_iter()
            .filter(|m| self.offers_mfa(*m))
            .collect()
    }

    /// The MFA message (subject, text) for `method` (SMS has no subject).
    pub fn mfa_template(&self, method: MfaMethod) -> (String, String) {
        match method {
            MfaMethod::Email => {
                let email = self.mfa.email.clone().unwrap_or_default();
                (
                    email
                        .subject
                        .unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.to_string()),
                    email
                        .message
                        .unwrap_or_else(|| DEFAULT_EMAIL_MESSAGE.to_string()),
                )
            }
            _ => (
                String::new(),
                self.settings
                    .sms_authentication_message
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SMS_MESSAGE.to_string()),
            ),
        }
    }
}

fn no_method() -> Error {
    Error::invalid_parameter(
        "Invalid MFA configuration: MfaConfiguration ON or OPTIONAL needs at least one MFA method enabled (an SmsConfiguration for SMS, or software token or email MFA with SetUserPoolMfaConfig).",
    )
}

/// After CreateUserPool / UpdateUserPool: SMS MFA follows the pool's `SmsConfiguration` when MFA
/// is on (Cognito's historical behaviour), and ON/OPTIONAL needs a method.
pub fn reconcile(record: &mut PoolRecord) -> Result<(), Error> {
    if record.settings.sms_configuration.is_none() {
        record.mfa.sms = false;
    } else if record.mfa_mode() != "OFF" {
        record.mfa.sms = true;
    }
    if record.mfa_mode() != "OFF" && record.mfa_methods().is_empty() {
        return Err(no_method());
    }
    Ok(())
}

/// SetUserPoolMfaConfig's input (the MFA part).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetMfaConfig {
    #[serde(default)]
    pub sms_mfa_configuration: Option<SmsMfaConfig>,
    #[serde(default)]
    pub software_token_mfa_configuration: Option<SoftwareTokenMfaConfig>,
    #[serde(default)]
    pub email_mfa_configuration: Option<EmailMfa>,
    #[serde(default)]
    pub mfa_configuration: Option<String>,
    /// Passkey settings; left out, the pool's stay as they are.
    #[serde(default)]
    pub web_authn_configuration: Option<super::factors::WebAuthnConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SmsMfaConfig {
    #[serde(default)]
    pub sms_authentication_message: Option<String>,
    #[serde(default)]
    pub sms_configuration: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SoftwareTokenMfaConfig {
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Applies SetUserPoolMfaConfig to a pool: the request describes the pool's whole second-factor
/// set (a method left out is disabled); `MfaConfiguration` left out keeps its value.
pub fn apply(record: &mut PoolRecord, config: &SetMfaConfig) -> Result<(), Error> {
    if let Some(mode) = &config.mfa_configuration {
        // The model checked the enum.
        record.settings.mfa_configuration = mode.clone();
    }
    record.mfa.software_token = config
        .software_token_mfa_configuration
        .as_ref()
        .and_then(|c| c.enabled)
        .unwrap_or(false);
    match &config.sms_mfa_configuration {
        None => record.mfa.sms = false,
        Some(sms) => {
            if let Some(message) = &sms.sms_authentication_message {
                if !message.contains("{####}") {
                    return Err(Error::invalid_parameter(
                        "1 validation error detected: Value at 'smsMfaConfiguration.smsAuthenticationMessage' failed to satisfy constraint: Member must contain the code placeholder {####}",
                    ));
                }
                record.settings.sms_authentication_message = Some(message.clone());
            }
            if let Some(sms_configuration) = &sms.sms_configuration {
                record.settings.sms_configuration = Some(sms_configuration.clone());
            }
            if record.settings.sms_configuration.is_none() {
                return Err(Error::invalid_parameter(
                    "SMS MFA needs an SmsConfiguration: give SmsMfaConfiguration.SmsConfiguration.",
                ));
            }
            record.mfa.sms = true;
        }
    }
    match &config.email_mfa_configuration {
        None => record.mfa.email = None,
        Some(email) => {
            if let Some(message) = &email.message
                && !message.contains("{####}")
            {
                return Err(Error::invalid_parameter(
                    "1 validation error detected: Value at 'emailMfaConfiguration.message' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*\\{####\\}[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*",
                ));
            }
            record.mfa.email = Some(email.clone());
        }
    }
    if let Some(webauthn) = &config.web_authn_configuration {
        webauthn.validate()?;
        record.webauthn = webauthn.clone();
    }
    if record.mfa_mode() != "OFF" && record.mfa_methods().is_empty() {
        return Err(no_method());
    }
    Ok(())
}

/// GetUserPoolMfaConfig's (and SetUserPoolMfaConfig's) answer.
pub fn to_wire(record: &PoolRecord) -> Value {
    let mut out = Map::new();
    if record.offers_mfa(MfaMethod::Sms) {
        let mut sms = Map::new();
        if let Some(message) = &record.settings.sms_authentication_message {
            sms.insert("SmsAuthenticationMessage".into(), json!(message));
        }
        if let Some(configuration) = &record.settings.sms_configuration {
            sms.insert("SmsConfiguration".into(), configuration.clone());
        }
        out.insert("SmsMfaConfiguration".into(), Value::Object(sms));
    }
    out.insert(
        "SoftwareTokenMfaConfiguration".into(),
        json!({ "Enabled": record.mfa.software_token }),
    );
    if let Some(email) = &record.mfa.email {
        out.insert(
            "EmailMfaConfiguration".into(),
            serde_json::to_value(email).unwrap_or_else(|_| json!({})),
        );
    }
    out.insert("MfaConfiguration".into(), json!(record.mfa_mode()));
    out.insert("WebAuthnConfiguration".into(), record.webauthn.to_wire());
    Value::Object(out)
}

/// The enum check CreateUserPool / UpdateUserPool apply to `MfaConfiguration`.
pub fn check_mode(mode: &str) -> Result<(), Error> {
    if matches!(mode, "OFF" | "ON" | "OPTIONAL") {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]",
            mode.chars().take(32).collect::<String>()
        )))
    }
}
