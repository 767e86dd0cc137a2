//! User pools and app clients: their configuration, as stored and as Cognito's wire shapes.
//!
//! Key layout (see `store`): `pool/<poolId>` holds a [`PoolRecord`]; `c/<clientId>` holds an
//! [`AppClient`] (clients are looked up by id alone on public operations); `p/<poolId>/c/<clientId>`
//! is the pool's listing index of its clients; everything else of a pool lives under `p/<poolId>/`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::ports::{Env, HashParams};
use crate::secret::Secret;
use crate::store::Expect;

/// The placeholder AWS account id in ARNs.
pub const ACCOUNT_ID: &str = "000000000000";

pub fn pool_key(pool_id: &str) -> String {
    format!("pool/{pool_id}")
}
pub fn client_key(client_id: &str) -> String {
    format!("c/{client_id}")
}
pub fn pool_client_index_key(pool_id: &str, client_id: &str) -> String {
    format!("p/{pool_id}/c/{client_id}")
}

/// Cognito's `Policies`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies {
    #[serde(default)]
    pub password_policy: PasswordPolicy,
}

/// Cognito's `UsernameConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    #[serde(default)]
    pub case_sensitive: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StringConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NumberConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
}

/// Cognito's `SchemaAttributeType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttribute {
    pub name: String,
    #[serde(default = "string_type")]
    pub attribute_data_type: String,
    #[serde(default)]
    pub developer_only_attribute: bool,
    #[serde(default = "yes")]
    pub mutable: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_attribute_constraints: Option<StringConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_attribute_constraints: Option<NumberConstraints>,
}

fn string_type() -> String {
    "String".to_string()
}
fn yes() -> bool {
    true
}

/// Cognito's standard attributes: (name, type, mutable).
const STANDARD_ATTRIBUTES: &[(&str, &str, bool)] = &[
    ("sub", "String", false),
    ("name", "String", true),
    ("given_name", "String", true),
    ("family_name", "String", true),
    ("middle_name", "String", true),
    ("nickname", "String", true),
    ("preferred_username", "String", true),
    ("profile", "String", true),
    ("picture", "String", true),
    ("website", "String", true),
    ("email", "String", true),
    ("email_verified", "Boolean", true),
    ("gender", "String", true),
    ("birthdate", "String", true),
    ("zoneinfo", "String", true),
    ("locale", "String", true),
    ("phone_number", "String", true),
    ("phone_number_verified", "Boolean", true),
    ("address", "String", true),
    ("updated_at", "Number", true),
];

fn default_schema() -> Vec<SchemaAttribute> {
    STANDARD_ATTRIBUTES
        .iter()
        .map(|(name, ty, mutable)| SchemaAttribute {
            name: name.to_string(),
            attribute_data_type: ty.to_string(),
            developer_only_attribute: false,
            mutable: *mutable,
            required: *name == "sub",
            string_attribute_constraints: (*ty == "String").then(|| StringConstraints {
                min_length: Some(if *name == "sub" { "1" } else { "0" }.to_string()),
                max_length: Some("2048".to_string()),
            }),
            number_attribute_constraints: (*ty == "Number").then(|| NumberConstraints {
                min_value: Some("0".to_string()),
                max_value: None,
            }),
        })
        .collect()
}

/// Cognate's extension to the pool: argon2id cost parameters (`CognatePasswordHashing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordHashing {
    #[serde(rename = "MemoryKiB")]
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        let p = HashParams::default();
        Self {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        }
    }
}

impl PasswordHashing {
    pub fn params(&self) -> HashParams {
        HashParams {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        }
    }
    fn validate(&self) -> Result<(), Error> {
        if !(8..=1_048_576).contains(&self.memory_kib)
            || !(1..=16).contains(&self.iterations)
            || !(1..=16).contains(&self.parallelism)
            || self.memory_kib < 8 * self.parallelism
        {
            return Err(Error::invalid_parameter(
                "CognatePasswordHashing must have MemoryKiB 8..=1048576 (at least 8 per lane), Iterations 1..=16 and Parallelism 1..=16.",
            ));
        }
        Ok(())
    }
}

/// The updatable settings of a pool: CreateUserPool's and UpdateUserPool's common fields.
/// Fields Cognate does not act on yet are kept and echoed back as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolSettings {
    #[serde(default)]
    pub policies: Policies,
    #[serde(default = "deletion_protection_default")]
    pub deletion_protection: String,
    #[serde(default)]
    pub auto_verified_attributes: Vec<String>,
    #[serde(default = "mfa_default")]
    pub mfa_configuration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verification_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verification_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_verification_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_message_template: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_authentication_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_attribute_update_settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_tags: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_create_user_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_add_ons: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_recovery_setting: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognate_password_hashing: Option<PasswordHashing>,
}

fn deletion_protection_default() -> String {
    "INACTIVE".to_string()
}
fn mfa_default() -> String {
    "OFF".to_string()
}

impl PoolSettings {
    pub fn validate(&mut self) -> Result<(), Error> {
        self.policies.password_policy.validate()?;
        if !matches!(self.deletion_protection.as_str(), "ACTIVE" | "INACTIVE") {
            return Err(Error::invalid_parameter(
                "DeletionProtection must be ACTIVE or INACTIVE.",
            ));
        }
        for attr in &self.auto_verified_attributes {
            if !matches!(attr.as_str(), "email" | "phone_number") {
                return Err(Error::invalid_parameter(format!(
                    "1 validation error detected: Value '{attr}' at 'autoVerifiedAttributes' failed to satisfy constraint: Member must satisfy enum value set: [phone_number, email]"
                )));
            }
        }
        dedup(&mut self.auto_verified_attributes);
        match self.mfa_configuration.as_str() {
            "OFF" | "OPTIONAL" => {}
            "ON" => {
                return Err(Error::new(
                    crate::error::ErrorKind::InvalidUserPoolConfiguration,
                    "MfaConfiguration ON is not supported by this server yet; use OFF or OPTIONAL.",
                ));
            }
            other => {
                return Err(Error::invalid_parameter(format!(
                    "1 validation error detected: Value '{other}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"
                )));
            }
        }
        if let Some(h) = &self.cognate_password_hashing {
            h.validate()?;
        }
        // Trigger plugins: every LambdaConfig field holds a plugin reference.
        crate::trigger::validate_lambda_config(self.lambda_config.as_ref())?;
        // Message templates and delivery settings (issue 22).
        crate::delivery::validate_templates(self)?;
        crate::delivery::normalize_templates(self);
        Ok(())
    }
}

fn dedup(values: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    values.retain(|v| seen.insert(v.clone()));
}

/// A stored user pool: Cognito's `UserPoolType` plus internal state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoolRecord {
    pub id: String,
    pub name: String,
    pub region: String,
    pub created_millis: u64,
    pub modified_millis: u64,
    pub settings: PoolSettings,
    pub schema: Vec<SchemaAttribute>,
    pub alias_attributes: Vec<String>,
    pub username_attributes: Vec<String>,
    pub username_configuration: UsernameConfiguration,
    /// A hash of a random password with the pool's parameters, verified for unknown users so
    /// "no such user" costs the same as "wrong password".
    pub dummy_password_hash: String,
}

pub fn epoch_seconds(millis: u64) -> Value {
    serde_json::Number::from_f64(millis as f64 / 1000.0).map_or(Value::Null, Value::Number)
}

impl PoolRecord {
    pub fn hash_params(&self) -> HashParams {
        self.settings
            .cognate_password_hashing
            .unwrap_or_default()
            .params()
    }
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.settings.policies.password_policy
    }
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:cognito-idp:{}:{ACCOUNT_ID}:userpool/{}",
            self.region, self.id
        )
    }
    /// Usernames are case-insensitive unless the pool says otherwise.
    pub fn normalize_username(&self, username: &str) -> String {
        if self.username_configuration.case_sensitive {
            username.to_string()
        } else {
            username.to_lowercase()
        }
    }
    pub fn schema_attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema.iter().find(|a| a.name == name)
    }
    pub fn auto_verifies(&self, attribute: &str) -> bool {
        self.settings
            .auto_verified_attributes
            .iter()
            .any(|a| a == attribute)
    }

    /// Cognito's `UserPoolType`, as DescribeUserPool returns it.
    pub fn to_wire(&self) -> Value {
        let mut v = serde_json::to_value(&self.settings).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.insert("Id".into(), Value::String(self.id.clone()));
            map.insert("Name".into(), Value::String(self.name.clone()));
            map.insert("Arn".into(), Value::String(self.arn()));
            map.insert("CreationDate".into(), epoch_seconds(self.created_millis));
            map.insert(
                "LastModifiedDate".into(),
                epoch_seconds(self.modified_millis),
            );
            map.insert(
                "SchemaAttributes".into(),
                serde_json::to_value(&self.schema).unwrap_or(Value::Null),
            );
            if !self.alias_attributes.is_empty() {
                map.insert(
                    "AliasAttributes".into(),
                    serde_json::json!(self.alias_attributes),
                );
            }
            if !self.username_attributes.is_empty() {
                map.insert(
                    "UsernameAttributes".into(),
                    serde_json::json!(self.username_attributes),
                );
            }
            map.insert(
                "UsernameConfiguration".into(),
                serde_json::to_value(&self.username_configuration).unwrap_or(Value::Null),
            );
            map.insert(
                "LambdaConfig".into(),
                map.get("LambdaConfig")
                    .cloned()
                    .unwrap_or(serde_json::json!({})),
            );
        }
        v
    }

    /// The summary ListUserPools returns.
    pub fn to_description(&self) -> Value {
        serde_json::json!({
            "Id": self.id,
            "Name": self.name,
            "LambdaConfig": self.settings.lambda_config.clone().unwrap_or(serde_json::json!({})),
            "CreationDate": epoch_seconds(self.created_millis),
            "LastModifiedDate": epoch_seconds(self.modified_millis),
        })
    }
}

/// CreateUserPool's input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePool {
    pub pool_name: String,
    #[serde(flatten)]
    pub settings: PoolSettings,
    #[serde(default)]
    pub alias_attributes: Vec<String>,
    #[serde(default)]
    pub username_attributes: Vec<String>,
    #[serde(default)]
    pub username_configuration: Option<UsernameConfiguration>,
    #[serde(default)]
    pub schema: Vec<SchemaAttribute>,
}

pub fn validate_pool_name(name: &str) -> Result<(), Error> {
    let ok = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{name}' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        )))
    }
}

/// Builds the pool's schema: the standard attributes (with `Required` as asked) and the custom
/// attributes declared, named `custom:<name>`.
pub fn build_schema(requested: &[SchemaAttribute]) -> Result<Vec<SchemaAttribute>, Error> {
    let mut schema = default_schema();
    for attr in requested {
        if attr.name.is_empty() || attr.name.chars().count() > 20 && !is_standard(&attr.name) {
            return Err(Error::invalid_parameter(
                "Custom attribute names must be 1 to 20 characters long.",
            ));
        }
        if !matches!(
            attr.attribute_data_type.as_str(),
            "String" | "Number" | "DateTime" | "Boolean"
        ) {
            return Err(Error::invalid_parameter(format!(
                "Invalid AttributeDataType {} for attribute {}.",
                attr.attribute_data_type, attr.name
            )));
        }
        if let Some(standard) = schema.iter_mut().find(|s| s.name == attr.name) {
            if standard.name == "sub" {
                continue;
            }
            standard.required = attr.required;
            standard.mutable = attr.mutable;
            if attr.string_attribute_constraints.is_some() {
                standard.string_attribute_constraints = attr.string_attribute_constraints.clone();
            }
            continue;
        }
        if attr.required {
            return Err(Error::invalid_parameter(
                "Required custom attributes are not supported currently.",
            ));
        }
        add_custom_attribute(&mut schema, attr)?;
    }
    Ok(schema)
}

/// Maximum custom attributes per pool (Cognito's quota).
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;

/// Adds a custom attribute (`custom:` is prefixed when missing); names are never reused.
pub fn add_custom_attribute(
    schema: &mut Vec<SchemaAttribute>,
    attr: &SchemaAttribute,
) -> Result<(), Error> {
    let name = attr.name.strip_prefix("custom:").unwrap_or(&attr.name);
    if name.is_empty() || name.chars().count() > 20 {
        return Err(Error::invalid_parameter(
            "Custom attribute names must be 1 to 20 characters long.",
        ));
    }
    if !matches!(
        attr.attribute_data_type.as_str(),
        "String" | "Number" | "DateTime" | "Boolean"
    ) {
        return Err(Error::invalid_parameter(format!(
            "Invalid AttributeDataType {} for attribute {}.",
            attr.attribute_data_type, attr.name
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "_-:".contains(c))
    {
        return Err(Error::invalid_parameter(format!(
            "Invalid custom attribute name {name}."
        )));
    }
    let full = format!("custom:{name}");
    if schema.iter().any(|s| s.name == full) {
        return Err(Error::invalid_parameter(format!(
            "Existing attribute already has name {full}."
        )));
    }
    if schema
        .iter()
        .filter(|s| s.name.starts_with("custom:"))
        .count()
        >= MAX_CUSTOM_ATTRIBUTES
    {
        return Err(Error::new(
            crate::error::ErrorKind::LimitExceeded,
            "A user pool can have at most 50 custom attributes.",
        ));
    }
    let mut custom = attr.clone();
    custom.name = full;
    custom.required = false;
    schema.push(custom);
    Ok(())
}

fn is_standard(name: &str) -> bool {
    STANDARD_ATTRIBUTES.iter().any(|(n, _, _)| *n == name)
}

/// Creates a pool (and its signing keys) from a CreateUserPool input.
pub async fn create_pool(
    env: &dyn Env,
    region: &str,
    fixed_id: Option<&str>,
    mut input: CreatePool,
) -> Result<PoolRecord, Error> {
    validate_pool_name(&input.pool_name)?;
    input.settings.validate()?;
    if !input.alias_attributes.is_empty() && !input.username_attributes.is_empty() {
        return Err(Error::invalid_parameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    for a in &input.alias_attributes {
        if !matches!(a.as_str(), "email" | "phone_number" | "preferred_username") {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{a}' at 'aliasAttributes' failed to satisfy constraint: Member must satisfy enum value set: [phone_number, email, preferred_username]"
            )));
        }
    }
    for a in &input.username_attributes {
        if !matches!(a.as_str(), "email" | "phone_number") {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{a}' at 'usernameAttributes' failed to satisfy constraint: Member must satisfy enum value set: [phone_number, email]"
            )));
        }
    }
    dedup(&mut input.alias_attributes);
    dedup(&mut input.username_attributes);
    let schema = build_schema(&input.schema)?;
    let id = match fixed_id {
        Some(id) if crate::ids::is_pool_id(id) => id.to_string(),
        Some(id) => {
            return Err(Error::invalid_parameter(format!(
                "Invalid user pool id {id}."
            )));
        }
        None => crate::ids::pool_id(env.random(), region),
    };
    let now = env.clock().now_millis();
    let hashing = input.settings.cognate_password_hashing.unwrap_or_default();
    let mut salt = [0u8; 16];
    env.random().fill(&mut salt);
    let dummy = crate::ids::random_token(env.random(), 24);
    let dummy_password_hash = env.passwords().hash(&dummy, salt, hashing.params()).await?;
    let record = PoolRecord {
        id: id.clone(),
        name: input.pool_name,
        region: region.to_string(),
        created_millis: now,
        modified_millis: now,
        settings: input.settings,
        schema,
        alias_attributes: input.alias_attributes,
        username_attributes: input.username_attributes,
        username_configuration: input.username_configuration.unwrap_or_default(),
        dummy_password_hash,
    };
    // Keys first: a pool record is never visible without its keys.
    crate::token::create_key_set(env, &id).await?;
    let bytes = serde_json::to_vec(&record)?;
    match env
        .store()
        .put(&pool_key(&id), &bytes, Expect::Absent)
        .await
    {
        Ok(_) => Ok(record),
        Err(crate::store::StoreError::Conflict) => Err(Error::invalid_parameter(format!(
            "User pool {id} already exists."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Loads a pool, with its version for compare-and-set updates.
pub async fn load_pool(env: &dyn Env, pool_id: &str) -> Result<(PoolRecord, u64), Error> {
    let missing = || Error::resource_not_found(format!("User pool {pool_id} does not exist."));
    if !crate::ids::is_pool_id(pool_id) {
        return Err(missing());
    }
    let item = env
        .store()
        .get(&pool_key(pool_id))
        .await?
        .ok_or_else(missing)?;
    Ok((serde_json::from_slice(&item.value)?, item.version))
}

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
        dedup(flows);
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
    let ok = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{name}' at 'clientName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        )))
    }
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
        .get(&client_key(client_id))
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
    let given = crate::token::b64_decode(given).unwrap_or_default();
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
