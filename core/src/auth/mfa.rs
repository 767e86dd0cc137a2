//! Multi-factor authentication: the second factor after any first one (password, SRP, custom
//! auth), decided in [`challenge`], which `admit` calls for a confirmed user. A first factor
//! reaches MFA just by calling `admit`.
//!
//! Challenges, with Cognito's names and parameters:
//! - `MFA_SETUP` (`MFAS_CAN_SETUP`): MFA is ON and the user has no usable method. The client
//!   calls AssociateSoftwareToken and VerifySoftwareToken with the session ([`associate`],
//!   [`verify`]), then answers with the session VerifySoftwareToken returned.
//! - `SELECT_MFA_TYPE` (`MFAS_CAN_CHOOSE`; answer `ANSWER`): several usable methods, none
//!   preferred.
//! - `SOFTWARE_TOKEN_MFA` (`SOFTWARE_TOKEN_MFA_CODE`), `SMS_MFA` (`SMS_MFA_CODE`),
//!   `EMAIL_OTP` (`EMAIL_OTP_CODE`): the code. SMS and email codes are sent with the pool's MFA
//!   templates through the delivery layer (flood control counted first; custom message source
//!   `CustomMessage_Authentication`; custom senders), and kept only as a salted digest in the
//!   session.
//!
//! Which method: OFF pools never ask; OPTIONAL pools ask users who enabled a method the pool
//! offers; ON pools ask every user, with SMS to the phone number on file (or email to the
//! address on file) when the user enabled nothing, else `MFA_SETUP`. The preferred method wins;
//! one usable method is used; several give `SELECT_MFA_TYPE`.
//!
//! Wrong codes count toward the lockout (`super::lockout`) and leave the session usable for
//! another try until the account locks; a TOTP code is accepted once (its time step is
//! recorded); sessions expire with the client's `AuthSessionValidity` (3 minutes by default).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::lockout::{is_locked, record_failure_after};
use super::session::{self, ChallengeSession};
use super::{Attempt, Authenticated, SignInOutcome, Step, events};
use crate::code::{self, CodeCheck, CodePurpose, PendingCode};
use crate::error::{Error, ErrorKind};
use crate::pool::mfa::MfaMethod;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::{Env, Medium};
use crate::store::{Expect, StoreError, keys};
use crate::user::{self, UserRecord};

/// What an MFA session carries between calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MfaState {
    /// SMS_MFA / EMAIL_OTP: the code sent, as a salted digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<PendingCode>,
    /// SELECT_MFA_TYPE: the methods offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    can_choose: Vec<MfaMethod>,
    /// MFA_SETUP: the software token was verified with this session's predecessor.
    #[serde(default)]
    verified: bool,
    /// Failed sign-ins before the first factor succeeded (and reset the count): wrong codes
    /// count on from there.
    #[serde(default, skip_serializing_if = "is_zero")]
    failed_before: u32,
    /// The code is USER_AUTH's first factor (EMAIL_OTP, SMS_OTP), not a second one: a right
    /// code signs in without MFA.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    first_factor: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl MfaState {
    fn to_value(&self) -> Result<Option<Value>, Error> {
        Ok(Some(serde_json::to_value(self)?))
    }
    fn of(session: &ChallengeSession) -> MfaState {
        session
            .state
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

/// The step of a method's code challenge.
fn step_of(method: MfaMethod) -> Step {
    match method {
        MfaMethod::Sms => Step::SmsMfa,
        MfaMethod::SoftwareToken => Step::SoftwareTokenMfa,
        MfaMethod::Email => Step::EmailOtp,
    }
}

/// Whether the user has what `method` needs (a verified token, a phone number, an email).
fn has_means(user: &UserRecord, method: MfaMethod) -> bool {
    match method {
        MfaMethod::SoftwareToken => user.mfa.software_token.is_some(),
        MfaMethod::Sms => user.attribute("phone_number").is_some(),
        MfaMethod::Email => user.attribute("email").is_some(),
    }
}

/// The methods a user can be challenged with: enabled by the user, offered by the pool.
pub fn usable(pool: &PoolRecord, user: &UserRecord) -> Vec<MfaMethod> {
    MfaMethod::ALL
        .into_iter()
        .filter(|m| user.mfa.is_enabled(*m) && pool.offers_mfa(*m) && has_means(user, *m))
        .collect()
}

/// The second factor a proved, confirmed user must give, if any: the first MFA challenge.
pub(super) async fn challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
) -> Result<Option<SignInOutcome>, Error> {
    let mode = pool.mfa_mode();
    if mode == "OFF" {
        return Ok(None);
    }
    let mut methods = usable(pool, user);
    if methods.is_empty() {
        if mode != "ON" {
            return Ok(None);
        }
        // MFA is required and the user enabled nothing: a code to the phone number (or email
        // address) on file, else set-up of a software token.
        if let Some(m) = [MfaMethod::Sms, MfaMethod::Email]
            .into_iter()
            .find(|m| pool.offers_mfa(*m) && has_means(user, *m))
        {
            methods.push(m);
        } else {
            return setup_challenge(env, pool, client, user).await.map(Some);
        }
    }
    let chosen = match user.mfa.preferred.filter(|p| methods.contains(p)) {
        Some(p) => p,
        None => match methods.as_slice() {
            [only] => *only,
            _ => {
                return select_challenge(env, pool, client, user, methods)
                    .await
                    .map(Some);
            }
        },
    };
    method_challenge(env, pool, client, user, chosen, user.failed_sign_ins, false)
        .await
        .map(Some)
}

/// `MFA_SETUP`: what the user can set up now.
async fn setup_challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
) -> Result<SignInOutcome, Error> {
    let can_setup: Vec<&str> = if pool.offers_mfa(MfaMethod::SoftwareToken) {
        alloc::vec![MfaMethod::SoftwareToken.name()]
    } else {
        pool.mfa_methods()
            .into_iter()
            .map(MfaMethod::name)
            .collect()
    };
    let state = MfaState {
        failed_before: user.failed_sign_ins,
        ..MfaState::default()
    };
    let raw = session::start(env, pool, client, user, Step::MfaSetup, state.to_value()?).await?;
    let mut parameters = Map::new();
    parameters.insert(
        "MFAS_CAN_SETUP".into(),
        json!(serde_json::to_string(&can_setup)?),
    );
    Ok(SignInOutcome::Challenge {
        name: Step::MfaSetup.challenge_name(),
        session: setup_session(pool, &raw),
        parameters,
    })
}

/// `SELECT_MFA_TYPE`.
async fn select_challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    methods: Vec<MfaMethod>,
) -> Result<SignInOutcome, Error> {
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let state = MfaState {
        can_choose: methods,
        failed_before: user.failed_sign_ins,
        ..MfaState::default()
    };
    let session = session::start(
        env,
        pool,
        client,
        user,
        Step::SelectMfaType,
        state.to_value()?,
    )
    .await?;
    let mut parameters = Map::new();
    parameters.insert(
        "MFAS_CAN_CHOOSE".into(),
        json!(serde_json::to_string(&names)?),
    );
    Ok(SignInOutcome::Challenge {
        name: Step::SelectMfaType.challenge_name(),
        session,
        parameters,
    })
}

/// The code challenge of `method`: for SMS and email, a code is sent now. `first_factor`: the
/// code is USER_AUTH's first factor (SMS_OTP, EMAIL_OTP; [`super::choice`]).
pub(super) async fn method_challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    method: MfaMethod,
    failed_before: u32,
    first_factor: bool,
) -> Result<SignInOutcome, Error> {
    let step = match method {
        MfaMethod::Sms if first_factor => Step::SmsOtp,
        _ => step_of(method),
    };
    let mut parameters = Map::new();
    let (attribute, medium, medium_name) = match method {
        MfaMethod::SoftwareToken => {
            if let Some(name) = user
                .mfa
                .software_token
                .as_ref()
                .and_then(|t| t.friendly_name.clone())
            {
                parameters.insert("FRIENDLY_DEVICE_NAME".into(), json!(name));
            }
            let state = MfaState {
                failed_before,
                ..MfaState::default()
            };
            let session = session::start(env, pool, client, user, step, state.to_value()?).await?;
            return Ok(SignInOutcome::Challenge {
                name: step.challenge_name(),
                session,
                parameters,
            });
        }
        MfaMethod::Sms => ("phone_number", Medium::Sms, "SMS"),
        MfaMethod::Email => ("email", Medium::Email, "EMAIL"),
    };
    let destination = user
        .attribute(attribute)
        .ok_or_else(|| Error::invalid_parameter(format!("The user has no {attribute}.")))?
        .to_string();
    // Flood control first, so a refused message leaves nothing behind.
    crate::delivery::check_rate(env, &pool.id, &destination).await?;
    let now = env.clock().now_millis();
    let (secret, pending) = code::issue(
        env.random(),
        CodePurpose::Authentication,
        Some(attribute.to_string()),
        now,
        CodePurpose::Authentication.ttl_millis(),
    );
    let state = MfaState {
        code: Some(pending),
        failed_before,
        first_factor,
        ..MfaState::default()
    };
    let session = session::start(env, pool, client, user, step, state.to_value()?).await?;
    let (subject, template) = pool.mfa_template(method);
    let message = crate::delivery::compose(
        pool,
        &user.username,
        medium,
        &destination,
        "Authentication",
        subject,
        &template,
        secret,
    );
    crate::trigger::deliver(
        env,
        pool,
        user,
        message,
        crate::trigger::MessageSource::Authentication,
        Some(&client.client_id),
    )
    .await?;
    parameters.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), json!(medium_name));
    parameters.insert(
        "CODE_DELIVERY_DESTINATION".into(),
        json!(user::mask_destination(&destination)),
    );
    Ok(SignInOutcome::Challenge {
        name: step.challenge_name(),
        session,
        parameters,
    })
}

/// MFA_SETUP sessions leave through AssociateSoftwareToken and VerifySoftwareToken, which name
/// no client or pool: the session the client sees carries its pool id.
fn setup_session(pool: &PoolRecord, raw: &str) -> String {
    format!("{}.{raw}", pool.id)
}

fn split_setup_session(session: &str) -> Option<(&str, &str)> {
    session
        .split_once('.')
        .filter(|(pool, _)| crate::ids::is_pool_id(pool))
}

fn invalid_session() -> Error {
    Error::not_authorized("Invalid session for the user.")
}

fn mismatch() -> Error {
    Error::new(ErrorKind::CodeMismatch, "Invalid code received for user")
}

fn required<'a>(responses: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, Error> {
    responses
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {name}")))
}

/// Answers an MFA step.
pub(super) async fn respond(
    at: &Attempt<'_>,
    step: Step,
    session_value: &str,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let username = required(responses, "USERNAME")?;
    let raw = if step == Step::MfaSetup {
        match split_setup_session(session_value) {
            Some((pool_id, raw)) if pool_id == pool.id => raw,
            _ => return Err(invalid_session()),
        }
    } else {
        session_value
    };
    let (found, version) = session::find(env, pool, client, raw, step).await?;
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    let now = env.clock().now_millis();
    if is_locked(&user, now) {
        events::record(env, pool, &user, client, "SignIn", false, at.origin).await?;
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let state = MfaState::of(&found);
    match step {
        Step::SelectMfaType => {
            let answer = required(responses, "ANSWER")?;
            let method = MfaMethod::from_name(answer)
                .filter(|m| state.can_choose.contains(m))
                .ok_or_else(|| {
                    Error::invalid_parameter(format!(
                        "Invalid ANSWER: {} is not one of the MFA types offered.",
                        answer.chars().take(32).collect::<String>()
                    ))
                })?;
            session::finish(env, pool, raw, version).await?;
            let next =
                method_challenge(env, pool, client, &user, method, state.failed_before, false)
                    .await?;
            Ok(Authenticated::Challenge(next))
        }
        Step::MfaSetup => {
            if !state.verified || user.mfa.software_token.is_none() {
                return Err(invalid_session());
            }
            session::finish(env, pool, raw, version).await?;
            let (user, ()) = user::modify(env, pool, &user.username, |u| {
                u.mfa.enable_token_preferred();
                Ok(user::Step::Save(()))
            })
            .await?;
            complete(at, user).await
        }
        Step::SoftwareTokenMfa => {
            let code = required(responses, "SOFTWARE_TOKEN_MFA_CODE")?;
            let token = user
                .mfa
                .software_token
                .clone()
                .ok_or_else(invalid_session)?;
            let key = crate::totp::decode_secret(token.secret.expose())
                .ok_or_else(|| Error::internal("stored TOTP secret is not base32"))?;
            let Some(matched) = crate::totp::verify(&key, code, now / 1000, token.last_step) else {
                return Err(wrong_code(at, &user, state.failed_before).await);
            };
            // Record the step: a concurrent answer with the same code loses the race.
            let outcome = user::modify(env, pool, &user.username, |u| {
                match u.mfa.software_token.as_mut() {
                    Some(t) if t.last_step.is_none_or(|last| matched > last) => {
                        t.last_step = Some(matched);
                        Ok(user::Step::Save(true))
                    }
                    _ => Ok(user::Step::Keep(false)),
                }
            })
            .await?;
            let (user, accepted) = outcome;
            if !accepted {
                return Err(wrong_code(at, &user, state.failed_before).await);
            }
            session::finish(env, pool, raw, version).await?;
            complete(at, user).await
        }
        Step::SmsMfa | Step::EmailOtp | Step::SmsOtp => {
            let field = match step {
                Step::SmsMfa => "SMS_MFA_CODE",
                Step::SmsOtp => "SMS_OTP_CODE",
                _ => "EMAIL_OTP_CODE",
            };
            let given = required(responses, field)?;
            let mut pending = state.code.clone().ok_or_else(invalid_session)?;
            match code::check(&pending, CodePurpose::Authentication, given, now)? {
                CodeCheck::Correct => {
                    session::finish(env, pool, raw, version).await?;
                    if state.first_factor {
                        // A one-time code as the first factor: no second one (Cognito's
                        // passwordless sign-in), the user's status still decides.
                        let user = reset_failures(at, user).await?;
                        return super::admit_without_mfa(at, user).await;
                    }
                    complete(at, user).await
                }
                CodeCheck::Wrong => {
                    // Count the attempt on the session (compare-and-set), then on the user.
                    pending.failed_attempts = pending.failed_attempts.saturating_add(1);
                    let mut record = found.clone();
                    record.state = MfaState {
                        code: Some(pending),
                        ..state
                    }
                    .to_value()?;
                    match env
                        .store()
                        .put(
                            &keys::auth_session(&pool.id, raw),
                            &serde_json::to_vec(&record)?,
                            Expect::Version(version),
                        )
                        .await
                    {
                        Ok(_) => {}
                        Err(StoreError::Conflict) => return Err(invalid_session()),
                        Err(e) => return Err(e.into()),
                    }
                    Err(wrong_code(at, &user, state.failed_before).await)
                }
            }
        }
        _ => Err(invalid_session()),
    }
}

/// A wrong code: counted toward the lockout and recorded as a failed sign-in.
async fn wrong_code(at: &Attempt<'_>, user: &UserRecord, failed_before: u32) -> Error {
    let counted = record_failure_after(at.env, at.pool, &user.username, failed_before).await;
    let recorded =
        events::record(at.env, at.pool, user, at.client, "SignIn", false, at.origin).await;
    match counted.and(recorded) {
        Ok(()) => mismatch(),
        Err(e) => e,
    }
}

/// The second factor is given: the failure count resets, then the post authentication trigger
/// runs (Cognito runs it after MFA) and the user is signed in.
async fn complete(at: &Attempt<'_>, user: UserRecord) -> Result<Authenticated, Error> {
    let user = reset_failures(at, user).await?;
    super::post_authentication(at.env, at.pool, at.client, user).await
}

/// A right code resets the failure count.
async fn reset_failures(at: &Attempt<'_>, user: UserRecord) -> Result<UserRecord, Error> {
    if user.failed_sign_ins == 0 {
        return Ok(user);
    }
    Ok(user::modify(at.env, at.pool, &user.username, |u| {
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(user::Step::Save(()))
    })
    .await?
    .0)
}

// ------------------------------------------------ software-token set-up during sign-in

/// A live MFA_SETUP session named by its `Session` value, with the pool and client it belongs
/// to (AssociateSoftwareToken and VerifySoftwareToken name neither).
async fn setup_context(
    env: &dyn Env,
    session_value: &str,
) -> Result<(PoolRecord, AppClient, ChallengeSession, u64, String), Error> {
    let (pool_id, raw) = split_setup_session(session_value).ok_or_else(invalid_session)?;
    let (pool, _) = crate::pool::load_pool(env, pool_id)
        .await
        .map_err(|_| invalid_session())?;
    let item = env
        .store()
        .get(&keys::auth_session(&pool.id, raw))
        .await?
        .ok_or_else(invalid_session)?;
    let record: ChallengeSession = serde_json::from_slice(&item.value)?;
    let (client, _) = crate::pool::load_pool_client(env, &pool.id, &record.client_id)
        .await
        .map_err(|_| invalid_session())?;
    let (found, version) = session::find(env, &pool, &client, raw, Step::MfaSetup).await?;
    Ok((pool, client, found, version, raw.to_string()))
}

/// The user of an MFA_SETUP session.
async fn setup_user(
    env: &dyn Env,
    pool: &PoolRecord,
    found: &ChallengeSession,
) -> Result<UserRecord, Error> {
    let (record, _) = user::load(env, pool, &found.username_key)
        .await?
        .ok_or_else(invalid_session)?;
    if record.sub != found.sub {
        return Err(invalid_session());
    }
    Ok(record)
}

/// AssociateSoftwareToken with a `Session`: a new secret for the session's user; answers the
/// secret and the next session.
pub async fn associate(env: &dyn Env, session_value: &str) -> Result<(String, String), Error> {
    let (pool, client, found, version, raw) = setup_context(env, session_value).await?;
    if !pool.offers_mfa(MfaMethod::SoftwareToken) {
        return Err(token_mfa_not_found());
    }
    let user = setup_user(env, &pool, &found).await?;
    let secret = crate::totp::new_secret(env.random());
    let (user, ()) = user::modify(env, &pool, &user.username, |u| {
        u.mfa.pending_secret = Some(crate::Secret::new(secret.clone()));
        Ok(user::Step::Save(()))
    })
    .await?;
    session::finish(env, &pool, &raw, version).await?;
    let state = MfaState {
        failed_before: MfaState::of(&found).failed_before,
        ..MfaState::default()
    };
    let next = session::start(
        env,
        &pool,
        &client,
        &user,
        Step::MfaSetup,
        state.to_value()?,
    )
    .await?;
    Ok((secret, setup_session(&pool, &next)))
}

/// VerifySoftwareToken with a `Session`: checks the code against the associated secret,
/// registers the token, and answers the session MFA_SETUP is answered with.
pub async fn verify(
    env: &dyn Env,
    session_value: &str,
    user_code: &str,
    friendly_name: Option<&str>,
) -> Result<String, Error> {
    let (pool, client, found, version, raw) = setup_context(env, session_value).await?;
    if !pool.offers_mfa(MfaMethod::SoftwareToken) {
        return Err(token_mfa_not_found());
    }
    let user = setup_user(env, &pool, &found).await?;
    let user = register_token(env, &pool, &user, user_code, friendly_name).await?;
    session::finish(env, &pool, &raw, version).await?;
    let state = MfaState {
        verified: true,
        failed_before: MfaState::of(&found).failed_before,
        ..MfaState::default()
    };
    let next = session::start(
        env,
        &pool,
        &client,
        &user,
        Step::MfaSetup,
        state.to_value()?,
    )
    .await?;
    Ok(setup_session(&pool, &next))
}

/// SoftwareTokenMFANotFoundException: the pool does not offer software tokens.
pub fn token_mfa_not_found() -> Error {
    Error::new(
        ErrorKind::SoftwareTokenMfaNotFound,
        "Software Token MFA has not been enabled by the userPool.",
    )
}

/// Checks a code against the user's associated (pending) secret and registers the token; the
/// code's time step is recorded, so it cannot sign in as well. A wrong code is Cognito's
/// `EnableSoftwareTokenMFAException`.
pub async fn register_token(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    user_code: &str,
    friendly_name: Option<&str>,
) -> Result<UserRecord, Error> {
    let secret = user.mfa.pending_secret.clone().ok_or_else(|| {
        Error::invalid_parameter(
            "No software token is associated with the user: call AssociateSoftwareToken first.",
        )
    })?;
    let key = crate::totp::decode_secret(secret.expose())
        .ok_or_else(|| Error::internal("stored TOTP secret is not base32"))?;
    let now = env.clock().now_millis() / 1000;
    let Some(step) = crate::totp::verify(&key, user_code, now, None) else {
        return Err(Error::new(
            ErrorKind::EnableSoftwareTokenMfa,
            "Code mismatch and fail enable Software Token MFA",
        ));
    };
    let expected = secret.expose().to_string();
    let friendly = friendly_name.map(str::to_string);
    let (record, ()) = user::modify(env, pool, &user.username, |u| {
        if u.mfa.pending_secret.as_ref().map(crate::Secret::expose) != Some(expected.as_str()) {
            return Err(Error::new(
                ErrorKind::EnableSoftwareTokenMfa,
                "Code mismatch and fail enable Software Token MFA",
            ));
        }
        u.mfa.register_token(crate::user::mfa::SoftwareToken {
            secret: crate::Secret::new(expected.clone()),
            friendly_name: friendly.clone(),
            last_step: Some(step),
        });
        Ok(user::Step::Save(()))
    })
    .await?;
    Ok(record)
}

#[cfg(test)]
mod tests;
