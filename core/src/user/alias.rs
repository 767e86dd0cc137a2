//! Aliases: the email, phone number or preferred username a user signs in with besides the
//! username, each unique in its pool.
//!
//! A reservation `p/<poolId>/a/<attribute>/<normalized value>` names the user's key. It is
//! written create-only *before* the user, so two users can never hold one alias; a reservation
//! whose user no longer carries the value is dangling: it is repaired (replaced by
//! compare-and-set) when someone else claims the value, and never trusted on lookup.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{Step, UserRecord};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};

/// The one rule for which attribute values a user holds as aliases: in pools whose usernames are
/// emails or phone numbers, the value itself; with AliasAttributes, a preferred username, and an
/// email or phone number only once verified.
pub fn eligible(pool: &PoolRecord, user: &UserRecord, attribute: &str) -> bool {
    !pool.username_attributes.is_empty()
        || attribute == "preferred_username"
        || user.is_verified(attribute)
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

/// Whether `user` really holds the alias (a reservation may dangle).
fn holds_alias(pool: &PoolRecord, user: &UserRecord, attribute: &str, normalized: &str) -> bool {
    let Some(value) = user.attribute(attribute) else {
        return false;
    };
    if normalize_alias(pool, attribute, value) != normalized {
        return false;
    }
    eligible(pool, user, attribute)
}

pub(super) async fn load_holder(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    let normalized = normalize_alias(pool, attribute, value);
    let Some(item) = env
        .store()
        .get(&keys::alias(&pool.id, attribute, &normalized))
        .await?
    else {
        return Ok(None);
    };
    let alias: AliasRecord = serde_json::from_slice(&item.value)?;
    let Some(user) = env
        .store()
        .get(&keys::user(&pool.id, &alias.username))
        .await?
    else {
        return Ok(None);
    };
    let record: UserRecord = serde_json::from_slice(&user.value)?;
    Ok(holds_alias(pool, &record, attribute, &normalized).then_some((record, user.version)))
}

/// Reserves `attribute = value` for the user stored under `username_key`. Taken by a user that
/// really holds it: `AliasExistsException` (or, with `force`, the alias moves to this user and the
/// caller un-verifies the previous holder). A dangling reservation is replaced.
/// Returns the previous holder's username key when `force` moved the alias.
pub async fn reserve(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
    username_key: &str,
    force: bool,
    exists_error: Error,
) -> Result<Option<String>, Error> {
    let normalized = normalize_alias(pool, attribute, value);
    let key = keys::alias(&pool.id, attribute, &normalized);
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
            .get(&keys::user(&pool.id, &holder.username))
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
pub async fn release(
    env: &dyn Env,
    pool: &PoolRecord,
    attribute: &str,
    value: &str,
    username_key: &str,
) -> Result<(), Error> {
    let key = keys::alias(
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

/// Reserves the aliases `after` holds and `before` did not (`None`: a new or newly confirmed
/// user), before the record is written. Returns the users an alias was moved from
/// (ForceAliasCreation), for [`unverify_previous_holders`].
pub async fn reserve_new(
    env: &dyn Env,
    pool: &PoolRecord,
    after: &UserRecord,
    before: Option<&UserRecord>,
    force: bool,
) -> Result<Vec<(String, String)>, Error> {
    let key = pool.normalize_username(&after.username);
    let mut moved = Vec::new();
    let attrs: Vec<String> = pool
        .alias_attributes
        .iter()
        .chain(pool.username_attributes.iter())
        .cloned()
        .collect();
    for attr in &attrs {
        let Some(value) = after
            .attribute(attr)
            .filter(|_| eligible(pool, after, attr))
        else {
            continue;
        };
        let held_before = before.is_some_and(|b| {
            eligible(pool, b, attr)
                && b.attribute(attr).map(|v| normalize_alias(pool, attr, v))
                    == Some(normalize_alias(pool, attr, value))
        });
        if held_before {
            continue;
        }
        let exists = Error::new(
            ErrorKind::AliasExists,
            format!("An account with the given {attr} already exists."),
        );
        if let Some(previous) = reserve(env, pool, attr, value, &key, force, exists).await? {
            moved.push((previous, attr.clone()));
        }
    }
    Ok(moved)
}

/// Releases the aliases `before` held that `after` no longer holds.
pub async fn release_old(
    env: &dyn Env,
    pool: &PoolRecord,
    before: &UserRecord,
    after: &UserRecord,
) -> Result<(), Error> {
    let key = pool.normalize_username(&before.username);
    for attr in ["email", "phone_number", "preferred_username"] {
        let Some(old) = before.attribute(attr) else {
            continue;
        };
        let same = after
            .attribute(attr)
            .map(|v| normalize_alias(pool, attr, v))
            == Some(normalize_alias(pool, attr, old));
        if !same || !eligible(pool, after, attr) {
            release(env, pool, attr, old, &key).await?;
        }
    }
    Ok(())
}

/// With ForceAliasCreation the alias moved: the previous holder's attribute is no longer
/// verified (so it no longer signs in with it), as in Cognito.
pub async fn unverify_previous_holders(
    env: &dyn Env,
    pool: &PoolRecord,
    moved: Vec<(String, String)>,
) -> Result<(), Error> {
    for (username_key, attr) in moved {
        let outcome = super::modify(env, pool, &username_key, |other| {
            other
                .attributes
                .insert(format!("{attr}_verified"), "false".to_string());
            Ok(Step::Save(()))
        })
        .await;
        match outcome {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::UserNotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
