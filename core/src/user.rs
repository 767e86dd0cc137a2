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
    /// Outstanding one-time codes by slot ([`crate::code::CodeSlot`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, PendingCode>,
    /// New values of attributes that keep their old value until verified
    /// (`AttributesRequireVerificationBeforeUpdate`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_attributes: BTreeMap<String, String>,
    /// Group memberships: group name → the group's `uid` when the user joined (a re-created group
    /// of the same name does not inherit members).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
    /// When an administrator-set temporary password stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_password_expires_millis: Option<u64>,
    /// Sessions revoked with RevokeToken, kept while their access tokens could still be valid,
    /// so token checks need no extra store read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_sessions: Vec<RevokedSession>,
    /// Consecutive failed sign-ins, for the lockout.
    #[serde(default)]
    pub failed_sign_ins: u32,
    #[serde(default)]
    pub locked_until_millis: u64,
    /// Tokens issued before this instant are no longer accepted (global sign-out).
    #[serde(default)]
    pub tokens_valid_after_millis: u64,
}

/// A revoked sign-in session (its `origin_jti`), remembered until its last access token expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSession {
    pub origin_jti: String,
    pub until_millis: u64,
}

/// Revoked sessions remembered per user before the oldest are folded into a global sign-out
/// (which is stricter, never laxer).
pub const MAX_REVOKED_SESSIONS: usize = 64;

impl UserRecord {
    /// A new record with no codes, groups or history.
    pub fn new(
        username: String,
        sub: String,
        attributes: BTreeMap<String, String>,
        status: UserStatus,
        password_hash: Option<String>,
        now_millis: u64,
    ) -> Self {
        Self {
            username,
            sub,
            attributes,
            status,
            enabled: true,
            password_hash,
            created_millis: now_millis,
            modified_millis: now_millis,
            codes: BTreeMap::new(),
            pending_attributes: BTreeMap::new(),
            groups: BTreeMap::new(),
            temporary_password_expires_millis: None,
            failed_sign_ins: 0,
            locked_until_millis: 0,
            tokens_valid_after_millis: 0,
            revoked_sessions: Vec::new(),
        }
    }

    /// Whether a session (by `origin_jti`) was revoked.
    pub fn session_revoked(&self, origin_jti: &str) -> bool {
        self.revoked_sessions
            .iter()
            .any(|s| s.origin_jti == origin_jti)
    }

    /// Records a revoked session; forgets entries whose tokens have all expired, and folds the
    /// oldest into a global sign-out when too many remain.
    pub fn revoke_session(&mut self, origin_jti: &str, until_millis: u64, now_millis: u64) {
        self.revoked_sessions
            .retain(|s| s.until_millis > now_millis);
        if !self.session_revoked(origin_jti) {
            self.revoked_sessions.push(RevokedSession {
                origin_jti: origin_jti.to_string(),
                until_millis,
            });
        }
        if self.revoked_sessions.len() > MAX_REVOKED_SESSIONS {
            self.tokens_valid_after_millis = now_millis;
            self.revoked_sessions.clear();
        }
    }

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

/// Validates the attributes of a new user (SignUp, AdminCreateUser).
pub fn validate_attributes(
    pool: &PoolRecord,
    attributes: &mut BTreeMap<String, String>,
    admin: bool,
) -> Result<(), Error> {
    validate_values(pool, attributes, admin)?;
    check_required(pool, attributes)
}

/// Validates attribute values a client writes: known to the schema, writable by this caller,
/// of the right type and length. Boolean values are case-insensitive, as in Cognito
/// (`email_verified = "True"`), and are stored as `true`/`false`.
pub fn validate_values(
    pool: &PoolRecord,
    attributes: &mut BTreeMap<String, String>,
    admin: bool,
) -> Result<(), Error> {
    for (name, value) in attributes.iter_mut() {
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
        if schema.attribute_data_type == "Boolean"
            && (value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"))
        {
            value.make_ascii_lowercase();
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
    Ok(())
}

/// Checks that every attribute the schema requires has a value.
pub fn check_required(
    pool: &PoolRecord,
    attributes: &BTreeMap<String, String>,
) -> Result<(), Error> {
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
    if looks_like_sub(name) {
        return load_by_sub(env, pool, name).await;
    }
    Ok(None)
}

/// Whether `name` has the shape of a `sub` (a UUID), which Cognito accepts wherever it
/// documents "the username, an alias, or the sub" (the Admin* user operations, ConfirmSignUp,
/// ForgotPassword, ...).
fn looks_like_sub(name: &str) -> bool {
    name.len() == 36
        && name.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The user whose `sub` is `sub`, through the ListUsers index (one short prefix scan).
async fn load_by_sub(
    env: &dyn Env,
    pool: &PoolRecord,
    sub: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    let mut prefix = index_prefix(&pool.id, "sub", sub);
    prefix.push(INDEX_SEPARATOR);
    // An entry may dangle (a deleted user); the record decides.
    let page = env.store().scan(&prefix, None, 4).await?;
    for (key, _) in &page.items {
        let Some(username_key) = username_key_of_index_entry(key) else {
            continue;
        };
        if let Some(found) = load(env, pool, username_key).await?
            && found.0.sub == sub
        {
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

/// Attributes ListUsers can filter on through index keys (Cognito's searchable set), with the
/// names the index uses for the two status filters.
pub const INDEXED_ATTRIBUTES: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "sub",
    "cognito:user_status",
    "status",
];

/// Index values longer than this are cut (at a character boundary); reads re-check the record.
const INDEX_VALUE_MAX_BYTES: usize = 256;
/// Separates the value from the username key; usernames never contain control characters.
pub const INDEX_SEPARATOR: char = '\u{1}';

/// The prefix of a ListUsers index for `attribute` and a value prefix.
pub fn index_prefix(pool_id: &str, attribute: &str, value_prefix: &str) -> String {
    format!(
        "p/{pool_id}/i/{attribute}/{}",
        truncate_at_char(value_prefix, INDEX_VALUE_MAX_BYTES)
    )
}

fn truncate_at_char(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or_default()
}

/// The value a user has for an indexed attribute (the two statuses are derived).
pub fn indexed_value(user: &UserRecord, attribute: &str) -> Option<String> {
    match attribute {
        "cognito:user_status" => Some(user.status.as_str().to_string()),
        "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }.to_string()),
        other => user.attribute(other).map(str::to_string),
    }
}

fn index_keys(pool: &PoolRecord, user: &UserRecord) -> Vec<String> {
    let username_key = pool.normalize_username(&user.username);
    INDEXED_ATTRIBUTES
        .iter()
        .filter_map(|attribute| {
            indexed_value(user, attribute).map(|value| {
                let mut key = index_prefix(&pool.id, attribute, &value);
                key.push(INDEX_SEPARATOR);
                key.push_str(&username_key);
                key
            })
        })
        .collect()
}

/// The username key an index entry points at.
pub fn username_key_of_index_entry(key: &str) -> Option<&str> {
    key.rsplit_once(INDEX_SEPARATOR).map(|(_, user)| user)
}

/// Writes a user record with the given expectation, keeping the ListUsers index in step.
/// `previous` is the record as read (None for a create). Index entries for new values are written
/// first and stale ones removed after, so an entry may dangle (readers re-check the record) but
/// is never missing.
pub async fn save(
    env: &dyn Env,
    pool: &PoolRecord,
    previous: Option<&UserRecord>,
    user: &UserRecord,
    expect: Expect,
) -> Result<u64, StoreError> {
    let key = user_key(&pool.id, &pool.normalize_username(&user.username));
    let bytes = serde_json::to_vec(user).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let old_keys = previous.map(|p| index_keys(pool, p)).unwrap_or_default();
    let new_keys = index_keys(pool, user);
    let username_key = pool.normalize_username(&user.username);
    for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
        env.store()
            .put(k, username_key.as_bytes(), Expect::Any)
            .await?;
    }
    let version = env.store().put(&key, &bytes, expect).await?;
    for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
        // Best effort: a leftover entry is re-checked and skipped by readers.
        let _ = env.store().delete(k, Expect::Any).await;
    }
    Ok(version)
}

/// What a [`modify`] step decided.
#[derive(Debug)]
pub enum Step<T> {
    /// Save the changed record and return the value.
    Save(T),
    /// Save the changed record, then fail (e.g. a wrong code whose attempt must be counted).
    SaveThenFail(Error),
    /// Leave the record as it is and return the value.
    Keep(T),
}

/// Reads, changes and writes a user with compare-and-set, retrying on concurrent writes. `change`
/// may run more than once and must depend only on the record it is given.
pub async fn modify<T>(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    mut change: impl FnMut(&mut UserRecord) -> Result<Step<T>, Error>,
) -> Result<(UserRecord, T), Error> {
    for _ in 0..16 {
        let (before, version) = load(env, pool, username)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
        let mut after = before.clone();
        let (value, failure) = match change(&mut after)? {
            Step::Keep(value) => return Ok((after, value)),
            Step::Save(value) => (Some(value), None),
            Step::SaveThenFail(error) => (None, Some(error)),
        };
        after.modified_millis = env.clock().now_millis().max(after.modified_millis);
        match save(env, pool, Some(&before), &after, Expect::Version(version)).await {
            Ok(_) => {
                if let Some(error) = failure {
                    return Err(error);
                }
                if let Some(value) = value {
                    return Ok((after, value));
                }
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "Too many concurrent requests for this user; try again.",
    ))
}

/// Deletes a user, then its index entries and alias reservations (a crash in between leaves
/// only dangling entries, which readers ignore).
pub async fn delete(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    version: u64,
) -> Result<(), Error> {
    let username_key = pool.normalize_username(&user.username);
    match env
        .store()
        .delete(&user_key(&pool.id, &username_key), Expect::Version(version))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "The user changed while it was being deleted; try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    for k in index_keys(pool, user) {
        let _ = env.store().delete(&k, Expect::Any).await;
    }
    for attribute in ["email", "phone_number", "preferred_username"] {
        if let Some(value) = user.attribute(attribute) {
            release_alias(env, pool, attribute, value, &username_key).await?;
        }
    }
    for group in user.groups.keys() {
        let _ = env
            .store()
            .delete(
                &crate::group::member_key(&pool.id, group, &username_key),
                Expect::Any,
            )
            .await;
    }
    Ok(())
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
