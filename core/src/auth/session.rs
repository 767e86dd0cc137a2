//! Auth challenge sessions: the opaque `Session` string that links InitiateAuth to
//! RespondToAuthChallenge. Stored only as a SHA-256 digest, bound to the user and the app client,
//! short-lived (the client's `AuthSessionValidity`, 3 minutes by default) and single-use.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use super::Step;
use crate::error::Error;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};
use crate::user::{self, UserRecord};

/// A stored challenge session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChallengeSession {
    pub username_key: String,
    pub sub: String,
    pub client_id: String,
    /// The step the session waits on.
    pub challenge: Step,
    pub expires_millis: u64,
    /// Flow state that travels with the session (CUSTOM_AUTH: the challenge history and the
    /// current challenge's private parameters, see `super::custom_challenge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
}

fn invalid() -> Error {
    Error::not_authorized("Invalid session for the user.")
}

/// Starts a session waiting on `step`, with the flow state that travels with it; returns the
/// `Session` value for the client.
pub async fn start(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    step: Step,
    state: Option<serde_json::Value>,
) -> Result<String, Error> {
    let session = crate::ids::random_token(env.random(), 96);
    store(
        env,
        pool,
        client,
        user,
        step,
        state,
        &session,
        Expect::Absent,
    )
    .await?;
    Ok(session)
}

/// Starts a session under a name the client can recompute (for steps Cognito's clients answer
/// without a `Session`: DEVICE_SRP_AUTH); a newer session of the same name replaces it.
#[allow(clippy::too_many_arguments)] // a session's parts
pub async fn start_named(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    step: Step,
    state: Option<serde_json::Value>,
    name: &str,
) -> Result<(), Error> {
    store(env, pool, client, user, step, state, name, Expect::Any).await
}

#[allow(clippy::too_many_arguments)] // a session's parts
async fn store(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    step: Step,
    state: Option<serde_json::Value>,
    session: &str,
    expect: Expect,
) -> Result<(), Error> {
    let minutes = client
        .settings
        .auth_session_validity
        .unwrap_or(3)
        .clamp(3, 15);
    let record = ChallengeSession {
        username_key: pool.normalize_username(&user.username),
        sub: user.sub.clone(),
        client_id: client.client_id.clone(),
        challenge: step,
        expires_millis: env.clock().now_millis() + minutes * 60_000,
        state,
    };
    env.store()
        .put(
            &keys::auth_session(&pool.id, session),
            &serde_json::to_vec(&record)?,
            expect,
        )
        .await?;
    Ok(())
}

/// Finds a live session of this client for `challenge`; returns it with its version, for
/// [`finish`].
pub async fn find(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    session: &str,
    step: Step,
) -> Result<(ChallengeSession, u64), Error> {
    if session.len() < 20 || session.len() > 2048 {
        return Err(invalid());
    }
    let item = env
        .store()
        .get(&keys::auth_session(&pool.id, session))
        .await?
        .ok_or_else(invalid)?;
    let record: ChallengeSession = serde_json::from_slice(&item.value)?;
    if record.client_id != client.client_id || record.challenge != step {
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
        .delete(
            &keys::auth_session(&pool.id, session),
            Expect::Version(version),
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}

/// The user a session belongs to, named again in the answer (`USERNAME`): it must still be the
/// same user (same username key and `sub`), or the session is invalid.
pub async fn user_of(
    env: &dyn Env,
    pool: &PoolRecord,
    session: &ChallengeSession,
    username: &str,
) -> Result<UserRecord, Error> {
    user::resolve(env, pool, username)
        .await?
        .map(|(u, _)| u)
        .filter(|u| {
            pool.normalize_username(&u.username) == session.username_key && u.sub == session.sub
        })
        .ok_or_else(invalid)
}
