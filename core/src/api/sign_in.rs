//! Sign-in operations: InitiateAuth and RespondToAuthChallenge (and their Admin twins) drive the
//! sign-in machine in `crate::auth`; refresh, revocation, sign-out and auth events.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{
    AccessTokenRequest, AuthenticationResult, GetTokensFromRefreshTokenRequest,
    InitiateAuthRequest, RespondToAuthChallengeRequest, RevokeTokenRequest,
};
use super::{AdminUser, Ctx, admin_target, client_and_pool, decode_token, encode_token, input};
use crate::auth::{self, SignInOutcome};
use crate::error::{Error, ErrorKind};
use crate::pool::{self, AppClient, PoolRecord};
use crate::store::keys;
use crate::token;

pub(super) async fn initiate_auth(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: InitiateAuthRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    run_auth_flow(ctx, &pool, &client, &req, false).await
}

pub(super) async fn admin_initiate_auth(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: InitiateAuthRequest = input(body)?;
    let (client, pool) =
        admin_client_and_pool(ctx, req.user_pool_id.as_deref(), &req.client_id).await?;
    run_auth_flow(ctx, &pool, &client, &req, true).await
}

/// The pool an `Admin*` sign-in operation names, and its client.
async fn admin_client_and_pool(
    ctx: &Ctx<'_>,
    pool_id: Option<&str>,
    client_id: &str,
) -> Result<(Arc<AppClient>, Arc<PoolRecord>), Error> {
    let pool_id = pool_id.ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let (pool, _) = pool::load_pool_shared(ctx.env, pool_id).await?;
    let (client, _) = pool::load_client_shared(ctx.env, client_id).await?;
    if client.user_pool_id != pool_id {
        return Err(Error::resource_not_found(format!(
            "User pool client {client_id} does not exist."
        )));
    }
    Ok((client, pool))
}

fn param<'a>(req: &'a InitiateAuthRequest, name: &str) -> Result<&'a str, Error> {
    req.auth_parameters
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {name}")))
}

/// A sign-in begun through the API: the machine's answer, with tokens for a proved user.
async fn sign_in(
    attempt: &auth::Attempt<'_>,
    issuer: &str,
    how: auth::Begin<'_>,
) -> Result<Value, Error> {
    let authenticated = auth::begin(attempt, how).await?;
    let outcome = auth::sign_in_outcome(attempt, issuer, authenticated).await?;
    Ok(outcome_json(outcome))
}

async fn run_auth_flow(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    client: &AppClient,
    req: &InitiateAuthRequest,
    admin: bool,
) -> Result<Value, Error> {
    let issuer = ctx.issuer(&pool.id);
    let secret_hash = req.auth_parameters.get("SECRET_HASH").map(String::as_str);
    let attempt = auth::Attempt {
        env: ctx.env,
        pool,
        client,
        origin: &ctx.origin,
        proof: auth::ClientProof::SecretHash(secret_hash),
        device_key: req.auth_parameters.get("DEVICE_KEY").map(String::as_str),
    };
    let flow = req.auth_flow.as_str();
    let password_flow = match (admin, flow) {
        (false, "USER_PASSWORD_AUTH") => Some(("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH")),
        (true, "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH") => {
            Some(("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"))
        }
        _ => None,
    };
    if let Some((allow, legacy)) = password_flow {
        if !client.allows(allow, Some(legacy)) {
            return Err(Error::invalid_parameter(format!(
                "{flow} flow not enabled for this client"
            )));
        }
        let login = param(req, "USERNAME")?;
        let password = param(req, "PASSWORD")?;
        let how = auth::Begin::Password { login, password };
        return sign_in(&attempt, &issuer, how).await;
    }
    match flow {
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            if !client.allows("ALLOW_REFRESH_TOKEN_AUTH", None)
                && client
                    .settings
                    .explicit_auth_flows
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|f| f.starts_with("ALLOW_"))
            {
                return Err(Error::invalid_parameter(
                    "REFRESH_TOKEN_AUTH flow not enabled for this client",
                ));
            }
            // Cognito: REFRESH_TOKEN_AUTH is not available on clients that rotate refresh
            // tokens; they refresh with GetTokensFromRefreshToken.
            if token::rotates_refresh_tokens(client) {
                return Err(Error::invalid_parameter(
                    "REFRESH_TOKEN_AUTH flow not enabled for this client",
                ));
            }
            let refresh_token = param(req, "REFRESH_TOKEN")?;
            let device_key = req.auth_parameters.get("DEVICE_KEY").map(String::as_str);
            let tokens = token::refresh(
                ctx.env,
                &issuer,
                pool,
                client,
                refresh_token,
                secret_hash,
                device_key,
            )
            .await?;
            Ok(outcome_json(SignInOutcome::Tokens(tokens)))
        }
        "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            Err(Error::invalid_parameter(format!(
                "{flow} is not a valid flow for {}",
                if admin {
                    "AdminInitiateAuth"
                } else {
                    "InitiateAuth"
                }
            )))
        }
        "CUSTOM_AUTH" => {
            if !client.allows("ALLOW_CUSTOM_AUTH", Some("CUSTOM_AUTH_FLOW_ONLY")) {
                return Err(Error::invalid_parameter(
                    "CUSTOM_AUTH flow not enabled for this client",
                ));
            }
            let how = auth::Begin::CustomAuth {
                login: param(req, "USERNAME")?,
                client_metadata: crate::trigger::string_map(&req.client_metadata),
            };
            sign_in(&attempt, &issuer, how).await
        }
        "USER_SRP_AUTH" => {
            // Legacy ExplicitAuthFlows (no ALLOW_ value) always allowed SRP, as in Cognito.
            let legacy = !client
                .settings
                .explicit_auth_flows
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|f| f.starts_with("ALLOW_"));
            if !client.allows("ALLOW_USER_SRP_AUTH", None) && !legacy {
                return Err(Error::invalid_parameter(
                    "USER_SRP_AUTH flow not enabled for this client",
                ));
            }
            let how = auth::Begin::Srp {
                login: param(req, "USERNAME")?,
                srp_a: param(req, "SRP_A")?,
            };
            sign_in(&attempt, &issuer, how).await
        }
        "USER_AUTH" => {
            if !client.allows("ALLOW_USER_AUTH", None) {
                return Err(Error::invalid_parameter(
                    "USER_AUTH flow not enabled for this client",
                ));
            }
            let get = |name: &str| {
                req.auth_parameters
                    .get(name)
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            };
            let how = auth::Begin::UserAuth {
                login: param(req, "USERNAME")?,
                preferred: get("PREFERRED_CHALLENGE"),
                password: get("PASSWORD"),
                srp_a: get("SRP_A"),
            };
            sign_in(&attempt, &issuer, how).await
        }
        other => Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// The InitiateAuth / RespondToAuthChallenge response for a sign-in outcome.
fn outcome_json(outcome: SignInOutcome) -> Value {
    let response = match outcome {
        SignInOutcome::Tokens(tokens) => super::wire::AuthResponse {
            authentication_result: Some(tokens.into()),
            ..Default::default()
        },
        SignInOutcome::Challenge {
            name,
            session,
            parameters,
        } => super::wire::AuthResponse {
            challenge_name: Some(name.into()),
            // PASSWORD_VERIFIER has none (its SECRET_BLOCK carries the state).
            session: (!session.is_empty()).then_some(session),
            challenge_parameters: parameters,
            authentication_result: None,
            available_challenges: None,
        },
        SignInOutcome::Select { session, available } => super::wire::AuthResponse {
            challenge_name: Some("SELECT_CHALLENGE".into()),
            session: Some(session),
            challenge_parameters: serde_json::Map::new(),
            authentication_result: None,
            available_challenges: Some(available.into_iter().map(String::from).collect()),
        },
    };
    serde_json::to_value(response).unwrap_or_default()
}

pub(super) async fn respond_to_auth_challenge(
    ctx: &Ctx<'_>,
    body: Value,
    admin: bool,
) -> Result<Value, Error> {
    let req: RespondToAuthChallengeRequest = input(body)?;
    let (client, pool) = if admin {
        admin_client_and_pool(ctx, req.user_pool_id.as_deref(), &req.client_id).await?
    } else {
        client_and_pool(ctx, &req.client_id).await?
    };
    let issuer = ctx.issuer(&pool.id);
    let attempt = auth::Attempt {
        env: ctx.env,
        pool: &pool,
        client: &client,
        origin: &ctx.origin,
        proof: auth::ClientProof::SecretHash(
            req.challenge_responses
                .get("SECRET_HASH")
                .map(String::as_str),
        ),
        device_key: req
            .challenge_responses
            .get("DEVICE_KEY")
            .map(String::as_str),
    };
    let authenticated = auth::respond(
        &attempt,
        &req.challenge_name,
        req.session.as_deref(),
        &req.challenge_responses,
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    let outcome = auth::sign_in_outcome(&attempt, &issuer, authenticated).await?;
    Ok(outcome_json(outcome))
}

/// Checks a `ClientSecret` parameter (GetTokensFromRefreshToken, RevokeToken).
fn check_client_secret(client: &AppClient, given: Option<&str>) -> Result<(), Error> {
    use subtle::ConstantTimeEq;
    match (&client.client_secret, given) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(Error::not_authorized(format!(
            "Client {} is configured with secret but ClientSecret was not received",
            client.client_id
        ))),
        (Some(secret), Some(given)) => {
            if bool::from(secret.expose().as_bytes().ct_eq(given.as_bytes())) {
                Ok(())
            } else {
                Err(Error::not_authorized(
                    "Unable to verify secret hash for client",
                ))
            }
        }
    }
}

pub(super) async fn get_tokens_from_refresh_token(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: GetTokensFromRefreshTokenRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    check_client_secret(&client, req.client_secret.as_deref())?;
    let issuer = ctx.issuer(&pool.id);
    // The secret was checked as ClientSecret; SECRET_HASH does not apply here.
    let mut unsecret = AppClient::clone(&client);
    unsecret.client_secret = None;
    let tokens = token::refresh(
        ctx.env,
        &issuer,
        &pool,
        &unsecret,
        &req.refresh_token,
        None,
        req.device_key.as_deref(),
    )
    .await?;
    let result: AuthenticationResult = tokens.into();
    Ok(json!({ "AuthenticationResult": result }))
}

pub(super) async fn revoke_token(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: RevokeTokenRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    // RevokeToken's model has no NotAuthorizedException: a refused client is Unauthorized.
    check_client_secret(&client, req.client_secret.as_deref())
        .map_err(|e| Error::new(ErrorKind::Unauthorized, e.message))?;
    if client.settings.enable_token_revocation == Some(false) {
        return Err(Error::new(
            ErrorKind::UnsupportedOperation,
            "Token revocation is not enabled for this app client.",
        ));
    }
    if crate::token::decode_unverified(&req.token).is_some() {
        return Err(Error::new(
            ErrorKind::UnsupportedTokenType,
            "Only refresh tokens can be revoked.",
        ));
    }
    let Some(record) = token::find_refresh(ctx.env, &pool, &req.token).await? else {
        // RFC 7009: an unknown token is not an error.
        return Ok(json!({}));
    };
    if record.client_id != client.client_id {
        return Err(Error::new(
            ErrorKind::Unauthorized,
            "The token was not issued to this client.",
        ));
    }
    token::revoke_family(ctx.env, &pool, &record, &client).await?;
    Ok(json!({}))
}

pub(super) async fn global_sign_out(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (pool, record, _, _) =
        token::authorize_access_token(ctx.env, &ctx.config.base_url, &req.access_token).await?;
    token::global_sign_out(ctx.env, &pool, &record.username).await?;
    Ok(json!({}))
}

pub(super) async fn admin_user_global_sign_out(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    token::global_sign_out(ctx.env, &pool, &found.username).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminListUserAuthEvents {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    max_results: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

pub(super) async fn admin_list_user_auth_events(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminListUserAuthEvents = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let limit = req.max_results.unwrap_or(10);
    if !(0..=60).contains(&limit) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60",
        ));
    }
    let prefix = keys::auth_events(&pool.id, &pool.normalize_username(&found.username));
    let after = decode_token(req.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), limit.max(1) as usize)
        .await?;
    let mut events = Vec::new();
    for (_, item) in &page.items {
        let event: auth::events::AuthEvent = serde_json::from_slice(&item.value)?;
        events.push(event.to_wire());
    }
    let mut out = json!({ "AuthEvents": events });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", json!(encode_token(&next)));
    }
    Ok(out)
}
