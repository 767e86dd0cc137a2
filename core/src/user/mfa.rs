//! A user's second factors: their software token (TOTP), the methods they enabled and the one
//! they prefer, as SetUserMFAPreference sets them and GetUser shows them.
//!
//! # Security
//! The TOTP secret must stay usable (the server computes the codes), so it is stored as given to
//! the user (base32), on the user record: whoever reads the store can compute that user's codes,
//! as with any TOTP server without a key-management service. Cognate has no server-held
//! encryption key today; the second factor still protects against a stolen password, which is
//! what it is for. The secret is never returned again after AssociateSoftwareToken, and
//! `Debug` redacts it.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::UserRecord;
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::pool::mfa::MfaMethod;
use crate::secret::Secret;

/// A verified software token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SoftwareToken {
    /// Base32, as the user's authenticator has it.
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// The last TOTP time step accepted: a code is accepted once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<u64>,
}

/// A user's MFA settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserMfa {
    /// The verified software token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_token: Option<SoftwareToken>,
    /// A secret handed out by AssociateSoftwareToken, not verified yet (base32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_secret: Option<Secret>,
    /// Methods the user enabled (SetUserMFAPreference), in Cognito's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled: Vec<MfaMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<MfaMethod>,
}

impl UserMfa {
    pub fn is_empty(&self) -> bool {
        self.software_token.is_none()
            && self.pending_secret.is_none()
            && self.enabled.is_empty()
            && self.preferred.is_none()
    }

    pub fn is_enabled(&self, method: MfaMethod) -> bool {
        self.enabled.contains(&method)
    }

    fn set_enabled(&mut self, method: MfaMethod, on: bool) {
        self.enabled.retain(|m| *m != method);
        if on {
            self.enabled.push(method);
            self.enabled.sort();
        } else if self.preferred == Some(method) {
            self.preferred = None;
        }
    }

    /// Registers a verified software token, replacing any earlier one.
    pub fn register_token(&mut self, token: SoftwareToken) {
        self.software_token = Some(token);
        self.pending_secret = None;
    }

    /// Enables the software token and makes it preferred (set-up during sign-in, MFA_SETUP).
    pub fn enable_token_preferred(&mut self) {
        self.set_enabled(MfaMethod::SoftwareToken, true);
        self.preferred = Some(MfaMethod::SoftwareToken);
    }
}

/// One method's part of SetUserMFAPreference (`SMSMfaSettings`, `SoftwareTokenMfaSettings`,
/// `EmailMfaSettings`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodSetting {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub preferred_mfa: Option<bool>,
}

/// SetUserMFAPreference / AdminSetUserMFAPreference's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Preferences {
    #[serde(default, rename = "SMSMfaSettings")]
    pub sms: Option<MethodSetting>,
    #[serde(default, rename = "SoftwareTokenMfaSettings")]
    pub software_token: Option<MethodSetting>,
    #[serde(default, rename = "EmailMfaSettings")]
    pub email: Option<MethodSetting>,
}

/// Applies MFA preferences to a user (methods left out keep their settings), as Cognito checks
/// them: a method needs its means (a verified token, a phone number, an email address), and
/// the pool must offer it; at most one method is preferred, and only an enabled one.
pub fn apply_preferences(
    pool: &PoolRecord,
    user: &mut UserRecord,
    prefs: &Preferences,
) -> Result<(), Error> {
    let mut mfa = user.mfa.clone();
    let given = [
        (MfaMethod::Sms, prefs.sms),
        (MfaMethod::SoftwareToken, prefs.software_token),
        (MfaMethod::Email, prefs.email),
    ];
    let mut preferred_now = None;
    for (method, setting) in given {
        let Some(setting) = setting else { continue };
        let enable = setting.enabled.unwrap_or(false);
        if enable {
            match method {
                MfaMethod::SoftwareToken if mfa.software_token.is_none() => {
                    return Err(Error::invalid_parameter(
                        "User has not verified software token mfa",
                    ));
                }
                MfaMethod::Sms if user.attribute("phone_number").is_none() => {
                    return Err(Error::invalid_parameter(
                        "User does not have delivery config set to turn on SMS_MFA",
                    ));
                }
                MfaMethod::Email if user.attribute("email").is_none() => {
                    return Err(Error::invalid_parameter(
                        "User does not have delivery config set to turn on EMAIL_OTP",
                    ));
                }
                _ => {}
            }
            if !pool.offers_mfa(method) {
                return Err(Error::invalid_parameter(alloc::format!(
                    "{} is not enabled for this user pool.",
                    method.name()
                )));
            }
        }
        mfa.set_enabled(method, enable);
        if setting.preferred_mfa == Some(true) {
            if !enable {
                return Err(Error::invalid_parameter(
                    "A preferred MFA method must be enabled.",
                ));
            }
            if preferred_now.is_some() {
                return Err(Error::invalid_parameter(
                    "Only one MFA method can be preferred.",
                ));
            }
            preferred_now = Some(method);
        } else if setting.preferred_mfa == Some(false) && mfa.preferred == Some(method) {
            mfa.preferred = None;
        }
    }
    if let Some(method) = preferred_now {
        mfa.preferred = Some(method);
    }
    user.mfa = mfa;
    Ok(())
}

/// `UserMFASettingList` (absent when empty), `PreferredMfaSetting` and the legacy `MFAOptions`
/// (SMS to `phone_number`, when SMS MFA is enabled), as GetUser and AdminGetUser answer.
pub fn wire_members(user: &UserRecord) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if user.mfa.is_enabled(MfaMethod::Sms) {
        out.push((
            "MFAOptions",
            json!([{ "DeliveryMedium": "SMS", "AttributeName": "phone_number" }]),
        ));
    }
    if let Some(preferred) = user.mfa.preferred {
        out.push(("PreferredMfaSetting", json!(preferred.name())));
    }
    if !user.mfa.enabled.is_empty() {
        let names: Vec<&str> = user.mfa.enabled.iter().map(|m| m.name()).collect();
        out.push(("UserMFASettingList", json!(names)));
    }
    out
}
