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
use crate::store::{Expect, StoreError, keys};

pub mod alias;
pub mod attributes;
pub mod index;
pub mod mfa;
mod resolve;

pub use alias::normalize_alias;
pub use attributes::{
    check_required, looks_like_email, looks_like_phone, validate_attributes, validate_values,
};
pub use resolve::{resolve, resolve_existing};

/// Cognito's user statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    /// A federated user: signs in only through its identity provider.
    ExternalProvider,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ResetRequired => "RESET_REQUIRED",
            Self::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }
    /// Whether the user may hold tokens and sessions: confirmed, or federated.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Confirmed | Self::ExternalProvider)
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
    /// The SRP verifier of the same password (USER_SRP_AUTH), where the pool stores them; none
    /// for passwords set before verifiers were stored, until the next password sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srp_verifier: Option<crate::srp::Verifier>,
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
    /// Second factors: software token, enabled methods, preference.
    #[serde(default, skip_serializing_if = "mfa::UserMfa::is_empty")]
    pub mfa: mfa::UserMfa,
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
        password: Option<crate::password::Credentials>,
        now_millis: u64,
    ) -> Self {
        let (password_hash, srp_verifier) = match password {
            Some(c) => (Some(c.hash), c.srp),
            None => (None, None),
        };
        Self {
            username,
            sub,
            attributes,
            status,
            enabled: true,
            password_hash,
            srp_verifier,
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
            mfa: mfa::UserMfa::default(),
        }
    }

    /// Stores a password just set ([`crate::password::hash_new`], [`crate::password::hash`]): its
    /// argon2id hash and its SRP verifier (or none, where the pool stores none).
    pub fn set_password(&mut self, password: &crate::password::Credentials) {
        self.password_hash = Some(password.hash.clone());
        self.srp_verifier = password.srp.clone();
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

/// Loads a user by username (not alias), with the record's version.
pub async fn load(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    if check_username(username).is_err() {
        return Ok(None);
    }
    let key = keys::user(&pool.id, &pool.normalize_username(username));
    match env.store().get(&key).await? {
        Some(item) => Ok(Some((serde_json::from_slice(&item.value)?, item.version))),
        None => Ok(None),
    }
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
    let key = keys::user(&pool.id, &pool.normalize_username(&user.username));
    let bytes = serde_json::to_vec(user).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let old_keys = previous
        .map(|p| index::keys_of(pool, p))
        .unwrap_or_default();
    let new_keys = index::keys_of(pool, user);
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
        .delete(
            &keys::user(&pool.id, &username_key),
            Expect::Version(version),
        )
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
    for k in index::keys_of(pool, user) {
        let _ = env.store().delete(&k, Expect::Any).await;
    }
    for attribute in ["email", "phone_number", "preferred_username"] {
        if let Some(value) = user.attribute(attribute) {
            alias::release(env, pool, attribute, value, &username_key).await?;
        }
    }
    for group in user.groups.keys() {
        let _ = env
            .store()
            .delete(
                &keys::group_member(&pool.id, group, &username_key),
                Expect::Any,
            )
            .await;
    }
    // The user's passkeys (at most 20) and their owner entries: the credential ids are free
    // again. Best effort, as above.
    if let Ok(page) = env
        .store()
        .scan(&keys::passkeys(&pool.id, &user.sub), None, 64)
        .await
    {
        for (key, _) in page.items {
            if let Some(id) = key.rsplit('/').next() {
                let _ = env
                    .store()
                    .delete(&keys::passkey_owner(&pool.id, id), Expect::Any)
                    .await;
            }
            let _ = env.store().delete(&key, Expect::Any).await;
        }
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
