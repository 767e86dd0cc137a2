//! Sign-in, as one state machine.
//!
//! Every way in drives the same machine: the Cognito API (InitiateAuth and
//! RespondToAuthChallenge, and their Admin twins) and the hosted UI. A sign-in starts with a
//! flow ([`Begin`]); each step either proves the user or asks for a challenge, recorded in a
//! single-use [`session`] that names the [`Step`] that comes next; the client's answer goes to
//! [`respond`]. [`admit`] is the one place that decides what a proved user gets next (a
//! challenge their status demands, or tokens), and [`sign_in_outcome`] issues the API's tokens.
//!
//! One file per step: [`password`] (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, user
//! migration), [`srp`] (USER_SRP_AUTH's PASSWORD_VERIFIER), [`new_password`]
//! (NEW_PASSWORD_REQUIRED), [`custom_challenge`] (CUSTOM_AUTH), [`device`] (a remembered
//! device's DEVICE_SRP_AUTH), [`mfa`] (the second factor, which `admit` asks for). The
//! choice-based sign-in USER_AUTH ([`choice`]: SELECT_CHALLENGE, then a password, an SRP proof,
//! a one-time code by email or SMS, which [`mfa`]'s code steps check, or a passkey,
//! [`webauthn`]). Lockout ([`lockout`])
//! and auth events ([`events`]) belong to the machine too.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::token::{self, Grant, RefreshIssue, Session, Tokens};
use crate::trigger::TokenSource;
use crate::user::{UserRecord, UserStatus};

pub mod choice;
pub mod custom_challenge;
pub mod device;
pub mod events;
pub mod lockout;
pub mod mfa;
pub mod new_password;
pub mod password;
pub mod session;
pub mod srp;
pub mod webauthn;

pub use crate::pool::ClientProof;
pub use lockout::{LOCKOUT_THRESHOLD, MAX_LOCKOUT_MILLIS, record_failure};

/// The step a sign-in session waits on: the challenge its client answers next. Stored in the
/// session under Cognito's challenge name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// A user with a temporary password sets their own (and any missing required attributes).
    #[serde(rename = "NEW_PASSWORD_REQUIRED")]
    NewPassword,
    /// The pool's define/create/verify auth challenge plugins ask the questions.
    #[serde(rename = "CUSTOM_CHALLENGE")]
    CustomChallenge,
    /// USER_SRP_AUTH's proof: the client signs the secret block with the SRP key.
    #[serde(rename = "PASSWORD_VERIFIER")]
    PasswordVerifier,
    /// A remembered device is asked to prove itself ([`device`]): the client sends SRP_A.
    #[serde(rename = "DEVICE_SRP_AUTH")]
    DeviceSrpAuth,
    /// The device's proof: the client signs the secret block with the device's SRP key.
    #[serde(rename = "DEVICE_PASSWORD_VERIFIER")]
    DevicePasswordVerifier,
    /// MFA is required and the user has no method: set up a software token ([`mfa`]).
    #[serde(rename = "MFA_SETUP")]
    MfaSetup,
    /// The user chooses among their MFA methods.
    #[serde(rename = "SELECT_MFA_TYPE")]
    SelectMfaType,
    /// A TOTP code from the user's authenticator.
    #[serde(rename = "SOFTWARE_TOKEN_MFA")]
    SoftwareTokenMfa,
    /// A code sent by SMS.
    #[serde(rename = "SMS_MFA")]
    SmsMfa,
    /// A code sent by email (MFA, or USER_AUTH's first factor).
    #[serde(rename = "EMAIL_OTP")]
    EmailOtp,
    /// USER_AUTH: the user chooses a first factor among `AvailableChallenges` ([`choice`]).
    #[serde(rename = "SELECT_CHALLENGE")]
    SelectChallenge,
    /// USER_AUTH's first factor by SMS: a code sent by SMS.
    #[serde(rename = "SMS_OTP")]
    SmsOtp,
    /// USER_AUTH's passkey: the browser's assertion ([`webauthn`]).
    #[serde(rename = "WEB_AUTHN")]
    WebAuthn,
}

impl Step {
    const ALL: [Step; 13] = [
        Self::NewPassword,
        Self::CustomChallenge,
        Self::PasswordVerifier,
        Self::DeviceSrpAuth,
        Self::DevicePasswordVerifier,
        Self::MfaSetup,
        Self::SelectMfaType,
        Self::SoftwareTokenMfa,
        Self::SmsMfa,
        Self::EmailOtp,
        Self::SelectChallenge,
        Self::SmsOtp,
        Self::WebAuthn,
    ];

    /// Cognito's `ChallengeName` (the name the session stores, too).
    pub const fn challenge_name(self) -> &'static str {
        match self {
            Self::NewPassword => "NEW_PASSWORD_REQUIRED",
            Self::CustomChallenge => "CUSTOM_CHALLENGE",
            Self::PasswordVerifier => "PASSWORD_VERIFIER",
            Self::DeviceSrpAuth => "DEVICE_SRP_AUTH",
            Self::DevicePasswordVerifier => "DEVICE_PASSWORD_VERIFIER",
            Self::MfaSetup => "MFA_SETUP",
            Self::SelectMfaType => "SELECT_MFA_TYPE",
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            Self::SmsMfa => "SMS_MFA",
            Self::EmailOtp => "EMAIL_OTP",
            Self::SelectChallenge => "SELECT_CHALLENGE",
            Self::SmsOtp => "SMS_OTP",
            Self::WebAuthn => "WEB_AUTHN",
        }
    }

    /// The step a `ChallengeName` names, if this server runs it.
    pub fn from_challenge_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.challenge_name() == name)
    }
}

/// Challenge names in Cognito's model that this server does not run yet.
const NOT_YET: &[&str] = &["ADMIN_NO_SRP_AUTH"];

/// Challenge names that are answers to SELECT_CHALLENGE, not challenges of their own.
const ANSWERS_ONLY: &[&str] = &["PASSWORD", "PASSWORD_SRP"];

/// One sign-in attempt's context: who asks, through which client, from where.
#[allow(missing_debug_implementations)] // the ports are not Debug
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    pub env: &'a dyn Env,
    pub pool: &'a PoolRecord,
    pub client: &'a AppClient,
    pub origin: &'a Origin,
    /// How the client proves itself (the API: `SECRET_HASH`; the hosted UI: nothing more).
    pub proof: ClientProof<'a>,
    /// The remembered device the client says it is on (`DEVICE_KEY`), if any.
    pub device_key: Option<&'a str>,
}

/// How a sign-in begins.
#[derive(Debug, Clone)]
pub enum Begin<'a> {
    /// USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH (ADMIN_NO_SRP_AUTH).
    Password { login: &'a str, password: &'a str },
    /// USER_SRP_AUTH: the client's SRP_A; the PASSWORD_VERIFIER challenge follows.
    Srp { login: &'a str, srp_a: &'a str },
    /// CUSTOM_AUTH: the pool's auth challenge plugins decide.
    CustomAuth {
        login: &'a str,
        client_metadata: Value,
    },
    /// USER_AUTH: the user chooses a first factor (SELECT_CHALLENGE), or names it
    /// (`PREFERRED_CHALLENGE`, with `PASSWORD` or `SRP_A` where it needs them).
    UserAuth {
        login: &'a str,
        preferred: Option<&'a str>,
        password: Option<&'a str>,
        srp_a: Option<&'a str>,
    },
}

/// Starts a sign-in: the user is proved, or the first challenge is set.
pub async fn begin(at: &Attempt<'_>, how: Begin<'_>) -> Result<Authenticated, Error> {
    match how {
        Begin::Password { login, password } => password::authenticate(at, login, password).await,
        Begin::Srp { login, srp_a } => srp::start(at, login, srp_a).await,
        Begin::CustomAuth {
            login,
            client_metadata,
        } => custom_challenge::start(at, login, client_metadata).await,
        Begin::UserAuth {
            login,
            preferred,
            password,
            srp_a,
        } => {
            let given = choice::Given { password, srp_a };
            choice::start(at, login, preferred, given).await
        }
    }
}

/// Answers the step a session waits on (RespondToAuthChallenge): the user is proved, or the
/// next challenge is set. `responses` are Cognito's `ChallengeResponses`.
pub async fn respond(
    at: &Attempt<'_>,
    challenge_name: &str,
    session: Option<&str>,
    responses: &BTreeMap<String, String>,
    client_metadata: Value,
) -> Result<Authenticated, Error> {
    let step = match Step::from_challenge_name(challenge_name) {
        Some(step) => step,
        None if ANSWERS_ONLY.contains(&challenge_name) => {
            return Err(Error::invalid_parameter(format!(
                "{challenge_name} is chosen by answering SELECT_CHALLENGE (ANSWER {challenge_name}), or with PREFERRED_CHALLENGE in USER_AUTH."
            )));
        }
        None if NOT_YET.contains(&challenge_name) => {
            return Err(Error::invalid_parameter(format!(
                "The {challenge_name} challenge is not supported by this server yet."
            )));
        }
        None => {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'challengeName' failed to satisfy constraint: Member must satisfy enum value set",
                challenge_name.chars().take(64).collect::<String>()
            )));
        }
    };
    // PASSWORD_VERIFIER's state travels in its SECRET_BLOCK, not in a Session.
    if step == Step::PasswordVerifier {
        return srp::respond(at, responses).await;
    }
    // So may DEVICE_PASSWORD_VERIFIER's, and DEVICE_SRP_AUTH's session has a name the client
    // can recompute (amazon-cognito-identity-js sends the Session; pycognito does not).
    if session.is_none() {
        match step {
            Step::DeviceSrpAuth => return device::respond_srp_auth(at, None, responses).await,
            Step::DevicePasswordVerifier => {
                let (user, device) = device::respond_password_verifier(at, "", responses).await?;
                return after_device(at, user, &device).await;
            }
            _ => {}
        }
    }
    let session = session
        .ok_or_else(|| Error::invalid_parameter("Session is required for this challenge."))?;
    match step {
        Step::NewPassword => new_password::respond(at, session, responses).await,
        Step::CustomChallenge => custom_challenge::respond(at, session, responses, client_metadata)
            .await
            .map(|(next, _)| next),
        Step::PasswordVerifier => srp::respond(at, responses).await,
        Step::DeviceSrpAuth => device::respond_srp_auth(at, Some(session), responses).await,
        Step::DevicePasswordVerifier => {
            let (user, device) = device::respond_password_verifier(at, session, responses).await?;
            after_device(at, user, &device).await
        }
        Step::MfaSetup
        | Step::SelectMfaType
        | Step::SoftwareTokenMfa
        | Step::SmsMfa
        | Step::EmailOtp
        | Step::SmsOtp => mfa::respond(at, step, session, responses).await,
        Step::SelectChallenge => choice::respond(at, session, responses).await,
        Step::WebAuthn => webauthn::respond(at, session, responses).await,
    }
}

/// What a password sign-in produced.
#[derive(Debug)]
pub enum SignInOutcome {
    Tokens(Tokens),
    /// The user must answer a challenge first (`ChallengeName`, `Session`, `ChallengeParameters`).
    Challenge {
        name: &'static str,
        session: String,
        parameters: Map<String, Value>,
    },
    /// USER_AUTH's SELECT_CHALLENGE: the first factors the user may choose
    /// (`AvailableChallenges`).
    Select {
        session: String,
        available: alloc::vec::Vec<&'static str>,
    },
}

/// Where a sign-in came from, for auth events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// What a correct password led to, before any token is issued.
#[derive(Debug)]
pub enum Authenticated {
    /// A confirmed, enabled user: issue tokens (or, on the hosted UI, a session).
    User(UserRecord),
    /// A user who just replaced a temporary password (NEW_PASSWORD_REQUIRED): issue tokens,
    /// without the post authentication trigger, as Cognito does.
    NewPasswordSet(UserRecord),
    /// The user must answer a challenge first.
    Challenge(SignInOutcome),
}

/// The user's status decides what a sign-in that proved the user (a migrated user, a custom
/// challenge answered) leads to: a challenge their status demands, the device they named
/// proving itself, then the post authentication trigger.
pub(crate) async fn admit(at: &Attempt<'_>, user: UserRecord) -> Result<Authenticated, Error> {
    admit_with(at, user, true).await
}

/// [`admit`] after a passwordless first factor (a one-time code, a passkey): no MFA follows,
/// as in Cognito, whose passwordless factors are something the user has.
pub(crate) async fn admit_without_mfa(
    at: &Attempt<'_>,
    user: UserRecord,
) -> Result<Authenticated, Error> {
    admit_with(at, user, false).await
}

async fn admit_with(
    at: &Attempt<'_>,
    user: UserRecord,
    with_mfa: bool,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Confirmed => {}
        UserStatus::ResetRequired => {
            return Err(Error::new(
                ErrorKind::PasswordResetRequired,
                "Password reset required for the user",
            ));
        }
        UserStatus::Unconfirmed => {
            return Err(Error::new(
                ErrorKind::UserNotConfirmed,
                "User is not confirmed.",
            ));
        }
        UserStatus::ExternalProvider => {
            return Err(Error::bad_credentials());
        }
        UserStatus::ForceChangePassword => {
            return Ok(Authenticated::Challenge(
                new_password::challenge(env, pool, client, &user).await?,
            ));
        }
    }
    // A confirmed device of the user named by the client proves itself before anything else.
    if let Some(device) = device::named(at, &user, at.device_key).await? {
        return device::challenge(at, &user, &device).await;
    }
    // The second factor, if the pool and the user call for one (every first factor gets here).
    if with_mfa && let Some(challenge) = mfa::challenge(env, pool, client, &user).await? {
        return Ok(Authenticated::Challenge(challenge));
    }
    post_authentication(env, pool, client, user).await
}

/// After a proved password (or SRP proof): whether the user's status lets the sign-in go on, and
/// so resets the failure count. An expired temporary password cannot go on.
pub(crate) fn may_go_on(user: &UserRecord, now: u64) -> Result<bool, Error> {
    if !(user.enabled
        && matches!(
            user.status,
            UserStatus::Confirmed | UserStatus::ForceChangePassword
        ))
    {
        return Ok(false);
    }
    if user.status == UserStatus::ForceChangePassword
        && user
            .temporary_password_expires_millis
            .is_some_and(|expires| now >= expires)
    {
        return Err(Error::not_authorized(
            "Temporary password has expired and must be reset by an administrator.",
        ));
    }
    Ok(true)
}

/// After a device proved itself: a remembered device stands in for MFA where the pool says so
/// (`ChallengeRequiredOnNewDevice`); any other goes on as `admit` would.
async fn after_device(
    at: &Attempt<'_>,
    user: UserRecord,
    device: &crate::device::DeviceRecord,
) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let skips_mfa = device.remembered && crate::device::remembered_device_skips_mfa(pool);
    if !skips_mfa && let Some(challenge) = mfa::challenge(env, pool, client, &user).await? {
        return Ok(Authenticated::Challenge(challenge));
    }
    post_authentication(env, pool, client, user).await
}

/// A fully proved user: the post authentication trigger, then success.
pub(crate) async fn post_authentication(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: UserRecord,
) -> Result<Authenticated, Error> {
    crate::trigger::post_authentication(
        env,
        pool,
        &user,
        &client.client_id,
        Value::Object(Map::new()),
    )
    .await?;
    Ok(Authenticated::User(user))
}

/// The Cognito API's answer to a proved user: a new session with tokens; a challenge passes
/// through. (The hosted UI answers a proved user with a UI session and a code instead.)
/// `issuer` is the issuer of the pool's tokens.
pub async fn sign_in_outcome(
    at: &Attempt<'_>,
    issuer: &str,
    authenticated: Authenticated,
) -> Result<SignInOutcome, Error> {
    let (user, source) = match authenticated {
        Authenticated::User(user) => (user, TokenSource::Authentication),
        Authenticated::NewPasswordSet(user) => (user, TokenSource::NewPasswordChallenge),
        Authenticated::Challenge(challenge) => return Ok(challenge),
    };
    let (env, pool, client, user) = (at.env, at.pool, at.client, &user);
    // A new session for the signed-in user: its tokens and the successful auth event.
    let now = env.clock().now_millis();
    // A pool that tracks devices: the confirmed device the client named, or a new device key
    // offered to this one (`NewDeviceMetadata`).
    let known_device = device::named(at, user, at.device_key).await?;
    let new_device = match &known_device {
        None if crate::device::tracks_devices(pool) => {
            Some(crate::device::offer(env, pool, user).await?)
        }
        _ => None,
    };
    let session = Session {
        origin_jti: crate::ids::uuid_v4(env.random()),
        event_id: crate::ids::uuid_v4(env.random()),
        auth_time: now / 1000,
        device_key: match &known_device {
            Some(known) => Some(known.device_key.clone()),
            None => new_device.as_ref().map(|d| d.device_key.clone()),
        },
    };
    let (tokens, recorded) = futures_util::future::join(
        token::issue_tokens_for(
            env,
            issuer,
            pool,
            client,
            user,
            &session,
            RefreshIssue::NewSession,
            &Grant::default(),
            source,
        ),
        events::record(env, pool, user, client, "SignIn", true, at.origin),
    )
    .await;
    recorded?;
    let mut tokens = tokens?;
    tokens.new_device = new_device;
    Ok(SignInOutcome::Tokens(tokens))
}

/// What an unknown user gets: the same as a wrong password under PreventUserExistenceErrors.
pub(crate) fn not_found_error(client: &AppClient) -> Error {
    if client.prevents_user_existence_errors() {
        Error::bad_credentials()
    } else {
        Error::new(ErrorKind::UserNotFound, "User does not exist.")
    }
}
