//! Federated users: the user an upstream identity signs in as, its mapped attributes and
//! `identities`, and links between upstream identities and native users.
//!
//! A first sign-in creates `<ProviderName>_<subject>` with status `EXTERNAL_PROVIDER` (after
//! the pre sign-up trigger, source `PreSignUp_ExternalProvider`; then post confirmation,
//! `PostConfirmation_ConfirmSignUp`, as Cognito fires it for a new federated user); every
//! sign-in maps the provider's attributes again and fires post authentication. An identity
//! linked to a native user (AdminLinkProviderForUser) signs in as that user.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::provider::IdentityProvider;
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};
use crate::user::{self, UserRecord, UserStatus};

/// The attribute name that links by the provider's subject.
pub const COGNITO_SUBJECT: &str = "Cognito_Subject";
/// The most identities one user may have linked (Cognito's limit).
pub const MAX_LINKED_IDENTITIES: usize = 5;

/// A claim as an attribute value: strings as they are, booleans and numbers as text.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The upstream subject: the claim the provider's mapping names for `username`.
pub fn subject(provider: &IdentityProvider, claims: &Map<String, Value>) -> Result<String, Error> {
    let claim = provider
        .attribute_mapping
        .get("username")
        .map_or(provider.provider_type.subject_claim(), String::as_str);
    claims
        .get(claim)
        .and_then(claim_text)
        .filter(|s| !s.is_empty() && s.len() <= 128 && !s.chars().any(char::is_control))
        .ok_or_else(|| Error::not_authorized(format!("The identity provider sent no {claim}.")))
}

/// The pool attributes the provider's claims map to (attributes the pool does not have are left
/// out, as are `username` and `sub`).
pub fn mapped_attributes(
    pool: &PoolRecord,
    provider: &IdentityProvider,
    claims: &Map<String, Value>,
) -> BTreeMap<String, String> {
    provider
        .attribute_mapping
        .iter()
        .filter(|(attribute, _)| attribute.as_str() != "username" && attribute.as_str() != "sub")
        .filter(|(attribute, _)| pool.schema_attribute(attribute).is_some())
        .filter_map(|(attribute, claim)| {
            claims
                .get(claim)
                .and_then(claim_text)
                .map(|v| (attribute.clone(), v))
        })
        .collect()
}

/// One entry of the `identities` attribute.
fn identity_entry(provider: &IdentityProvider, subject: &str, primary: bool, now: u64) -> Value {
    json!({
        "userId": subject,
        "providerName": provider.provider_name,
        "providerType": provider.provider_type.as_str(),
        "issuer": provider.detail("oidc_issuer"),
        "primary": primary,
        "dateCreated": now,
    })
}

fn identities_of(user: &UserRecord) -> Vec<Value> {
    user.attributes
        .get("identities")
        .and_then(|v| serde_json::from_str::<Vec<Value>>(v).ok())
        .unwrap_or_default()
}

fn set_identities(user: &mut UserRecord, list: &[Value]) {
    if list.is_empty() {
        user.attributes.remove("identities");
    } else {
        user.attributes.insert(
            "identities".into(),
            serde_json::to_string(list).unwrap_or_default(),
        );
    }
}

/// The native user an upstream identity is linked to, if any: by its subject
/// ([`COGNITO_SUBJECT`]) or by one of its mapped attributes.
async fn linked_user(
    env: &dyn Env,
    pool: &PoolRecord,
    provider: &IdentityProvider,
    subject: &str,
    mapped: &BTreeMap<String, String>,
) -> Result<Option<(UserRecord, u64)>, Error> {
    let mut candidates = alloc::vec![(COGNITO_SUBJECT.to_string(), subject.to_string())];
    candidates.extend(mapped.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (attribute, value) in candidates {
        let key = keys::provider_link(&pool.id, &provider.provider_name, &attribute, &value);
        if let Some(item) = env.store().get(&key).await? {
            let username_key = String::from_utf8_lossy(&item.value).into_owned();
            if let Some(found) = user::load(env, pool, &username_key).await? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// Signs an upstream identity in: the native user it is linked to, or its federated user
/// (created on first sign-in), with the provider's attributes mapped on every sign-in. Runs
/// the pool's triggers; a disabled user is refused.
pub async fn sign_in(
    env: &dyn Env,
    pool: &PoolRecord,
    provider: &IdentityProvider,
    claims: &Map<String, Value>,
    client_id: &str,
) -> Result<UserRecord, Error> {
    let subject = subject(provider, claims)?;
    let mapped = mapped_attributes(pool, provider, claims);
    if let Some((user, _)) = linked_user(env, pool, provider, &subject, &mapped).await? {
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        crate::trigger::post_authentication(env, pool, &user, client_id, json!({})).await?;
        return Ok(user);
    }
    let username = format!("{}_{}", provider.provider_name, subject);
    let now = env.clock().now_millis();
    let user = match user::load(env, pool, &username).await? {
        Some((_, _)) => {
            let (user, ()) = user::modify(env, pool, &username, |u| {
                let changed = mapped.iter().any(|(k, v)| u.attributes.get(k) != Some(v));
                if !changed {
                    return Ok(user::Step::Keep(()));
                }
                for (k, v) in &mapped {
                    u.attributes.insert(k.clone(), v.clone());
                }
                Ok(user::Step::Save(()))
            })
            .await?;
            user
        }
        None => {
            create(
                env, pool, provider, &subject, &username, mapped, client_id, now,
            )
            .await?
        }
    };
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    crate::trigger::post_authentication(env, pool, &user, client_id, json!({})).await?;
    Ok(user)
}

#[allow(clippy::too_many_arguments)] // the new user's parts, each used once
async fn create(
    env: &dyn Env,
    pool: &PoolRecord,
    provider: &IdentityProvider,
    subject: &str,
    username: &str,
    mapped: BTreeMap<String, String>,
    client_id: &str,
    now: u64,
) -> Result<UserRecord, Error> {
    crate::trigger::pre_sign_up(
        env,
        pool,
        "PreSignUp_ExternalProvider",
        username,
        Some(client_id),
        &mapped,
        json!({}),
        json!({}),
    )
    .await?;
    let mut attributes = mapped;
    attributes.insert(
        "identities".into(),
        serde_json::to_string(&[identity_entry(provider, subject, true, now)]).unwrap_or_default(),
    );
    let record = UserRecord::new(
        username.to_string(),
        crate::ids::uuid_v4(env.random()),
        attributes,
        UserStatus::ExternalProvider,
        None,
        now,
    );
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => {}
        // A concurrent first sign-in of the same identity created it: use that one.
        Err(StoreError::Conflict) => {
            return user::load(env, pool, username)
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| Error::internal("the federated user vanished"));
        }
        Err(e) => return Err(e.into()),
    }
    crate::trigger::post_confirmation(
        env,
        pool,
        "PostConfirmation_ConfirmSignUp",
        &record,
        Some(client_id),
        json!({}),
    )
    .await?;
    Ok(record)
}

/// AdminLinkProviderForUser: links the upstream identity (`provider`, `attribute`, `value`) to
/// the native user `destination`, who then also signs in through the provider.
pub async fn link(
    env: &dyn Env,
    pool: &PoolRecord,
    destination: &str,
    provider: &IdentityProvider,
    attribute: &str,
    value: &str,
) -> Result<(), Error> {
    let (target, _) = user::load(env, pool, destination)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
    if attribute == COGNITO_SUBJECT {
        let federated = format!("{}_{}", provider.provider_name, value);
        if user::load(env, pool, &federated).await?.is_some() {
            return Err(Error::invalid_parameter(
                "Merging is not currently supported, provide a SourceUser that has not signed in to the user pool.",
            ));
        }
    }
    let username_key = pool.normalize_username(&target.username);
    let key = keys::provider_link(&pool.id, &provider.provider_name, attribute, value);
    if identities_of(&target).len() >= MAX_LINKED_IDENTITIES {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "A user can have at most 5 linked identities.",
        ));
    }
    match env
        .store()
        .put(&key, username_key.as_bytes(), Expect::Absent)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            let holder = env.store().get(&key).await?.map(|i| i.value);
            if holder.as_deref() != Some(username_key.as_bytes()) {
                return Err(Error::new(
                    ErrorKind::AliasExists,
                    "The source user is already linked to another user.",
                ));
            }
        }
        Err(e) => return Err(e.into()),
    }
    let now = env.clock().now_millis();
    let entry = identity_entry(provider, value, false, now);
    user::modify(env, pool, &target.username, |u| {
        let mut list = identities_of(u);
        let same = |e: &Value| {
            e.get("providerName").and_then(Value::as_str) == Some(provider.provider_name.as_str())
                && e.get("userId").and_then(Value::as_str) == Some(value)
        };
        if list.iter().any(same) {
            return Ok(user::Step::Keep(()));
        }
        list.push(entry.clone());
        set_identities(u, &list);
        Ok(user::Step::Save(()))
    })
    .await?;
    Ok(())
}

/// AdminDisableProviderForUser for an upstream identity: removes its link to a native user and
/// disables its federated user, if it has one. (For `Cognito`, see the API layer.)
pub async fn disable(
    env: &dyn Env,
    pool: &PoolRecord,
    provider_name: &str,
    attribute: &str,
    value: &str,
) -> Result<(), Error> {
    let key = keys::provider_link(&pool.id, provider_name, attribute, value);
    if let Some(item) = env.store().get(&key).await? {
        let username_key = String::from_utf8_lossy(&item.value).into_owned();
        env.store()
            .delete(&key, Expect::Version(item.version))
            .await?;
        if user::load(env, pool, &username_key).await?.is_some() {
            user::modify(env, pool, &username_key, |u| {
                let mut list = identities_of(u);
                let before = list.len();
                list.retain(|e| {
                    !(e.get("providerName").and_then(Value::as_str) == Some(provider_name)
                        && e.get("userId").and_then(Value::as_str) == Some(value))
                });
                if list.len() == before {
                    return Ok(user::Step::Keep(()));
                }
                set_identities(u, &list);
                Ok(user::Step::Save(()))
            })
            .await?;
        }
    }
    if attribute == COGNITO_SUBJECT {
        let federated = format!("{provider_name}_{value}");
        if user::load(env, pool, &federated).await?.is_some() {
            user::modify(env, pool, &federated, |u| {
                if !u.enabled {
                    return Ok(user::Step::Keep(()));
                }
                u.enabled = false;
                Ok(user::Step::Save(()))
            })
            .await?;
        }
    }
    Ok(())
}

/// The `identities` claim of an ID token: the attribute's JSON, with `primary` and
/// `dateCreated` as strings, as Cognito's tokens carry them.
pub fn identities_claim(attribute: &str) -> Option<Value> {
    let list: Vec<Value> = serde_json::from_str(attribute).ok()?;
    Some(Value::Array(
        list.into_iter()
            .map(|mut entry| {
                if let Value::Object(map) = &mut entry {
                    for key in ["primary", "dateCreated"] {
                        if let Some(v) = map.get(key).and_then(claim_text) {
                            map.insert(key.into(), Value::String(v));
                        }
                    }
                }
                entry
            })
            .collect(),
    ))
}
