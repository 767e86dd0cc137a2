//! Access-token checks: the token authorises a user operation only when its signature, scope,
//! user and session all still hold.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;

use serde_json::{Map, Value};

use super::VerificationKeys;
use super::session::FamilyRecord;
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::store::{Versioned, keys};
use crate::user::{self, UserRecord};

/// Checks an access token and loads its user (GetUser and every token-authorised operation):
/// one signature verification and O(1) store reads, whatever the number of tokens or
/// revocations. A token is revoked when its session was revoked (RevokeToken: a list on the user
/// record) or issued before a global sign-out (a time on the user record; only a token issued
/// in the very second of the sign-out needs its session's start time, one more read).
pub async fn authorize_access_token(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
) -> Result<(PoolRecord, UserRecord, u64, Map<String, Value>), Error> {
    authorize_access_token_scoped(
        env,
        issuer_base,
        access_token,
        Some("aws.cognito.signin.user.admin"),
    )
    .await
}

/// [`authorize_access_token`] requiring `scope` in the token's `scope` claim (`None`: any).
/// The Cognito API's user operations need `aws.cognito.signin.user.admin`, which an OAuth 2.0
/// token has only when the client was granted it.
pub async fn authorize_access_token_scoped(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
    scope: Option<&str>,
) -> Result<(PoolRecord, UserRecord, u64, Map<String, Value>), Error> {
    let ((pool_key, pool_item), user, version, claims) =
        authorize(env, issuer_base, access_token, scope).await?;
    let pool = crate::decoded::decode_kept::<PoolRecord>(env, &pool_key, &pool_item)
        .map_err(|_| Error::not_authorized("Invalid Access Token"))?;
    let pool = Arc::unwrap_or_clone(pool);
    Ok((pool, user, version, claims))
}

/// [`authorize_access_token`] for operations that need only the user (GetUser): the pool's
/// record is checked but not decoded in full (its schema is most of its bytes).
pub async fn authorize_access_token_user(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
) -> Result<(UserRecord, u64, Map<String, Value>), Error> {
    let (_, user, version, claims) = authorize(
        env,
        issuer_base,
        access_token,
        Some("aws.cognito.signin.user.admin"),
    )
    .await?;
    Ok((user, version, claims))
}

/// The checks of [`authorize_access_token_scoped`]; the pool's record is returned still encoded,
/// with its key.
async fn authorize(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
    scope: Option<&str>,
) -> Result<((String, Versioned), UserRecord, u64, Map<String, Value>), Error> {
    let invalid = || Error::not_authorized("Invalid Access Token");
    if access_token.is_empty() || access_token.len() > 16 * 1024 {
        return Err(invalid());
    }
    let jwt = super::decode_unverified(access_token).ok_or_else(invalid)?;
    let pool_id = super::issuer_pool_id(&jwt, issuer_base)
        .ok_or_else(invalid)?
        .to_string();
    // The three records this needs (the pool's signing keys, the pool, the user) in one store
    // round trip, named by the token's unverified claims and used only once it verifies. The
    // user's key depends on the pool's case sensitivity, unknown before the pool is read: both
    // spellings are asked for when they differ.
    let username = jwt
        .claims
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let lower = username.to_lowercase();
    let (keys_key, pool_key) = (keys::signing_keys(&pool_id), keys::pool(&pool_id));
    let mut wanted = vec![keys_key.clone(), pool_key.clone()];
    let username_valid = user::check_username(&username).is_ok();
    if username_valid {
        wanted.push(keys::user(&pool_id, &username));
        if lower != username {
            wanted.push(keys::user(&pool_id, &lower));
        }
    }
    let mut items = env.store().get_many(&wanted).await?.into_iter();
    let (key_set, pool_item) = (items.next().flatten(), items.next().flatten());
    let (exact, lowered) = (items.next().flatten(), items.next().flatten());
    let set = key_set
        .and_then(|item| {
            crate::decoded::decode_kept::<VerificationKeys>(env, &keys_key, &item).ok()
        })
        .ok_or_else(invalid)?;
    let claims = super::verify_decoded(env, jwt, &set, "access").await?;
    if let Some(required) = scope
        && !claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|x| x == required))
    {
        return Err(Error::not_authorized(
            "Access Token does not have required scopes",
        ));
    }
    // The pool must still exist (deleting one removes its record first, its users after);
    // its record is not decoded here (most of its bytes are the schema).
    let pool_item = pool_item.ok_or_else(invalid)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let origin_jti = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // The user is the one of the two spellings whose `sub` is the token's: a case-sensitive
    // pool keeps users under their exact names, a case-insensitive one under lower case
    // (`user::load`'s key), and a `sub` is one user's only, so this needs no pool settings.
    let mut loaded: Option<(UserRecord, u64)> = None;
    for item in [exact, lowered].into_iter().flatten() {
        let user: UserRecord = serde_json::from_slice(&item.value)?;
        if user.sub == sub {
            loaded = Some((user, item.version));
            break;
        }
    }
    let revoked = || Error::not_authorized("Access Token has been revoked");
    let (user, version) = loaded.ok_or_else(revoked)?;
    if user.session_revoked(origin_jti) {
        return Err(revoked());
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let signed_out_second = user.tokens_valid_after_millis / 1000;
    if user.tokens_valid_after_millis > 0 {
        if iat < signed_out_second {
            return Err(revoked());
        }
        if iat == signed_out_second {
            let started = env
                .store()
                .get(&keys::refresh_family(&pool_id, origin_jti))
                .await?
                .map(|item| serde_json::from_slice::<FamilyRecord>(&item.value))
                .transpose()?
                .map(|f| f.created_millis);
            // Same millisecond: the session cannot be told apart from one begun before.
            if started.is_none_or(|t| t <= user.tokens_valid_after_millis) {
                return Err(revoked());
            }
        }
    }
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    Ok(((pool_key, pool_item), user, version, claims))
}
