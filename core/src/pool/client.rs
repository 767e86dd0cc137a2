//! App clients: their settings (flows, token validity, OAuth), and how a client proves itself
//! (`SECRET_HASH`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
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
#[serde(rename_all = "PascalCase", from = "StoredClient")]
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

/// [`AppClient`] as stored, its settings' members beside its own: what it is decoded from.
/// serde's `flatten` (which [`AppClient`] still serialises with) decodes through a buffer of
/// every member and a second pass over it; this is one pass, and every token request decodes
/// its client (2.65 against 0.45 µs to skip the record natively, more in the Wasm core;
/// issue 23). The conversion lists every field of both structs, so a field added to either
/// cannot be forgotten here. (An absent `Option` member decodes as `None` without a default.)
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StoredClient {
    user_pool_id: String,
    client_name: String,
    client_id: String,
    client_secret: Option<Secret>,
    #[serde(default)]
    creation_date: f64,
    #[serde(default)]
    last_modified_date: f64,
    refresh_token_validity: Option<u64>,
    access_token_validity: Option<u64>,
    id_token_validity: Option<u64>,
    token_validity_units: Option<TokenValidityUnits>,
    read_attributes: Option<Vec<String>>,
    write_attributes: Option<Vec<String>>,
    explicit_auth_flows: Option<Vec<String>>,
    supported_identity_providers: Option<Vec<String>>,
    #[serde(rename = "CallbackURLs")]
    callback_urls: Option<Vec<String>>,
    #[serde(rename = "LogoutURLs")]
    logout_urls: Option<Vec<String>>,
    #[serde(rename = "DefaultRedirectURI")]
    default_redirect_uri: Option<String>,
    allowed_o_auth_flows: Option<Vec<String>>,
    allowed_o_auth_scopes: Option<Vec<String>>,
    allowed_o_auth_flows_user_pool_client: Option<bool>,
    analytics_configuration: Option<Value>,
    prevent_user_existence_errors: Option<String>,
    enable_token_revocation: Option<bool>,
    enable_propagate_additional_user_context_data: Option<bool>,
    auth_session_validity: Option<u64>,
    refresh_token_rotation: Option<Value>,
}

impl From<StoredClient> for AppClient {
    fn from(c: StoredClient) -> Self {
        Self {
            user_pool_id: c.user_pool_id,
            client_name: c.client_name,
            client_id: c.client_id,
            client_secret: c.client_secret,
            creation_date: c.creation_date,
            last_modified_date: c.last_modified_date,
            settings: ClientSettings {
                refresh_token_validity: c.refresh_token_validity,
                access_token_validity: c.access_token_validity,
                id_token_validity: c.id_token_validity,
                token_validity_units: c.token_validity_units,
                read_attributes: c.read_attributes,
                write_attributes: c.write_attributes,
                explicit_auth_flows: c.explicit_auth_flows,
                supported_identity_providers: c.supported_identity_providers,
                callback_urls: c.callback_urls,
                logout_urls: c.logout_urls,
                default_redirect_uri: c.default_redirect_uri,
                allowed_o_auth_flows: c.allowed_o_auth_flows,
                allowed_o_auth_scopes: c.allowed_o_auth_scopes,
                allowed_o_auth_flows_user_pool_client: c.allowed_o_auth_flows_user_pool_client,
                analytics_configuration: c.analytics_configuration,
                prevent_user_existence_errors: c.prevent_user_existence_errors,
                enable_token_revocation: c.enable_token_revocation,
                enable_propagate_additional_user_context_data: c
                    .enable_propagate_additional_user_context_data,
                auth_session_validity: c.auth_session_validity,
                refresh_token_rotation: c.refresh_token_rotation,
            },
        }
    }
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
    let (client, version) = load_client_shared(env, client_id).await?;
    Ok((Arc::unwrap_or_clone(client), version))
}

/// [`load_client`] as kept decoded ([`crate::decoded`]), for paths that only read it (every
/// token request reads its client).
pub async fn load_client_shared(
    env: &dyn Env,
    client_id: &str,
) -> Result<(Arc<AppClient>, u64), Error> {
    let missing =
        || Error::resource_not_found(format!("User pool client {client_id} does not exist."));
    if !crate::ids::is_client_id(client_id) {
        return Err(missing());
    }
    crate::decoded::get_kept(env, &keys::client(client_id))
        .await?
        .ok_or_else(missing)
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

#[cfg(test)]
mod tests {
    use alloc::vec;

    use serde_json::json;

    use super::*;

    /// A client decodes from its stored form (one pass, [`StoredClient`]) to the same client it
    /// was encoded from (with `flatten`), every setting set, and records written before carry
    /// on decoding: absent members take their defaults.
    #[test]
    fn a_stored_client_decodes_to_what_was_stored() {
        let client = AppClient {
            user_pool_id: "us-east-1_abcdefghi".into(),
            client_name: "web".into(),
            client_id: "4tcnt5livxtsozin8xmwkkea6w".into(),
            client_secret: Some(Secret::new("s3cret")),
            creation_date: 1.5,
            last_modified_date: 2.5,
            settings: ClientSettings {
                refresh_token_validity: Some(30),
                access_token_validity: Some(60),
                id_token_validity: Some(61),
                token_validity_units: Some(TokenValidityUnits::default()),
                read_attributes: Some(vec!["email".into()]),
                write_attributes: Some(vec!["name".into()]),
                explicit_auth_flows: Some(vec!["ALLOW_REFRESH_TOKEN_AUTH".into()]),
                supported_identity_providers: Some(vec!["COGNITO".into()]),
                callback_urls: Some(vec!["https://app.example.com/cb".into()]),
                logout_urls: Some(vec!["https://app.example.com/out".into()]),
                default_redirect_uri: Some("https://app.example.com/cb".into()),
                allowed_o_auth_flows: Some(vec!["code".into()]),
                allowed_o_auth_scopes: Some(vec!["openid".into()]),
                allowed_o_auth_flows_user_pool_client: Some(true),
                analytics_configuration: Some(json!({"ApplicationId": "a"})),
                prevent_user_existence_errors: Some("ENABLED".into()),
                enable_token_revocation: Some(true),
                enable_propagate_additional_user_context_data: Some(false),
                auth_session_validity: Some(3),
                refresh_token_rotation: Some(json!({"Feature": "ENABLED"})),
            },
        };
        let stored = serde_json::to_vec(&client).unwrap();
        let decoded: AppClient = serde_json::from_slice(&stored).unwrap();
        assert_eq!(
            serde_json::to_value(&decoded).unwrap(),
            serde_json::to_value(&client).unwrap()
        );
        assert!(
            decoded
                .client_secret
                .as_ref()
                .is_some_and(|s| s.ct_eq("s3cret"))
        );

        let minimal: AppClient = serde_json::from_value(json!({
            "UserPoolId": "us-east-1_abcdefghi", "ClientName": "web", "ClientId": "c",
            "ExplicitAuthFlows": null, "SomethingNewer": 1
        }))
        .unwrap();
        assert!(minimal.client_secret.is_none());
        assert!(minimal.settings.explicit_auth_flows.is_none());
        assert_eq!(minimal.creation_date, 0.0);
    }
}
