//! USER_AUTH, choice-based sign-in: the user picks a first factor among those the pool allows
//! (`SignInPolicy.AllowedFirstAuthFactors`) and they can use.
//!
//! 1. InitiateAuth (`USERNAME`, optional `PREFERRED_CHALLENGE`) answers `SELECT_CHALLENGE`
//!    with `AvailableChallenges` and a single-use session, or goes straight to the preferred
//!    challenge when the user can use it (with `PASSWORD` or `SRP_A` in `AuthParameters`
//!    where it needs them).
//! 2. RespondToAuthChallenge `SELECT_CHALLENGE` (`USERNAME`, `ANSWER`, and `PASSWORD` or
//!    `SRP_A` where the answer needs them) uses the session up and starts the chosen factor:
//!    - `PASSWORD`: the password step ([`super::password`]), MFA as after any password;
//!    - `PASSWORD_SRP`: USER_SRP_AUTH's PASSWORD_VERIFIER ([`super::srp`]);
//!    - `EMAIL_OTP`, `SMS_OTP`: a code to the user's verified email address or phone number,
//!      through the delivery layer (flood control, the pool's MFA template, the `Sender` port),
//!      kept as a salted digest in a single-use session and checked by [`super::mfa`]'s code
//!      step (wrong codes count toward the lockout); a right code signs in without MFA;
//!    - `WEB_AUTHN`: a passkey ([`super::webauthn`]), without MFA.
//!
//! What a user can use: PASSWORD and PASSWORD_SRP (where the pool keeps SRP verifiers) with a
//! password; EMAIL_OTP with a verified `email`, SMS_OTP with a verified `phone_number` (and the
//! pool's `SmsConfiguration`), WEB_AUTHN with a registered passkey; the passwordless ones only
//! where MFA is not required (`MfaConfiguration` ON), since they end the sign-in without a
//! second factor.
//!
//! An unknown user under PreventUserExistenceErrors gets a SELECT_CHALLENGE that looks the same
//! (the pool's password factors); any answer to it is the wrong-password answer.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Attempt, Authenticated, SignInOutcome, Step, not_found_error, session};
use crate::error::Error;
use crate::pool::factors::FirstFactor;
use crate::pool::mfa::MfaMethod;
use crate::user::{self, UserRecord, UserStatus};

/// What InitiateAuth's `AuthParameters` (or the SELECT_CHALLENGE answer) carry for the
/// factor that needs them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given<'a> {
    pub password: Option<&'a str>,
    pub srp_a: Option<&'a str>,
}

/// What the SELECT_CHALLENGE session keeps.
#[derive(Serialize, Deserialize)]
struct State {
    available: Vec<String>,
    /// An unknown user's stand-in session: every answer fails.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    decoy: bool,
}

/// The challenges a user can answer first, in this order: PASSWORD, PASSWORD_SRP, EMAIL_OTP,
/// SMS_OTP, WEB_AUTHN.
pub async fn available(at: &Attempt<'_>, user: &UserRecord) -> Result<Vec<&'static str>, Error> {
    let pool = at.pool;
    let passwordless = pool.mfa_mode() != "ON";
    let mut out = Vec::new();
    for factor in pool.first_factors() {
        match factor {
            FirstFactor::Password => {
                if user.password_hash.is_some() {
                    out.push("PASSWORD");
                    if pool.allows_srp() {
                        out.push("PASSWORD_SRP");
                    }
                }
            }
            FirstFactor::EmailOtp => {
                if passwordless && user.attribute("email").is_some() && user.is_verified("email") {
                    out.push("EMAIL_OTP");
                }
            }
            FirstFactor::SmsOtp => {
                if passwordless
                    && pool.settings.sms_configuration.is_some()
                    && user.attribute("phone_number").is_some()
                    && user.is_verified("phone_number")
                {
                    out.push("SMS_OTP");
                }
            }
            FirstFactor::WebAuthn => {
                if passwordless && super::webauthn::has_credentials(at.env, pool, user).await? {
                    out.push("WEB_AUTHN");
                }
            }
        }
    }
    Ok(out)
}

/// The password factors a stand-in for an unknown user shows.
fn decoy_available(at: &Attempt<'_>) -> Vec<&'static str> {
    let mut out = alloc::vec!["PASSWORD"];
    if at.pool.allows_srp() {
        out.push("PASSWORD_SRP");
    }
    out
}

/// USER_AUTH's InitiateAuth.
pub(super) async fn start(
    at: &Attempt<'_>,
    login: &str,
    preferred: Option<&str>,
    given: Given<'_>,
) -> Result<Authenticated, Error> {
    let (env, pool, client, proof) = (at.env, at.pool, at.client, at.proof);
    if let Some(p) = preferred
        && !is_challenge_name(p)
    {
        return Err(Error::invalid_parameter(format!(
            "PREFERRED_CHALLENGE must be one of PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN; got {}.",
            p.chars().take(32).collect::<String>()
        )));
    }
    let Some((user, _)) = user::resolve(env, pool, login).await? else {
        proof.check(client, &[login])?;
        if !client.prevents_user_existence_errors() {
            return Err(not_found_error(client));
        }
        let stand_in = UserRecord::new(
            login.to_string(),
            String::new(),
            BTreeMap::new(),
            UserStatus::Confirmed,
            None,
            0,
        );
        let available = decoy_available(at);
        if let Some(p) = preferred
            && available.contains(&p)
        {
            // The same answer a known user with a wrong password gets.
            return go(at, stand_in, p, given, true).await;
        }
        return select(at, &stand_in, available, true).await;
    };
    proof.check(client, &[login, &user.username])?;
    let available = available(at, &user).await?;
    match preferred {
        Some(p) if available.contains(&p) => go(at, user, p, given, false).await,
        _ => select(at, &user, available, false).await,
    }
}

fn is_challenge_name(name: &str) -> bool {
    matches!(
        name,
        "PASSWORD" | "PASSWORD_SRP" | "EMAIL_OTP" | "SMS_OTP" | "WEB_AUTHN"
    )
}

/// SELECT_CHALLENGE.
async fn select(
    at: &Attempt<'_>,
    user: &UserRecord,
    available: Vec<&'static str>,
    decoy: bool,
) -> Result<Authenticated, Error> {
    if available.is_empty() {
        return Err(Error::not_authorized(
            "The user has no sign-in method this user pool allows.",
        ));
    }
    let state = State {
        available: available.iter().map(|s| s.to_string()).collect(),
        decoy,
    };
    let session = session::start(
        at.env,
        at.pool,
        at.client,
        user,
        Step::SelectChallenge,
        Some(serde_json::to_value(&state)?),
    )
    .await?;
    Ok(Authenticated::Challenge(SignInOutcome::Select {
        session,
        available,
    }))
}

fn needed<'a>(value: Option<&'a str>, name: &str, answer: &str) -> Result<&'a str, Error> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        Error::invalid_parameter(format!("Missing required parameter {name} for {answer}"))
    })
}

/// Starts the chosen first factor.
async fn go(
    at: &Attempt<'_>,
    user: UserRecord,
    answer: &str,
    given: Given<'_>,
    decoy: bool,
) -> Result<Authenticated, Error> {
    match answer {
        "PASSWORD" => {
            let password = needed(given.password, "PASSWORD", answer)?;
            if decoy {
                // The same work as a wrong password.
                let _ = at
                    .env
                    .passwords()
                    .verify(
                        password,
                        &at.pool.dummy_password_hash,
                        at.pool.hash_params(),
                    )
                    .await;
                return Err(Error::bad_credentials());
            }
            super::password::authenticate(at, &user.username, password).await
        }
        "PASSWORD_SRP" => {
            let srp_a = needed(given.srp_a, "SRP_A", answer)?;
            // Unknown users get USER_SRP_AUTH's own stand-in challenge.
            super::srp::start(at, &user.username, srp_a).await
        }
        "EMAIL_OTP" | "SMS_OTP" if !decoy => {
            let method = if answer == "EMAIL_OTP" {
                MfaMethod::Email
            } else {
                MfaMethod::Sms
            };
            let challenge = super::mfa::method_challenge(
                at.env,
                at.pool,
                at.client,
                &user,
                method,
                user.failed_sign_ins,
                true,
            )
            .await?;
            Ok(Authenticated::Challenge(challenge))
        }
        "WEB_AUTHN" if !decoy => super::webauthn::challenge(at, &user).await,
        _ => Err(Error::bad_credentials()),
    }
}

/// The answer to SELECT_CHALLENGE.
pub(super) async fn respond(
    at: &Attempt<'_>,
    session_value: &str,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let username = super::srp::required(responses, "USERNAME")?;
    let answer = super::srp::required(responses, "ANSWER")?;
    let (found, version) =
        session::find(env, pool, client, session_value, Step::SelectChallenge).await?;
    let state: State = serde_json::from_value(found.state.clone().unwrap_or(Value::Null))
        .map_err(|_| Error::internal("SELECT_CHALLENGE session state"))?;
    if !state.available.iter().any(|a| a == answer) {
        return Err(Error::invalid_parameter(format!(
            "Invalid ANSWER: {} is not one of the AvailableChallenges.",
            answer.chars().take(32).collect::<String>()
        )));
    }
    let given = Given {
        password: responses.get("PASSWORD").map(String::as_str),
        srp_a: responses.get("SRP_A").map(String::as_str),
    };
    // The answer's own parameters first, so a missing one leaves the session usable.
    match answer {
        "PASSWORD" => {
            needed(given.password, "PASSWORD", answer)?;
        }
        "PASSWORD_SRP" => {
            needed(given.srp_a, "SRP_A", answer)?;
        }
        _ => {}
    }
    session::finish(env, pool, session_value, version).await?;
    if state.decoy {
        at.proof.check(client, &[username])?;
        let stand_in = UserRecord::new(
            username.to_string(),
            String::new(),
            BTreeMap::new(),
            UserStatus::Confirmed,
            None,
            0,
        );
        return go(at, stand_in, answer, given, true).await;
    }
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    go(at, user, answer, given, false).await
}

/// GetUserAuthFactors' `ConfiguredUserAuthFactors`: the first factors the user has set up,
/// whatever the pool allows now (PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN).
pub async fn configured(
    env: &dyn crate::ports::Env,
    pool: &crate::pool::PoolRecord,
    user: &UserRecord,
) -> Result<Vec<&'static str>, Error> {
    let mut out = Vec::new();
    if user.password_hash.is_some() {
        out.push("PASSWORD");
    }
    if user.attribute("email").is_some() && user.is_verified("email") {
        out.push("EMAIL_OTP");
    }
    if user.attribute("phone_number").is_some() && user.is_verified("phone_number") {
        out.push("SMS_OTP");
    }
    if super::webauthn::has_credentials(env, pool, user).await? {
        out.push("WEB_AUTHN");
    }
    Ok(out)
}
