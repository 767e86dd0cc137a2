//! App clients: their settings (flows, token validity, OAuth), and how a client proves itself
//! (`SECRET_HASH`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::ports::Env;
use crate::secret::Secret;
use crate::store::keys;

/// Cognito's `UserPoolClientType`, stored as is (the secret must be readable: Cognito returns it
/// from DescribeUserPoolClient).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppClient {
    pub user_pool_id: String,
    pub client_name: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(flatten)]
    pub settings: ClientSettings,
    #[serde(default)]
    pub creation_date: f64,
    #[serde(default)]
    pub last_modified_date: f64,
}

/// Cognito's `TokenValidityUnitsType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    #[serde(default = "minutes")]
    pub access_token: String,
    #[serde(default = "minutes")]
    pub id_token: String,
    #[serde(default = "days")]
    pub refresh_token: String,
}

impl Default for TokenValidityUnits {
    fn default() -> Self {
        Self {
            access_token: minutes(),
            id_token: minutes(),
            refresh_token: days(),
        }
    }
}

fn minutes() -> String {
    "minutes".to_string()
}
fn days() -> String {
    "days".to_string()
}

/// The updatable settings of an app client.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientSettings {
    #[serde(default)]
    pub refresh_token_validity: Option<u64>,
    #[serde(default)]
    pub access_token_validity: Option<u64>,
    #[serde(default)]
    pub id_token_validity: Option<u64>,
    #[serde(default)]
    pub token_validity_units: Option<TokenValidityUnits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub explicit_auth_flows: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_identity_providers: Option<Vec<String>>,
    #[serde(
        default,
        rename = "CallbackURLs",
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_urls: Option<Vec<String>>,
    #[serde(
        default,
        rename = "LogoutURLs",
        skip_serializing_if = "Option::is_none"
    )]
    pub logout_urls: Option<Vec<String>>,
    #[serde(
        default,
        rename = "DefaultRedirectURI",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_o_auth_flows: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_o_auth_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_o_auth_flows_user_pool_client: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_configuration: Option<Value>,
    #[serde(default)]
    pub prevent_user_existence_errors: Option<String>,
    #[serde(default)]
    pub enable_token_revocation: Option<bool>,
    #[serde(default)]
    pub enable_propagate_additional_user_context_data: Option<bool>,
    #[serde(default)]
    pub auth_session_validity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_rotation: Option<Value>,
}

const AUTH_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];

fn unit_seconds(unit: &str) -> Option<u64> {
    match unit {
        "seconds" => Some(1),
        "minutes" => Some(60),
        "hours" => Some(3600),
        "days" => Some(86_400),
        _ => None,
    }
}

impl ClientSettings {
    /// Fills Cognito's defaults and validates ranges and enums.
    pub fn normalize(&mut self) -> Result<(), Error> {
        let units = self
            .token_validity_units
            .get_or_insert_with(TokenValidityUnits::default);
        for u in [&units.access_token, &units.id_token, &units.refresh_token] {
            if unit_seconds(u).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "1 validation error detected: Value '{u}' at 'tokenValidityUnits' failed to satisfy constraint: Member must satisfy enum value set: [seconds, minutes, hours, days]"
                )));
            }
        }
        let units = units.clone();
        let access =
            *self
                .access_token_validity
                .get_or_insert(if units.access_token == "minutes" {
                    60
                } else {
                    default_in(3600, &units.access_token)
                });
        let id = *self
            .id_token_validity
            .get_or_insert(if units.id_token == "minutes" {
                60
            } else {
                default_in(3600, &units.id_token)
            });
        let refresh = *self
            .refresh_token_validity
            .get_or_insert(default_in(30 * 86_400, &units.refresh_token));
        let secs = |v: u64, u: &str| v.saturating_mul(unit_seconds(u).unwrap_or(1));
        if !(300..=86_400).contains(&secs(access, &units.access_token)) {
            return Err(Error::invalid_parameter(
                "Access token validity must be between 5 minutes and 1 day.",
            ));
        }
        if !(300..=86_400).contains(&secs(id, &units.id_token)) {
            return Err(Error::invalid_parameter(
                "ID token validity must be between 5 minutes and 1 day.",
            ));
        }
        if !(3600..=315_360_000).contains(&secs(refresh, &units.refresh_token)) {
            return Err(Error::invalid_parameter(
                "Refresh token validity must be between 60 minutes and 10 years.",
            ));
        }
        let flows = self.explicit_auth_flows.get_or_insert_with(|| {
            [
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_CUSTOM_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        });
        super::dedup(flows);
        for f in flows.iter() {
            if !AUTH_FLOWS.contains(&f.as_str()) {
                return Err(Error::invalid_parameter(format!(
                    "1 validation error detected: Value '[{f}]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    AUTH_FLOWS.join(", ")
                )));
            }
        }
        let legacy = flows.iter().any(|f| !f.starts_with("ALLOW_"));
        let modern = flows.iter().any(|f| f.starts_with("ALLOW_"));
        if legacy && modern {
            return Err(Error::invalid_parameter(
                "ExplicitAuthFlows cannot mix legacy values (ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, CUSTOM_AUTH_FLOW_ONLY) and ALLOW_ values.",
            ));
        }
        let prevent = self
            .prevent_user_existence_errors
            .get_or_insert_with(|| "ENABLED".to_string());
        if !matches!(prevent.as_str(), "ENABLED" | "LEGACY") {
            return Err(Error::invalid_parameter(
                "PreventUserExistenceErrors must be ENABLED or LEGACY.",
            ));
        }
        self.enable_token_revocation.get_or_insert(true);
        self.enable_propagate_additional_user_context_data
            .get_or_insert(false);
        self.allowed_o_auth_flows_user_pool_client
            .get_or_insert(false);
        let session = *self.auth_session_validity.get_or_insert(3);
        if !(3..=15).contains(&session) {
            return Err(Error::invalid_parameter(
                "AuthSessionValidity must be between 3 and 15 minutes.",
            ));
        }
        Ok(())
    }
}

fn default_in(seconds: u64, unit: &str) -> u64 {
    (seconds / unit_seconds(unit).unwrap_or(1)).max(1)
}

impl AppClient {
    fn units(&self) -> TokenValidityUnits {
        self.settings
            .token_validity_units
            .clone()
            .unwrap_or_default()
    }
    fn seconds(value: Option<u64>, unit: &str, fallback: u64) -> u64 {
        value.map_or(fallback, |v| {
            v.saturating_mul(unit_seconds(unit).unwrap_or(1))
        })
    }
    pub fn access_token_seconds(&self) -> u64 {
        Self::seconds(
            self.settings.access_token_validity,
            &self.units().access_token,
            3600,
        )
    }
    pub fn id_token_seconds(&self) -> u64 {
        Self::seconds(
            self.settings.id_token_validity,
            &self.units().id_token,
            3600,
        )
    }
    pub fn refresh_token_seconds(&self) -> u64 {
        Self::seconds(
            self.settings.refresh_token_validity,
            &self.units().refresh_token,
            30 * 86_400,
        )
    }
    /// Whether the client allows an auth flow: the `ALLOW_` form or its legacy alias.
    pub fn allows(&self, allow: &str, legacy: Option<&str>) -> bool {
        self.settings
            .explicit_auth_flows
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == allow || legacy.is_some_and(|l| f == l))
    }
    pub fn prevents_user_existence_errors(&self) -> bool {
        self.settings.prevent_user_existence_errors.as_deref() != Some("LEGACY")
    }
    /// Cognito's `UserPoolClientType`.
    pub fn to_wire(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

pub fn validate_client_name(name: &str) -> Result<(), Error> {
    super::check_name(name, "clientName")
}

/// Loads an app client by id (public operations know only the client id).
pub async fn load_client(env: &dyn Env, client_id: &str) -> Result<(AppClient, u64), Error> {
    let missing =
        || Error::resource_not_found(format!("User pool client {client_id} does not exist."));
    if !crate::ids::is_client_id(client_id) {
        return Err(missing());
    }
    let item = env
        .store()
        .get(&keys::client(client_id))
        .await?
        .ok_or_else(missing)?;
    Ok((serde_json::from_slice(&item.value)?, item.version))
}

/// Loads a client and checks it belongs to `pool_id`.
pub async fn load_pool_client(
    env: &dyn Env,
    pool_id: &str,
    client_id: &str,
) -> Result<(AppClient, u64), Error> {
    let (client, version) = load_client(env, client_id).await?;
    if client.user_pool_id != pool_id {
        return Err(Error::resource_not_found(format!(
            "User pool client {client_id} does not exist."
        )));
    }
    Ok((client, version))
}

/// How a client proves itself on an operation that names a user (sign-in, sign-up, codes).
#[derive(Debug, Clone, Copy)]
pub enum ClientProof<'a> {
    /// The Cognito API: `SECRET_HASH` when the client has a secret.
    SecretHash(Option<&'a str>),
    /// The hosted UI: the server itself is the user agent's client; the OAuth 2.0 client
    /// authenticates later, at the token endpoint.
    HostedUi,
}

impl ClientProof<'_> {
    /// Checks the proof; `usernames` are the names the caller may have hashed (the alias
    /// typed and the username).
    pub fn check(self, client: &AppClient, usernames: &[&str]) -> Result<(), Error> {
        match self {
            Self::SecretHash(hash) => check_secret_hash(client, hash, usernames),
            Self::HostedUi => Ok(()),
        }
    }
}

/// Verifies Cognito's `SECRET_HASH` = Base64(HMAC-SHA256(client secret, username + client id)).
/// `usernames` lists the names the caller may have used (e.g. the alias typed and the username).
pub fn check_secret_hash(
    client: &AppClient,
    secret_hash: Option<&str>,
    usernames: &[&str],
) -> Result<(), Error> {
    use hmac::{KeyInit, Mac};
    let Some(secret) = &client.client_secret else {
        return Ok(());
    };
    let Some(given) = secret_hash else {
        return Err(Error::not_authorized(format!(
            "Client {} is configured for secret but secret was not received",
            client.client_id
        )));
    };
    let given = crate::codec::b64_decode(given).unwrap_or_default();
    for username in usernames {
        let Ok(mut mac) =
            <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        else {
            continue;
        };
        mac.update(username.as_bytes());
        mac.update(client.client_id.as_bytes());
        // `verify_slice` compares in constant time.
        if mac.verify_slice(&given).is_ok() {
            return Ok(());
        }
    }
    Err(Error::not_authorized(format!(
        "Unable to verify secret hash for client {}",
        client.client_id
    )))
}
