//! MFA operations: the pool's settings (SetUserPoolMfaConfig, GetUserPoolMfaConfig), software
//! tokens (AssociateSoftwareToken, VerifySoftwareToken, by access token or by an MFA_SETUP
//! session) and users' preferences (SetUserMFAPreference, AdminSetUserMFAPreference). The
//! sign-in challenges themselves are `crate::auth::mfa`'s.

use alloc::string::String;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, admin_target, input};
use crate::auth::mfa as auth_mfa;
use crate::error::Error;
use crate::pool::mfa::{self, MfaMethod, SetMfaConfig};
use crate::pool::{self, PoolRecord};
use crate::user::{self, mfa::Preferences};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUserPoolMfaConfig {
    user_pool_id: String,
    #[serde(flatten)]
    config: SetMfaConfig,
}

pub(super) async fn set_user_pool_mfa_config(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SetUserPoolMfaConfig = input(body)?;
    let record = pool::modify_pool(ctx.env, &req.user_pool_id, |record| {
        mfa::apply(record, &req.config)
    })
    .await?;
    Ok(mfa::to_wire(&record))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolId {
    user_pool_id: String,
}

pub(super) async fn get_user_pool_mfa_config(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PoolId = input(body)?;
    let (record, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    Ok(mfa::to_wire(&record))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenOrSession {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    session: Option<String>,
}

fn one_of(req: &TokenOrSession) -> Result<(), Error> {
    match (&req.access_token, &req.session) {
        (Some(_), Some(_)) => Err(Error::invalid_parameter(
            "Only one of AccessToken or Session may be given.",
        )),
        (None, None) => Err(Error::invalid_parameter(
            "AccessToken or Session is required.",
        )),
        _ => Ok(()),
    }
}

/// The pool and user an access token names, for the software-token operations.
async fn token_owner(
    ctx: &Ctx<'_>,
    access_token: &str,
) -> Result<(PoolRecord, user::UserRecord), Error> {
    let (pool, record, _, _) =
        crate::token::authorize_access_token(ctx.env, &ctx.config.base_url, access_token).await?;
    if !pool.offers_mfa(MfaMethod::SoftwareToken) {
        return Err(auth_mfa::token_mfa_not_found());
    }
    Ok((pool, record))
}

pub(super) async fn associate_software_token(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: TokenOrSession = input(body)?;
    one_of(&req)?;
    if let Some(session) = &req.session {
        let (secret, session) = auth_mfa::associate(ctx.env, session).await?;
        return Ok(json!({ "SecretCode": secret, "Session": session }));
    }
    let access_token = req.access_token.as_deref().unwrap_or_default();
    let (pool, record) = token_owner(ctx, access_token).await?;
    let secret = crate::totp::new_secret(ctx.env.random());
    user::modify(ctx.env, &pool, &record.username, |u| {
        u.mfa.pending_secret = Some(crate::Secret::new(secret.clone()));
        Ok(user::Step::Save(()))
    })
    .await?;
    Ok(json!({ "SecretCode": secret }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifySoftwareToken {
    #[serde(flatten)]
    who: TokenOrSession,
    user_code: String,
    #[serde(default)]
    friendly_device_name: Option<String>,
}

pub(super) async fn verify_software_token(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: VerifySoftwareToken = input(body)?;
    one_of(&req.who)?;
    if !req.user_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'userCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+",
        ));
    }
    let friendly = req.friendly_device_name.as_deref();
    if let Some(session) = &req.who.session {
        let session = auth_mfa::verify(ctx.env, session, &req.user_code, friendly).await?;
        return Ok(json!({ "Status": "SUCCESS", "Session": session }));
    }
    let access_token = req.who.access_token.as_deref().unwrap_or_default();
    let (pool, record) = token_owner(ctx, access_token).await?;
    auth_mfa::register_token(ctx.env, &pool, &record, &req.user_code, friendly).await?;
    Ok(json!({ "Status": "SUCCESS" }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUserMfaPreference {
    access_token: String,
    #[serde(flatten)]
    prefs: Preferences,
}

pub(super) async fn set_user_mfa_preference(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SetUserMfaPreference = input(body)?;
    let (pool, record, _, _) =
        crate::token::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token)
            .await?;
    set_preferences(ctx, &pool, &record.username, &req.prefs).await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminSetUserMfaPreference {
    user_pool_id: String,
    username: String,
    #[serde(flatten)]
    prefs: Preferences,
}

pub(super) async fn admin_set_user_mfa_preference(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminSetUserMfaPreference = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    set_preferences(ctx, &pool, &found.username, &req.prefs).await
}

async fn set_preferences(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    username: &str,
    prefs: &Preferences,
) -> Result<Value, Error> {
    user::modify(ctx.env, pool, username, |u| {
        user::mfa::apply_preferences(pool, u, prefs)?;
        Ok(user::Step::Save(()))
    })
    .await?;
    Ok(json!({}))
}

/// Adds the user's MFA members to a GetUser / AdminGetUser answer.
pub(super) fn add_user_members(out: &mut Value, record: &user::UserRecord) {
    for (name, value) in user::mfa::wire_members(record) {
        super::set(out, name, value);
    }
}
