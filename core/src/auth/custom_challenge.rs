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

use super::{Attempt, Authenticated, SignInOutcome, Step, admit, events, session};
use crate::error::{Error, ErrorKind};
use crate::trigger::{Invocation, TriggerKind, flag, run, user_attributes};
use crate::user::{self, UserRecord, UserStatus};

/// The most challenge rounds one sign-in may take.
const MAX_ROUNDS: usize = 10;
const CUSTOM_CHALLENGE: &str = Step::CustomChallenge.challenge_name();

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
pub async fn start(
    at: &Attempt<'_>,
    login: &str,
    client_metadata: Value,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    if crate::trigger::configured(pool, TriggerKind::DefineAuthChallenge).is_none() {
        return Err(not_configured());
    }
    let proof = at.proof;
    let Some((found, _)) = user::resolve(env, pool, login).await? else {
        proof.check(client, &[login])?;
        return Err(super::not_found_error(client));
    };
    proof.check(client, &[login, &found.username])?;
    check_user(&found)?;
    crate::trigger::pre_authentication(env, pool, &found, &client.client_id, json!({})).await?;
    decide(at, found, Vec::new(), client_metadata).await
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
pub async fn respond(
    at: &Attempt<'_>,
    session_value: &str,
    responses: &alloc::collections::BTreeMap<String, String>,
    client_metadata: Value,
) -> Result<(Authenticated, bool), Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let username = responses
        .get("USERNAME")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter USERNAME"))?;
    let answer = responses
        .get("ANSWER")
        .ok_or_else(|| Error::invalid_parameter("Missing required parameter ANSWER"))?;
    let (session, version) =
        session::find(env, pool, client, session_value, Step::CustomChallenge).await?;
    let found = session::user_of(env, pool, &session, username).await?;
    at.proof.check(client, &[username, &found.username])?;
    // Single use: an answer consumes the session, right or wrong.
    session::finish(env, pool, session_value, version).await?;
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
    let next = decide(at, found, history, client_metadata).await?;
    Ok((next, correct))
}

/// DefineAuthChallenge over the history so far, then what it decided.
async fn decide(
    at: &Attempt<'_>,
    user: UserRecord,
    history: Vec<Value>,
    client_metadata: Value,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
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
        events::record(env, pool, &user, client, "SignIn", false, at.origin).await?;
        return Err(Error::not_authorized("Incorrect username or password."));
    }
    if flag(&decision, "issueTokens")? {
        return admit(at, user).await;
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
        session::start(env, pool, client, &user, Step::CustomChallenge, Some(state)).await?;
    let mut parameters = public;
    parameters.insert("USERNAME".into(), json!(user.username));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: CUSTOM_CHALLENGE,
        session,
        parameters,
    }))
}
