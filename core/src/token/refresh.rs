//! Refresh tokens: rotation with reuse detection, and revocation.
//!
//! Every refresh token of one sign-in belongs to a family (its `origin_jti`). Rotation replaces
//! the presented token with a compare-and-set; a rotated token presented again after the grace
//! period is a replay, and the whole family is revoked.

use serde_json::Value;

use super::claims::Grant;
use super::issue::{RefreshIssue, Tokens, issue_tokens_for};
use super::session::{FamilyRecord, RefreshRecord, Session};
use crate::error::{Error, ErrorKind};
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};
use crate::user::{self, Step, UserRecord};

/// How a client rotates refresh tokens (Cognito's `RefreshTokenRotation`).
fn rotation(client: &AppClient) -> Option<u64> {
    let config = client.settings.refresh_token_rotation.as_ref()?;
    if config.get("Feature").and_then(Value::as_str) != Some("ENABLED") {
        return None;
    }
    Some(
        config
            .get("RetryGracePeriodSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    )
}

/// Whether the client rotates refresh tokens.
pub fn rotates_refresh_tokens(client: &AppClient) -> bool {
    rotation(client).is_some()
}

/// A refresh: new ID and access tokens for a valid refresh token of this client, and, when the
/// client rotates refresh tokens, a new refresh token that replaces the one presented.
///
/// Rotation is decided by a compare-and-set on the presented token's record: of two racing
/// refreshes one wins; the other sees a token rotated moments ago, which passes only within the
/// client's grace period. A rotated token presented after its grace period is a replay: the whole
/// family (every token of that sign-in) is revoked.
pub async fn refresh(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    refresh_token: &str,
    secret_hash: Option<&str>,
    device_key: Option<&str>,
) -> Result<Tokens, Error> {
    let invalid = || Error::not_authorized("Invalid Refresh Token");
    if refresh_token.is_empty() || refresh_token.len() > 4096 {
        return Err(invalid());
    }
    let key = keys::refresh_token(&pool.id, refresh_token);
    for _ in 0..8 {
        let item = env.store().get(&key).await?.ok_or_else(invalid)?;
        let record: RefreshRecord = serde_json::from_slice(&item.value)?;
        if record.client_id != client.client_id {
            return Err(invalid());
        }
        // A token issued to a remembered device refreshes only for that device when the caller
        // names one (Cognito's REFRESH_TOKEN_AUTH `DEVICE_KEY`).
        if let Some(given) = device_key
            && record.device_key.as_deref() != Some(given)
        {
            return Err(invalid());
        }
        let now = env.clock().now_millis();
        if now >= record.expires_millis {
            return Err(Error::not_authorized("Refresh Token has expired"));
        }
        let (family, user_item) = futures_util::future::join(
            env.store()
                .get(&keys::refresh_family(&pool.id, &record.origin_jti)),
            env.store().get(&keys::user(&pool.id, &record.username_key)),
        )
        .await;
        let family: FamilyRecord = serde_json::from_slice(&family?.ok_or_else(invalid)?.value)?;
        let user: UserRecord = serde_json::from_slice(&user_item?.ok_or_else(invalid)?.value)?;
        if family.revoked
            || user.sub != record.sub
            || user.tokens_valid_after_millis >= family.created_millis
                && user.tokens_valid_after_millis > 0
            || user.session_revoked(&record.origin_jti)
        {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        crate::pool::check_secret_hash(client, secret_hash, &[&user.username, &user.sub])?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        if !user.status.is_active() {
            return Err(invalid());
        }
        let issue = match (rotation(client), record.rotated_millis) {
            (None, _) => RefreshIssue::None,
            (Some(grace), Some(rotated)) => {
                // Valid for `grace` seconds after the rotation, and not at all with no grace
                // period: a refresh in the rotation's own millisecond is a replay too.
                if now >= rotated.saturating_add(grace * 1000) {
                    revoke_family(env, pool, &record, client).await?;
                    return Err(Error::new(
                        ErrorKind::RefreshTokenReuse,
                        "Refresh token has been rotated and reused; every token of this session is revoked.",
                    ));
                }
                RefreshIssue::Rotated
            }
            (Some(_), None) => {
                let mut rotated = record.clone();
                rotated.rotated_millis = Some(now);
                match env
                    .store()
                    .put(
                        &key,
                        &serde_json::to_vec(&rotated)?,
                        Expect::Version(item.version),
                    )
                    .await
                {
                    Ok(_) => RefreshIssue::Rotated,
                    // Someone rotated it first: decide again on what they wrote.
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let session = Session {
            origin_jti: record.origin_jti,
            event_id: record.event_id,
            auth_time: record.auth_time,
            device_key: record.device_key,
        };
        let grant = Grant {
            scope: record.scope,
            nonce: None,
        };
        return issue_tokens_for(
            env,
            issuer,
            pool,
            client,
            &user,
            &session,
            issue,
            &grant,
            crate::trigger::TokenSource::RefreshTokens,
        )
        .await;
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "Too many concurrent refreshes of this token; try again.",
    ))
}

/// Revokes a sign-in session: its refresh tokens (through the family record) and its access
/// tokens (through the user record's revoked-session list, so checks need no extra read).
pub async fn revoke_family(
    env: &dyn Env,
    pool: &PoolRecord,
    record: &RefreshRecord,
    client: &AppClient,
) -> Result<(), Error> {
    let key = keys::refresh_family(&pool.id, &record.origin_jti);
    for _ in 0..8 {
        let Some(item) = env.store().get(&key).await? else {
            break;
        };
        let mut family: FamilyRecord = serde_json::from_slice(&item.value)?;
        if family.revoked {
            break;
        }
        family.revoked = true;
        match env
            .store()
            .put(
                &key,
                &serde_json::to_vec(&family)?,
                Expect::Version(item.version),
            )
            .await
        {
            Ok(_) => break,
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let now = env.clock().now_millis();
    let until = now.saturating_add(
        client
            .access_token_seconds()
            .max(client.id_token_seconds())
            .saturating_mul(1000),
    );
    let origin = record.origin_jti.clone();
    let sub = record.sub.clone();
    let outcome = user::modify(env, pool, &record.username_key, |u| {
        if u.sub != sub || u.session_revoked(&origin) {
            return Ok(Step::Keep(()));
        }
        u.revoke_session(&origin, until, now);
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::UserNotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Looks up a refresh token's record (RevokeToken).
pub async fn find_refresh(
    env: &dyn Env,
    pool: &PoolRecord,
    refresh_token: &str,
) -> Result<Option<RefreshRecord>, Error> {
    if refresh_token.is_empty() || refresh_token.len() > 4096 {
        return Ok(None);
    }
    match env
        .store()
        .get(&keys::refresh_token(&pool.id, refresh_token))
        .await?
    {
        Some(item) => Ok(Some(serde_json::from_slice(&item.value)?)),
        None => Ok(None),
    }
}

/// Signs a user out everywhere: every token issued before now stops working.
pub async fn global_sign_out(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
) -> Result<(), Error> {
    let now = env.clock().now_millis();
    user::modify(env, pool, username, |u| {
        u.tokens_valid_after_millis = now;
        u.revoked_sessions.clear();
        Ok(Step::Save(()))
    })
    .await?;
    Ok(())
}
