//! How a `Logins` map is proved: each entry is a provider name and a token, and only a token
//! that verifies becomes a login ([`VerifiedLogin`]).
//!
//! - A Cognate user pool (`cognito-idp.<region>.amazonaws.com/<poolId>`, or the pool's issuer
//!   URL `<base>/<poolId>` with or without its scheme): an ID token of that pool, signed by its
//!   key, unexpired, whose `aud` is a `ClientId` the identity pool lists for the pool; with
//!   `ServerSideTokenCheck`, also not revoked (signed out, session revoked, user disabled or gone).
//! - The identity service itself (`cognito-identity.amazonaws.com`, or Cognate's identity issuer):
//!   an OpenID token from GetOpenIdTokenForDeveloperIdentity or GetOpenIdToken for this pool; it
//!   proves an identity rather than adding a login.
//! - The pool's developer provider: only on the signed developer operations (the value is the
//!   developer's user identifier, which the developer's back end vouches for).
//! - An OpenID Connect provider the identity pool names in `OpenIdConnectProviderARNs`
//!   (`arn:aws:iam::<account>:oidc-provider/<host/path>`, its `Logins` key `<host/path>`): an ID
//!   token verified against the provider's discovery document and JWKS, fetched over the
//!   outbound-HTTP port ([`crate::federation::upstream`]), issued to one of the client ids the
//!   operator registered for it ([`crate::config::OidcProvider`], IAM's part in Cognito).
//! - Google (`accounts.google.com`) and Sign in with Apple (`appleid.apple.com`) in
//!   `SupportedLoginProviders`: the same, with the provider's issuer and the pool's app id(s) as
//!   audience. Facebook, Login with Amazon, Twitter and Digits send access tokens that only their
//!   own APIs can check, which Cognate does not call: their logins are refused, never trusted.
//! - SAML providers (`SamlProviderARNs`) are refused for now.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::identities::LinkedLogin;
use super::pools::{CognitoProvider, IdentityPoolRecord};
use crate::config::Config;
use crate::error::Error;
use crate::ports::Env;
use crate::store::keys;

/// A login whose token verified.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    pub login: LinkedLogin,
    /// The token's claims (role rules and principal tags read them).
    pub claims: Map<String, Value>,
    /// The `amr` entries this login adds to OpenID tokens (after `authenticated`).
    pub amr: Vec<String>,
}

/// What a `Logins` map proves.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// Logins of providers (to link, to choose roles by).
    pub logins: Vec<VerifiedLogin>,
    /// An identity proved by the identity service's own OpenID token.
    pub identity: Option<String>,
}

/// The name Cognito gives the identity service as a login provider.
pub const COGNITO_IDENTITY_PROVIDER: &str = "cognito-identity.amazonaws.com";

fn unsupported() -> Error {
    Error::not_authorized("Token is not from a supported provider of this identity pool.")
}

fn invalid(detail: &str) -> Error {
    Error::not_authorized(format!("Invalid login token. {detail}"))
}

/// The user pool a `Logins` key names, when it is one of the accepted forms.
fn user_pool_of<'a>(base_url: &str, provider: &'a str) -> Option<&'a str> {
    let (prefix, pool_id) = provider.rsplit_once('/')?;
    if !crate::ids::is_pool_id(pool_id) {
        return None;
    }
    let region = pool_id.split('_').next()?;
    let base_no_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let accepted = prefix == format!("cognito-idp.{region}.amazonaws.com")
        || prefix == base_url
        || prefix == base_no_scheme;
    accepted.then_some(pool_id)
}

/// Verifies a `Logins` map for `pool`. `developer` allows the pool's developer provider (signed
/// operations only).
pub async fn verify(
    env: &dyn Env,
    config: &Config,
    pool: &IdentityPoolRecord,
    logins: &BTreeMap<String, String>,
    developer: bool,
) -> Result<Proof, Error> {
    let base_url = config.base_url.as_str();
    let mut proof = Proof::default();
    for (provider, token) in logins {
        if pool.settings.developer_provider_name.as_deref() == Some(provider.as_str()) {
            if !developer {
                return Err(Error::not_authorized(
                    "Developer logins are accepted only on the developer operations.",
                ));
            }
            proof.logins.push(VerifiedLogin {
                amr: alloc::vec![provider.clone(), format!("{provider}:{}:{token}", pool.id)],
                login: LinkedLogin {
                    provider: provider.clone(),
                    subject: token.clone(),
                },
                claims: Map::new(),
            });
            continue;
        }
        if provider == COGNITO_IDENTITY_PROVIDER || *provider == super::open_id::issuer(base_url) {
            let claims = super::open_id::verify(env, base_url, token, &pool.id).await?;
            let sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("Missing sub."))?;
            proof.identity = Some(sub.to_string());
            continue;
        }
        // An OIDC provider the pool names comes first: a user pool of this server may be named as
        // a plain OpenID Connect provider too.
        if pool
            .settings
            .open_id_connect_provider_arns
            .iter()
            .any(|arn| oidc_provider_of_arn(arn) == Some(provider.as_str()))
        {
            let registered = config
                .oidc_providers
                .iter()
                .find(|p| p.name() == provider)
                .ok_or_else(|| {
                    Error::new(
                        crate::error::ErrorKind::InvalidIdentityPoolConfiguration,
                        format!(
                            "The OpenID Connect provider {} is not registered on this server.",
                            provider.chars().take(128).collect::<String>()
                        ),
                    )
                })?;
            let audiences: Vec<&str> = registered.client_ids.iter().map(String::as_str).collect();
            proof.logins.push(
                verify_oidc_token(
                    env,
                    provider,
                    registered.url.trim_end_matches('/'),
                    &audiences,
                    token,
                )
                .await?,
            );
            continue;
        }
        if let Some(issuer) = social_issuer(provider)
            && let Some(app_ids) = pool.settings.supported_login_providers.get(provider)
        {
            let audiences: Vec<&str> = app_ids
                .split([';', ','])
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            proof
                .logins
                .push(verify_oidc_token(env, provider, issuer, &audiences, token).await?);
            continue;
        }
        if let Some(user_pool_id) = user_pool_of(base_url, provider) {
            let providers = pool.cognito_providers_of(user_pool_id);
            if providers.is_empty() {
                return Err(unsupported());
            }
            proof.logins.push(
                verify_user_pool_token(env, base_url, user_pool_id, &providers, token).await?,
            );
            continue;
        }
        if pool.has_provider(provider) {
            return Err(Error::not_authorized(format!(
                "Cognate cannot verify tokens of {}: its access tokens are checked only by its own API.",
                provider.chars().take(128).collect::<String>()
            )));
        }
        return Err(unsupported());
    }
    Ok(proof)
}

/// The `Logins` name of an IAM OpenID Connect provider ARN (`arn:aws:iam::<account>:oidc-provider/<name>`).
fn oidc_provider_of_arn(arn: &str) -> Option<&str> {
    arn.split_once(":oidc-provider/").map(|(_, name)| name)
}

/// The issuer of a public provider whose logins are OpenID Connect ID tokens.
fn social_issuer(provider: &str) -> Option<&'static str> {
    match provider {
        "accounts.google.com" => Some("https://accounts.google.com"),
        "appleid.apple.com" => Some("https://appleid.apple.com"),
        _ => None,
    }
}

/// An upstream OpenID provider's ID token ([`crate::federation::upstream::verify_id_token`]: its
/// signature by the provider's published keys, issuer, audience, expiry). The login's subject is
/// the token's `sub`; its `amr` entry `<provider>:<aud>:<sub>`.
async fn verify_oidc_token(
    env: &dyn Env,
    provider: &str,
    issuer: &str,
    audiences: &[&str],
    token: &str,
) -> Result<VerifiedLogin, Error> {
    if audiences.is_empty() {
        return Err(Error::new(
            crate::error::ErrorKind::InvalidIdentityPoolConfiguration,
            format!("No client id is registered for {provider}."),
        ));
    }
    let claims =
        crate::federation::upstream::verify_id_token(env, issuer, audiences, token, None).await?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("Missing sub."))?
        .to_string();
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .find(|a| audiences.contains(a))
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    Ok(VerifiedLogin {
        amr: alloc::vec![provider.to_string(), format!("{provider}:{aud}:{sub}")],
        login: LinkedLogin {
            provider: provider.to_string(),
            subject: sub,
        },
        claims,
    })
}

/// A Cognate user pool's ID token, checked against the identity pool's providers of that pool.
async fn verify_user_pool_token(
    env: &dyn Env,
    base_url: &str,
    user_pool_id: &str,
    providers: &[&CognitoProvider],
    token: &str,
) -> Result<VerifiedLogin, Error> {
    let (token_pool, claims) = crate::token::verify(env, base_url, token, "id")
        .await
        .map_err(|e| {
            if e.message.contains("expired") {
                invalid("Token expired.")
            } else {
                invalid("Not a valid OpenId Connect identity token.")
            }
        })?;
    if token_pool != user_pool_id {
        return Err(invalid("Issuer doesn't match providerName"));
    }
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(provider) = providers.iter().find(|p| p.client_id == aud) else {
        return Err(invalid("Incorrect token audience."));
    };
    if providers
        .iter()
        .any(|p| p.server_side_token_check && p.client_id == aud)
    {
        check_not_revoked(env, user_pool_id, &claims).await?;
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Missing sub."))?
        .to_string();
    Ok(VerifiedLogin {
        amr: alloc::vec![
            provider.provider_name.clone(),
            format!("{}:CognitoSignIn:{sub}", provider.provider_name),
        ],
        login: LinkedLogin {
            provider: provider.provider_name.clone(),
            subject: sub,
        },
        claims,
    })
}

/// `ServerSideTokenCheck`: the user still exists with this `sub`, is enabled, and the token's
/// session was neither revoked nor ended by a global sign-out (the rules of
/// [`crate::token::authorize_access_token`], for ID tokens).
async fn check_not_revoked(
    env: &dyn Env,
    user_pool_id: &str,
    claims: &Map<String, Value>,
) -> Result<(), Error> {
    let revoked = || invalid("Token is revoked.");
    let (pool, _) = crate::pool::load_pool(env, user_pool_id)
        .await
        .map_err(|_| revoked())?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    let (user, _) = crate::user::load(env, &pool, text("cognito:username"))
        .await?
        .filter(|(u, _)| u.sub == text("sub"))
        .ok_or_else(revoked)?;
    let origin_jti = text("origin_jti");
    if user.session_revoked(origin_jti) || !user.enabled {
        return Err(revoked());
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let signed_out_second = user.tokens_valid_after_millis / 1000;
    if user.tokens_valid_after_millis > 0 {
        if iat < signed_out_second {
            return Err(revoked());
        }
        if iat == signed_out_second {
            let started = env
                .store()
                .get(&keys::refresh_family(&pool.id, origin_jti))
                .await?
                .map(|item| serde_json::from_slice::<crate::token::FamilyRecord>(&item.value))
                .transpose()?
                .map(|f| f.created_millis);
            if started.is_none_or(|t| t <= user.tokens_valid_after_millis) {
                return Err(revoked());
            }
        }
    }
    Ok(())
}
