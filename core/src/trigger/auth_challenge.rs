//! CUSTOM_AUTH: define / create / verify auth challenge, through InitiateAuth and
//! RespondToAuthChallenge.
//!
//! 1. InitiateAuth(CUSTOM_AUTH): DefineAuthChallenge with an empty `session` decides: tokens,
//!    failure, or a challenge; for `CUSTOM_CHALLENGE`, CreateAuthChallenge makes it, and its
//!    private parameters stay in the (stored, single-use) challenge session.
//! 2. RespondToAuthChallenge(CUSTOM_CHALLENGE): VerifyAuthChallengeResponse judges the answer,
//!    the result joins the `session` history, and DefineAuthChallenge decides again.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::{Invocation, TriggerKind, flag, run, user_attributes};
use crate::auth::{Authenticated, Origin, SignInOutcome};
use crate::error::{Error, ErrorKind};
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::user::{self, UserRecord, UserStatus};

/// The most challenge rounds one sign-in may take.
const MAX_ROUNDS: usize = 10;
const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

fn invalid(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponse,
        alloc::format!("Invalid lambda response: {what}"),
    )
}

fn not_configured() -> Error {
    Error::invalid_parameter("Custom auth lambda trigger is not configured for the user pool.")
}

/// InitiateAuth / AdminInitiateAuth with `CUSTOM_AUTH`.
#[allow(clippy::too_many_arguments)]
pub async fn custom_auth_start(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    login: &str,
    secret_hash: Option<&str>,
    client_metadata: Value,
    origin: &Origin,
) -> Result<Authenticated, Error> {
    if super::configured(pool, TriggerKind::DefineAuthChallenge).is_none() {
        return Err(not_configured());
    }
    let Some((found, _)) = user::resolve(env, pool, login).await? else {
        crate::pool::check_secret_hash(client, secret_hash, &[login])?;
        return Err(if client.prevents_user_existence_errors() {
            Error::bad_credentials()
        } else {
            Error::new(ErrorKind::UserNotFound, "User does not exist.")
        });
    };
    crate::pool::check_secret_hash(client, secret_hash, &[login, &found.username])?;
    check_user(&found)?;
    super::pre_authentication(env, pool, &found, &client.client_id, json!({})).await?;
    decide(
        env,
        pool,
        client,
        found,
        Vec::new(),
        client_metadata,
        origin,
    )
    .await
}

fn check_user(user: &UserRecord) -> Result<(), Error> {
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Unconfirmed => Err(Error::new(
            ErrorKind::UserNotConfirmed,
            "User is not confirmed.",
        )),
        UserStatus::ResetRequired => Err(Error::new(
            ErrorKind::PasswordResetRequired,
            "Password reset required for the user",
        )),
        _ => Ok(()),
    }
}

/// RespondToAuthChallenge / AdminRespondToAuthChallenge with `CUSTOM_CHALLENGE`: the next step,
/// and whether VerifyAuthChallengeResponse accepted this answer.
#[allow(clippy::too_many_arguments)]
pub async fn custom_auth_respond(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    session_value: &str,
    responses: &alloc::collections::BTreeMap<String, String>,
    client_metadata: Value,
    origin: &Origin,
) -> Result<(Authenticated, bool), Error> {
    let username = responses
        .get("USERNAME")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter USERNAME"))?;
    let answer = responses
        .get("ANSWER")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter ANSWER"))?;
    let (session, version) =
        crate::challenge::find(env, pool, client, session_value, CUSTOM_CHALLENGE).await?;
    let (found, _) = user::resolve(env, pool, username)
        .await?
        .filter(|(u, _)| {
            pool.normalize_username(&u.username) == session.username_key && u.sub == session.sub
        })
        .ok_or_else(|| Error::not_authorized("Invalid session for the user."))?;
    crate::pool::check_secret_hash(
        client,
        responses.get("SECRET_HASH").map(String::as_str),
        &[username, &found.username],
    )?;
    // Single use: an answer consumes the session, right or wrong.
    crate::challenge::finish(env, pool, session_value, version).await?;
    check_user(&found)?;
    let state = session.state.unwrap_or(Value::Null);
    let mut history: Vec<Value> = state
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let private = state.get("private").cloned().unwrap_or_else(|| json!({}));
    let metadata = state.get("metadata").cloned().unwrap_or(Value::Null);
    let verdict = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::VerifyAuthChallengeResponse,
            source: "VerifyAuthChallengeResponse_Authentication",
            user_name: &found.username,
            client_id: Some(&client.client_id),
            request: json!({
                "userAttributes": user_attributes(&found),
                "privateChallengeParameters": private,
                "challengeAnswer": answer,
                "clientMetadata": client_metadata.clone(),
                "userNotFound": false,
            }),
            response: json!({ "answerCorrect": false }),
        },
    )
    .await?
    .ok_or_else(not_configured)?;
    let correct = flag(&verdict, "answerCorrect")?;
    history.push(json!({
        "challengeName": CUSTOM_CHALLENGE,
        "challengeResult": correct,
        "challengeMetadata": metadata,
    }));
    let next = decide(env, pool, client, found, history, client_metadata, origin).await?;
    Ok((next, correct))
}

/// DefineAuthChallenge over the history so far, then what it decided.
#[allow(clippy::too_many_arguments)]
async fn decide(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: UserRecord,
    history: Vec<Value>,
    client_metadata: Value,
    origin: &Origin,
) -> Result<Authenticated, Error> {
    if history.len() > MAX_ROUNDS {
        return Err(Error::not_authorized("Incorrect username or password."));
    }
    let decision = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::DefineAuthChallenge,
            source: "DefineAuthChallenge_Authentication",
            user_name: &user.username,
            client_id: Some(&client.client_id),
            request: json!({
                "userAttributes": user_attributes(&user),
                "session": history,
                "clientMetadata": client_metadata.clone(),
                "userNotFound": false,
            }),
            response: json!({
                "challengeName": null,
                "issueTokens": false,
                "failAuthentication": false,
            }),
        },
    )
    .await?
    .ok_or_else(not_configured)?;
    if flag(&decision, "failAuthentication")? {
        crate::events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Incorrect username or password."));
    }
    if flag(&decision, "issueTokens")? {
        return crate::auth::admit(env, pool, client, user).await;
    }
    let name = decision
        .get("challengeName")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid("DefineAuthChallenge must set challengeName, issueTokens or failAuthentication")
        })?;
    if name != CUSTOM_CHALLENGE {
        return Err(Error::new(
            ErrorKind::UnsupportedOperation,
            alloc::format!(
                "DefineAuthChallenge chose {}; this server runs only CUSTOM_CHALLENGE in the CUSTOM_AUTH flow.",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    let created = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::CreateAuthChallenge,
            source: "CreateAuthChallenge_Authentication",
            user_name: &user.username,
            client_id: Some(&client.client_id),
            request: json!({
                "userAttributes": user_attributes(&user),
                "challengeName": CUSTOM_CHALLENGE,
                "session": history,
                "clientMetadata": client_metadata,
                "userNotFound": false,
            }),
            response: json!({
                "publicChallengeParameters": {},
                "privateChallengeParameters": {},
                "challengeMetadata": null,
            }),
        },
    )
    .await?
    .ok_or_else(|| {
        Error::invalid_parameter(
            "CreateAuthChallenge lambda trigger is not configured for the user pool.",
        )
    })?;
    let strings = |name: &str| -> Result<Map<String, Value>, Error> {
        match created.get(name) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return Err(invalid(&alloc::format!("{name} values must be strings"))),
                    };
                    out.insert(k.clone(), Value::String(v));
                }
                Ok(out)
            }
            Some(_) => Err(invalid(&alloc::format!("{name} must be an object"))),
        }
    };
    let public = strings("publicChallengeParameters")?;
    let private = strings("privateChallengeParameters")?;
    let metadata = created
        .get("challengeMetadata")
        .cloned()
        .unwrap_or(Value::Null);
    let state = json!({ "history": history, "private": private, "metadata": metadata });
    let session =
        crate::challenge::start_with_state(env, pool, client, &user, CUSTOM_CHALLENGE, Some(state))
            .await?;
    let mut parameters = public;
    parameters.insert("USERNAME".into(), json!(user.username));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: CUSTOM_CHALLENGE,
        session,
        parameters,
    }))
}
