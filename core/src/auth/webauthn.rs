//! Passkeys (W3C WebAuthn Level 3): registration (StartWebAuthnRegistration,
//! CompleteWebAuthnRegistration), the user's list (ListWebAuthnCredentials,
//! DeleteWebAuthnCredential), and USER_AUTH's WEB_AUTHN first factor.
//!
//! The core decides and stores; the [`WebAuthnVerifier`] port parses CBOR, COSE and
//! attestation statements and checks signatures, with a maintained library (the host's:
//! webauthn-rs-core). What the core checks itself, before the port:
//! - the challenge: 32 random bytes, single use (its record is deleted before anything is
//!   verified), expiring (registration: 5 minutes; sign-in: the session's
//!   `AuthSessionValidity`); a registration challenge belongs to the client that started it;
//! - the client data (`clientDataJSON`, plain JSON): its `type`, its `challenge`, and its
//!   `origin`, which must be `https` on the relying party id or a subdomain of it (`http` on
//!   `localhost`): the verifier is then told to accept exactly that origin;
//! - the credential is bound to its user: a credential id has one owner in a pool
//!   (`keys::passkey_owner`, create-only), a sign-in only looks among the signing-in user's own
//!   passkeys, and a `userHandle` in the assertion must be the user's;
//! - the signature counter: once either side is non-zero, a counter that does not grow means a
//!   cloned authenticator, and the sign-in fails (the stored counter is moved on with
//!   compare-and-set, so two racing assertions with the same counter cannot both pass).
//!
//! Failures of a passkey sign-in count toward the lockout like a wrong password and answer
//! NotAuthorizedException (RespondToAuthChallenge has no WebAuthn exceptions); registration
//! answers Cognito's `WebAuthn*Exception`s.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::lockout::{is_locked, record_failure};
use super::{Attempt, Authenticated, SignInOutcome, Step, events, session};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::pool::factors::origin_allowed;
use crate::ports::{AssertionCheck, Env, RegistrationCheck, WebAuthnRefusal};
use crate::store::{Expect, StoreError, keys};
use crate::user::UserRecord;

/// Cognito's cap on a user's passkeys.
pub const MAX_PASSKEYS: usize = 20;
/// How long a registration challenge lives.
pub const REGISTRATION_TTL_MILLIS: u64 = 5 * 60 * 1000;
/// The `timeout` the options tell the browser (milliseconds).
const CEREMONY_TIMEOUT_MILLIS: u64 = 180_000;
/// COSE algorithm ids offered: ES256, RS256.
const ALGORITHMS: [i64; 2] = [-7, -257];

/// A stored passkey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Passkey {
    /// base64url, no padding.
    pub credential_id: String,
    pub sub: String,
    pub rp_id: String,
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub transports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    pub attestation_format: String,
    pub sign_count: u32,
    /// The verifier's record of the public key.
    pub key: String,
    pub created_millis: u64,
}

/// A registration in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingRegistration {
    challenge: String,
    client_id: String,
    rp_id: String,
    user_verification_required: bool,
    expires_millis: u64,
}

/// A WEB_AUTHN sign-in session's state.
#[derive(Serialize, Deserialize)]
struct SignInState {
    challenge: String,
    rp_id: String,
    user_verification_required: bool,
}

fn user_verification(required: bool) -> &'static str {
    if required { "required" } else { "preferred" }
}

fn not_enabled() -> Error {
    Error::new(
        ErrorKind::WebAuthnNotEnabled,
        "Passkeys are not enabled for this user pool: add WEB_AUTHN to its AllowedFirstAuthFactors.",
    )
}

/// Whether the user has a passkey.
pub async fn has_credentials(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
) -> Result<bool, Error> {
    let page = env
        .store()
        .scan(&keys::passkeys(&pool.id, &user.sub), None, 1)
        .await?;
    Ok(!page.items.is_empty())
}

/// The user's passkeys, oldest page first (at most [`MAX_PASSKEYS`] exist).
pub async fn list(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
) -> Result<Vec<(Passkey, u64)>, Error> {
    let page = env
        .store()
        .scan(&keys::passkeys(&pool.id, &user.sub), None, MAX_PASSKEYS + 1)
        .await?;
    let mut out = Vec::new();
    for (_, item) in page.items {
        out.push((serde_json::from_slice(&item.value)?, item.version));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ registration

/// StartWebAuthnRegistration: a single-use challenge for the user, and the options for
/// `navigator.credentials.create` (Cognito's `CredentialCreationOptions`).
pub async fn start_registration(
    env: &dyn Env,
    pool: &PoolRecord,
    client_id: &str,
    user: &UserRecord,
    rp_id: Option<String>,
) -> Result<Value, Error> {
    if !pool.allows_first(crate::pool::factors::FirstFactor::WebAuthn) {
        return Err(not_enabled());
    }
    let rp_id = rp_id.ok_or_else(|| {
        Error::new(
            ErrorKind::WebAuthnConfigurationMissing,
            "The user pool has no relying party id: set WebAuthnConfiguration.RelyingPartyId with SetUserPoolMfaConfig, or give the pool a domain.",
        )
    })?;
    let existing = list(env, pool, user).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "The user has the most passkeys a user can have.",
        ));
    }
    let mut challenge = [0u8; 32];
    env.random().fill(&mut challenge);
    let challenge = crate::codec::b64url(&challenge);
    let uv = pool.webauthn_requires_uv();
    let pending = PendingRegistration {
        challenge: challenge.clone(),
        client_id: client_id.to_string(),
        rp_id: rp_id.clone(),
        user_verification_required: uv,
        expires_millis: env.clock().now_millis() + REGISTRATION_TTL_MILLIS,
    };
    // A newer registration replaces an older one.
    env.store()
        .put(
            &keys::passkey_registration(&pool.id, &user.sub),
            &serde_json::to_vec(&pending)?,
            Expect::Any,
        )
        .await?;
    let exclude: Vec<Value> = existing.iter().map(|(p, _)| descriptor(p)).collect();
    Ok(json!({
        "challenge": challenge,
        "rp": {"id": rp_id, "name": rp_id},
        "user": {
            "id": crate::codec::b64url(user.sub.as_bytes()),
            "name": user.username,
            "displayName": user.username,
        },
        "pubKeyCredParams": ALGORITHMS
            .iter()
            .map(|alg| json!({"type": "public-key", "alg": alg}))
            .collect::<Vec<_>>(),
        "timeout": CEREMONY_TIMEOUT_MILLIS,
        "excludeCredentials": exclude,
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": user_verification(uv),
        },
        "attestation": "none",
        "extensions": {"credProps": true},
    }))
}

fn descriptor(p: &Passkey) -> Value {
    let mut d = Map::new();
    d.insert("type".into(), json!("public-key"));
    d.insert("id".into(), json!(p.credential_id));
    if !p.transports.is_empty() {
        d.insert("transports".into(), json!(p.transports));
    }
    Value::Object(d)
}

/// The parts of a browser's credential JSON the core reads itself.
struct ClientData {
    kind: String,
    challenge: String,
    origin: String,
}

fn client_data(credential: &Value) -> Option<ClientData> {
    let text = credential
        .get("response")?
        .get("clientDataJSON")?
        .as_str()?;
    let bytes = crate::codec::b64url_decode(text.trim_end_matches('='))?;
    let data: Value = serde_json::from_slice(&bytes).ok()?;
    Some(ClientData {
        kind: data.get("type")?.as_str()?.to_string(),
        challenge: data
            .get("challenge")?
            .as_str()?
            .trim_end_matches('=')
            .to_string(),
        origin: data.get("origin")?.as_str()?.to_string(),
    })
}

fn malformed(what: &str) -> Error {
    Error::new(
        ErrorKind::WebAuthnCredentialNotSupported,
        format!("The credential is not a valid {what}."),
    )
}

/// CompleteWebAuthnRegistration: verifies the browser's RegistrationResponseJSON against the
/// user's pending challenge and stores the passkey.
pub async fn complete_registration(
    env: &dyn Env,
    pool: &PoolRecord,
    client_id: &str,
    user: &UserRecord,
    credential: &Value,
) -> Result<(), Error> {
    if !pool.allows_first(crate::pool::factors::FirstFactor::WebAuthn) {
        return Err(not_enabled());
    }
    let not_found = || {
        Error::new(
            ErrorKind::WebAuthnChallengeNotFound,
            "No passkey registration is in progress for the user, or it has expired: call StartWebAuthnRegistration.",
        )
    };
    let key = keys::passkey_registration(&pool.id, &user.sub);
    let item = env.store().get(&key).await?.ok_or_else(not_found)?;
    let pending: PendingRegistration = serde_json::from_slice(&item.value)?;
    if pending.client_id != client_id {
        return Err(Error::new(
            ErrorKind::WebAuthnClientMismatch,
            "The access token is for another app client than the one that started the registration.",
        ));
    }
    // Single use: the challenge is gone before anything is verified.
    match env
        .store()
        .delete(&key, Expect::Version(item.version))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    if env.clock().now_millis() >= pending.expires_millis {
        return Err(not_found());
    }
    let data = client_data(credential).ok_or_else(|| malformed("RegistrationResponseJSON"))?;
    if data.kind != "webauthn.create" || data.challenge != pending.challenge {
        return Err(not_found());
    }
    if !origin_allowed(&data.origin, &pending.rp_id) {
        return Err(Error::new(
            ErrorKind::WebAuthnOriginNotAllowed,
            format!(
                "The origin {} does not belong to the relying party {}.",
                data.origin.chars().take(100).collect::<String>(),
                pending.rp_id
            ),
        ));
    }
    let check = RegistrationCheck {
        rp_id: pending.rp_id.clone(),
        origin: data.origin.clone(),
        challenge: crate::codec::b64url_decode(&pending.challenge).unwrap_or_default(),
        user_verification_required: pending.user_verification_required,
        response_json: serde_json::to_string(credential)?,
    };
    let verified = env
        .webauthn()
        .verify_registration(&check)
        .await
        .map_err(registration_error)?;
    let credential_id = crate::codec::b64url(&verified.credential_id);
    let transports = credential
        .get("response")
        .and_then(|r| r.get("transports"))
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .filter(|t| {
                    matches!(
                        *t,
                        "usb" | "nfc" | "ble" | "internal" | "hybrid" | "smart-card"
                    )
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let attachment = credential
        .get("authenticatorAttachment")
        .and_then(Value::as_str)
        .filter(|a| matches!(*a, "platform" | "cross-platform"))
        .map(str::to_string);
    // One owner per credential id in the pool.
    let owner = json!({"sub": user.sub});
    match env
        .store()
        .put(
            &keys::passkey_owner(&pool.id, &credential_id),
            &serde_json::to_vec(&owner)?,
            Expect::Absent,
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::invalid_parameter(
                "This passkey is already registered in the user pool.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let friendly_name = match attachment.as_deref() {
        Some("platform") => "Passkey on this device",
        Some("cross-platform") => "Security key",
        _ => "Passkey",
    };
    let passkey = Passkey {
        credential_id: credential_id.clone(),
        sub: user.sub.clone(),
        rp_id: pending.rp_id,
        friendly_name: friendly_name.to_string(),
        transports,
        authenticator_attachment: attachment,
        attestation_format: verified.attestation_format,
        sign_count: verified.sign_count,
        key: verified.key,
        created_millis: env.clock().now_millis(),
    };
    env.store()
        .put(
            &keys::passkey(&pool.id, &user.sub, &credential_id),
            &serde_json::to_vec(&passkey)?,
            Expect::Absent,
        )
        .await?;
    Ok(())
}

fn registration_error(refusal: WebAuthnRefusal) -> Error {
    match refusal {
        WebAuthnRefusal::RelyingParty => Error::new(
            ErrorKind::WebAuthnRelyingPartyMismatch,
            "The passkey was made for another relying party.",
        ),
        WebAuthnRefusal::Origin => Error::new(
            ErrorKind::WebAuthnOriginNotAllowed,
            "The credential's origin is not allowed.",
        ),
        WebAuthnRefusal::Challenge => Error::new(
            ErrorKind::WebAuthnChallengeNotFound,
            "The credential answers another challenge.",
        ),
        WebAuthnRefusal::Failed(why) | WebAuthnRefusal::Unsupported(why) => Error::new(
            ErrorKind::WebAuthnCredentialNotSupported,
            format!("The passkey cannot be used: {why}"),
        ),
    }
}

/// ListWebAuthnCredentials' `WebAuthnCredentialDescription`.
pub fn describe(p: &Passkey) -> Value {
    let mut d = Map::new();
    d.insert("CredentialId".into(), json!(p.credential_id));
    d.insert("FriendlyCredentialName".into(), json!(p.friendly_name));
    d.insert("RelyingPartyId".into(), json!(p.rp_id));
    if let Some(a) = &p.authenticator_attachment {
        d.insert("AuthenticatorAttachment".into(), json!(a));
    }
    d.insert("AuthenticatorTransports".into(), json!(p.transports));
    d.insert(
        "CreatedAt".into(),
        crate::pool::epoch_seconds(p.created_millis),
    );
    Value::Object(d)
}

/// DeleteWebAuthnCredential.
pub async fn delete(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    credential_id: &str,
) -> Result<(), Error> {
    let not_found =
        || Error::resource_not_found("The user has no passkey with this credential id.");
    let id = credential_id.trim_end_matches('=');
    if id.is_empty() || id.len() > 1400 || crate::codec::b64url_decode(id).is_none() {
        return Err(not_found());
    }
    let key = keys::passkey(&pool.id, &user.sub, id);
    let item = env.store().get(&key).await?.ok_or_else(not_found)?;
    match env
        .store()
        .delete(&key, Expect::Version(item.version))
        .await
    {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => return Err(e.into()),
    }
    match env
        .store()
        .delete(&keys::passkey_owner(&pool.id, id), Expect::Any)
        .await
    {
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------------------ sign-in

/// USER_AUTH's WEB_AUTHN challenge: `CREDENTIAL_REQUEST_OPTIONS` for
/// `navigator.credentials.get`, listing the user's passkeys of the pool's relying party.
pub(super) async fn challenge(at: &Attempt<'_>, user: &UserRecord) -> Result<Authenticated, Error> {
    let (env, pool, client) = (at.env, at.pool, at.client);
    let passkeys: Vec<Passkey> = list(env, pool, user)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let rp_id = match &pool.webauthn.relying_party_id {
        Some(rp) => rp.to_ascii_lowercase(),
        None => passkeys
            .first()
            .map(|p| p.rp_id.clone())
            .ok_or_else(|| Error::not_authorized("The user has no passkey."))?,
    };
    let allowed: Vec<Value> = passkeys
        .iter()
        .filter(|p| p.rp_id == rp_id)
        .map(descriptor)
        .collect();
    if allowed.is_empty() {
        return Err(Error::not_authorized(
            "The user has no passkey for this user pool's relying party.",
        ));
    }
    let mut challenge = [0u8; 32];
    env.random().fill(&mut challenge);
    let uv = pool.webauthn_requires_uv();
    let state = SignInState {
        challenge: crate::codec::b64url(&challenge),
        rp_id: rp_id.clone(),
        user_verification_required: uv,
    };
    let options = json!({
        "challenge": state.challenge,
        "timeout": CEREMONY_TIMEOUT_MILLIS,
        "rpId": rp_id,
        "allowCredentials": allowed,
        "userVerification": user_verification(uv),
    });
    let session = session::start(
        env,
        pool,
        client,
        user,
        Step::WebAuthn,
        Some(serde_json::to_value(&state)?),
    )
    .await?;
    let mut parameters = Map::new();
    parameters.insert(
        "CREDENTIAL_REQUEST_OPTIONS".into(),
        json!(serde_json::to_string(&options)?),
    );
    parameters.insert("USERNAME".into(), json!(user.username));
    Ok(Authenticated::Challenge(SignInOutcome::Challenge {
        name: Step::WebAuthn.challenge_name(),
        session,
        parameters,
    }))
}

/// The answer to WEB_AUTHN: `CREDENTIAL`, the browser's AuthenticationResponseJSON.
pub(super) async fn respond(
    at: &Attempt<'_>,
    session_value: &str,
    responses: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (env, pool, client, origin) = (at.env, at.pool, at.client, at.origin);
    let username = super::srp::required(responses, "USERNAME")?;
    let credential_text = super::srp::required(responses, "CREDENTIAL")?;
    let (found, version) = session::find(env, pool, client, session_value, Step::WebAuthn).await?;
    let user = session::user_of(env, pool, &found, username).await?;
    at.proof.check(client, &[username, &user.username])?;
    // Single use: the challenge is gone before anything is checked.
    session::finish(env, pool, session_value, version).await?;
    let now = env.clock().now_millis();
    if is_locked(&user, now) {
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let state: SignInState = serde_json::from_value(found.state.clone().unwrap_or(Value::Null))
        .map_err(|_| Error::internal("WEB_AUTHN session state"))?;
    match verify_assertion(at, &user, &state, credential_text).await {
        Ok(()) => {
            let user = if user.failed_sign_ins > 0 {
                crate::user::modify(env, pool, &user.username, |u| {
                    u.failed_sign_ins = 0;
                    u.locked_until_millis = 0;
                    Ok(crate::user::Step::Save(()))
                })
                .await?
                .0
            } else {
                user
            };
            super::admit_without_mfa(at, user).await
        }
        Err(why) => {
            record_failure(env, pool, &user.username).await?;
            events::record_why(
                env,
                pool,
                &user,
                client,
                "SignIn",
                false,
                origin,
                Some(&why),
            )
            .await?;
            Err(Error::not_authorized("Incorrect passkey."))
        }
    }
}

/// Verifies an assertion for one of the user's passkeys; the error says why (for the auth
/// event, not the client).
async fn verify_assertion(
    at: &Attempt<'_>,
    user: &UserRecord,
    state: &SignInState,
    credential_text: &str,
) -> Result<(), String> {
    let (env, pool) = (at.env, at.pool);
    let credential: Value =
        serde_json::from_str(credential_text).map_err(|_| "CREDENTIAL is not JSON".to_string())?;
    let id = credential
        .get("rawId")
        .or_else(|| credential.get("id"))
        .and_then(Value::as_str)
        .map(|s| s.trim_end_matches('=').to_string())
        .ok_or("the credential has no id")?;
    let raw_id = crate::codec::b64url_decode(&id).ok_or("the credential id is not base64url")?;
    let key = keys::passkey(&pool.id, &user.sub, &id);
    // Only the user's own passkeys: another user's credential id is simply not found here.
    let item = env
        .store()
        .get(&key)
        .await
        .map_err(|_| "store".to_string())?
        .ok_or("not a passkey of this user")?;
    let stored: Passkey =
        serde_json::from_slice(&item.value).map_err(|_| "stored passkey".to_string())?;
    if stored.rp_id != state.rp_id {
        return Err("a passkey of another relying party".into());
    }
    let data = client_data(&credential).ok_or("no valid clientDataJSON")?;
    if data.kind != "webauthn.get" {
        return Err("clientDataJSON type is not webauthn.get".into());
    }
    if data.challenge != state.challenge {
        return Err("the assertion answers another challenge".into());
    }
    if !origin_allowed(&data.origin, &state.rp_id) {
        return Err(format!(
            "origin {} not allowed",
            data.origin.chars().take(100).collect::<String>()
        ));
    }
    if let Some(handle) = credential
        .get("response")
        .and_then(|r| r.get("userHandle"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        && crate::codec::b64url_decode(handle.trim_end_matches('=')).as_deref()
            != Some(user.sub.as_bytes())
    {
        return Err("the userHandle is another user's".into());
    }
    let check = AssertionCheck {
        rp_id: state.rp_id.clone(),
        origin: data.origin,
        challenge: crate::codec::b64url_decode(&state.challenge).unwrap_or_default(),
        user_verification_required: state.user_verification_required,
        credential_id: raw_id,
        key: stored.key.clone(),
        response_json: credential_text.to_string(),
    };
    let verified = env
        .webauthn()
        .verify_assertion(&check)
        .await
        .map_err(|r| format!("{r:?}"))?;
    // The signature counter (WebAuthn L3 §7.2 step 22): a counter that does not grow means a
    // cloned authenticator.
    if (verified.sign_count > 0 || stored.sign_count > 0)
        && verified.sign_count <= stored.sign_count
    {
        return Err(format!(
            "signature counter {} not above the stored {}: possibly a cloned authenticator",
            verified.sign_count, stored.sign_count
        ));
    }
    if verified.sign_count != stored.sign_count {
        let mut updated = stored;
        updated.sign_count = verified.sign_count;
        let bytes = serde_json::to_vec(&updated).map_err(|_| "encode".to_string())?;
        match env
            .store()
            .put(&key, &bytes, Expect::Version(item.version))
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict) => return Err("a concurrent use of the passkey".into()),
            Err(_) => return Err("store".into()),
        }
    }
    Ok(())
}
