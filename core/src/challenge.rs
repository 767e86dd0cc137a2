//! Auth challenge sessions: the opaque `Session` string that links InitiateAuth to
//! RespondToAuthChallenge. Stored only as a SHA-256 digest, bound to the user and the app client,
//! short-lived (the client's `AuthSessionValidity`, 3 minutes by default) and single-use.

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::store::{Expect, StoreError};
use crate::user::UserRecord;

/// A stored challenge session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChallengeSession {
    pub username_key: String,
    pub sub: String,
    pub client_id: String,
    pub challenge: String,
    pub expires_millis: u64,
    /// Flow state that travels with the session (CUSTOM_AUTH: the challenge history and the
    /// current challenge's private parameters, see `crate::trigger`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
}

fn session_key(pool_id: &str, session: &str) -> String {
    format!(
        "p/{pool_id}/as/{}",
        crate::token::sha256_hex(&[session.as_bytes()])
    )
}

fn invalid() -> Error {
    Error::not_authorized("Invalid session for the user.")
}

/// Starts a challenge session and returns the `Session` value for the client.
pub async fn start(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    challenge: &str,
) -> Result<String, Error> {
    start_with_state(env, pool, client, user, challenge, None).await
}

/// [`start`], with flow state kept in the session.
pub async fn start_with_state(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    challenge: &str,
    state: Option<serde_json::Value>,
) -> Result<String, Error> {
    let session = crate::ids::random_token(env.random(), 96);
    let minutes = client
        .settings
        .auth_session_validity
        .unwrap_or(3)
        .clamp(3, 15);
    let record = ChallengeSession {
        username_key: pool.normalize_username(&user.username),
        sub: user.sub.clone(),
        client_id: client.client_id.clone(),
        challenge: challenge.into(),
        expires_millis: env.clock().now_millis() + minutes * 60_000,
        state,
    };
    env.store()
        .put(
            &session_key(&pool.id, &session),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await?;
    Ok(session)
}

/// Finds a live session of this client for `challenge`; returns it with its version, for
/// [`finish`].
pub async fn find(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    session: &str,
    challenge: &str,
) -> Result<(ChallengeSession, u64), Error> {
    if session.len() < 20 || session.len() > 2048 {
        return Err(invalid());
    }
    let item = env
        .store()
        .get(&session_key(&pool.id, session))
        .await?
        .ok_or_else(invalid)?;
    let record: ChallengeSession = serde_json::from_slice(&item.value)?;
    if record.client_id != client.client_id || record.challenge != challenge {
        return Err(invalid());
    }
    if env.clock().now_millis() >= record.expires_millis {
        return Err(Error::not_authorized(
            "Invalid session for the user, session is expired.",
        ));
    }
    Ok((record, item.version))
}

/// Consumes a session: exactly one answer can use it.
pub async fn finish(
    env: &dyn Env,
    pool: &PoolRecord,
    session: &str,
    version: u64,
) -> Result<(), Error> {
    match env
        .store()
        .delete(&session_key(&pool.id, session), Expect::Version(version))
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}
