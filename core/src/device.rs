//! Remembered devices: the device a user signs in from, tracked when the pool has a
//! `DeviceConfiguration`, and trusted (device SRP instead of MFA) once confirmed and remembered.
//!
//! A sign-in without a `DEVICE_KEY` in a tracking pool gets `NewDeviceMetadata` (a device key,
//! `<region>_<uuid>`, and a device group key) and an access token naming the device. The offer
//! waits under `p/<pool>/nd/<device key>` until the client answers it with ConfirmDevice (the
//! device's SRP verifier) or it expires (the janitor sweeps it): unconfirmed offers never pile
//! up on the user. A confirmed device lives under `p/<pool>/dv/<username key>/<device key>`,
//! with the user's `sub`, so a user deleted and re-created under the same name inherits none.
//!
//! Cognito's semantics kept here: with `DeviceOnlyRememberedOnUserPrompt` a confirmed device is
//! `not_remembered` until UpdateDeviceStatus remembers it (ConfirmDevice then answers
//! `UserConfirmationNecessary: true`); otherwise ConfirmDevice remembers it at once.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, ErrorKind};
use crate::pool::{PoolRecord, epoch_seconds};
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};
use crate::user::UserRecord;

/// How long a device offer (`NewDeviceMetadata`) waits for ConfirmDevice: as long as the
/// longest access token that can name it lives (Cognito's maximum access-token validity).
pub const OFFER_TTL_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// The most devices ListDevices returns in one page (Cognito's `Limit` maximum).
pub const MAX_PAGE: usize = 60;

/// The device key and group key a sign-in hands a new device (`NewDeviceMetadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeviceMetadata {
    pub device_key: String,
    pub device_group_key: String,
}

/// An offer of a device key, waiting for ConfirmDevice.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Offer {
    group_key: String,
    sub: String,
    expires_millis: u64,
}

/// The device's SRP verifier, as ConfirmDevice's `DeviceSecretVerifierConfig` carries it
/// (base64 of the salt and of the verifier's big-endian bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceVerifier {
    pub salt: String,
    pub verifier: String,
}

/// A confirmed device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub device_key: String,
    pub group_key: String,
    /// The `sub` of the user it belongs to.
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    pub verifier: DeviceVerifier,
    pub remembered: bool,
    #[serde(default)]
    pub last_ip: Option<String>,
    pub created_millis: u64,
    pub modified_millis: u64,
    pub last_authenticated_millis: u64,
}

impl DeviceRecord {
    /// Cognito's `DeviceType`.
    pub fn to_wire(&self) -> Value {
        let mut attributes = alloc::vec![
            json!({"Name": "device_status", "Value": "valid"}),
            json!({
                "Name": "dev:device_remembered_status",
                "Value": if self.remembered { "remembered" } else { "not_remembered" },
            }),
        ];
        if let Some(name) = &self.name {
            attributes.push(json!({"Name": "device_name", "Value": name}));
        }
        if let Some(ip) = &self.last_ip {
            attributes.push(json!({"Name": "last_ip_used", "Value": ip}));
        }
        json!({
            "DeviceKey": self.device_key,
            "DeviceAttributes": attributes,
            "DeviceCreateDate": epoch_seconds(self.created_millis),
            "DeviceLastModifiedDate": epoch_seconds(self.modified_millis),
            "DeviceLastAuthenticatedDate": epoch_seconds(self.last_authenticated_millis),
        })
    }
}

/// Whether the pool tracks devices: any `DeviceConfiguration` turns tracking on (Cognito: "when
/// you provide a value for any property of DeviceConfiguration, you activate device
/// remembering").
pub fn tracks_devices(pool: &PoolRecord) -> bool {
    pool.settings
        .device_configuration
        .as_ref()
        .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

fn config_flag(pool: &PoolRecord, name: &str) -> bool {
    pool.settings
        .device_configuration
        .as_ref()
        .and_then(|c| c.get(name))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `ChallengeRequiredOnNewDevice`: a remembered device stands in for MFA.
pub fn remembered_device_skips_mfa(pool: &PoolRecord) -> bool {
    config_flag(pool, "ChallengeRequiredOnNewDevice")
}

/// Whether `key` has the form of a device key (`[\w-]+_[0-9a-f-]+`, at most 55 characters).
pub fn is_device_key(key: &str) -> bool {
    let Some((region, id)) = key.split_once('_') else {
        return false;
    };
    key.len() <= 55
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

fn check_device_key(key: &str) -> Result<(), Error> {
    if is_device_key(key) {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'deviceKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+",
        ))
    }
}

fn not_found() -> Error {
    Error::resource_not_found("Device does not exist.")
}

/// Offers a new device key to a user signing in without one: the `NewDeviceMetadata` of the
/// sign-in's answer (the access token names the device key).
pub async fn offer(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
) -> Result<NewDeviceMetadata, Error> {
    let region = pool.id.split('_').next().unwrap_or("us-east-1");
    let metadata = NewDeviceMetadata {
        device_key: format!("{region}_{}", crate::ids::uuid_v4(env.random())),
        device_group_key: format!(
            "-{}",
            crate::ids::random_string(
                env.random(),
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                9
            )
        ),
    };
    let offer = Offer {
        group_key: metadata.device_group_key.clone(),
        sub: user.sub.clone(),
        expires_millis: env.clock().now_millis() + OFFER_TTL_MILLIS,
    };
    env.store()
        .put(
            &keys::device_offer(&pool.id, &metadata.device_key),
            &serde_json::to_vec(&offer)?,
            Expect::Absent,
        )
        .await?;
    Ok(metadata)
}

/// ConfirmDevice: the user's answer to a device offer (the device's SRP verifier and name).
/// Returns `UserConfirmationNecessary`: whether the device waits for UpdateDeviceStatus to be
/// remembered. Confirming a device already confirmed replaces its verifier and name (Cognito's
/// SDKs re-confirm after losing their stored secret).
pub async fn confirm(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
    verifier: DeviceVerifier,
    name: Option<String>,
    ip: Option<String>,
) -> Result<bool, Error> {
    check_device_key(device_key)?;
    if crate::codec::b64_decode(&verifier.salt).is_none_or(|s| s.is_empty())
        || crate::codec::b64_decode(&verifier.verifier)
            .is_none_or(|v| v.is_empty() || v.len() > 512)
    {
        return Err(Error::invalid_parameter(
            "DeviceSecretVerifierConfig must carry a base64 Salt and PasswordVerifier.",
        ));
    }
    let now = env.clock().now_millis();
    let key = device_key_of(pool, user, device_key);
    let existing = load(env, pool, user, device_key).await?;
    let (group_key, created, remembered, last_authenticated, old_name, expect) = match existing {
        Some((record, version)) => (
            record.group_key,
            record.created_millis,
            record.remembered,
            record.last_authenticated_millis,
            record.name,
            Expect::Version(version),
        ),
        None => {
            let offer_key = keys::device_offer(&pool.id, device_key);
            let offer: Offer = match env.store().get(&offer_key).await? {
                Some(item) => serde_json::from_slice(&item.value)?,
                None => return Err(not_found()),
            };
            if offer.sub != user.sub || offer.expires_millis <= now {
                return Err(not_found());
            }
            let remembered = !config_flag(pool, "DeviceOnlyRememberedOnUserPrompt");
            (offer.group_key, now, remembered, now, None, Expect::Absent)
        }
    };
    let record = DeviceRecord {
        device_key: device_key.to_string(),
        group_key,
        sub: user.sub.clone(),
        name: name.or(old_name),
        verifier,
        remembered,
        last_ip: ip,
        created_millis: created,
        modified_millis: now,
        last_authenticated_millis: last_authenticated,
    };
    match env
        .store()
        .put(&key, &serde_json::to_vec(&record)?, expect)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "The device changed while it was being confirmed; try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // The offer is answered; a second ConfirmDevice finds the device itself.
    let _ = env
        .store()
        .delete(&keys::device_offer(&pool.id, device_key), Expect::Any)
        .await;
    Ok(!record.remembered && config_flag(pool, "DeviceOnlyRememberedOnUserPrompt"))
}

fn device_key_of(pool: &PoolRecord, user: &UserRecord, device_key: &str) -> String {
    keys::device(
        &pool.id,
        &pool.normalize_username(&user.username),
        device_key,
    )
}

/// The user's confirmed device `device_key`, with its version, if it exists.
pub async fn load(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
) -> Result<Option<(DeviceRecord, u64)>, Error> {
    if !is_device_key(device_key) {
        return Ok(None);
    }
    let Some(item) = env
        .store()
        .get(&device_key_of(pool, user, device_key))
        .await?
    else {
        return Ok(None);
    };
    let record: DeviceRecord = serde_json::from_slice(&item.value)?;
    Ok((record.sub == user.sub).then_some((record, item.version)))
}

/// GetDevice / AdminGetDevice.
pub async fn get(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
) -> Result<DeviceRecord, Error> {
    check_device_key(device_key)?;
    load(env, pool, user, device_key)
        .await?
        .map(|(record, _)| record)
        .ok_or_else(not_found)
}

/// ListDevices / AdminListDevices: one page of the user's confirmed devices, in key order, and
/// the token for the next page.
pub async fn list(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    limit: Option<i64>,
    pagination_token: Option<&str>,
) -> Result<(Vec<DeviceRecord>, Option<String>), Error> {
    let limit = match limit {
        None => MAX_PAGE,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .unwrap_or(MAX_PAGE),
    };
    let prefix = keys::devices(&pool.id, &pool.normalize_username(&user.username));
    let after = match pagination_token {
        None => None,
        Some(token) if is_device_key(token) => Some(format!("{prefix}{token}")),
        Some(_) => {
            return Err(Error::invalid_parameter("Invalid pagination token."));
        }
    };
    let mut devices = Vec::new();
    let mut cursor = after;
    loop {
        let page = env
            .store()
            .scan(&prefix, cursor.as_deref(), limit + 1 - devices.len())
            .await?;
        for (_, item) in &page.items {
            let record: DeviceRecord = serde_json::from_slice(&item.value)?;
            if record.sub == user.sub {
                devices.push(record);
            }
        }
        if devices.len() > limit || page.next.is_none() {
            break;
        }
        cursor = page.next;
    }
    let next = if devices.len() > limit {
        devices.truncate(limit);
        devices.last().map(|d| d.device_key.clone())
    } else {
        None
    };
    Ok((devices, next))
}

/// ForgetDevice / AdminForgetDevice.
pub async fn forget(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
) -> Result<(), Error> {
    check_device_key(device_key)?;
    let (_, version) = load(env, pool, user, device_key)
        .await?
        .ok_or_else(not_found)?;
    match env
        .store()
        .delete(
            &device_key_of(pool, user, device_key),
            Expect::Version(version),
        )
        .await
    {
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// UpdateDeviceStatus / AdminUpdateDeviceStatus (`remembered` or `not_remembered`).
pub async fn set_remembered(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
    status: Option<&str>,
) -> Result<(), Error> {
    check_device_key(device_key)?;
    let remembered = match status {
        Some("remembered") => true,
        Some("not_remembered") | None => false,
        Some(other) => {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'deviceRememberedStatus' failed to satisfy constraint: Member must satisfy enum value set: [remembered, not_remembered]",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    crate::record::modify_json(
        env.store(),
        &device_key_of(pool, user, device_key),
        not_found,
        || {
            Error::new(
                ErrorKind::TooManyRequests,
                "The device changed while it was being updated; try again.",
            )
        },
        |record: &mut DeviceRecord| {
            // A device of an earlier user of this username is not this user's.
            if record.sub != user.sub {
                return Err(not_found());
            }
            record.remembered = remembered;
            record.modified_millis = env.clock().now_millis();
            Ok(())
        },
    )
    .await
    .map(drop)
}

/// Records a sign-in from a confirmed device (DeviceLastAuthenticatedDate, last IP).
pub async fn touch(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    device_key: &str,
    ip: Option<&str>,
) -> Result<(), Error> {
    let Some((mut record, version)) = load(env, pool, user, device_key).await? else {
        return Ok(());
    };
    record.last_authenticated_millis = env.clock().now_millis();
    if let Some(ip) = ip {
        record.last_ip = Some(ip.to_string());
    }
    // A lost race only loses a timestamp someone else just wrote.
    match env
        .store()
        .put(
            &device_key_of(pool, user, device_key),
            &serde_json::to_vec(&record)?,
            Expect::Version(version),
        )
        .await
    {
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
