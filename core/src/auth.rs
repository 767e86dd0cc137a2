//! Sign-in: password authentication, token issuance and refresh.

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind};
use crate::pool::{AppClient, PoolRecord};
use crate::ports::{Env, PasswordCheck};
use crate::store::{Expect, StoreError};
use crate::token::{self, KeySet};
use crate::user::{self, UserRecord, UserStatus};

/// Failed sign-ins tolerated before the account is temporarily locked.
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// The longest lockout.
pub const MAX_LOCKOUT_MILLIS: u64 = 15 * 60 * 1000;

/// Cognito's `AuthenticationResultType`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthenticationResult {
    pub access_token: String,
    pub expires_in: u64,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
}

/// A stored refresh token (under the SHA-256 of the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub username_key: String,
    pub sub: String,
    pub client_id: String,
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
    pub issued_millis: u64,
    pub expires_millis: u64,
}

fn refresh_key(pool_id: &str, token: &str) -> String {
    format!("p/{pool_id}/rt/{}", token::sha256_hex(&[token.as_bytes()]))
}

/// The session facts the tokens carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
}

fn id_claims(
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    let readable = |name: &str| {
        client
            .settings
            .read_attributes
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == name))
    };
    for (name, value) in &user.attributes {
        if !readable(name) {
            continue;
        }
        let is_bool = pool
            .schema_attribute(name)
            .is_some_and(|s| s.attribute_data_type == "Boolean");
        let v = if is_bool {
            Value::Bool(value == "true")
        } else {
            Value::String(value.clone())
        };
        c.insert(name.clone(), v);
    }
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("cognito:username".into(), json!(user.username));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("aud".into(), json!(client.client_id));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.id_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    c
}

fn access_claims(
    issuer: &str,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("client_id".into(), json!(client.client_id));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("access"));
    c.insert("scope".into(), json!("aws.cognito.signin.user.admin"));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.access_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    c.insert("username".into(), json!(user.username));
    c
}

/// Issues ID and access tokens, and a refresh token when `with_refresh`.
pub async fn issue_tokens(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    with_refresh: bool,
) -> Result<AuthenticationResult, Error> {
    let keys: KeySet = token::load_key_set(env, &pool.id).await?;
    let now_millis = env.clock().now_millis();
    let now = now_millis / 1000;
    let id_claims = id_claims(
        issuer,
        pool,
        client,
        user,
        session,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    let access_claims = access_claims(
        issuer,
        client,
        user,
        session,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    let refresh = if with_refresh {
        let secret = crate::ids::random_token(env.random(), 48);
        let record = RefreshRecord {
            username_key: pool.normalize_username(&user.username),
            sub: user.sub.clone(),
            client_id: client.client_id.clone(),
            origin_jti: session.origin_jti.clone(),
            event_id: session.event_id.clone(),
            auth_time: session.auth_time,
            issued_millis: now_millis,
            expires_millis: now_millis.saturating_add(client.refresh_token_seconds() * 1000),
        };
        Some((
            refresh_key(&pool.id, &secret),
            serde_json::to_vec(&record)?,
            secret,
        ))
    } else {
        None
    };
    // The two signatures and the refresh-token write are independent: run them together, so an
    // adapter whose ports work off-thread (the host) overlaps them.
    let store_refresh = async {
        match &refresh {
            Some((key, bytes, _)) => env
                .store()
                .put(key, bytes, Expect::Absent)
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    };
    let (id, access, stored) = futures_util::future::join3(
        token::sign(env, &keys, &id_claims),
        token::sign(env, &keys, &access_claims),
        store_refresh,
    )
    .await;
    let (id, access) = (id?, access?);
    stored?;
    let refresh_token = refresh.map(|(_, _, secret)| secret);
    Ok(AuthenticationResult {
        access_token: access,
        expires_in: client.access_token_seconds(),
        token_type: "Bearer",
        refresh_token,
        id_token: id,
    })
}

/// What a password sign-in produced.
#[derive(Debug)]
pub enum SignInOutcome {
    Tokens(AuthenticationResult),
}

/// Password sign-in (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH). Unknown users and wrong
/// passwords get the same error after the same work (a verification against the pool's dummy
/// hash).
pub async fn password_sign_in(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    login: &str,
    password: &str,
    secret_hash: Option<&str>,
) -> Result<SignInOutcome, Error> {
    crate::password::check_input(password)?;
    let params = pool.hash_params();
    let found = user::resolve(env, pool, login).await?;
    let Some((mut user, mut version)) = found else {
        // Same work as a real check; the result does not matter.
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        crate::pool::check_secret_hash(client, secret_hash, &[login])?;
        return Err(not_found_error(client));
    };
    crate::pool::check_secret_hash(client, secret_hash, &[login, &user.username])?;
    let now = env.clock().now_millis();
    if user.locked_until_millis > now {
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let Some(hash) = user.password_hash.clone() else {
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        return Err(Error::bad_credentials());
    };
    let check = env.passwords().verify(password, &hash, params).await?;
    if check == PasswordCheck::Mismatch {
        record_failure(env, pool, user, version, now).await?;
        return Err(Error::bad_credentials());
    }
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Unconfirmed => {
            return Err(Error::new(
                ErrorKind::UserNotConfirmed,
                "User is not confirmed.",
            ));
        }
        UserStatus::ResetRequired => {
            return Err(Error::new(
                ErrorKind::PasswordResetRequired,
                "Password reset required for the user",
            ));
        }
        UserStatus::ForceChangePassword => {
            return Err(Error::not_authorized(
                "The NEW_PASSWORD_REQUIRED challenge is not supported by this server yet.",
            ));
        }
        UserStatus::Confirmed => {}
    }
    // Rehash with the pool's current parameters, and clear the failure count; best effort:
    // a concurrent update wins and the rehash happens next time.
    if check == PasswordCheck::MatchNeedsRehash || user.failed_sign_ins > 0 {
        if check == PasswordCheck::MatchNeedsRehash {
            let mut salt = [0u8; 16];
            env.random().fill(&mut salt);
            user.password_hash = Some(env.passwords().hash(password, salt, params).await?);
        }
        user.failed_sign_ins = 0;
        user.locked_until_millis = 0;
        match user::save(env, pool, &user, Expect::Version(version)).await {
            Ok(v) => version = v,
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let _ = version;
    let session = Session {
        origin_jti: crate::ids::uuid_v4(env.random()),
        event_id: crate::ids::uuid_v4(env.random()),
        auth_time: now / 1000,
    };
    let tokens = issue_tokens(env, issuer, pool, client, &user, &session, true).await?;
    Ok(SignInOutcome::Tokens(tokens))
}

fn not_found_error(client: &AppClient) -> Error {
    if client.prevents_user_existence_errors() {
        Error::bad_credentials()
    } else {
        Error::new(ErrorKind::UserNotFound, "User does not exist.")
    }
}

async fn record_failure(
    env: &dyn Env,
    pool: &PoolRecord,
    mut user: UserRecord,
    version: u64,
    now: u64,
) -> Result<(), Error> {
    user.failed_sign_ins = user.failed_sign_ins.saturating_add(1);
    if user.failed_sign_ins >= LOCKOUT_THRESHOLD {
        let exponent = (user.failed_sign_ins - LOCKOUT_THRESHOLD).min(20);
        user.locked_until_millis = now + (1000u64 << exponent).min(MAX_LOCKOUT_MILLIS);
    }
    match user::save(env, pool, &user, Expect::Version(version)).await {
        // A concurrent write means a concurrent attempt; the count is approximate by one.
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// REFRESH_TOKEN_AUTH: new ID and access tokens for a valid refresh token of this client.
pub async fn refresh(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    refresh_token: &str,
    secret_hash: Option<&str>,
) -> Result<AuthenticationResult, Error> {
    let invalid = || Error::not_authorized("Invalid Refresh Token");
    if refresh_token.is_empty() || refresh_token.len() > 4096 {
        return Err(invalid());
    }
    let item = env
        .store()
        .get(&refresh_key(&pool.id, refresh_token))
        .await?
        .ok_or_else(invalid)?;
    let record: RefreshRecord = serde_json::from_slice(&item.value)?;
    if record.client_id != client.client_id {
        return Err(invalid());
    }
    let now = env.clock().now_millis();
    if now >= record.expires_millis {
        return Err(Error::not_authorized("Refresh Token has expired"));
    }
    let user_item = env
        .store()
        .get(&user::user_key(&pool.id, &record.username_key))
        .await?
        .ok_or_else(invalid)?;
    let user: UserRecord = serde_json::from_slice(&user_item.value)?;
    if user.sub != record.sub || user.tokens_valid_after_millis > record.issued_millis {
        return Err(Error::not_authorized("Refresh Token has been revoked"));
    }
    crate::pool::check_secret_hash(client, secret_hash, &[&user.username, &user.sub])?;
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    if user.status != UserStatus::Confirmed {
        return Err(invalid());
    }
    let session = Session {
        origin_jti: record.origin_jti,
        event_id: record.event_id,
        auth_time: record.auth_time,
    };
    issue_tokens(env, issuer, pool, client, &user, &session, false).await
}

/// Checks an access token and loads its user (GetUser and every token-authorised operation):
/// one signature verification and O(1) store reads.
pub async fn authorize_access_token(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
) -> Result<(PoolRecord, UserRecord, u64, Map<String, Value>), Error> {
    if access_token.is_empty() || access_token.len() > 16 * 1024 {
        return Err(Error::not_authorized("Invalid Access Token"));
    }
    let (pool_id, claims) = token::verify(env, issuer_base, access_token, "access").await?;
    let (pool, _) = crate::pool::load_pool(env, &pool_id)
        .await
        .map_err(|_| Error::not_authorized("Invalid Access Token"))?;
    let username = claims
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (user, version) = user::load(env, &pool, username)
        .await?
        .filter(|(u, _)| u.sub == sub)
        .ok_or_else(|| Error::not_authorized("Access Token has been revoked"))?;
    let iat_millis = claims.get("iat").and_then(Value::as_u64).unwrap_or(0) * 1000;
    if user.tokens_valid_after_millis > iat_millis {
        return Err(Error::not_authorized("Access Token has been revoked"));
    }
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    Ok((pool, user, version, claims))
}
