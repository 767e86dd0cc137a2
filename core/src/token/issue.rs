//! Issuing a user's tokens: ID and access JWTs, and a refresh token recorded in the store.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::json;

use super::claims::{Grant, access_claims, id_claims};
use super::session::{FamilyRecord, RefreshRecord, Session};
use super::{Signer, at_hash, pool_signer, sign};
use crate::error::Error;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::store::{Expect, keys};
use crate::user::UserRecord;

/// What a sign-in or a refresh issues (Cognito's `AuthenticationResultType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    /// Absent only for an OAuth 2.0 grant without the `openid` scope.
    pub id_token: Option<String>,
    /// A device key offered to the signing-in device (`NewDeviceMetadata`, remembered devices).
    pub new_device: Option<crate::device::NewDeviceMetadata>,
}

/// Which refresh token [`issue_tokens`] issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshIssue {
    /// None (a refresh without rotation).
    None,
    /// The first of a new sign-in session (writes the family record).
    NewSession,
    /// A rotated successor in an existing family.
    Rotated,
}

/// Issues ID and access tokens, and the refresh token `refresh` asks for. `source` names why
/// (the pre token generation trigger's source); for an OAuth 2.0 grant the access token carries
/// the granted scopes and the ID token the `nonce` and `at_hash` (OIDC Core 3.1.3.6).
#[allow(clippy::too_many_arguments)]
pub async fn issue_tokens_for(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    refresh: RefreshIssue,
    grant: &Grant,
    source: crate::trigger::TokenSource,
) -> Result<Tokens, Error> {
    let (signer, groups) = futures_util::future::join(
        pool_signer(env, &pool.id),
        crate::group::memberships(env, pool, user),
    )
    .await;
    let (signer, groups): (Signer, _) = (signer?, groups?);
    let now_millis = env.clock().now_millis();
    let now = now_millis / 1000;
    let mut id_claims = id_claims(
        issuer,
        pool,
        client,
        user,
        session,
        &groups,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    if let Some(nonce) = &grant.nonce {
        id_claims.insert("nonce".into(), json!(nonce));
    }
    let mut access_claims = access_claims(
        issuer,
        grant,
        client,
        user,
        session,
        &groups,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    crate::trigger::apply_pre_token(
        env,
        pool,
        client,
        user,
        &groups,
        source,
        &mut id_claims,
        &mut access_claims,
    )
    .await?;
    let username_key = pool.normalize_username(&user.username);
    let mut writes: Vec<(String, Vec<u8>)> = alloc::vec::Vec::new();
    let refresh_token = if refresh == RefreshIssue::None {
        None
    } else {
        let secret = crate::ids::random_token(env.random(), 48);
        let record = RefreshRecord {
            username_key: username_key.clone(),
            sub: user.sub.clone(),
            client_id: client.client_id.clone(),
            origin_jti: session.origin_jti.clone(),
            event_id: session.event_id.clone(),
            auth_time: session.auth_time,
            issued_millis: now_millis,
            expires_millis: now_millis.saturating_add(client.refresh_token_seconds() * 1000),
            rotated_millis: None,
            scope: grant.scope.clone(),
            device_key: session.device_key.clone(),
        };
        writes.push((
            keys::refresh_token(&pool.id, &secret),
            serde_json::to_vec(&record)?,
        ));
        if refresh == RefreshIssue::NewSession {
            let family = FamilyRecord {
                username_key,
                client_id: client.client_id.clone(),
                created_millis: now_millis,
                revoked: false,
            };
            writes.push((
                keys::refresh_family(&pool.id, &session.origin_jti),
                serde_json::to_vec(&family)?,
            ));
        }
        Some(secret)
    };
    // The two signatures and the session writes are independent: run them together, so an
    // adapter whose ports work off-thread (the host) overlaps them.
    let store_writes = futures_util::future::try_join_all(
        writes
            .iter()
            .map(|(key, bytes)| env.store().put(key, bytes, Expect::Absent)),
    );
    let (id, access) = if grant.scope.is_none() {
        let (id, access, stored) = futures_util::future::join3(
            sign(env, &signer, &id_claims),
            sign(env, &signer, &access_claims),
            store_writes,
        )
        .await;
        stored?;
        (Some(id?), access?)
    } else {
        // OAuth 2.0: the ID token's `at_hash` covers the signed access token, so it comes second.
        let (access, stored) =
            futures_util::future::join(sign(env, &signer, &access_claims), store_writes).await;
        stored?;
        let access = access?;
        let id = if grant.issues_id_token() {
            id_claims.insert("at_hash".into(), json!(at_hash(&access)));
            Some(sign(env, &signer, &id_claims).await?)
        } else {
            None
        };
        (id, access)
    };
    Ok(Tokens {
        access_token: access,
        expires_in: client.access_token_seconds(),
        refresh_token,
        id_token: id,
        new_device: None,
    })
}
