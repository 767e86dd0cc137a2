//! Choice-based sign-in settings: the first factors a pool allows (`Policies.SignInPolicy`,
//! CreateUserPool / UpdateUserPool / DescribeUserPool) and its passkey settings
//! (`WebAuthnConfiguration`, SetUserPoolMfaConfig / GetUserPoolMfaConfig).
//!
//! What Cognate requires, as Cognito documents it:
//! - `AllowedFirstAuthFactors` is PASSWORD, EMAIL_OTP, SMS_OTP and WEB_AUTHN (SOFTWARE_TOKEN is
//!   in the model's enum but "not currently supported as a first auth factor"); PASSWORD cannot
//!   be left out (Cognito's console and CDK refuse a pool without it). Default: `["PASSWORD"]`.
//! - SMS_OTP needs the pool's `SmsConfiguration` (SMS goes nowhere without it).
//! - `RelyingPartyId` is a host name (no scheme, port or path); left out, the pool's custom
//!   domain, else (a pool with a prefix domain) the host of Cognate's base URL.
//!   `UserVerification` is `preferred` unless set to `required`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::PoolRecord;
use crate::error::Error;

/// A first factor of USER_AUTH, by Cognito's name (`AuthFactorType`; the challenge that asks
/// for it has the same name, except [`FirstFactor::Password`], which is PASSWORD or
/// PASSWORD_SRP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FirstFactor {
    #[serde(rename = "PASSWORD")]
    Password,
    #[serde(rename = "EMAIL_OTP")]
    EmailOtp,
    #[serde(rename = "SMS_OTP")]
    SmsOtp,
    #[serde(rename = "WEB_AUTHN")]
    WebAuthn,
}

impl FirstFactor {
    pub const ALL: [FirstFactor; 4] =
        [Self::Password, Self::EmailOtp, Self::SmsOtp, Self::WebAuthn];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Password => "PASSWORD",
            Self::EmailOtp => "EMAIL_OTP",
            Self::SmsOtp => "SMS_OTP",
            Self::WebAuthn => "WEB_AUTHN",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

fn default_factors() -> Vec<String> {
    vec!["PASSWORD".to_string()]
}

/// Cognito's `SignInPolicyType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignInPolicy {
    #[serde(default = "default_factors")]
    pub allowed_first_auth_factors: Vec<String>,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            allowed_first_auth_factors: default_factors(),
        }
    }
}

impl SignInPolicy {
    /// Checks the factors (the model checked the enum and the list's length) and drops
    /// duplicates.
    pub fn validate(&mut self) -> Result<(), Error> {
        super::dedup(&mut self.allowed_first_auth_factors);
        for factor in &self.allowed_first_auth_factors {
            if FirstFactor::from_name(factor).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "{} is not supported as a first authentication factor: AllowedFirstAuthFactors takes PASSWORD, EMAIL_OTP, SMS_OTP and WEB_AUTHN.",
                    factor.chars().take(32).collect::<String>()
                )));
            }
        }
        if !self
            .allowed_first_auth_factors
            .iter()
            .any(|f| f == "PASSWORD")
        {
            return Err(Error::invalid_parameter(
                "AllowedFirstAuthFactors must include PASSWORD.",
            ));
        }
        Ok(())
    }
}

/// Cognito's `WebAuthnConfigurationType`, as stored on the pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAuthnConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relying_party_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor_configuration: Option<String>,
}

impl WebAuthnConfig {
    /// Checks what the model cannot: the relying party id is a host name.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(rp) = &self.relying_party_id
            && !is_rp_id(rp)
        {
            return Err(Error::invalid_parameter(
                "WebAuthnConfiguration.RelyingPartyId must be a host name (such as auth.example.com), without scheme, port or path.",
            ));
        }
        if let Some(uv) = &self.user_verification
            && !matches!(uv.as_str(), "required" | "preferred")
        {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'webAuthnConfiguration.userVerification' failed to satisfy constraint: Member must satisfy enum value set: [required, preferred]",
                uv.chars().take(32).collect::<String>()
            )));
        }
        if let Some(fc) = &self.factor_configuration
            && !matches!(
                fc.as_str(),
                "SINGLE_FACTOR" | "MULTI_FACTOR_WITH_USER_VERIFICATION"
            )
        {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'webAuthnConfiguration.factorConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [SINGLE_FACTOR, MULTI_FACTOR_WITH_USER_VERIFICATION]",
                fc.chars().take(40).collect::<String>()
            )));
        }
        Ok(())
    }

    /// GetUserPoolMfaConfig's `WebAuthnConfiguration`: what is set, with the defaults.
    pub fn to_wire(&self) -> Value {
        let mut out = Map::new();
        if let Some(rp) = &self.relying_party_id {
            out.insert("RelyingPartyId".into(), json!(rp));
        }
        out.insert(
            "UserVerification".into(),
            json!(self.user_verification.as_deref().unwrap_or("preferred")),
        );
        out.insert(
            "FactorConfiguration".into(),
            json!(
                self.factor_configuration
                    .as_deref()
                    .unwrap_or("SINGLE_FACTOR")
            ),
        );
        Value::Object(out)
    }
}

/// A relying party id: a host name of dot-separated labels of letters, digits and hyphens
/// (or `localhost`).
fn is_rp_id(rp: &str) -> bool {
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    rp == "localhost" || (rp.len() <= 253 && rp.contains('.') && rp.split('.').all(label))
}

/// The authority (`host[:port]`) of a URL.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default()
}

impl PoolRecord {
    /// The first factors the pool allows, in Cognito's order.
    pub fn first_factors(&self) -> Vec<FirstFactor> {
        let allowed = &self
            .settings
            .policies
            .sign_in_policy
            .allowed_first_auth_factors;
        FirstFactor::ALL
            .into_iter()
            .filter(|f| allowed.iter().any(|a| a == f.name()))
            .collect()
    }

    /// Whether the pool allows `factor` first.
    pub fn allows_first(&self, factor: FirstFactor) -> bool {
        self.first_factors().contains(&factor)
    }

    /// Whether passkeys must verify the user (`UserVerification` `required`).
    pub fn webauthn_requires_uv(&self) -> bool {
        self.webauthn.user_verification.as_deref() == Some("required")
    }
}

/// After CreateUserPool / UpdateUserPool: SMS_OTP needs an `SmsConfiguration`.
pub fn check_pool(record: &PoolRecord) -> Result<(), Error> {
    if record.allows_first(FirstFactor::SmsOtp) && record.settings.sms_configuration.is_none() {
        return Err(Error::invalid_parameter(
            "SMS_OTP in AllowedFirstAuthFactors needs the user pool's SmsConfiguration.",
        ));
    }
    Ok(())
}

/// The relying party id passkeys of this pool are made for: the configured one, else the custom
/// domain, else the host of `base_url` when the pool has a prefix domain.
pub fn relying_party_id(
    record: &PoolRecord,
    prefix_domain: Option<&str>,
    custom_domain: Option<&str>,
    base_url: &str,
) -> Option<String> {
    if let Some(rp) = &record.webauthn.relying_party_id {
        return Some(rp.to_ascii_lowercase());
    }
    if let Some(custom) = custom_domain {
        return Some(custom.to_ascii_lowercase());
    }
    prefix_domain.map(|_| host_of(authority(base_url)).to_ascii_lowercase())
}

/// The host of an authority (`host[:port]`, `[v6]:port`).
pub fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .map_or(authority, |(h, _)| h.trim_start_matches('['));
    }
    authority.split(':').next().unwrap_or_default()
}

/// Whether a browser `origin` (`scheme://host[:port]`) may use passkeys of `rp_id`: `https` on
/// the relying party id or one of its subdomains (W3C WebAuthn: the RP ID is a registrable
/// suffix of the origin's effective domain), or `http` on `localhost` (a secure context).
pub fn origin_allowed(origin: &str, rp_id: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if authority.contains('/') || authority.is_empty() {
        return false;
    }
    let host = host_of(authority).to_ascii_lowercase();
    let rp = rp_id.to_ascii_lowercase();
    let matches = host == rp || host.ends_with(&format!(".{rp}"));
    match scheme {
        "https" => matches,
        "http" => matches && (host == "localhost" || host.ends_with(".localhost")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_belong_to_the_relying_party_id() {
        assert!(origin_allowed(
            "https://auth.example.com",
            "auth.example.com"
        ));
        assert!(origin_allowed(
            "https://a.auth.example.com:8443",
            "auth.example.com"
        ));
        assert!(origin_allowed("http://localhost:3000", "localhost"));
        assert!(!origin_allowed(
            "http://auth.example.com",
            "auth.example.com"
        ));
        assert!(!origin_allowed(
            "https://evilauth.example.com",
            "auth.example.com"
        ));
        assert!(!origin_allowed("https://example.com", "auth.example.com"));
        assert!(!origin_allowed(
            "https://auth.example.com/x",
            "auth.example.com"
        ));
        assert!(!origin_allowed("auth.example.com", "auth.example.com"));
    }

    #[test]
    fn sign_in_policy_needs_password_and_known_factors() {
        let mut p = SignInPolicy {
            allowed_first_auth_factors: vec!["EMAIL_OTP".into()],
        };
        assert!(p.validate().is_err());
        let mut p = SignInPolicy {
            allowed_first_auth_factors: vec!["PASSWORD".into(), "SOFTWARE_TOKEN".into()],
        };
        assert!(p.validate().is_err());
        let mut p = SignInPolicy {
            allowed_first_auth_factors: vec![
                "WEB_AUTHN".into(),
                "PASSWORD".into(),
                "WEB_AUTHN".into(),
            ],
        };
        assert!(p.validate().is_ok());
        assert_eq!(p.allowed_first_auth_factors, ["WEB_AUTHN", "PASSWORD"]);
    }
}
