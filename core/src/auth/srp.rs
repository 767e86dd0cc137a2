//! USER_SRP_AUTH: the client proves it knows the password without sending it (Secure Remote
//! Password, Cognito's variant: [`crate::srp`]).
//!
//! 1. InitiateAuth (`USERNAME`, `SRP_A`) answers the PASSWORD_VERIFIER challenge: `SALT`,
//!    `SRP_B`, `SECRET_BLOCK`, `USER_ID_FOR_SRP` and `USERNAME` (both the username as stored,
//!    whatever alias was typed). The server's secret `b` stays in a single-use challenge session
//!    ([`super::session`]) whose id is the `SECRET_BLOCK` (base64): Cognito's clients send no
//!    `Session` for this step, the secret block carries the state.
//! 2. RespondToAuthChallenge (`USERNAME`, `PASSWORD_CLAIM_SECRET_BLOCK`, `TIMESTAMP`,
//!    `PASSWORD_CLAIM_SIGNATURE`) uses the session up first (a replayed secret block fails),
//!    then checks the signature in constant time. A wrong one counts toward the lockout like a
//!    wrong password; a right one goes through [`super::admit`] as the password step does.
//!
//! Users the pool does not know (under PreventUserExistenceErrors) and users who have no
//! verifier yet get a challenge that looks the same (a salt derived from the pool's secret and
//! the name, a real B over a decoy verifier, a stored session) and then the wrong-password
//! answer; for a known user the auth event says why.
//!
//! TIMESTAMP must be in Cognito's form; its distance from the server's clock is not bounded: the
//! signature is bound to a single-use secret block that expires in minutes, so the timestamp
//! adds no freshness, and clients with a wrong clock would fail for nothing.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::lockout::{is_locked, record_failure};
use super::{Attempt, Authenticated, SignInOutcome, Step, admit, events, not_found_error, session};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::srp::{self, ServerHello, SrpError};
use crate::user::{self, UserRecord, UserStatus};

/// Why a challenge is a decoy (it can never be answered): no such user, ...
const UNKNOWN_USER: &str = "unknown user";
/// ... or no verifier.
const NO_VERIFIER: &str = "USER_SRP_AUTH refused: the user has no SRP verifier yet (their password was set before verifiers were stored); a USER_PASSWORD_AUTH or hosted UI sign-in stores one";

/// What the session keeps between the two calls.
#[derive(Serialize, Deserialize)]
struct State {
    /// The server's secret exponent (hex).
    b: String,
    /// B as sent (PAD hex).
    big_b: String,
    /// The client's A as received (checked).
    big_a: String,
    /// The verifier B was computed from.
    v: String,
    /// Set on a challenge that can never succeed: why (recorded in the auth event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoy: Option<String>,
}

/// The server's half of an exchange over the verifier `v_hex` (a user's or a device's): a fresh
/// secret b and B.
pub(super) async fn hello(env: &dyn Env, v_hex: &str) -> Result<ServerHello, Error> {
    // B ≡ 0 needs b to hit one value in 2^256: retried all the same, as SRP asks.
    for _ in 0..4 {
        let mut b = [0u8; 32];
        env.random().fill(&mut b);
        match env.srp().server_hello(v_hex, b).await {
            Ok(h) => return Ok(h),
            Err(SrpError::Zero) => continue,
            Err(SrpError::Malformed) => return Err(Error::internal("stored SRP verifier")),
        }
    }
    Err(Error::internal("SRP: no usable b"))
}

pub(super) fn srp_a_error(e: SrpError) -> Error {
    match e {
        SrpError::Malformed => {
            Error::invalid_parameter("SRP_A must be a hexadecimal number of at most 3072 bits.")
        }
        SrpError::Zero => Error::invalid_parameter("SRP_A cannot be zero modulo N."),
    }
}

/// The PASSWORD_VERIFIER challenge for USER_SRP_AUTH.
pub(super) async fn start(
    at: &Attempt<'_>,
    login: &str,
    srp_a: &str,
) -> Result<Authenticated, Error> {
    let (env, pool, client, proof) = (at.env, at.pool, at.client, at.proof);
    if !pool.allows_srp() {
        return Err(Error::invalid_parameter(
            "USER_SRP_AUTH is disabled in this user pool (CognateSrp is DISABLED); use USER_PASSWORD_AUTH.",
        ));
    }
    srp::check_a(srp_a).map_err(srp_a_error)?;
    let found = user::resolve(env, pool, login).await?;
    let Some((user, _)) = found else {
        proof.check(client, &[login])?;
        if !client.prevents_user_existence_errors() {
            return Err(not_found_error(client));
        }
        // A user the pool does not know: a challenge that looks the same.
        let stand_in = UserRecord::new(
            login.to_string(),
            String::new(),
            BTreeMap::new(),
            UserStatus::Confirmed,
            None,
            0,
        );
        return challenge(at, &stand_in, srp_a, None, Some(UNKNOWN_USER)).await;
    };
    proof.check(client, &[login, &user.username])?;
    let Some(verifier) = user.srp_verifier.clone() else {
        return challenge(at, &user, srp_a, None, Some(NO_VERIFIER)).await;
    };
    crate::trigger::pre_authentication(
        env,
        pool,
        &user,
        &client.client_id,
        Value::Object(Map::new()),
    )
    .await?;
    challenge(at, &user, srp_a, Some(verifier), None).await
}

/// A decoy verifier for a name: the same salt every time (from the pool's secret dummy hash),
/// and a v no password gives.
fn decoy_verifier(pool: &PoolRecord, name: &str) -> srp::Verifier {
    let mut mac = match <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(
        pool.dummy_password_hash.as_bytes(),
    ) {
        Ok(mac) => mac,
        Err(_) => return srp::verifier("", "", "", [1; 16]),
    };
    mac.update(b"cognate srp decoy\0");
    mac.update(pool.normalize_username(name).as_bytes());
    let out: [u8; 32] = mac.finalize().into_bytes().into();
    let (salt, v) = out.split_at(16);
    srp::Verifier {
        salt: srp::canonical_salt(salt.try_into().unwrap_or([1; 16])),
        v: hex::encode(v),
    }
}

async fn challenge(
    at: &Attempt<'_>,
    user: &UserRecord,
    srp_a: &str,
    verifier: Option<srp::Verifier>,
    decoy: Option<&str>,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let verifier = verifier.unwrap_or_else(|| decoy_verifier(pool, &user.username));
    let hello = hello(env, &verifier.v).await?;
    let state = State {
        b: hex::encode(hello.b),
        big_b: hello.big_b.clone(),
        big_a: srp_a.to_string(),
        v: verifier.v.clone(),
        decoy: decoy.map(Into::into),
    };
    let session_id = session::start(
        env,
        pool,
        client,
        user,
        Step::PasswordVerifier,
        Some(serde_json::to_value(&state)?),
    )
    .await?;
    let mut parameters = Map::new();
    parameters.insert("SALT".into(), json!(verifier.salt));
    parameters.insert(
        "SRP_B".into(),
        json!(hello.big_b.trim_start_matches('0').to_string()),
    );
    parameters.insert(
        "SECRET_BLOCK".into(),
        json!(crate::codec::b64(session_id.as_bytes())),
    );
    parameters.insert("USER_ID_FOR_SRP".into(), json!(user.username));
    parameters.insert("USERNAME".into(), json!(user.username));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: Step::PasswordVerifier.challenge_name(),
        // Cognito sends no Session with PASSWORD_VERIFIER: SECRET_BLOCK carries it.
        session: String::new(),
        parameters,
    }))
}

pub(super) fn required<'a>(
    responses: &'a BTreeMap<String, String>,
    name: &str,
) -> Result<&'a str, Error> {
    responses
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::invalid_parameter(alloc::format!("Missing required parameter {name}"))
        })
}

/// The answer to PASSWORD_VERIFIER.
pub(super) async fn respond(
    at: &Attempt<'_>,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client, origin) = (at.env, at.pool, at.client, at.origin);
    let username = required(responses, "USERNAME")?;
    let block_b64 = required(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let claimed = required(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = required(responses, "TIMESTAMP")?;
    if srp::parse_timestamp(timestamp).is_none() {
        return Err(Error::invalid_parameter(
            "TIMESTAMP must be in the form 'ddd MMM d HH:mm:ss UTC yyyy' (e.g. 'Tue Feb 1 03:04:05 UTC 2022').",
        ));
    }
    let block = crate::codec::b64_decode(block_b64).unwrap_or_default();
    let session_id = String::from_utf8(block.clone()).unwrap_or_default();
    let (found, version) =
        session::find(env, pool, client, &session_id, Step::PasswordVerifier).await?;
    // Single use: the session is gone before anything is checked, so a b is never used twice.
    session::finish(env, pool, &session_id, version).await?;
    let state: State = serde_json::from_value(found.state.clone().unwrap_or(Value::Null))
        .map_err(|_| Error::internal("SRP session state"))?;
    let hello = ServerHello {
        b: hex::decode(&state.b)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::internal("SRP session state"))?,
        big_b: state.big_b.clone(),
    };
    if state.decoy.as_deref() == Some(UNKNOWN_USER) {
        at.proof.check(client, &[username])?;
        // The same work as a real answer; the result does not matter.
        let _ = env.srp().server_key(&state.big_a, &hello, &state.v).await;
        return Err(Error::bad_credentials());
    }
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    let now = env.clock().now_millis();
    if is_locked(&user, now) {
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let key = env
        .srp()
        .server_key(&state.big_a, &hello, &state.v)
        .await
        .map_err(srp_a_error)?;
    let expected = srp::signature(
        &key,
        srp::pool_name(&pool.id),
        &user.username,
        &block,
        timestamp,
    );
    let proved = srp::signature_matches(&expected, claimed);
    if let Some(why) = &state.decoy {
        events::record_why(env, pool, &user, client, "SignIn", false, origin, Some(why)).await?;
        return Err(Error::bad_credentials());
    }
    // A password changed between the two calls makes the old verifier's proof worthless.
    let current = user.srp_verifier.as_ref().is_some_and(|v| v.v == state.v);
    if !proved || !current {
        record_failure(env, pool, &user.username).await?;
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::bad_credentials());
    }
    // A proved password: as the password step; `admit` decides the rest.
    if super::may_go_on(&user, now)? && user.failed_sign_ins > 0 {
        reset_failures(env, pool, &user.username).await?;
    }
    admit(at, user).await
}

async fn reset_failures(env: &dyn Env, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    let outcome = user::modify(env, pool, username, |u| {
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(user::Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::TooManyRequests || e.kind == ErrorKind::UserNotFound => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// After a correct password (USER_PASSWORD_AUTH, the hosted UI): a user without a verifier
/// gets one, and where the pool stores none (`CognateSrp` DISABLED) a stored one is dropped.
/// Best effort: a concurrent password change wins.
pub(super) async fn sync_verifier(
    env: &dyn Env,
    pool: &PoolRecord,
    found: &UserRecord,
    password: &str,
) -> Result<(), Error> {
    let wanted = pool.srp_user(&found.username);
    if wanted.is_some() == found.srp_verifier.is_some() {
        return Ok(());
    }
    let verifier = match wanted {
        Some(who) => Some(crate::password::verifier(env, who, password).await),
        None => None,
    };
    let expected_hash = found.password_hash.clone();
    let outcome = user::modify(env, pool, &found.username, |u| {
        if u.password_hash != expected_hash {
            return Ok(user::Step::Keep(()));
        }
        u.srp_verifier = verifier.clone();
        Ok(user::Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::TooManyRequests || e.kind == ErrorKind::UserNotFound => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
