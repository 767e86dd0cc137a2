//! App clients as OAuth 2.0 clients: validating their OAuth settings (CreateUserPoolClient,
//! UpdateUserPoolClient) and authenticating them at the token and revocation endpoints.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::oidc::error::OAuthError;
use crate::oidc::form::{self, Params};
use crate::oidc::types::{RedirectUri, STANDARD_SCOPES, Scopes};
use crate::pool::{AppClient, ClientSettings, PoolRecord};
use crate::ports::Env;

const FLOWS: &[&str] = &["code", "implicit", "client_credentials"];

/// Checks the OAuth fields of a client's settings as Cognito does. Custom scopes must name an
/// existing resource server's scope.
pub async fn check_settings(
    env: &dyn Env,
    pool: &PoolRecord,
    settings: &ClientSettings,
    has_secret: bool,
) -> Result<(), Error> {
    let flows = settings.allowed_o_auth_flows.as_deref().unwrap_or_default();
    for f in flows {
        if !FLOWS.contains(&f.as_str()) {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '[{f}]' at 'allowedOAuthFlows' failed to satisfy constraint: Member must satisfy enum value set: [implicit, client_credentials, code]"
            )));
        }
    }
    let has = |f: &str| flows.iter().any(|x| x == f);
    if has("client_credentials") && (has("code") || has("implicit")) {
        return Err(Error::invalid_parameter(
            "client_credentials flow can not be selected along with code flow or implicit flow.",
        ));
    }
    if has("client_credentials") && !has_secret {
        return Err(Error::invalid_parameter(
            "client_credentials flow can not be selected if client does not have a client secret.",
        ));
    }
    let mut urls = 0usize;
    for list in [&settings.callback_urls, &settings.logout_urls]
        .into_iter()
        .flatten()
    {
        if list.len() > 100 {
            return Err(Error::invalid_parameter(
                "A client can have at most 100 callback and 100 sign-out URLs.",
            ));
        }
        for url in list {
            RedirectUri::parse(url).map_err(Error::invalid_parameter)?;
            urls += 1;
        }
    }
    if let Some(default) = &settings.default_redirect_uri {
        RedirectUri::parse(default).map_err(Error::invalid_parameter)?;
        if !settings
            .callback_urls
            .as_deref()
            .unwrap_or_default()
            .contains(default)
        {
            return Err(Error::invalid_parameter(
                "DefaultRedirectURI must be one of the CallbackURLs.",
            ));
        }
    }
    let _ = urls;
    if (has("code") || has("implicit"))
        && settings
            .callback_urls
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        && settings.allowed_o_auth_flows_user_pool_client == Some(true)
    {
        return Err(Error::invalid_parameter(
            "CallbackURLs must be set when the code or implicit flow is allowed.",
        ));
    }
    for provider in settings
        .supported_identity_providers
        .as_deref()
        .unwrap_or_default()
    {
        if provider != "COGNITO"
            && crate::federation::provider::load(env, &pool.id, provider)
                .await?
                .is_none()
        {
            return Err(Error::invalid_parameter(format!(
                "The provider {provider} does not exist for User Pool {}",
                pool.id
            )));
        }
    }
    for scope in settings
        .allowed_o_auth_scopes
        .as_deref()
        .unwrap_or_default()
    {
        if STANDARD_SCOPES.contains(&scope.as_str()) {
            continue;
        }
        let exists = match scope.rsplit_once('/') {
            Some((server, name)) => {
                crate::oidc::resource_server::scope_exists(env, &pool.id, server, name).await?
            }
            None => false,
        };
        if !exists {
            return Err(Error::new(
                ErrorKind::ScopeDoesNotExist,
                format!("Invalid scope requested: {scope}"),
            ));
        }
    }
    if has("client_credentials")
        && settings
            .allowed_o_auth_scopes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|s| STANDARD_SCOPES.contains(&s.as_str()))
    {
        return Err(Error::invalid_parameter(
            "client_credentials flow can only be used with custom scopes.",
        ));
    }
    Ok(())
}

/// The client's allowed scopes.
pub fn allowed_scopes(client: &AppClient) -> Scopes {
    Scopes::from_list(
        client
            .settings
            .allowed_o_auth_scopes
            .as_deref()
            .unwrap_or_default(),
    )
}

/// Whether the client may use an OAuth flow on the user pool's endpoints.
pub fn allows_flow(client: &AppClient, flow: &str) -> bool {
    client.settings.allowed_o_auth_flows_user_pool_client == Some(true)
        && client
            .settings
            .allowed_o_auth_flows
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == flow)
}

/// Whether `uri` is exactly one of the client's callback URLs (RFC 6749 §3.1.2.3: simple string
/// comparison).
pub fn is_callback(client: &AppClient, uri: &str) -> bool {
    client
        .settings
        .callback_urls
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|u| u == uri)
}

/// Authenticates the client of a token or revocation request (RFC 6749 §2.3.1):
/// `client_secret_basic` (the `Authorization` header) or `client_secret_post` (body parameters),
/// never both; a public client (no secret) sends just `client_id`. Returns the client and its pool.
pub async fn authenticate(
    env: &dyn Env,
    pinned_pool: Option<&str>,
    authorization: Option<&str>,
    params: &Params,
) -> Result<(Arc<AppClient>, Arc<PoolRecord>), OAuthError> {
    let repeated = |r: form::Repeated| {
        OAuthError::invalid_request(format!("The parameter {} is repeated.", r.0))
    };
    let body_id = params.get("client_id").map_err(repeated)?;
    let body_secret = params.get("client_secret").map_err(repeated)?;
    let basic = match authorization {
        Some(h) if h.len() > 6 && h.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic ")) => {
            Some(parse_basic(h.get(6..).unwrap_or_default()).ok_or_else(|| {
                OAuthError::invalid_client("The Authorization header is malformed.")
            })?)
        }
        Some(_) => {
            return Err(OAuthError::invalid_client(
                "Only the Basic authentication scheme is supported.",
            ));
        }
        None => None,
    };
    // 1. One method only (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
    let (client_id, secret): (String, Option<String>) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Use one client authentication method, not two.",
            ));
        }
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the authenticated client.",
                ));
            }
            (id, Some(secret))
        }
        (None, secret) => (
            body_id
                .ok_or_else(|| OAuthError::invalid_client("Client authentication is required."))?
                .into(),
            secret.map(Into::into),
        ),
    };
    let unknown = || OAuthError::invalid_client("Client authentication failed.");
    // 2. The client exists (in the domain's pool, when a domain pinned one).
    let (client, _) = crate::pool::load_client_shared(env, &client_id)
        .await
        .map_err(|_| unknown())?;
    if pinned_pool.is_some_and(|p| p != client.user_pool_id) {
        return Err(unknown());
    }
    // 3. Its secret matches, in constant time; a public client presents none.
    match (&client.client_secret, secret) {
        (Some(expected), Some(given)) if expected.ct_eq(&given) => {}
        (None, None) => {}
        _ => return Err(unknown()),
    }
    let (pool, _) = crate::pool::load_pool_shared(env, &client.user_pool_id)
        .await
        .map_err(|_| unknown())?;
    Ok((client, pool))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(credentials: &str) -> Option<(String, String)> {
    let decoded = crate::codec::b64_decode(credentials.trim())?;
    let text = core::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((
        crate::codec::form_decode(id),
        crate::codec::form_decode(secret),
    ))
}
