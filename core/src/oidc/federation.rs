//! Signing in through an upstream identity provider (OIDC and OAuth 2.0 social providers).
//!
//! 1. `/oauth2/authorize` with `identity_provider=<name>` or `idp_identifier=<identifier>`
//!    (or the hosted UI's provider buttons, which link there) validates the app's request as
//!    usual, then redirects to the provider's authorization endpoint with a fresh `state`,
//!    `nonce` and PKCE (`S256`) challenge. The state record (under the state's digest) keeps
//!    the app's request, the nonce and the PKCE verifier, is bound to the browser by a cookie
//!    (its digest in the record), expires after [`STATE_LIFETIME_MILLIS`] and is single-use.
//! 2. `/oauth2/idpresponse` takes the provider's code, exchanges it at the provider's token
//!    endpoint (over the outbound-HTTP port), verifies the ID token
//!    ([`crate::federation::upstream`]), reads userInfo where the provider needs it, signs the
//!    federated (or linked) user in ([`crate::federation::federated`]), starts a hosted-UI
//!    session and answers the app's redirect URI with Cognate's own authorization code.
//!
//!
//! SAML 2.0 providers take the same two steps with SAML's messages: an `AuthnRequest` over the
//! HTTP-Redirect binding (its id kept in the state record, the state as `RelayState`), and the
//! IdP's `SAMLResponse` posted to `/saml2/idpresponse`, verified by the `Saml` port and
//! [`crate::saml::accept`] (signature, issuer, audience, recipient, `InResponseTo`, validity,
//! one-time assertion id); IdP-initiated sign-in where the provider allows it (`IDPInit`), and
//! single logout (`IDPSignout`: [`saml_logout`], [`saml_logout_response`]).
//!
//! Sign in with Apple is an OpenID provider with three differences: its answer is a form POST
//! (`response_mode=form_post`, so the binding cookie must survive a cross-site POST), its client
//! secret is an ES256 JWT signed per request ([`crate::federation::apple::client_secret`]), and
//! the user's name comes once, in the answer's `user` member, not in the ID token.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Ctx;
use super::authorize::{AuthRequest, Rejection, issue_code, redirect};
use super::error::OAuthError;
use super::form::{self, Params};
use crate::error::Error;
use crate::federation::provider::{self, IdentityProvider, ProviderType};
use crate::federation::{federated, upstream};
use crate::http::Response;
use crate::ports::HttpRequest;
use crate::store::{Expect, keys};

/// How long a sign-in at the provider may take.
pub const STATE_LIFETIME_MILLIS: u64 = 10 * 60 * 1000;

/// The cookie that binds a state to the browser that started the sign-in.
fn binding_cookie_name(pool_id: &str) -> String {
    format!("cognate-federation-{pool_id}")
}

/// A sign-in at an upstream provider in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StateRecord {
    provider_name: String,
    /// The app's authorization request (its normalized query).
    query: String,
    nonce: String,
    code_verifier: String,
    /// SHA-256 of the browser binding cookie's value.
    binding: String,
    redirect_uri: String,
    expires_millis: u64,
}

/// `GET /oauth2/authorize`: a request that names an identity provider (`identity_provider` /
/// `idp_identifier`) goes straight to it; any other continues in the hosted UI
/// ([`super::authorize::sign_in`]).
pub async fn authorize(ctx: &Ctx<'_>) -> Response {
    let params = Params::parse(&ctx.request.query);
    let request = match super::authorize::parse(ctx, &params).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    match requested(ctx, &params, &request).await {
        Ok(Some(provider)) => start(ctx, &request, &provider).await,
        Ok(None) => super::authorize::sign_in(ctx, request).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// The provider an authorization request names (`identity_provider` or `idp_identifier`), if
/// any; `COGNITO` is the pool's own sign-in page.
pub async fn requested(
    ctx: &Ctx<'_>,
    params: &Params,
    request: &AuthRequest,
) -> Result<Option<IdentityProvider>, Rejection> {
    let fail = |error: OAuthError| Rejection::Redirect {
        redirect_uri: request.redirect_uri.clone(),
        state: request.state.clone(),
        error,
    };
    let pool_id = &request.pool.id;
    let found = if let Some(name) = params.first("identity_provider") {
        if name == "COGNITO" {
            return Ok(None);
        }
        provider::load(ctx.env, pool_id, name)
            .await
            .map_err(|e| fail(e.into()))?
            .map(|(p, _)| p)
    } else if let Some(identifier) = params.first("idp_identifier") {
        provider::by_identifier(ctx.env, pool_id, identifier)
            .await
            .map_err(|e| fail(e.into()))?
    } else {
        return Ok(None);
    };
    let supported = |name: &str| {
        request
            .client
            .settings
            .supported_identity_providers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|p| p == name)
    };
    match found {
        Some(p) if supported(&p.provider_name) => Ok(Some(p)),
        _ => Err(fail(OAuthError::invalid_request(
            "The identity provider does not exist or is not enabled for this client.",
        ))),
    }
}

/// The callback URL the provider sends the browser back to.
fn callback_url(ctx: &Ctx<'_>) -> String {
    format!(
        "{}{}/oauth2/idpresponse",
        ctx.config.base_url, ctx.path_prefix
    )
}

/// Step 1: the redirect to the provider.
pub async fn start(ctx: &Ctx<'_>, request: &AuthRequest, provider: &IdentityProvider) -> Response {
    match try_start(ctx, request, provider).await {
        Ok(response) => response,
        Err(error) => Rejection::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error: error.into(),
        }
        .into_response(),
    }
}

async fn try_start(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    provider: &IdentityProvider,
) -> Result<Response, Error> {
    if provider.provider_type == ProviderType::Saml {
        return start_saml(ctx, request, provider).await;
    }
    let endpoints = provider::endpoints(ctx.env, provider).await?;
    let apple = provider.provider_type == ProviderType::SignInWithApple;
    let random = ctx.env.random();
    let state = new_state(ctx, &request.pool.id);
    let nonce = crate::ids::random_token(random, 32);
    let code_verifier = crate::ids::random_token(random, 48);
    let challenge = {
        use sha2::Digest as _;
        crate::codec::b64url(&sha2::Sha256::digest(code_verifier.as_bytes()))
    };
    let redirect_uri = callback_url(ctx);
    let cookie = save_state(
        ctx,
        &request.pool.id,
        &state,
        StateRecord {
            provider_name: provider.provider_name.clone(),
            query: request.query.clone(),
            nonce: nonce.clone(),
            code_verifier,
            binding: String::new(),
            redirect_uri: redirect_uri.clone(),
            expires_millis: 0,
        },
        // Apple answers with a cross-site POST (`response_mode=form_post`).
        apple,
    )
    .await?;
    let scopes = provider
        .detail("authorize_scopes")
        .unwrap_or("openid")
        .replace(',', " ");
    let scopes = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
    let client_id = provider.detail("client_id").unwrap_or_default();
    let location = form::append_query(
        &endpoints.authorize_url,
        &form::encode_pairs([
            ("response_type", Some("code")),
            ("client_id", Some(client_id)),
            ("redirect_uri", Some(redirect_uri.as_str())),
            ("scope", Some(scopes.as_str())),
            ("state", Some(state.as_str())),
            ("nonce", Some(nonce.as_str())),
            ("code_challenge", Some(challenge.as_str())),
            ("code_challenge_method", Some("S256")),
            // Apple requires form_post when the name or email scope is asked for.
            ("response_mode", apple.then_some("form_post")),
        ]),
    );
    Ok(redirect(&location).with_header("set-cookie", &cookie))
}

/// A new state for a sign-in at a provider: `<poolId>.<random>` (the callback finds the pool
/// by it).
fn new_state(ctx: &Ctx<'_>, pool_id: &str) -> String {
    format!(
        "{pool_id}.{}",
        crate::ids::random_token(ctx.env.random(), 32)
    )
}

/// Keeps `record` under `state` (create-only, expiring, bound to this browser) and answers the
/// binding cookie to set. A provider that answers with a cross-site POST (SAML's HTTP-POST
/// binding) would leave a `SameSite=Lax` cookie behind, so on https that cookie is
/// `SameSite=None; Secure` (loopback http is same-site anyway).
async fn save_state(
    ctx: &Ctx<'_>,
    pool_id: &str,
    state: &str,
    mut record: StateRecord,
    cross_site_post: bool,
) -> Result<String, Error> {
    let binding = crate::ids::random_token(ctx.env.random(), 32);
    record.binding = crate::codec::sha256_hex(&[binding.as_bytes()]);
    record.expires_millis = ctx
        .env
        .clock()
        .now_millis()
        .saturating_add(STATE_LIFETIME_MILLIS);
    ctx.env
        .store()
        .put(
            &keys::federation_state(pool_id, state),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await?;
    let attributes = match (ctx.config.base_url.starts_with("https://"), cross_site_post) {
        (true, true) => "; Secure; SameSite=None",
        (true, false) => "; Secure; SameSite=Lax",
        (false, _) => "; SameSite=Lax",
    };
    Ok(format!(
        "{}={binding}; Path=/; HttpOnly{attributes}; Max-Age={}",
        binding_cookie_name(pool_id),
        STATE_LIFETIME_MILLIS / 1000
    ))
}

/// The sign-in a provider's answer continues (`state`, or SAML's `RelayState`): known,
/// unexpired, started by this browser, and used once (taken out of the store before anything
/// else). Answers the pool id and the record, or the error page.
async fn take_state<'s>(
    ctx: &Ctx<'_>,
    state: Option<&'s str>,
) -> Result<(&'s str, StateRecord), Response> {
    let page = |m: &str| OAuthError::invalid_request(m.to_string()).page();
    let state = state.ok_or_else(|| page("The identity provider's response has no state."))?;
    let (pool_id, _) = state
        .split_once('.')
        .ok_or_else(|| page("The state is not valid."))?;
    let key = keys::federation_state(pool_id, state);
    let Ok(Some(item)) = ctx.env.store().get(&key).await else {
        return Err(page("The state is not valid or was already used."));
    };
    if ctx
        .env
        .store()
        .delete(&key, Expect::Version(item.version))
        .await
        .is_err()
    {
        return Err(page("The state is not valid or was already used."));
    }
    let record = serde_json::from_slice::<StateRecord>(&item.value)
        .map_err(|_| page("The state is not valid."))?;
    if ctx.env.clock().now_millis() >= record.expires_millis {
        return Err(page("The sign-in took too long; start again."));
    }
    let presented = form::cookie(ctx.request.header("cookie"), &binding_cookie_name(pool_id))
        .map(|v| crate::codec::sha256_hex(&[v.as_bytes()]));
    if presented.as_deref() != Some(record.binding.as_str()) {
        return Err(page("The sign-in was started in another browser."));
    }
    Ok((pool_id, record))
}

/// Step 2: `GET /oauth2/idpresponse`, or `POST` with the same parameters as a form
/// (`response_mode=form_post`: Sign in with Apple, which also posts the user's name as `user` on
/// the first sign-in).
pub async fn idp_response(ctx: &Ctx<'_>) -> Response {
    let params = if ctx.request.method == "POST" {
        Params::parse(&String::from_utf8_lossy(&ctx.request.body))
    } else {
        Params::parse(&ctx.request.query)
    };
    let (pool_id, record) = match take_state(ctx, params.first("state")).await {
        Ok(taken) => taken,
        Err(page) => return page,
    };
    // The app's request, validated again (the client may have changed meanwhile).
    let request = match super::authorize::parse(ctx, &Params::parse(&record.query)).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let fail = |error: OAuthError| {
        Rejection::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error,
        }
        .into_response()
    };
    if let Some(error) = params.first("error") {
        let description = params.first("error_description").unwrap_or(error);
        return fail(OAuthError::invalid_request(format!(
            "The identity provider refused the sign-in: {}",
            description.chars().take(200).collect::<String>()
        )));
    }
    let Some(code) = params.first("code") else {
        return fail(OAuthError::invalid_request(
            "The identity provider's response has no code.",
        ));
    };
    let provider_answer = ProviderAnswer {
        code,
        issuer: params.first("iss"),
        apple_user: params.first("user"),
    };
    match finish(ctx, &request, &record, &provider_answer).await {
        Ok(response) => response.with_header(
            "set-cookie",
            &format!(
                "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                binding_cookie_name(pool_id)
            ),
        ),
        Err(error) => fail(error.into()),
    }
}

/// What the provider's answer carried.
struct ProviderAnswer<'a> {
    code: &'a str,
    /// RFC 9207's `iss`.
    issuer: Option<&'a str>,
    /// Sign in with Apple's `user` (JSON; the first sign-in only).
    apple_user: Option<&'a str>,
}

/// The token exchange, the ID token, userInfo, the user, the session, Cognate's code.
async fn finish(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    record: &StateRecord,
    provider_answer: &ProviderAnswer<'_>,
) -> Result<Response, Error> {
    let (code, response_issuer) = (provider_answer.code, provider_answer.issuer);
    let (provider, _) = provider::load(ctx.env, &request.pool.id, &record.provider_name)
        .await?
        .ok_or_else(|| Error::invalid_parameter("The identity provider no longer exists."))?;
    let endpoints = provider::endpoints(ctx.env, &provider).await?;
    // RFC 9207: a provider that names itself in the response must be the one we sent the
    // browser to (a mix-up defence).
    if let (Some(given), Some(issuer)) = (response_issuer, &endpoints.issuer)
        && given != issuer
    {
        return Err(Error::not_authorized(
            "The authorization response comes from another issuer.",
        ));
    }
    let client_id = provider.detail("client_id").unwrap_or_default();
    // 1. The token request (RFC 6749 §4.1.3, RFC 7636 §4.5), the secret in the form: Apple's
    // is an ES256 JWT made for this request.
    let apple_secret = match provider.provider_type {
        ProviderType::SignInWithApple => {
            Some(crate::federation::apple::client_secret(ctx.env, &provider).await?)
        }
        _ => None,
    };
    let form = form::encode_pairs([
        ("grant_type", Some("authorization_code")),
        ("code", Some(code)),
        ("redirect_uri", Some(record.redirect_uri.as_str())),
        ("client_id", Some(client_id)),
        (
            "client_secret",
            apple_secret
                .as_deref()
                .or_else(|| provider.detail("client_secret")),
        ),
        ("code_verifier", Some(record.code_verifier.as_str())),
    ]);
    let token_request = if endpoints.token_request_method == "GET" {
        HttpRequest::get(&form::append_query(&endpoints.token_url, &form))
    } else {
        HttpRequest::post_form(&endpoints.token_url, form)
    };
    let answer = ctx.env.http().request(token_request).await?;
    let tokens: Map<String, Value> = serde_json::from_slice(&answer.body).unwrap_or_default();
    if answer.status != 200 {
        return Err(Error::not_authorized(format!(
            "The identity provider refused the code ({}).",
            tokens
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no error given")
                .chars()
                .take(100)
                .collect::<String>()
        )));
    }
    let access_token = tokens.get("access_token").and_then(Value::as_str);
    // 2. The ID token, for providers that issue one.
    let mut claims = match (tokens.get("id_token").and_then(Value::as_str), &endpoints) {
        (
            Some(id_token),
            provider::Endpoints {
                issuer: Some(issuer),
                jwks_uri: Some(jwks),
                ..
            },
        ) => {
            upstream::verify_with_jwks(
                ctx.env,
                issuer,
                jwks,
                &[client_id],
                id_token,
                Some(&record.nonce),
            )
            .await?
        }
        (None, _)
            if matches!(
                provider.provider_type,
                ProviderType::Oidc | ProviderType::Google | ProviderType::SignInWithApple
            ) =>
        {
            return Err(Error::not_authorized(
                "The identity provider returned no ID token.",
            ));
        }
        (Some(_), _) if provider.provider_type == ProviderType::Oidc => {
            return Err(Error::invalid_parameter(
                "The OIDC provider has no issuer or jwks_uri to verify its ID token with.",
            ));
        }
        _ => Map::new(),
    };
    // 3. userInfo: for providers without ID tokens, and to complete the mapped attributes.
    let wants_userinfo = claims.is_empty()
        || provider
            .attribute_mapping
            .values()
            .any(|claim| !claims.contains_key(claim));
    if let (true, Some(url), Some(access)) =
        (wants_userinfo, &endpoints.attributes_url, access_token)
    {
        let mut info_request = if endpoints.attributes_request_method == "POST" {
            HttpRequest::post_form(url, String::new())
        } else {
            HttpRequest::get(url)
        };
        info_request = info_request.with_header("authorization", &format!("Bearer {access}"));
        let info = ctx.env.http().request(info_request).await?;
        if info.status == 200
            && let Ok(Value::Object(info)) = serde_json::from_slice::<Value>(&info.body)
        {
            // OIDC Core §5.3.2: userInfo's sub must be the ID token's.
            if let (Some(a), Some(b)) = (claims.get("sub"), info.get("sub"))
                && a != b
            {
                return Err(Error::not_authorized(
                    "The identity provider's userInfo names another subject.",
                ));
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
    }
    // Apple names the user only in the first answer's `user` form member, never in the ID
    // token: its `firstName`, `lastName` and `name` (Cognito's Apple attribute names).
    if provider.provider_type == ProviderType::SignInWithApple
        && let Some(user) = provider_answer.apple_user
    {
        crate::federation::apple::add_user_names(&mut claims, user);
    }
    // 4. The user, a hosted-UI session, Cognate's code.
    complete(ctx, request, &provider, &claims, None).await
}

/// The user the provider vouched for (federated or linked), a hosted-UI session, and Cognate's
/// authorization code to the app.
async fn complete(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    provider: &IdentityProvider,
    claims: &Map<String, Value>,
    saml: Option<super::session::SamlSession>,
) -> Result<Response, Error> {
    let user = federated::sign_in(
        ctx.env,
        &request.pool,
        provider,
        claims,
        &request.client.client_id,
    )
    .await?;
    let cookie = super::session::start_with(ctx, &request.pool, &user, saml).await?;
    let auth_time = ctx.env.clock().now_millis() / 1000;
    Ok(issue_code(ctx.env, request, &user, auth_time)
        .await?
        .with_header("set-cookie", &cookie))
}

// -- SAML 2.0 --------------------------------------------------------------------------------

/// The IdP's metadata document: `MetadataFile`, or `MetadataURL` (fetched over the
/// outbound-HTTP port from an allowed upstream host, and cached for an hour:
/// [`upstream::saml_metadata`]).
async fn saml_metadata(ctx: &Ctx<'_>, provider: &IdentityProvider) -> Result<String, Error> {
    provider::saml_metadata(ctx.env, provider, false).await
}

/// Where the IdP posts its response for this request (under any domain prefix).
fn saml_acs_url(ctx: &Ctx<'_>) -> String {
    crate::saml::acs_url(&format!("{}{}", ctx.config.base_url, ctx.path_prefix))
}

/// Where the IdP answers a single logout (under any domain prefix).
fn saml_logout_url(ctx: &Ctx<'_>) -> String {
    format!("{}{}/saml2/logout", ctx.config.base_url, ctx.path_prefix)
}

/// How long a single logout at the IdP may take.
pub const LOGOUT_LIFETIME_MILLIS: u64 = 10 * 60 * 1000;

/// A single logout in progress: the `LogoutRequest`'s id and where `/logout` goes afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogoutRecord {
    provider_name: String,
    request_id: String,
    target: String,
    expires_millis: u64,
}

/// Single logout (`IDPSignout`), step 1, from `/logout`: when the session's user signed in
/// through a SAML IdP whose provider has `IDPSignout` `true` and whose metadata names an
/// HTTP-Redirect `SingleLogoutService`, the browser goes there with a `LogoutRequest` (its
/// `NameID` and `SessionIndex` those of the sign-in), signed for the HTTP-Redirect binding
/// (RSA-SHA256, the server's SAML signing key) and `RelayState` naming the logout; `target` (the
/// `logout_uri`, or the sign-in again) comes after the IdP's `LogoutResponse`. `None`: a plain
/// logout (no SAML session, no `IDPSignout`, no endpoint or no signing key).
pub async fn saml_logout(ctx: &Ctx<'_>, pool_id: &str, target: &str) -> Option<Response> {
    ctx.config.saml_signing_certificate.as_ref()?;
    let (pool, _) = crate::pool::load_pool(ctx.env, pool_id).await.ok()?;
    let saml = super::session::saml_session(ctx, &pool).await?;
    let (provider, _) = provider::load(ctx.env, pool_id, &saml.provider_name)
        .await
        .ok()??;
    if provider.provider_type != ProviderType::Saml
        || !provider
            .detail("IDPSignout")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    let metadata = saml_metadata(ctx, &provider).await.ok()?;
    let idp = crate::saml::idp_metadata(ctx.env, &metadata).await.ok()?;
    let slo = idp.slo_redirect?;
    let id = crate::saml::request::new_id(ctx.env.random());
    let now = ctx.env.clock().now_millis();
    let xml = crate::saml::request::logout_request_xml(
        &id,
        now,
        &slo,
        &crate::saml::sp_entity_id(pool_id),
        &saml.name_id,
        saml.name_id_format.as_deref(),
        saml.session_index.as_deref(),
    );
    let relay_state = format!(
        "{pool_id}.{}",
        crate::ids::random_token(ctx.env.random(), 32)
    );
    let record = LogoutRecord {
        provider_name: provider.provider_name.clone(),
        request_id: id,
        target: target.to_string(),
        expires_millis: now.saturating_add(LOGOUT_LIFETIME_MILLIS),
    };
    ctx.env
        .store()
        .put(
            &keys::saml_logout(pool_id, &relay_state),
            &serde_json::to_vec(&record).ok()?,
            Expect::Absent,
        )
        .await
        .ok()?;
    let query = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        crate::codec::url_encode(&crate::saml::request::encode(&xml)),
        crate::codec::url_encode(&relay_state),
        crate::codec::url_encode(RSA_SHA256),
    );
    let signature = ctx.env.saml().sign_redirect(&query).await.ok()?;
    let separator = if slo.contains('?') { '&' } else { '?' };
    Some(redirect(&format!(
        "{slo}{separator}{query}&Signature={}",
        crate::codec::url_encode(&signature)
    )))
}

/// The HTTP-Redirect binding's signature algorithm for single logout, as Cognito.
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// Single logout, step 2: `POST /saml2/logout` with the IdP's `LogoutResponse` (HTTP-POST
/// binding, as Cognito requires) and `RelayState`. The response must be signed by the IdP's
/// metadata certificates, come from the provider's IdP, answer the logout's `LogoutRequest`
/// (`InResponseTo`), be addressed here (`Destination`, when present) and report success; the
/// logout (known, unexpired) is used once; then the browser goes where `/logout` was to send it.
pub async fn saml_logout_response(ctx: &Ctx<'_>) -> Response {
    let form = Params::parse_body(&ctx.request.body);
    let page = |m: &str| OAuthError::invalid_request(m.to_string()).page();
    let (Some(saml_response), Some(relay_state)) =
        (form.first("SAMLResponse"), form.first("RelayState"))
    else {
        return page("SAMLResponse and RelayState are required.");
    };
    let Some((pool_id, _)) = relay_state.split_once('.') else {
        return page("The RelayState is not valid.");
    };
    let key = keys::saml_logout(pool_id, relay_state);
    let Ok(Some(item)) = ctx.env.store().get(&key).await else {
        return page("The logout is not known or was already completed.");
    };
    let Ok(record) = serde_json::from_slice::<LogoutRecord>(&item.value) else {
        return page("The logout is not known.");
    };
    if ctx.env.clock().now_millis() >= record.expires_millis {
        return page("The logout took too long.");
    }
    let provider = match provider::load(ctx.env, pool_id, &record.provider_name).await {
        Ok(Some((p, _))) => p,
        _ => return page("The identity provider no longer exists."),
    };
    let checked = async {
        let metadata = saml_metadata(ctx, &provider).await?;
        let idp = crate::saml::idp_metadata(ctx.env, &metadata).await?;
        let answer = ctx
            .env
            .saml()
            .verify_logout_response(saml_response, &metadata)
            .await?;
        if answer.issuer.as_deref() != Some(idp.entity_id.as_str()) {
            return Err(Error::not_authorized(
                "The LogoutResponse's Issuer is not the identity provider.",
            ));
        }
        if answer.in_response_to.as_deref() != Some(record.request_id.as_str()) {
            return Err(Error::not_authorized(
                "The LogoutResponse does not answer this logout's request.",
            ));
        }
        if answer
            .destination
            .as_deref()
            .is_some_and(|d| d != saml_logout_url(ctx))
        {
            return Err(Error::not_authorized(
                "The LogoutResponse is addressed to another endpoint.",
            ));
        }
        if answer.status.as_deref() != Some(crate::saml::STATUS_SUCCESS) {
            return Err(Error::not_authorized(
                "The identity provider did not sign the user out.",
            ));
        }
        Ok::<(), Error>(())
    };
    if let Err(e) = checked.await {
        return OAuthError::from(e).page();
    }
    if ctx
        .env
        .store()
        .delete(&key, Expect::Version(item.version))
        .await
        .is_err()
    {
        return page("The logout is not known or was already completed.");
    }
    redirect(&record.target)
}

/// `GET /saml2/metadata?user_pool_id=<poolId>` (on a domain, the pool it pins, and the
/// parameter may be left out): the SP metadata to give the pool's SAML IdPs, its entity id
/// `urn:amazon:cognito:sp:<poolId>` and the ACS this request's base (and domain prefix) serves.
pub async fn saml_sp_metadata(ctx: &Ctx<'_>) -> Response {
    let params = Params::parse(&ctx.request.query);
    let page = |status: u16, m: &str| {
        OAuthError::invalid_request(m.to_string())
            .with_status(status)
            .into_json()
    };
    let pool_id = match (params.first("user_pool_id"), ctx.pinned_pool.as_deref()) {
        (Some(named), Some(pinned)) if named != pinned => {
            return page(400, "This domain serves another user pool.");
        }
        (Some(named), _) => named,
        (None, Some(pinned)) => pinned,
        (None, None) => return page(400, "user_pool_id is required."),
    };
    match crate::pool::load_pool(ctx.env, pool_id).await {
        Ok(_) => {}
        Err(e) if e.kind == crate::error::ErrorKind::ResourceNotFound => {
            return page(404, "The user pool does not exist.");
        }
        Err(e) => return OAuthError::from(e).into_json(),
    }
    let xml = crate::saml::metadata::sp_metadata_xml_with(
        &crate::saml::sp_entity_id(pool_id),
        &saml_acs_url(ctx),
        ctx.config.saml_encryption_certificate.as_deref(),
        ctx.config
            .saml_signing_certificate
            .as_deref()
            .map(|cert| (cert, saml_logout_url(ctx)))
            .as_ref()
            .map(|(cert, url)| (*cert, url.as_str())),
    );
    Response::json(200, "application/samlmetadata+xml", xml.into_bytes())
        .with_header("cache-control", "public, max-age=300")
}

/// Step 1 for SAML: the `AuthnRequest` (HTTP-Redirect binding), its id in the state record and
/// the state as `RelayState`.
async fn start_saml(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    provider: &IdentityProvider,
) -> Result<Response, Error> {
    let metadata = saml_metadata(ctx, provider).await?;
    let idp = crate::saml::idp_metadata(ctx.env, &metadata).await?;
    let sso = idp.sso_redirect.ok_or_else(|| {
        Error::invalid_parameter(
            "The SAML provider's metadata has no HTTP-Redirect sign-on endpoint.",
        )
    })?;
    let state = new_state(ctx, &request.pool.id);
    let acs = saml_acs_url(ctx);
    let authn = crate::saml::request::redirect(
        ctx.env.random(),
        ctx.env.clock(),
        &sso,
        &crate::saml::sp_entity_id(&request.pool.id),
        &acs,
        Some(&state),
    )
    .ok_or_else(|| Error::invalid_parameter("The SAML RelayState is too long."))?;
    let cookie = save_state(
        ctx,
        &request.pool.id,
        &state,
        StateRecord {
            provider_name: provider.provider_name.clone(),
            query: request.query.clone(),
            nonce: authn.id,
            code_verifier: String::new(),
            binding: String::new(),
            redirect_uri: acs,
            expires_millis: 0,
        },
        true,
    )
    .await?;
    Ok(redirect(&authn.url).with_header("set-cookie", &cookie))
}

/// Step 2 for SAML: `POST /saml2/idpresponse` with `SAMLResponse` and `RelayState`. A
/// `RelayState` that carries authorization parameters (`client_id=...`) is an IdP-initiated
/// sign-in ([`saml_idp_initiated`]); any other is the state of an SP-initiated one.
pub async fn saml_response(ctx: &Ctx<'_>) -> Response {
    let form = Params::parse(&String::from_utf8_lossy(&ctx.request.body));
    let page = |m: &str| OAuthError::invalid_request(m.to_string()).page();
    let Some(saml_response) = form.first("SAMLResponse") else {
        return page("The identity provider's response has no SAMLResponse.");
    };
    let Some(relay_state) = form.first("RelayState") else {
        return page(
            "The response has no RelayState: start the sign-in at the app, or (IdP-initiated) name the app's authorization parameters in RelayState.",
        );
    };
    let idp_initiated = Params::parse(relay_state);
    if idp_initiated.first("client_id").is_some() {
        return saml_idp_initiated(ctx, &idp_initiated, saml_response).await;
    }
    let (pool_id, record) = match take_state(ctx, Some(relay_state)).await {
        Ok(taken) => taken,
        Err(page) => return page,
    };
    let request = match super::authorize::parse(ctx, &Params::parse(&record.query)).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let expected = SamlExpected {
        provider_name: &record.provider_name,
        acs_url: &record.redirect_uri,
        in_response_to: Some(&record.nonce),
    };
    match finish_saml(ctx, &request, &expected, saml_response).await {
        Ok(response) => response.with_header(
            "set-cookie",
            &format!(
                "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                binding_cookie_name(pool_id)
            ),
        ),
        Err(error) => Rejection::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error: error.into(),
        }
        .into_response(),
    }
}

/// How old an IdP-initiated assertion may be (its `IssueInstant`), as Cognito: 6 minutes.
pub const IDP_INITIATED_MAX_AGE_MILLIS: u64 = 6 * 60 * 1000;

/// An IdP-initiated sign-in (Cognito's rules): `RelayState` carries the parameters the app
/// would give `/oauth2/authorize` (`response_type`, `client_id`, `redirect_uri`, `scope`,
/// `identity_provider` or `idp_identifier`, and a PKCE challenge for a public client), checked
/// as there. The provider must be a SAML provider with `IDPInit` `true` that the client supports,
/// and the client may support no provider but SAML ones (not even the pool's own sign-in), as
/// Cognito requires of clients that accept unsolicited responses. The assertion must answer no
/// request (no `InResponseTo`), be issued within [`IDP_INITIATED_MAX_AGE_MILLIS`], and is
/// accepted once, like any other.
async fn saml_idp_initiated(ctx: &Ctx<'_>, params: &Params, saml_response: &str) -> Response {
    let request = match super::authorize::parse(ctx, params).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let fail = |error: OAuthError| {
        Rejection::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error,
        }
        .into_response()
    };
    let provider = match requested(ctx, params, &request).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return fail(OAuthError::invalid_request(
                "An IdP-initiated sign-in's RelayState must name its SAML provider (identity_provider or idp_identifier).",
            ));
        }
        Err(rejection) => return rejection.into_response(),
    };
    if provider.provider_type != ProviderType::Saml
        || !provider
            .detail("IDPInit")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return fail(OAuthError::invalid_request(
            "IdP-initiated sign-in is not enabled for this identity provider.",
        ));
    }
    match only_saml_providers(ctx, &request).await {
        Ok(true) => {}
        Ok(false) => {
            return fail(OAuthError::invalid_request(
                "IdP-initiated sign-in is refused: the client also supports providers that are not SAML providers.",
            ));
        }
        Err(e) => return fail(e.into()),
    }
    let acs = saml_acs_url(ctx);
    let expected = SamlExpected {
        provider_name: &provider.provider_name,
        acs_url: &acs,
        in_response_to: None,
    };
    match finish_saml(ctx, &request, &expected, saml_response).await {
        Ok(response) => response,
        Err(error) => fail(error.into()),
    }
}

/// Whether every provider the client supports is a SAML provider of the pool.
async fn only_saml_providers(ctx: &Ctx<'_>, request: &AuthRequest) -> Result<bool, Error> {
    let names = request
        .client
        .settings
        .supported_identity_providers
        .as_deref()
        .unwrap_or_default();
    for name in names {
        match provider::load(ctx.env, &request.pool.id, name).await? {
            Some((p, _)) if p.provider_type == ProviderType::Saml => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// What a SAML response must answer: the provider that signed it, our ACS, and the request it
/// answers (`None`: IdP-initiated, no request).
struct SamlExpected<'a> {
    provider_name: &'a str,
    acs_url: &'a str,
    in_response_to: Option<&'a str>,
}

/// The assertion verified against the IdP's metadata and this request, as claims: `NameID` (the
/// subject) and each attribute by name (several values joined by commas).
async fn finish_saml(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    expected: &SamlExpected<'_>,
    saml_response: &str,
) -> Result<Response, Error> {
    let (provider, _) = provider::load(ctx.env, &request.pool.id, expected.provider_name)
        .await?
        .ok_or_else(|| Error::invalid_parameter("The identity provider no longer exists."))?;
    let metadata = saml_metadata(ctx, &provider).await?;
    let now = ctx.env.clock().now_millis();
    let assertion = crate::saml::accept(
        ctx.env,
        &request.pool.id,
        &metadata,
        saml_response,
        &crate::saml::Expectations {
            sp_entity_id: crate::saml::sp_entity_id(&request.pool.id),
            acs_url: expected.acs_url.to_string(),
            in_response_to: expected.in_response_to.map(ToString::to_string),
            now_millis: now,
        },
    )
    .await?;
    // EncryptedResponses: the IdP must encrypt every assertion to our certificate.
    if provider
        .detail("EncryptedResponses")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        && !assertion.encrypted
    {
        return Err(Error::not_authorized(
            "The SAML provider requires encrypted assertions (EncryptedResponses), and this one is not encrypted.",
        ));
    }
    if expected.in_response_to.is_none()
        && now.saturating_sub(assertion.issue_instant_millis) > IDP_INITIATED_MAX_AGE_MILLIS
    {
        return Err(Error::not_authorized(
            "The IdP-initiated SAML assertion was issued more than 6 minutes ago.",
        ));
    }
    let mut claims = Map::new();
    for attribute in &assertion.attributes {
        claims.insert(
            attribute.name.clone(),
            Value::String(attribute.values.join(",")),
        );
    }
    claims.insert("NameID".into(), Value::String(assertion.name_id.clone()));
    let saml = super::session::SamlSession {
        provider_name: provider.provider_name.clone(),
        name_id: assertion.name_id.clone(),
        name_id_format: assertion.name_id_format.clone(),
        session_index: assertion.session_index.clone(),
    };
    complete(ctx, request, &provider, &claims, Some(saml)).await
}
