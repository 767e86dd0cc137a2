//! Developer-authenticated identities: the developer's back end (SigV4-signed) vouches for its
//! own user identifiers under the pool's `DeveloperProviderName`, gets identities and OpenID
//! tokens for them, looks them up, merges and unlinks them.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::identities::{self, IdentityRecord, LinkedLogin};
use super::pools::IdentityPoolRecord;
use crate::error::{Error, ErrorKind};
use crate::ports::Env;

/// The pool's developer provider, which must be `name` when given.
pub fn provider<'a>(pool: &'a IdentityPoolRecord, name: Option<&str>) -> Result<&'a str, Error> {
    let Some(own) = pool.settings.developer_provider_name.as_deref() else {
        return Err(Error::invalid_parameter(
            "This identity pool has no developer provider name.",
        ));
    };
    if name.is_some_and(|n| n != own) {
        return Err(Error::invalid_parameter(
            "DeveloperProviderName does not match the identity pool's.",
        ));
    }
    Ok(own)
}

fn login(provider: &str, user: &str) -> LinkedLogin {
    LinkedLogin {
        provider: provider.to_string(),
        subject: user.to_string(),
    }
}

/// The identity of a developer user, if any.
pub async fn find(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    user: &str,
) -> Result<Option<IdentityRecord>, Error> {
    let provider = provider(pool, None)?;
    match identities::find_login(env, &pool.id, &login(provider, user)).await? {
        Some((id, _)) => Ok(Some(identities::load_in(env, pool, &id).await?.0)),
        None => Ok(None),
    }
}

/// The developer user identifiers linked to an identity.
pub fn users_of(pool: &IdentityPoolRecord, record: &IdentityRecord) -> Vec<String> {
    let provider = pool.settings.developer_provider_name.as_deref();
    record
        .logins
        .iter()
        .filter(|l| Some(l.provider.as_str()) == provider)
        .map(|l| l.subject.clone())
        .collect()
}

/// The error Cognito answers when a developer user is linked to another identity.
pub fn already_registered() -> Error {
    Error::new(
        ErrorKind::DeveloperUserAlreadyRegistered,
        "The provided developer user identifier is already registered with Cognito under a different identity ID.",
    )
}

/// MergeDeveloperIdentities: the source user's identity (every login of it) moves to the
/// destination user's identity, and the source identity is deleted. Answers the destination.
pub async fn merge(
    env: &dyn Env,
    pool: &IdentityPoolRecord,
    source_user: &str,
    destination_user: &str,
) -> Result<IdentityRecord, Error> {
    let not_found = |user: &str| {
        Error::resource_not_found(alloc::format!(
            "Developer user identifier '{}' not found.",
            user.chars().take(128).collect::<String>()
        ))
    };
    let source = find(env, pool, source_user)
        .await?
        .ok_or_else(|| not_found(source_user))?;
    let destination = find(env, pool, destination_user)
        .await?
        .ok_or_else(|| not_found(destination_user))?;
    if source.identity_id == destination.identity_id {
        return Ok(destination);
    }
    // Free the source's reservations (and the source), then link them to the destination.
    let moved = source.logins.clone();
    identities::delete(env, &source.identity_id).await?;
    identities::link_all(env, pool, &destination.identity_id, &moved).await
}
