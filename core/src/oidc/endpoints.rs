//! UserInfo (OIDC Core §5.3, RFC 6750), revocation (RFC 7009) and logout.

use alloc::string::ToString;

use serde_json::{Map, Value, json};

use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::redirect;
use crate::oidc::error::OAuthError;
use crate::oidc::form::Params;

/// The bearer token of a request: the `Authorization` header (RFC 6750 §2.1) or, on a form
/// POST, the `access_token` body parameter (§2.2); never both (§2).
fn bearer(ctx: &Ctx<'_>) -> Result<Option<alloc::string::String>, OAuthError> {
    let header = ctx.request.header("authorization").and_then(|h| {
        h.get(..7)
            .filter(|s| s.eq_ignore_ascii_case("bearer "))
            .and_then(|_| h.get(7..))
            .map(|t| t.trim().to_string())
    });
    let body = if ctx.request.method == "POST"
        && ctx
            .request
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        Params::parse_body(&ctx.request.body)
            .get("access_token")
            .map_err(|_| OAuthError::invalid_request("access_token is repeated."))?
            .map(ToString::to_string)
    } else {
        None
    };
    match (header, body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "Send the access token in one place only.",
        )),
        (h, b) => Ok(h.or(b)),
    }
}

/// `GET/POST /oauth2/userInfo`: the user's claims for an access token with the `openid` scope.
pub async fn userinfo(ctx: &Ctx<'_>) -> Response {
    let token = match bearer(ctx) {
        Ok(Some(t)) if !t.is_empty() => t,
        Ok(_) => {
            return OAuthError::invalid_token("An access token is required.").into_bearer(false);
        }
        Err(e) => return e.into_bearer(true),
    };
    // 1. A valid, unrevoked access token of a user (one signature check, O(1) reads).
    let (pool, user, _, claims) = match crate::token::authorize_access_token_scoped(
        ctx.env,
        &ctx.config.base_url,
        &token,
        None,
    )
    .await
    {
        Ok(found) => found,
        Err(e) => return OAuthError::invalid_token(e.message).into_bearer(true),
    };
    // 2. With the openid scope (Cognito requires it for userInfo).
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !scopes.split(' ').any(|s| s == "openid") {
        return OAuthError::insufficient_scope("The access token lacks the openid scope.")
            .into_bearer(true);
    }
    // 3. The attributes the client may read.
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let readable = match crate::pool::load_pool_client(ctx.env, &pool.id, client_id).await {
        Ok((client, _)) => client.settings.read_attributes,
        Err(_) => {
            return OAuthError::invalid_token("The client no longer exists.").into_bearer(true);
        }
    };
    let mut out = Map::new();
    for (name, value) in &user.attributes {
        if readable
            .as_ref()
            .is_some_and(|r| !r.iter().any(|a| a == name))
        {
            continue;
        }
        let is_bool = pool
            .schema_attribute(name)
            .is_some_and(|s| s.attribute_data_type == "Boolean");
        out.insert(
            name.clone(),
            if is_bool {
                Value::Bool(value == "true")
            } else {
                Value::String(value.clone())
            },
        );
    }
    out.insert("sub".into(), json!(user.sub));
    out.insert("username".into(), json!(user.username));
    Response::json(
        200,
        "application/json;charset=UTF-8",
        serde_json::to_vec(&Value::Object(out)).unwrap_or_default(),
    )
    .with_header("cache-control", "no-store")
}

/// `POST /oauth2/revoke` (RFC 7009 §2): revokes a refresh token and the access tokens of its
/// session.
pub async fn revoke(ctx: &Ctx<'_>) -> Response {
    match revoke_inner(ctx).await {
        Ok(()) => Response::new(200)
            .with_header("cache-control", "no-store")
            .with_header("content-length", "0"),
        Err(e) => e.into_json(),
    }
}

async fn revoke_inner(ctx: &Ctx<'_>) -> Result<(), OAuthError> {
    // 1. Client authentication, as at the token endpoint (§2.1).
    let (params, client, pool) = crate::oidc::token::form_and_client(ctx).await?;
    let token = params
        .get("token")
        .map_err(|_| OAuthError::invalid_request("token is repeated."))?
        .ok_or_else(|| OAuthError::invalid_request("token is required."))?;
    if client.settings.enable_token_revocation == Some(false) {
        return Err(OAuthError::invalid_request(
            "Token revocation is not enabled for this app client.",
        ));
    }
    // 2. Only refresh tokens are revocable here (§2.2.1 unsupported_token_type).
    if crate::token::decode_unverified(token).is_some() {
        return Err(OAuthError::unsupported_token_type(
            "Only refresh tokens can be revoked.",
        ));
    }
    // 3. An unknown token is not an error (§2.2); another client's token is refused.
    let Some(record) = crate::token::find_refresh(ctx.env, &pool, token).await? else {
        return Ok(());
    };
    if record.client_id != client.client_id {
        return Err(OAuthError::unauthorized_client(
            "The token was not issued to this client.",
        ));
    }
    crate::token::revoke_family(ctx.env, &pool, &record, &client).await?;
    Ok(())
}

/// `GET /logout`: ends the hosted-UI session, then either goes to one of the client's
/// `LogoutURLs` (`logout_uri`) or signs in again (`redirect_uri` + `response_type`).
pub async fn logout(ctx: &Ctx<'_>) -> Response {
    let params = Params::parse(&ctx.request.query);
    let client_id = params.get("client_id").ok().flatten();
    let Some(client_id) = client_id else {
        return OAuthError::invalid_request("client_id is required.").page();
    };
    let client = match crate::pool::load_client(ctx.env, client_id).await {
        Ok((c, _))
            if ctx
                .pinned_pool
                .as_deref()
                .is_none_or(|p| p == c.user_pool_id) =>
        {
            c
        }
        _ => {
            return OAuthError::invalid_request("The client does not exist.").page();
        }
    };
    let logout_uri = params.get("logout_uri").ok().flatten();
    let target = if let Some(uri) = logout_uri {
        // 1. logout_uri must be registered exactly.
        if !client
            .settings
            .logout_urls
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|u| u == uri)
        {
            return OAuthError::invalid_request(
                "logout_uri is not one of the client's sign-out URLs.",
            )
            .page();
        }
        uri.to_string()
    } else if let Some(redirect_uri) = params.get("redirect_uri").ok().flatten() {
        // 2. Or sign in again: the authorization request is checked on the way.
        if !crate::oidc::client::is_callback(&client, redirect_uri) {
            return OAuthError::invalid_request(
                "redirect_uri is not one of the client's callback URLs.",
            )
            .page();
        }
        let mut query = alloc::string::String::new();
        for (k, v) in params.iter() {
            if k == "logout_uri" {
                continue;
            }
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&crate::codec::url_encode(k));
            query.push('=');
            query.push_str(&crate::codec::url_encode(v));
        }
        alloc::format!("{}/oauth2/authorize?{query}", ctx.path_prefix)
    } else {
        return OAuthError::invalid_request("logout_uri or redirect_uri is required.").page();
    };
    // 3. Single logout first when the user signed in through a SAML IdP with IDPSignout: the
    // browser goes to the IdP, whose LogoutResponse (at /saml2/logout) goes on to the target.
    let saml = super::federation::saml_logout(ctx, &client.user_pool_id, &target).await;
    // 4. End the session (store record and cookie).
    let mut response = saml.unwrap_or_else(|| redirect(&target));
    for cookie in super::session::end(ctx, &client.user_pool_id).await {
        response = response.with_header("set-cookie", &cookie);
    }
    response
}
