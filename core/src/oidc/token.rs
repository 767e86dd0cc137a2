//! The token endpoint (RFC 6749 §3.2): `authorization_code` (§4.1.3, with PKCE RFC 7636 §4.6),
//! `refresh_token` (§6) and `client_credentials` (§4.4).

use alloc::string::{String, ToString};
use alloc::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::CodeRecord;
use crate::oidc::client;
use crate::oidc::error::OAuthError;
use crate::oidc::form::{self, Params};
use crate::oidc::types::{AuthorizationCode, CodeChallenge, CodeVerifier, Scopes};
use crate::pool::{AppClient, PoolRecord};
use crate::store::{Expect, StoreError};
use crate::token::{self as tokens, FamilyRecord, Grant, RefreshIssue, RefreshRecord, Session};
use crate::user;

/// `POST /oauth2/token`.
pub async fn token(ctx: &Ctx<'_>) -> Response {
    match grant(ctx).await {
        Ok(body) => Response::json(
            200,
            "application/json;charset=UTF-8",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
        // RFC 6749 §5.1: responses with tokens are never cached.
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"),
        Err(e) => e.into_json(),
    }
}

fn is_form(ctx: &Ctx<'_>) -> bool {
    ctx.request
        .header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Parses a form body and authenticates the client: the start of the token and revocation
/// endpoints.
pub async fn form_and_client(
    ctx: &Ctx<'_>,
) -> Result<(Params, Arc<AppClient>, Arc<PoolRecord>), OAuthError> {
    // 1. RFC 6749 §3.2: parameters in an application/x-www-form-urlencoded body.
    if !is_form(ctx) {
        return Err(OAuthError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let params = Params::parse_body(&ctx.request.body);
    // 2. §3.2.1: authenticate the client.
    let (client, pool) = client::authenticate(
        ctx.env,
        ctx.pinned_pool.as_deref(),
        ctx.request.header("authorization"),
        &params,
    )
    .await?;
    Ok((params, client, pool))
}

fn param<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    params.get(name).map_err(|r| {
        OAuthError::invalid_request(alloc::format!("The parameter {} is repeated.", r.0))
    })
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    param(params, name)?
        .ok_or_else(|| OAuthError::invalid_request(alloc::format!("{name} is required.")))
}

async fn grant(ctx: &Ctx<'_>) -> Result<Value, OAuthError> {
    let (params, client, pool) = form_and_client(ctx).await?;
    // 3. The grant type.
    match required(&params, "grant_type")? {
        "authorization_code" => authorization_code(ctx, &params, &client, &pool).await,
        "refresh_token" => refresh_token(ctx, &params, &client, &pool).await,
        "client_credentials" => client_credentials(ctx, &params, &client, &pool).await,
        _ => Err(OAuthError::unsupported_grant_type(
            "grant_type must be authorization_code, refresh_token or client_credentials.",
        )),
    }
}

fn tokens_json(tokens: tokens::Tokens) -> Value {
    let mut body = json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
    });
    if let Value::Object(map) = &mut body {
        if let Some(id) = tokens.id_token {
            map.insert("id_token".into(), Value::String(id));
        }
        if let Some(refresh) = tokens.refresh_token {
            map.insert("refresh_token".into(), Value::String(refresh));
        }
    }
    body
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.6.
async fn authorization_code(
    ctx: &Ctx<'_>,
    params: &Params,
    client: &AppClient,
    pool: &PoolRecord,
) -> Result<Value, OAuthError> {
    let invalid = || OAuthError::invalid_grant("The authorization code is invalid or expired.");
    if !client::allows_flow(client, "code") {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed the authorization code flow.",
        ));
    }
    let code = AuthorizationCode::parse(required(params, "code")?).map_err(|_| invalid())?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = match param(params, "code_verifier")? {
        Some(v) => Some(CodeVerifier::parse(v).map_err(OAuthError::invalid_grant)?),
        None => None,
    };
    let key = crate::store::keys::authorization_code(&pool.id, &code.digest());
    let env = ctx.env;
    // 1. The code exists, was issued to this client, and is live.
    let item = env.store().get(&key).await?.ok_or_else(invalid)?;
    let record: CodeRecord = serde_json::from_slice(&item.value).map_err(crate::Error::from)?;
    if record.client_id != client.client_id {
        return Err(invalid());
    }
    // 2. Used before: a replay. Revoke everything issued from it (RFC 6749 §10.5).
    if let Some(origin) = &record.redeemed_origin_jti {
        revoke_issued(ctx, pool, client, &record, origin).await?;
        return Err(OAuthError::invalid_grant(
            "The authorization code was already used; the tokens issued from it are revoked.",
        ));
    }
    if env.clock().now_millis() >= record.expires_millis {
        return Err(invalid());
    }
    // 3. The same redirect URI as in the authorization request (§4.1.3).
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    // 4. PKCE: the verifier hashes to the challenge; no verifier without a challenge.
    match (&record.code_challenge, &verifier) {
        (Some(challenge), Some(verifier)) => {
            let challenge = CodeChallenge::parse(challenge).map_err(|_| invalid())?;
            if !challenge.verify(verifier) {
                return Err(OAuthError::invalid_grant(
                    "The code_verifier does not match.",
                ));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant("code_verifier is required."));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge.",
            ));
        }
        (None, None) => {}
    }
    // 5. Redeem with compare-and-set: of racing redemptions exactly one wins; a loser is a
    //    replay and revokes the winner's tokens.
    let origin_jti = crate::ids::uuid_v4(env.random());
    let mut redeemed = record.clone();
    redeemed.redeemed_origin_jti = Some(origin_jti.clone());
    match env
        .store()
        .put(
            &key,
            &serde_json::to_vec(&redeemed).map_err(crate::Error::from)?,
            Expect::Version(item.version),
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            if let Some(Ok(now)) = env
                .store()
                .get(&key)
                .await?
                .map(|i| serde_json::from_slice::<CodeRecord>(&i.value))
                && let Some(origin) = &now.redeemed_origin_jti
            {
                revoke_issued(ctx, pool, client, &record, origin).await?;
            }
            return Err(OAuthError::invalid_grant(
                "The authorization code was already used.",
            ));
        }
        Err(e) => return Err(crate::Error::from(e).into()),
    }
    // 6. The user is still allowed in.
    let (user, _) = user::load(env, pool, &record.username_key)
        .await?
        .filter(|(u, _)| u.sub == record.sub)
        .ok_or_else(invalid)?;
    if !user.enabled || !user.status.is_active() {
        return Err(invalid());
    }
    if user.tokens_valid_after_millis > 0
        && user.tokens_valid_after_millis / 1000 > record.auth_time
    {
        return Err(invalid());
    }
    // 7. Tokens: the scopes granted, the nonce, a new session family.
    let session = Session {
        origin_jti,
        event_id: crate::ids::uuid_v4(env.random()),
        auth_time: record.auth_time,
        device_key: None,
    };
    let grant = Grant {
        scope: Some(record.scope.clone()),
        nonce: record.nonce.clone(),
    };
    let tokens = tokens::issue_tokens_for(
        env,
        &ctx.issuer(&pool.id),
        pool,
        client,
        &user,
        &session,
        RefreshIssue::NewSession,
        &grant,
        crate::trigger::TokenSource::HostedAuth,
    )
    .await?;
    Ok(tokens_json(tokens))
}

/// Revokes the session a code's tokens belong to (its refresh tokens and access tokens).
async fn revoke_issued(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    client: &AppClient,
    code: &CodeRecord,
    origin_jti: &str,
) -> Result<(), OAuthError> {
    // A family that was never written (issuance failed) is nothing to revoke; the user's
    // revoked-session list still stops any access token.
    let family_key = crate::store::keys::refresh_family(&pool.id, origin_jti);
    if ctx.env.store().get(&family_key).await?.is_none() {
        let family = FamilyRecord {
            username_key: code.username_key.clone(),
            client_id: client.client_id.clone(),
            created_millis: ctx.env.clock().now_millis(),
            revoked: true,
        };
        let _ = ctx
            .env
            .store()
            .put(
                &family_key,
                &serde_json::to_vec(&family).map_err(crate::Error::from)?,
                Expect::Absent,
            )
            .await;
    }
    let record = RefreshRecord {
        username_key: code.username_key.clone(),
        sub: code.sub.clone(),
        client_id: client.client_id.clone(),
        origin_jti: origin_jti.to_string(),
        event_id: String::new(),
        auth_time: code.auth_time,
        issued_millis: 0,
        expires_millis: 0,
        rotated_millis: None,
        scope: None,
        device_key: None,
    };
    tokens::revoke_family(ctx.env, pool, &record, client).await?;
    Ok(())
}

/// RFC 6749 §6.
async fn refresh_token(
    ctx: &Ctx<'_>,
    params: &Params,
    client: &AppClient,
    pool: &PoolRecord,
) -> Result<Value, OAuthError> {
    let token = required(params, "refresh_token")?;
    // §6: a narrower scope may be asked for; Cognito keeps the original scopes, and so do we,
    // refusing any scope the grant did not have.
    if let Some(scope) = param(params, "scope")? {
        let asked = Scopes::parse(scope).map_err(OAuthError::invalid_scope)?;
        let granted = tokens::find_refresh(ctx.env, pool, token)
            .await?
            .and_then(|r| r.scope)
            .map(|s| Scopes::parse(&s).unwrap_or_default())
            .unwrap_or_default();
        if let Some(bad) = asked.first_not_in(&granted) {
            return Err(OAuthError::invalid_scope(alloc::format!(
                "The scope {bad} was not granted."
            )));
        }
    }
    // The client authenticated with its secret already; SECRET_HASH does not apply.
    let mut authenticated = client.clone();
    authenticated.client_secret = None;
    let tokens = tokens::refresh(
        ctx.env,
        &ctx.issuer(&pool.id),
        pool,
        &authenticated,
        token,
        None,
        None,
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::Internal => OAuthError::server_error("The server could not refresh."),
        _ => OAuthError::invalid_grant(e.message),
    })?;
    Ok(tokens_json(tokens))
}

/// RFC 6749 §4.4: an access token for the client itself, with resource-server scopes. `pool` was
/// read without its attribute schema ([`grant`]): nothing here reads a user attribute.
async fn client_credentials(
    ctx: &Ctx<'_>,
    params: &Params,
    client: &AppClient,
    pool: &PoolRecord,
) -> Result<Value, OAuthError> {
    // 1. Only confidential clients allowed the flow (§4.4.2).
    if client.client_secret.is_none() || !client::allows_flow(client, "client_credentials") {
        return Err(OAuthError::unauthorized_client(
            "The client is not allowed the client_credentials flow.",
        ));
    }
    // 2. Scopes: a subset of the client's custom scopes; all of them when none are asked for.
    let allowed = client::allowed_scopes(client);
    let scopes = match param(params, "scope")? {
        Some(s) => Scopes::parse(s).map_err(OAuthError::invalid_scope)?,
        None => allowed.clone(),
    };
    if let Some(bad) = scopes.first_not_in(&allowed) {
        return Err(OAuthError::invalid_scope(alloc::format!(
            "The scope {bad} is not allowed for this client."
        )));
    }
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "The client has no custom scopes.",
        ));
    }
    // 3. The access token, Cognito's machine-to-machine claims.
    let signer = crate::token::pool_signer(ctx.env, &pool.id).await?;
    let now = ctx.env.clock().now_millis() / 1000;
    let expires_in = client.access_token_seconds();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(client.client_id));
    claims.insert("token_use".into(), json!("access"));
    claims.insert("scope".into(), json!(scopes.to_param()));
    claims.insert("auth_time".into(), json!(now));
    claims.insert("iss".into(), json!(ctx.issuer(&pool.id)));
    claims.insert("exp".into(), json!(now + expires_in));
    claims.insert("iat".into(), json!(now));
    claims.insert("version".into(), json!(2));
    claims.insert("jti".into(), json!(crate::ids::uuid_v4(ctx.env.random())));
    claims.insert("client_id".into(), json!(client.client_id));
    // 4. A V3 pre token generation plugin may change the claims and scopes.
    let client_metadata = match param(params, "aws_client_metadata")? {
        None => json!({}),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) if map.values().all(Value::is_string) => Value::Object(map),
            _ => {
                return Err(OAuthError::invalid_request(
                    "aws_client_metadata must be a JSON object of strings.",
                ));
            }
        },
    };
    crate::trigger::apply_pre_token_client_credentials(
        ctx.env,
        pool,
        client,
        client_metadata,
        &mut claims,
    )
    .await
    .map_err(|e| match e.kind {
        ErrorKind::Internal => OAuthError::server_error("The server could not issue the token."),
        // The plugin refused or failed: the request cannot succeed as sent.
        _ => OAuthError::invalid_request(e.message),
    })?;
    let access = crate::token::sign(ctx.env, &signer, &claims).await?;
    Ok(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }))
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        crate::Error::from(e).into()
    }
}

/// Percent-decoding for callers that build token requests by hand (tests).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    form::encode_pairs(pairs.iter().map(|(k, v)| (*k, Some(*v))))
}
