//! NEW_PASSWORD_REQUIRED: a user signing in with a temporary password sets their own, with any
//! required attributes the administrator left out.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::{Attempt, Authenticated, SignInOutcome, Step, session};
use crate::error::Error;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::user::{self, UserRecord, UserStatus};

/// Starts the NEW_PASSWORD_REQUIRED challenge for a user with a temporary password.
pub async fn challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
) -> Result<SignInOutcome, Error> {
    let session = session::start(env, pool, client, user, Step::NewPassword, None).await?;
    let mut attributes = Map::new();
    for (name, value) in &user.attributes {
        // Cognito leaves out attributes the user cannot write in the challenge.
        if name.ends_with("_verified") {
            continue;
        }
        attributes.insert(name.clone(), Value::String(value.clone()));
    }
    let required: Vec<String> = pool
        .schema
        .iter()
        .filter(|a| a.required && a.name != "sub" && user.attribute(&a.name).is_none())
        .map(|a| format!("userAttributes.{}", a.name))
        .collect();
    let mut parameters = Map::new();
    parameters.insert("USER_ID_FOR_SRP".into(), json!(user.username));
    parameters.insert(
        "requiredAttributes".into(),
        json!(serde_json::to_string(&required)?),
    );
    parameters.insert(
        "userAttributes".into(),
        json!(serde_json::to_string(&attributes)?),
    );
    Ok(SignInOutcome::Challenge {
        name: Step::NewPassword.challenge_name(),
        session,
        parameters,
    })
}

/// The answer: `USERNAME`, `NEW_PASSWORD`, `userAttributes.*` (and `SECRET_HASH`). The session
/// is used up only once the answer is acceptable, so a refused password can be retried.
pub async fn respond(
    at: &Attempt<'_>,
    session_value: &str,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let username = responses
        .get("USERNAME")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter USERNAME"))?;
    let new_password = responses
        .get("NEW_PASSWORD")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter NEW_PASSWORD"))?;
    let (found_session, version) =
        session::find(env, pool, client, session_value, Step::NewPassword).await?;
    let found = session::user_of(env, pool, &found_session, username).await?;
    at.proof.check(client, &[username, &found.username])?;
    let mut updates = BTreeMap::new();
    for (key, value) in responses {
        if let Some(name) = key.strip_prefix("userAttributes.") {
            updates.insert(name.to_string(), value.clone());
        }
    }
    user::validate_values(pool, &mut updates, false)?;
    // Refuse a missing required attribute before the session is used up, so it can be retried.
    crate::profile::apply_updates(pool, &mut found.clone(), &updates, false)?;
    let hash = crate::password::hash_new(
        env,
        pool.password_policy(),
        pool.hash_params(),
        pool.srp_user(&found.username),
        new_password,
    )
    .await?;
    session::finish(env, pool, session_value, version).await?;
    let (record, targets) = user::modify(env, pool, &found.username, |u| {
        if u.status != UserStatus::ForceChangePassword {
            return Err(Error::not_authorized("Invalid session for the user."));
        }
        let targets = crate::profile::apply_updates(pool, u, &updates, false)?;
        u.set_password(&hash);
        u.status = UserStatus::Confirmed;
        u.temporary_password_expires_millis = None;
        Ok(user::Step::Save(targets))
    })
    .await?;
    crate::profile::send_verifications(
        env,
        pool,
        &record.username,
        targets,
        crate::trigger::MessageSource::UpdateUserAttribute,
    )
    .await?;
    // Then the second factor, if the pool and the user call for one.
    if let Some(challenge) = super::mfa::challenge(env, pool, client, &record).await? {
        return Ok(Authenticated::Challenge(challenge));
    }
    Ok(Authenticated::NewPasswordSet(record))
}
