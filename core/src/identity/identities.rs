//! Identities: one per login (or per guest), the logins linked to each, and how a login finds
//! its identity.
//!
//! A login's reservation (`ip/<pool>/l/<hash>` -> identity id) is written create-only *before*
//! the identity record, as usernames reserve their aliases: of any number of racing requests for
//! one login, one reservation wins and every request answers its identity. A reservation whose
//! identity record is missing (a request that stopped between the two writes) is repaired by
//! the next reader, never trusted away.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::pools::IdentityPoolRecord;
use crate::error::{Error, ErrorKind};
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};

/// A login linked to an identity: the provider's name and the user's stable id there (`sub`, a
/// developer user identifier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedLogin {
    pub provider: String,
    pub subject: String,
}

/// An identity as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub identity_id: String,
    pub identity_pool_id: String,
    pub logins: Vec<LinkedLogin>,
    pub created_millis: u64,
    pub modified_millis: u64,
    /// Its last login was unlinked: Cognito makes such an identity inaccessible.
    #[serde(default)]
    pub orphaned: bool,
}

impl IdentityRecord {
    pub fn is_authenticated(&self) -> bool {
        !self.logins.is_empty()
    }
    /// Cognito's `IdentityDescription`.
    pub fn to_wire(&self) -> serde_json::Value {
        let mut providers: Vec<&str> = self.logins.iter().map(|l| l.provider.as_str()).collect();
        providers.dedup();
        let mut value = serde_json::json!({
            "IdentityId": self.identity_id,
            "CreationDate": crate::pool::epoch_seconds(self.created_millis),
            "LastModifiedDate": crate::pool::epoch_seconds(self.modified_millis),
        });
        if !providers.is_empty()
            && let serde_json::Value::Object(map) = &mut value
        {
            map.insert(
                "Logins".into(),
                serde_json::to_value(providers).unwrap_or_default(),
            );
        }
        value
    }
}

/// Loads an identity and its version.
pub async fn load(env: &dyn Env, identity_id: &str) -> Result<(IdentityRecord, u64), Error> {
    if !super::is_identity_id(identity_id) {
        return Err(super::identity_not_found(identity_id));
    }
    crate::record::get_json(env.store(), &keys::identity(identity_id))
        .await?
        .ok_or_else(|| super::identity_not_found(identity_id))
}

/// Loads an identity of `pool` (an identity of another pool is not found).
pub async fn load_in(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    identity_id: &str,
) -> Result<(IdentityRecord, u64), Error> {
    let (record, version) = load(env, identity_id).await?;
    if record.identity_pool_id != pool.id {
        return Err(super::identity_not_found(identity_id));
    }
    Ok((record, version))
}

fn new_record(env: &dyn Env, pool: &IdentityPoolRecord, identity_id: String) -> IdentityRecord {
    let now = env.clock().now_millis();
    IdentityRecord {
        identity_id,
        identity_pool_id: pool.id.clone(),
        logins: Vec::new(),
        created_millis: now,
        modified_millis: now,
        orphaned: false,
    }
}

/// Writes a new identity record and its index entry (create-only; an existing record wins).
async fn insert(env: &dyn Env, record: &IdentityRecord) -> Result<(), Error> {
    let bytes = serde_json::to_vec(record)?;
    match env
        .store()
        .put(&keys::identity(&record.identity_id), &bytes, Expect::Absent)
        .await
    {
        Ok(_) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    env.store()
        .put(
            &keys::pool_identity(&record.identity_pool_id, &record.identity_id),
            b"",
            Expect::Any,
        )
        .await?;
    Ok(())
}

/// A new guest identity (GetId without logins).
pub async fn create_guest(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
) -> Result<IdentityRecord, Error> {
    let record = new_record(env, pool, super::new_id(env.random(), &pool.region));
    insert(env, &record).await?;
    Ok(record)
}

/// The identity a login is reserved for, if any.
pub async fn find_login(
    env: &dyn Env,
    pool_id: &str,
    login: &LinkedLogin,
) -> Result<Option<(String, u64)>, Error> {
    Ok(env
        .store()
        .get(&keys::identity_login(
            pool_id,
            &login.provider,
            &login.subject,
        ))
        .await?
        .and_then(|item| {
            String::from_utf8(item.value)
                .ok()
                .map(|id| (id, item.version))
        }))
}

/// Loads the identity a reservation names, repairing it when the record is missing or does not
/// list the login (a request stopped between its writes).
async fn resolve_reserved(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    identity_id: &str,
    login: &LinkedLogin,
) -> Result<IdentityRecord, Error> {
    let record = match load(env, identity_id).await {
        Ok((record, _)) => record,
        Err(e) if e.kind == ErrorKind::ResourceNotFound => {
            let mut record = new_record(env, pool, identity_id.to_string());
            record.logins.push(login.clone());
            insert(env, &record).await?;
            load(env, identity_id).await?.0
        }
        Err(e) => return Err(e),
    };
    if record.logins.contains(login) {
        return Ok(record);
    }
    add_login(env, identity_id, login).await
}

/// Adds `login` to an identity's record (compare-and-set).
async fn add_login(
    env: &dyn Env,
    identity_id: &str,
    login: &LinkedLogin,
) -> Result<IdentityRecord, Error> {
    modify(env, identity_id, |record| {
        if !record.logins.contains(login) {
            record.logins.push(login.clone());
        }
        record.orphaned = false;
        Ok(())
    })
    .await
}

/// Changes an identity with `change` (compare-and-set, retried on a concurrent write).
pub async fn modify(
    env: &dyn Env,
    identity_id: &str,
    mut change: impl FnMut(&mut IdentityRecord) -> Result<(), Error>,
) -> Result<IdentityRecord, Error> {
    if !super::is_identity_id(identity_id) {
        return Err(super::identity_not_found(identity_id));
    }
    crate::record::modify_json(
        env.store(),
        &keys::identity(identity_id),
        || super::identity_not_found(identity_id),
        || {
            Error::new(
                ErrorKind::ConcurrentModification,
                "The identity is being updated concurrently; try again.",
            )
        },
        |record: &mut IdentityRecord| {
            change(record)?;
            record.modified_millis = env.clock().now_millis();
            Ok(())
        },
    )
    .await
}

/// Why a login cannot be linked.
fn linked_elsewhere() -> Error {
    Error::new(
        ErrorKind::ResourceConflict,
        "A login of this request is linked to another identity.",
    )
}

/// Reserves `login` for `identity_id` (create-only). `Ok(owner)`: the identity the login is
/// reserved for now (this one, or the one that won a race or was linked before).
async fn reserve(
    env: &dyn Env,
    pool_id: &str,
    login: &LinkedLogin,
    identity_id: &str,
) -> Result<String, Error> {
    let key = keys::identity_login(pool_id, &login.provider, &login.subject);
    match env
        .store()
        .put(&key, identity_id.as_bytes(), Expect::Absent)
        .await
    {
        Ok(_) => Ok(identity_id.to_string()),
        Err(StoreError::Conflict) => find_login(env, pool_id, login)
            .await?
            .map(|(id, _)| id)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::ConcurrentModification,
                    "The login is being linked concurrently; try again.",
                )
            }),
        Err(e) => Err(e.into()),
    }
}

/// The identity of a set of verified logins (GetId, and the developer operations): the one
/// their reservations name, else a new one. Logins not yet linked are linked to it. Logins
/// linked to two different identities are a conflict.
pub async fn identity_for_logins(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    logins: &[LinkedLogin],
) -> Result<IdentityRecord, Error> {
    let mut owner: Option<String> = None;
    for login in logins {
        if let Some((id, _)) = find_login(env, &pool.id, login).await? {
            match &owner {
                Some(o) if *o != id => return Err(linked_elsewhere()),
                _ => owner = Some(id),
            }
        }
    }
    let identity_id = match owner {
        Some(id) => id,
        None => {
            // Reserve the first login for a new id; a racing request may win with its own id.
            let first = logins
                .first()
                .ok_or_else(|| Error::internal("identity_for_logins needs a login"))?;
            let fresh = super::new_id(env.random(), &pool.region);
            reserve(env, &pool.id, first, &fresh).await?
        }
    };
    link_all(env, pool, &identity_id, logins).await
}

/// Links every login in `logins` to `identity_id` (reserving each), repairing the record.
pub async fn link_all(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    identity_id: &str,
    logins: &[LinkedLogin],
) -> Result<IdentityRecord, Error> {
    let mut record = None;
    for login in logins {
        let owner = reserve(env, &pool.id, login, identity_id).await?;
        if owner != identity_id {
            return Err(linked_elsewhere());
        }
        record = Some(resolve_reserved(env, pool, identity_id, login).await?);
    }
    match record {
        Some(r) => Ok(r),
        None => Ok(load_in(env, pool, identity_id).await?.0),
    }
}

/// Removes `providers`' logins from an identity and frees their reservations. Removing the last
/// login leaves the identity inaccessible, as in Cognito.
pub async fn unlink(
    env: &dyn Env,
    identity_id: &str,
    remove: impl Fn(&LinkedLogin) -> bool,
) -> Result<IdentityRecord, Error> {
    let mut removed = Vec::new();
    let record = modify(env, identity_id, |record| {
        removed.clear();
        let (gone, kept): (Vec<LinkedLogin>, Vec<LinkedLogin>) =
            record.logins.drain(..).partition(|l| remove(l));
        record.logins = kept;
        if !gone.is_empty() && record.logins.is_empty() {
            record.orphaned = true;
        }
        removed = gone;
        Ok(())
    })
    .await?;
    for login in &removed {
        if let Some((owner, version)) = find_login(env, &record.identity_pool_id, login).await?
            && owner == identity_id
        {
            match env
                .store()
                .delete(
                    &keys::identity_login(
                        &record.identity_pool_id,
                        &login.provider,
                        &login.subject,
                    ),
                    Expect::Version(version),
                )
                .await
            {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(record)
}

/// Deletes an identity, its logins' reservations and its index entry.
pub async fn delete(env: &dyn Env, identity_id: &str) -> Result<(), Error> {
    let (record, _) = load(env, identity_id).await?;
    unlink(env, identity_id, |_| true).await?;
    env.store()
        .delete(
            &keys::pool_identity(&record.identity_pool_id, identity_id),
            Expect::Any,
        )
        .await?;
    env.store()
        .delete(&keys::identity(identity_id), Expect::Any)
        .await?;
    Ok(())
}

/// A page of a pool's identities.
pub async fn list(
    env: &dyn Env,
    pool_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<IdentityRecord>, Option<String>), Error> {
    let prefix = keys::pool_identities(pool_id);
    let page = env.store().scan(&prefix, after, limit).await?;
    let mut out = Vec::new();
    for (key, _) in &page.items {
        let Some(id) = key.strip_prefix(&prefix) else {
            continue;
        };
        // An index entry whose record is gone (a deletion half done) is skipped.
        if let Some(item) = env.store().get(&keys::identity(id)).await? {
            out.push(serde_json::from_slice(&item.value)?);
        }
    }
    Ok((out, page.next))
}

/// The message Cognito answers when an identity's logins are missing or do not match.
pub fn logins_do_not_match() -> Error {
    Error::not_authorized(
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
    )
}

/// The message for an identity that no login can reach any more.
pub fn forbidden(identity_id: &str) -> Error {
    Error::not_authorized(format!("Access to Identity '{identity_id}' is forbidden."))
}
