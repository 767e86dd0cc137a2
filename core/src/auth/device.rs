//! DEVICE_SRP_AUTH: a remembered device proves itself ([`crate::device`]), with the SRP
//! exchange of USER_SRP_AUTH ([`crate::srp`]) over the device's verifier: x from
//! DeviceGroupKey ‖ DeviceKey ‖ ":" ‖ the device's secret, no pool name.
//!
//! After the first factor, a sign-in that names a confirmed device of the user (`DEVICE_KEY`)
//! gets the DEVICE_SRP_AUTH challenge ([`challenge`]); the client answers with `SRP_A`
//! ([`respond_srp_auth`]) and gets DEVICE_PASSWORD_VERIFIER (`SRP_B`, `SALT`, `SECRET_BLOCK`);
//! its signed answer ([`respond_password_verifier`]) proves the device. A remembered device in a
//! pool whose `ChallengeRequiredOnNewDevice` is on then skips MFA; any other goes on to MFA as
//! the pool asks. Each session is single-use, so a `b` is never used twice.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::srp::{required, srp_a_error};
use super::{Attempt, Authenticated, SignInOutcome, Step, events, session};
use crate::device::{self, DeviceRecord};
use crate::error::Error;
use crate::srp::{self, ServerHello};
use crate::user::UserRecord;

/// What the DEVICE_SRP_AUTH session keeps: the device it asked about.
#[derive(Serialize, Deserialize)]
struct Asked {
    device_key: String,
}

/// What the DEVICE_PASSWORD_VERIFIER session keeps between the two calls.
#[derive(Serialize, Deserialize)]
struct Exchange {
    device_key: String,
    /// The server's secret exponent (hex).
    b: String,
    big_b: String,
    big_a: String,
    /// The verifier B was computed from (hex).
    v: String,
}

fn hex_of_base64(text: &str) -> Result<String, Error> {
    crate::codec::b64_decode(text)
        .filter(|bytes| !bytes.is_empty())
        .map(hex::encode)
        .ok_or_else(|| Error::internal("stored device verifier"))
}

/// The confirmed device of `user` a sign-in names, if the pool tracks devices.
pub(super) async fn named(
    at: &Attempt<'_>,
    user: &UserRecord,
    device_key: Option<&str>,
) -> Result<Option<DeviceRecord>, Error> {
    let Some(key) = device_key.filter(|_| device::tracks_devices(at.pool)) else {
        return Ok(None);
    };
    Ok(device::load(at.env, at.pool, user, key)
        .await?
        .map(|(record, _)| record))
}

/// The DEVICE_SRP_AUTH session's name: pycognito answers DEVICE_SRP_AUTH without the
/// `Session`, so the server must find it from the user and the device alone. It exists only for
/// a few minutes after a proved first factor, is single-use, and is worth nothing without the
/// device's secret (the next step proves it).
fn asked_session(pool: &crate::pool::PoolRecord, username: &str, device_key: &str) -> String {
    alloc::format!(
        "device-srp.{}",
        crate::codec::sha256_hex(&[
            pool.normalize_username(username).as_bytes(),
            b"\0",
            device_key.as_bytes(),
        ])
    )
}

/// The DEVICE_SRP_AUTH challenge for a user whose first factor is proved, on `device`.
pub(super) async fn challenge(
    at: &Attempt<'_>,
    user: &UserRecord,
    device: &DeviceRecord,
) -> Result<Authenticated, Error> {
    let state = Asked {
        device_key: device.device_key.clone(),
    };
    let session = asked_session(at.pool, &user.username, &device.device_key);
    session::start_named(
        at.env,
        at.pool,
        at.client,
        user,
        Step::DeviceSrpAuth,
        Some(serde_json::to_value(&state)?),
        &session,
    )
    .await?;
    let mut parameters = Map::new();
    parameters.insert("USERNAME".into(), json!(user.username));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: Step::DeviceSrpAuth.challenge_name(),
        session,
        parameters,
    }))
}

/// The answer to DEVICE_SRP_AUTH (`USERNAME`, `DEVICE_KEY`, `SRP_A`): DEVICE_PASSWORD_VERIFIER.
pub(super) async fn respond_srp_auth(
    at: &Attempt<'_>,
    session_id: Option<&str>,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let username = required(responses, "USERNAME")?;
    let device_key = required(responses, "DEVICE_KEY")?;
    let srp_a = required(responses, "SRP_A")?;
    srp::check_a(srp_a).map_err(srp_a_error)?;
    let session_id = match session_id {
        Some(id) => id.to_string(),
        None => asked_session(pool, username, device_key),
    };
    let session_id = session_id.as_str();
    let (found, version) =
        session::find(env, pool, client, session_id, Step::DeviceSrpAuth).await?;
    let asked: Asked = serde_json::from_value(found.state.clone().unwrap_or(Value::Null))
        .map_err(|_| Error::internal("device session state"))?;
    if asked.device_key != device_key {
        return Err(Error::not_authorized("Invalid device key given."));
    }
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    session::finish(env, pool, session_id, version).await?;
    let Some((device, _)) = device::load(env, pool, &user, device_key).await? else {
        return Err(Error::resource_not_found("Device does not exist."));
    };
    let v = hex_of_base64(&device.verifier.verifier)?;
    let hello = super::srp::hello(env, &v).await?;
    let exchange = Exchange {
        device_key: device_key.to_string(),
        b: hex::encode(hello.b),
        big_b: hello.big_b.clone(),
        big_a: srp_a.to_string(),
        v,
    };
    let next = session::start(
        env,
        pool,
        client,
        &user,
        Step::DevicePasswordVerifier,
        Some(serde_json::to_value(&exchange)?),
    )
    .await?;
    let mut parameters = Map::new();
    parameters.insert(
        "SRP_B".into(),
        json!(hello.big_b.trim_start_matches('0').to_string()),
    );
    parameters.insert("SALT".into(), json!(hex_of_base64(&device.verifier.salt)?));
    parameters.insert(
        "SECRET_BLOCK".into(),
        json!(crate::codec::b64(next.as_bytes())),
    );
    parameters.insert("USERNAME".into(), json!(user.username));
    parameters.insert("DEVICE_KEY".into(), json!(device_key));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: Step::DevicePasswordVerifier.challenge_name(),
        session: next,
        parameters,
    }))
}

/// The answer to DEVICE_PASSWORD_VERIFIER: the device is proved, then MFA as the pool and the
/// device's remembered status say. Returns the user and the proved device key.
pub(super) async fn respond_password_verifier(
    at: &Attempt<'_>,
    session_id: &str,
    responses: &BTreeMap<String, String>,
) -> Result<(UserRecord, DeviceRecord), Error> {
    let (env, pool, client, origin) = (at.env, at.pool, at.client, at.origin);
    let username = required(responses, "USERNAME")?;
    let device_key = required(responses, "DEVICE_KEY")?;
    let block_b64 = required(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let claimed = required(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = required(responses, "TIMESTAMP")?;
    if srp::parse_timestamp(timestamp).is_none() {
        return Err(Error::invalid_parameter(
            "TIMESTAMP must be in the form 'ddd MMM d HH:mm:ss UTC yyyy' (e.g. 'Tue Feb 1 03:04:05 UTC 2022').",
        ));
    }
    let block = crate::codec::b64_decode(block_b64).unwrap_or_default();
    // The secret block names the session; a client that sends no Session still gets here.
    let session_id = if session_id.is_empty() {
        String::from_utf8(block.clone()).unwrap_or_default()
    } else {
        session_id.to_string()
    };
    let (found, version) =
        session::find(env, pool, client, &session_id, Step::DevicePasswordVerifier).await?;
    if block != session_id.as_bytes() {
        return Err(Error::not_authorized("Invalid session for the user."));
    }
    session::finish(env, pool, &session_id, version).await?;
    let exchange: Exchange = serde_json::from_value(found.state.clone().unwrap_or(Value::Null))
        .map_err(|_| Error::internal("device session state"))?;
    if exchange.device_key != device_key {
        return Err(Error::not_authorized("Invalid device key given."));
    }
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    let Some((device, _)) = device::load(env, pool, &user, device_key).await? else {
        return Err(Error::resource_not_found("Device does not exist."));
    };
    let hello = ServerHello {
        b: hex::decode(&exchange.b)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::internal("device session state"))?,
        big_b: exchange.big_b.clone(),
    };
    let key = env
        .srp()
        .server_key(&exchange.big_a, &hello, &exchange.v)
        .await
        .map_err(srp_a_error)?;
    let expected = srp::signature(&key, &device.group_key, device_key, &block, timestamp);
    // A verifier replaced between the two calls (ConfirmDevice again) voids the proof.
    let current = hex_of_base64(&device.verifier.verifier)? == exchange.v;
    if !srp::signature_matches(&expected, claimed) || !current {
        super::lockout::record_failure(env, pool, &user.username).await?;
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Incorrect username or password."));
    }
    device::touch(env, pool, &user, device_key, origin.ip_address.as_deref()).await?;
    Ok((user, device))
}
