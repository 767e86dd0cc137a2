//! Passkeys and sign-in factors of the signed-in user (authorised by the access token):
//! StartWebAuthnRegistration, CompleteWebAuthnRegistration, ListWebAuthnCredentials,
//! DeleteWebAuthnCredential, GetUserAuthFactors. The passkeys themselves are
//! `crate::auth::webauthn`'s.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Ctx, decode_token, encode_token, input};
use crate::auth::webauthn;
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::token;
use crate::user::UserRecord;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PasskeyRequest {
    access_token: String,
    #[serde(default)]
    credential: Option<Value>,
    #[serde(default)]
    credential_id: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
}

/// The access token's pool, user and client.
async fn whose(ctx: &Ctx<'_>, token: &str) -> Result<(PoolRecord, UserRecord, String), Error> {
    let (pool, user, _, claims) =
        token::authorize_access_token(ctx.env, &ctx.config.base_url, token).await?;
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .into();
    Ok((pool, user, client_id))
}

pub(super) async fn start_registration(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PasskeyRequest = input(body)?;
    let (pool, user, client_id) = whose(ctx, &req.access_token).await?;
    let (prefix, custom) = crate::oidc::domain::pool_domains(ctx.env, &pool.id).await?;
    let rp_id = crate::pool::factors::relying_party_id(
        &pool,
        prefix.as_deref(),
        custom.as_deref(),
        &ctx.config.base_url,
    );
    let options = webauthn::start_registration(ctx.env, &pool, &client_id, &user, rp_id).await?;
    Ok(json!({ "CredentialCreationOptions": options }))
}

pub(super) async fn complete_registration(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PasskeyRequest = input(body)?;
    let (pool, user, client_id) = whose(ctx, &req.access_token).await?;
    let credential = req.credential.filter(Value::is_object).ok_or_else(|| {
        Error::invalid_parameter("Credential must be a RegistrationResponseJSON object.")
    })?;
    webauthn::complete_registration(ctx.env, &pool, &client_id, &user, &credential).await?;
    Ok(json!({}))
}

pub(super) async fn list_credentials(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PasskeyRequest = input(body)?;
    let (pool, user, _) = whose(ctx, &req.access_token).await?;
    let limit = req.max_results.unwrap_or(20);
    if !(0..=20).contains(&limit) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20",
        ));
    }
    let prefix = crate::store::keys::passkeys(&pool.id, &user.sub);
    let after = decode_token(req.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), limit.max(1) as usize)
        .await?;
    let mut credentials = Vec::new();
    for (_, item) in &page.items {
        let passkey: webauthn::Passkey = serde_json::from_slice(&item.value)?;
        credentials.push(webauthn::describe(&passkey));
    }
    let mut out = Map::new();
    out.insert("Credentials".into(), json!(credentials));
    if let Some(next) = page.next {
        out.insert("NextToken".into(), json!(encode_token(&next)));
    }
    Ok(Value::Object(out))
}

pub(super) async fn delete_credential(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PasskeyRequest = input(body)?;
    let (pool, user, _) = whose(ctx, &req.access_token).await?;
    let id = req
        .credential_id
        .ok_or_else(|| Error::invalid_parameter("CredentialId is required."))?;
    webauthn::delete(ctx.env, &pool, &user, &id).await?;
    Ok(json!({}))
}

pub(super) async fn get_user_auth_factors(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PasskeyRequest = input(body)?;
    let (pool, user, _) = whose(ctx, &req.access_token).await?;
    let mut out = Map::new();
    out.insert("Username".into(), json!(user.username));
    for (name, value) in crate::user::mfa::wire_members(&user) {
        if name != "MFAOptions" {
            out.insert(name.into(), value);
        }
    }
    let factors = crate::auth::choice::configured(ctx.env, &pool, &user).await?;
    out.insert("ConfiguredUserAuthFactors".into(), json!(factors));
    Ok(Value::Object(out))
}
