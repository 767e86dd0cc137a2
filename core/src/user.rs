//! The user directory: user records, attributes, statuses, and unique usernames and aliases.
//!
//! Keys: `p/<poolId>/u/<normalized username>` holds a [`UserRecord`]; an alias (a verified email
//! or phone number used to sign in, or the email/phone of a pool whose usernames are emails or
//! phone numbers) is a reservation `p/<poolId>/a/<attribute>/<normalized value>` naming the
//! user's key. Reservations are written create-only *before* the user, so two users can never hold
//! one alias; a reservation whose user no longer carries the value is dangling: it is repaired
//! (replaced by compare-and-set) when someone else claims the value, and never trusted on lookup.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::code::PendingCode;
use crate::error::{Error, ErrorKind};
use crate::pool::{PoolRecord, epoch_seconds};
use crate::ports::Env;
use crate::store::{Expect, StoreError};

/// Cognito's user statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ResetRequired => "RESET_REQUIRED",
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// The username as created (for pools whose usernames are emails/phones: the `sub`).
    pub username: String,
    pub sub: String,
    /// Attributes other than `sub`, by name.
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    /// argon2id PHC string.
    pub password_hash: Option<String>,
    pub created_millis: u64,
    pub modified_millis: u64,
    #[serde(default)]
    pub pending_code: Option<PendingCode>,
    /// Consecutive failed sign-ins, for the lockout.
    #[serde(default)]
    pub failed_sign_ins: u32,
    #[serde(default)]
    pub locked_until_millis: u64,
    /// Tokens issued before this instant are no longer accepted (global sign-out).
    #[serde(default)]
    pub tokens_valid_after_millis: u64,
}

impl UserRecord {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        if name == "sub" {
            return Some(&self.sub);
        }
        self.attributes.get(name).map(String::as_str)
    }
    pub fn is_verified(&self, attribute: &str) -> bool {
        self.attribute(&format!("{attribute}_verified")) == Some("true")
    }
    /// `UserAttributes` as Cognito lists them: `sub` first.
    pub fn wire_attributes(&self) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.attributes.len() + 1);
        out.push(json!({"Name": "sub", "Value": self.sub}));
        for (name, value) in &self.attributes {
            out.push(json!({"Name": name, "Value": value}));
        }
        out
    }
    /// Cognito's `UserType` (AdminGetUser uses `UserAttributes`, ListUsers `Attributes`).
    pub fn to_admin_wire(&self) -> Value {
        json!({
            "Username": self.username,
            "UserAttributes": self.wire_attributes(),
            "UserCreateDate": epoch_seconds(self.created_millis),
            "UserLastModifiedDate": epoch_seconds(self.modified_millis),
            "Enabled": self.enabled,
            "UserStatus": self.status.as_str(),
        })
    }
}

pub fn user_key(pool_id: &str, normalized_username: &str) -> String {
    format!("p/{pool_id}/u/{normalized_username}")
}

pub fn alias_key(pool_id: &str, attribute: &str, normalized_value: &str) -> String {
    format!("p/{pool_id}/a/{attribute}/{normalized_value}")
}

/// How an alias value is compared: emails and case-insensitive pools fold case.
pub fn normalize_alias(pool: &PoolRecord, attribute: &str, value: &str) -> String {
    match attribute {
        "email" => value.to_lowercase(),
        "phone_number" => value.to_string(),
        _ => pool.normalize_username(value),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct AliasRecord {
    username: String,
}

/// Checks a username's form (Cognito: `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`, 1..=128).
pub fn check_username(username: &str) -> Result<(), Error> {
    let len = username.chars().count();
    if len == 0
        || len > 128
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        ));
    }
    Ok(())
}

pub fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
                && value.matches('@').count() == 1
        }
        None => false,
    }
}

pub fn looks_like_phone(value: &str) -> bool {
    value.len() > 2
        && value.len() <= 16
        && value.starts_with('+')
        && value.bytes().skip(1).all(|b| b.is_ascii_digit())
}

/// Validates attributes a client writes (SignUp, AdminCreateUser, UpdateUserAttributes).
pub fn validate_attributes(
    pool: &PoolRecord,
    attributes: &BTreeMap<String, String>,
    admin: bool,
) -> Result<(), Error> {
    for (name, value) in attributes {
        let Some(schema) = pool.schema_attribute(name) else {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        };
        if name == "sub" {
            return Err(Error::invalid_parameter(
                "Attributes did not conform to the schema: sub: Attribute cannot be updated. (changing an immutable attribute)",
            ));
        }
        if !admin && (name == "email_verified" || name == "phone_number_verified") {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Only an administrator can set this attribute."
            )));
        }
        if schema.developer_only_attribute && !admin {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Developer-only attributes can only be written by an administrator."
            )));
        }
        if value.chars().count() > 2048 {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: String must be no longer than 2048 characters"
            )));
        }
        if let Some(c) = &schema.string_attribute_constraints {
            let len = value.chars().count() as u64;
            let min = c
                .min_length
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let max = c
                .max_length
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(2048);
            if len < min || len > max {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: String must be between {min} and {max} characters"
                )));
            }
        }
        match schema.attribute_data_type.as_str() {
            "Boolean" if !matches!(value.as_str(), "true" | "false") => {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: Value must be true or false"
                )));
            }
            "Number" if value.parse::<f64>().is_err() => {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: Value must be a number"
                )));
            }
            _ => {}
        }
        if name == "email" && !looks_like_email(value) {
            return Err(Error::invalid_parameter("Invalid email address format."));
        }
        if name == "phone_number" && !looks_like_phone(value) {
            return Err(Error::invalid_parameter("Invalid phone number format."));
        }
    }
    for schema in &pool.schema {
        if schema.required && schema.name != "sub" && !attributes.contains_key(&schema.name) {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {}: The attribute is required",
                schema.name
            )));
        }
    }
    Ok(())
}

/// Loads a user by username (not alias), with the record's version.
pub async fn load(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    if check_username(username).is_err() {
        return Ok(None);
    }
    let key = user_key(&pool.id, &pool.normalize_username(username));
    match env.store().get(&key).await? {
        Some(item) => Ok(Some((serde_json::from_slice(&item.value)?, item.version))),
        None => Ok(None),
    }
}

/// Whether `user` really holds the alias (a reservation may dangle).
fn holds_alias(pool: &PoolRecord, user: &UserRecord, attribute: &str, normalized: &str) -> bool {
    let Some(value) = user.attribute(attribute) else {
        return false;
    };
    if normalize_alias(pool, attribute, value) != normalized {
        return false;
    }
    // With AliasAttributes only verified emails and phone numbers sign in.
    let needs_verification =
        pool.username_attributes.is_empty() && attribute != "preferred_username";
    !needs_verification || user.is_verified(attribute)
}

async fn load_alias(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    let normalized = normalize_alias(pool, attribute, value);
    let Some(item) = env
        .store()
        .get(&alias_key(&pool.id, attribute, &normalized))
        .await?
    else {
        return Ok(None);
    };
    let alias: AliasRecord = serde_json::from_slice(&item.value)?;
    let Some(user) = env
        .store()
        .get(&user_key(&pool.id, &alias.username))
        .await?
    else {
        return Ok(None);
    };
    let record: UserRecord = serde_json::from_slice(&user.value)?;
    Ok(holds_alias(pool, &record, attribute, &normalized).then_some((record, user.version)))
}

/// The attributes a sign-in name may stand for in this pool, in lookup order.
fn alias_attributes_for(pool: &PoolRecord, name: &str) -> Vec<&'static str> {
    let configured: &[String] = if pool.username_attributes.is_empty() {
        &pool.alias_attributes
    } else {
        &pool.username_attributes
    };
    let mut out = Vec::new();
    for (attr, fits) in [
        ("email", looks_like_email(name)),
        ("phone_number", looks_like_phone(name)),
        ("preferred_username", true),
    ] {
        if fits && configured.iter().any(|c| c == attr) {
            out.push(attr);
        }
    }
    out
}

/// Finds the user a sign-in name refers to: the username, or an alias the pool allows.
pub async fn resolve(
    env: &dyn Env,
    pool: &PoolRecord,
    name: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    if check_username(name).is_err() {
        return Ok(None);
    }
    if let Some(found) = load(env, pool, name).await? {
        return Ok(Some(found));
    }
    for attribute in alias_attributes_for(pool, name) {
        if let Some(found) = load_alias(env, pool, attribute, name).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Like [`resolve`], but a missing user is `UserNotFoundException`.
pub async fn resolve_existing(
    env: &dyn Env,
    pool: &PoolRecord,
    name: &str,
) -> Result<(UserRecord, u64), Error> {
    resolve(env, pool, name)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))
}

/// Reserves `attribute = value` for the user stored under `username_key`. Taken by a user that
/// really holds it: `AliasExistsException` (or, with `force`, the alias moves to this user and the
/// caller un-verifies the previous holder). A dangling reservation is replaced.
/// Returns the previous holder's username key when `force` moved the alias.
pub async fn reserve_alias(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
    username_key: &str,
    force: bool,
    exists_error: Error,
) -> Result<Option<String>, Error> {
    let normalized = normalize_alias(pool, attribute, value);
    let key = alias_key(&pool.id, attribute, &normalized);
    let record = serde_json::to_vec(&AliasRecord {
        username: username_key.to_string(),
    })?;
    // Bounded: each round either writes or observes someone else's write.
    for _ in 0..8 {
        match env.store().put(&key, &record, Expect::Absent).await {
            Ok(_) => return Ok(None),
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) = env.store().get(&key).await? else {
            continue;
        };
        let holder: AliasRecord = serde_json::from_slice(&existing.value)?;
        if holder.username == username_key {
            return Ok(None);
        }
        let live = match env
            .store()
            .get(&user_key(&pool.id, &holder.username))
            .await?
        {
            Some(u) => {
                let user: UserRecord = serde_json::from_slice(&u.value)?;
                holds_alias(pool, &user, attribute, &normalized)
                    // An unconfirmed user's unverified email still blocks sign-up in pools whose
                    // usernames are emails, as in Cognito.
                    || (!pool.username_attributes.is_empty()
                        && user.attribute(attribute).map(|v| normalize_alias(pool, attribute, v)).as_deref() == Some(normalized.as_str()))
            }
            None => false,
        };
        if live && !force {
            return Err(exists_error);
        }
        match env
            .store()
            .put(&key, &record, Expect::Version(existing.version))
            .await
        {
            Ok(_) => return Ok(live.then_some(holder.username)),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::internal("alias reservation kept conflicting"))
}

/// Releases an alias if it is still reserved for `username_key`.
pub async fn release_alias(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
    username_key: &str,
) -> Result<(), Error> {
    let key = alias_key(
        &pool.id,
        attribute,
        &normalize_alias(pool, attribute, value),
    );
    if let Some(existing) = env.store().get(&key).await? {
        let holder: AliasRecord = serde_json::from_slice(&existing.value)?;
        if holder.username == username_key {
            match env
                .store()
                .delete(&key, Expect::Version(existing.version))
                .await
            {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Writes a user record with the given expectation.
pub async fn save(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    expect: Expect,
) -> Result<u64, StoreError> {
    let key = user_key(&pool.id, &pool.normalize_username(&user.username));
    let bytes = serde_json::to_vec(user).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    env.store().put(&key, &bytes, expect).await
}

/// Masks a delivery destination as Cognito does (`a***@e***`, `+*******1234`).
pub fn mask_destination(value: &str) -> String {
    if let Some((local, domain)) = value.split_once('@') {
        let l: String = local.chars().take(1).collect();
        let d: String = domain.chars().take(1).collect();
        format!("{l}***@{d}***")
    } else {
        let n = value.chars().count();
        let tail: String = value.chars().skip(n.saturating_sub(4)).collect();
        format!("+{}{tail}", "*".repeat(n.saturating_sub(5)))
    }
}
