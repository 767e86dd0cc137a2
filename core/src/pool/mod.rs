//! User pools: their configuration, as stored and as Cognito's wire shapes; the attribute
//! [`schema`]; app [`client`]s. Keys are in `crate::store::keys`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::ports::{Env, HashParams};
use crate::store::{Expect, keys};

pub mod client;
pub mod factors;
pub mod lambda;
pub mod messages;
pub mod mfa;
pub mod schema;

pub use client::{
    AppClient, ClientProof, ClientSettings, TokenValidityUnits, check_secret_hash, load_client,
    load_client_shared, load_pool_client, validate_client_name,
};
pub use schema::{
    MAX_CUSTOM_ATTRIBUTES, NumberConstraints, SchemaAttribute, StringConstraints,
    add_custom_attribute, build_schema,
};

/// The placeholder AWS account id in ARNs.
pub const ACCOUNT_ID: &str = "000000000000";

/// Cognito's `Policies`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies {
    #[serde(default)]
    pub password_policy: PasswordPolicy,
    /// The first factors USER_AUTH offers (`["PASSWORD"]` by default).
    #[serde(default)]
    pub sign_in_policy: factors::SignInPolicy,
}

/// Cognito's `UsernameConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    #[serde(default)]
    pub case_sensitive: bool,
}

impl UsernameConfiguration {
    /// Usernames are case-insensitive unless the pool says otherwise.
    pub fn normalize(&self, username: &str) -> String {
        if self.case_sensitive {
            username.to_string()
        } else {
            username.to_lowercase()
        }
    }
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
    /// Cognate's extension: `DISABLED` stores no SRP verifiers and refuses USER_SRP_AUTH
    /// (`ENABLED`, Cognito's behaviour, when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognate_srp: Option<String>,
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
        self.policies.sign_in_policy.validate()?;
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
        mfa::check_mode(&self.mfa_configuration)?;
        if let Some(h) = &self.cognate_password_hashing {
            h.validate()?;
        }
        if let Some(srp) = &self.cognate_srp
            && !matches!(srp.as_str(), "ENABLED" | "DISABLED")
        {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'cognateSrp' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
                srp.chars().take(64).collect::<String>()
            )));
        }
        // Trigger plugins: every LambdaConfig field holds a plugin reference.
        lambda::validate_lambda_config(self.lambda_config.as_ref())?;
        // Message templates and delivery settings (issue 22).
        messages::validate_templates(self)?;
        messages::normalize_templates(self);
        Ok(())
    }
}

pub(crate) fn dedup(values: &mut Vec<String>) {
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
    /// The second factors the pool offers (SetUserPoolMfaConfig).
    #[serde(default)]
    pub mfa: mfa::PoolMfa,
    /// Passkey settings (SetUserPoolMfaConfig's `WebAuthnConfiguration`).
    #[serde(default)]
    pub webauthn: factors::WebAuthnConfig,
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
    /// Whether the pool stores SRP verifiers and allows USER_SRP_AUTH (`CognateSrp`).
    pub fn allows_srp(&self) -> bool {
        self.settings.cognate_srp.as_deref() != Some("DISABLED")
    }
    /// Who a user's SRP verifier is for, or `None` where the pool stores none.
    pub fn srp_user<'a>(&'a self, username: &'a str) -> Option<crate::password::SrpUser<'a>> {
        self.allows_srp().then(|| crate::password::SrpUser {
            pool_name: crate::srp::pool_name(&self.id),
            user_id: username,
        })
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
        self.username_configuration.normalize(username)
    }
    pub fn schema_attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema.iter().find(|a| a.name == name)
    }
    /// Whether sign-up confirmation emails carry a link instead of a code
    /// (`VerificationMessageTemplate.DefaultEmailOption = CONFIRM_WITH_LINK`).
    pub fn confirms_with_link(&self) -> bool {
        self.settings
            .verification_message_template
            .as_ref()
            .and_then(|t| t.get("DefaultEmailOption"))
            .and_then(Value::as_str)
            == Some("CONFIRM_WITH_LINK")
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
    check_name(name, "poolName")
}

/// Pool and client names: 1 to 128 of `[\w\s+=,.@-]` (the service model's pattern).
pub(crate) fn check_name(name: &str, member: &str) -> Result<(), Error> {
    let ok = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        )))
    }
}

/// A new pool from a CreateUserPool input, checked, not stored yet: [`insert`] stores it once
/// its signing keys exist (so a pool record is never visible without its keys).
pub async fn new_record(
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
    let mut record = PoolRecord {
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
        mfa: mfa::PoolMfa::default(),
        webauthn: factors::WebAuthnConfig::default(),
    };
    mfa::reconcile(&mut record)?;
    factors::check_pool(&record)?;
    Ok(record)
}

/// Stores a new pool; refused when its id exists.
pub async fn insert(env: &dyn Env, record: &PoolRecord) -> Result<(), Error> {
    let id = &record.id;
    let bytes = serde_json::to_vec(record)?;
    match env
        .store()
        .put(&keys::pool(id), &bytes, Expect::Absent)
        .await
    {
        Ok(_) => Ok(()),
        Err(crate::store::StoreError::Conflict) => Err(Error::invalid_parameter(format!(
            "User pool {id} already exists."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Loads a pool, with its version for compare-and-set updates.
/// Changes a pool's settings with `change` (compare-and-set, retried on a concurrent write) and
/// stamps its modification time; answers the pool as written.
pub async fn modify_pool(
    env: &dyn Env,
    pool_id: &str,
    mut change: impl FnMut(&mut PoolRecord) -> Result<(), Error>,
) -> Result<PoolRecord, Error> {
    let missing = || Error::resource_not_found(format!("User pool {pool_id} does not exist."));
    if !crate::ids::is_pool_id(pool_id) {
        return Err(missing());
    }
    crate::record::modify_json(
        env.store(),
        &keys::pool(pool_id),
        missing,
        || {
            Error::new(
                crate::error::ErrorKind::TooManyRequests,
                "The user pool is being updated concurrently; try again.",
            )
        },
        |record: &mut PoolRecord| {
            change(record)?;
            record.modified_millis = env.clock().now_millis();
            Ok(())
        },
    )
    .await
}

pub async fn load_pool(env: &dyn Env, pool_id: &str) -> Result<(PoolRecord, u64), Error> {
    let (pool, version) = load_pool_shared(env, pool_id).await?;
    Ok((Arc::unwrap_or_clone(pool), version))
}

/// The pool's record as kept decoded ([`crate::decoded`]), for paths that only read it: every
/// token request reads its pool, and decoding the record (most of it the attribute schema) was
/// most of what such a request spent besides its signatures (issue 23).
pub async fn load_pool_shared(
    env: &dyn Env,
    pool_id: &str,
) -> Result<(Arc<PoolRecord>, u64), Error> {
    let missing = || Error::resource_not_found(format!("User pool {pool_id} does not exist."));
    if !crate::ids::is_pool_id(pool_id) {
        return Err(missing());
    }
    crate::decoded::get_kept(env, &keys::pool(pool_id))
        .await?
        .ok_or_else(missing)
}
