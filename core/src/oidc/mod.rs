//! OAuth 2.0 (RFC 6749) and OpenID Connect Core 1.0: the authorization server Cognito's user
//! pools are, at Cognito's paths.
//!
//! | path | what |
//! |---|---|
//! | `GET /<poolId>/.well-known/openid-configuration` | discovery ([`discovery`]) |
//! | `GET /oauth2/authorize` | authorization code grant with PKCE ([`authorize`]) |
//! | `POST /oauth2/token` | `authorization_code`, `refresh_token`, `client_credentials` ([`token`]) |
//! | `GET/POST /oauth2/userInfo` | OIDC UserInfo (RFC 6750 bearer token) |
//! | `POST /oauth2/revoke` | RFC 7009 refresh-token revocation |
//! | `GET /logout` | ends the hosted-UI session |
//! | `GET`/`POST /oauth2/idpresponse`, `POST /saml2/idpresponse` | an identity provider's answer ([`federation`]) |
//! | `GET /saml2/metadata?user_pool_id=<poolId>` | the pool's SAML SP metadata ([`federation`]) |
//!
//! The hosted UI's pages (`/login`, `/signup`, ...) are in [`crate::ui`]; the Cognito API
//! operations that configure all this (resource servers, domains, UI customization) are in
//! [`admin`].
//!
//! ## Security
//! - Authorization codes, hosted-UI sessions and refresh tokens are stored only under their
//!   SHA-256 digest. A code lives 5 minutes, is bound to the client, the redirect URI, the PKCE
//!   challenge, the nonce and the scopes, and is redeemed by a compare-and-set: of two
//!   redemptions exactly one wins, and a reused code revokes every token issued from it.
//! - PKCE `S256` is required for public clients; `plain` is refused.
//! - `redirect_uri` is compared exactly with the client's `CallbackURLs`; until it has matched,
//!   errors are shown as a page and never redirected anywhere.
//! - Client secrets are compared in constant time; a failed client authentication is a 401
//!   `invalid_client` with `WWW-Authenticate`.

pub mod authorize;
pub mod branding;
pub mod client;
pub mod discovery;
pub mod domain;
pub mod endpoints;
pub mod error;
pub mod federation;
pub mod form;
pub mod resource_server;
pub mod session;
pub mod token;
pub mod types;

use alloc::string::String;

use crate::config::Config;
use crate::http::{Request, Response};
use crate::ports::Env;

pub use error::OAuthError;

/// The hosted UI's pages, served under the authorization server's paths (`crate::ui` renders
/// them).
pub const HOSTED_UI_PATHS: &[&str] = &[
    "/login",
    "/signup",
    "/confirm",
    "/confirmUser",
    "/confirmUser/",
    "/forgotPassword",
    "/confirmForgotPassword",
    "/newPassword",
    "/mfa",
    "/customAuth",
    "/customChallenge",
    "/passkeySignIn",
    "/codeSignIn",
    "/passkeys/add",
    "/passkeys.js",
];

/// The paths this module and the hosted UI answer (after any domain prefix is removed).
pub fn is_oauth_path(path: &str) -> bool {
    matches!(
        path,
        "/oauth2/authorize"
            | "/oauth2/token"
            | "/oauth2/userInfo"
            | "/oauth2/userinfo"
            | "/oauth2/revoke"
            | "/oauth2/idpresponse"
            | "/saml2/idpresponse"
            | "/saml2/metadata"
            | "/saml2/logout"
            | "/logout"
    ) || HOSTED_UI_PATHS.contains(&path)
}

/// The context of an OAuth 2.0 / OIDC / hosted-UI request, with its path below any domain
/// prefix; `None` when the path is not one of ours.
pub async fn context<'a>(
    config: &'a Config,
    env: &'a dyn Env,
    request: &'a Request,
) -> Option<(Ctx<'a>, String)> {
    let path = request.path.as_str();
    // A domain's path prefix (`/<domain>/login`) pins the pool; see [`domain::split_domain_prefix`].
    let (path, pinned_pool) = match domain::split_domain_prefix(env, config, request).await {
        Some((rest, pool)) => (rest, Some(pool)),
        None if is_oauth_path(path) => (String::from(path), None),
        None => return None,
    };
    let path_prefix = request
        .path
        .strip_suffix(path.as_str())
        .unwrap_or_default()
        .into();
    let ctx = Ctx {
        config,
        env,
        request,
        pinned_pool,
        path_prefix,
    };
    Some((ctx, path))
}

/// Answers an OAuth 2.0 / OIDC endpoint (the hosted UI's paths are `crate::ui`'s).
pub async fn handle(ctx: &Ctx<'_>, path: &str) -> Response {
    let method = ctx.request.method.as_str();
    match (method, path) {
        ("GET" | "HEAD", "/oauth2/authorize") => federation::authorize(ctx).await,
        ("POST", "/oauth2/token") => token::token(ctx).await,
        ("GET" | "POST", "/oauth2/userInfo" | "/oauth2/userinfo") => endpoints::userinfo(ctx).await,
        ("POST", "/oauth2/revoke") => endpoints::revoke(ctx).await,
        ("GET" | "HEAD", "/logout") => endpoints::logout(ctx).await,
        ("GET" | "POST", "/oauth2/idpresponse") => federation::idp_response(ctx).await,
        ("POST", "/saml2/idpresponse") => federation::saml_response(ctx).await,
        ("GET" | "HEAD", "/saml2/metadata") => federation::saml_sp_metadata(ctx).await,
        ("POST", "/saml2/logout") => federation::saml_logout_response(ctx).await,
        _ => OAuthError::invalid_request("This endpoint does not accept this method.")
            .with_status(405)
            .into_json(),
    }
}

/// What every OAuth handler gets.
pub struct Ctx<'a> {
    pub config: &'a Config,
    pub env: &'a dyn Env,
    pub request: &'a Request,
    /// The pool a domain mapped this request to: clients of other pools are refused.
    pub pinned_pool: Option<String>,
    /// The domain's path prefix (`/<domain>`) the request came through, or empty: the hosted
    /// UI's links and redirects keep it.
    pub path_prefix: String,
}

impl core::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ctx")
            .field("path", &self.request.path)
            .field("pinned_pool", &self.pinned_pool)
            .finish()
    }
}

impl Ctx<'_> {
    pub fn issuer(&self, pool_id: &str) -> String {
        alloc::format!("{}/{pool_id}", self.config.base_url)
    }
    pub fn origin(&self) -> crate::auth::Origin {
        crate::auth::Origin {
            ip_address: self.request.remote_addr.clone(),
            user_agent: self
                .request
                .header("user-agent")
                .map(alloc::string::ToString::to_string),
        }
    }
}

#[cfg(test)]
mod tests;
