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
//! - Social and OpenID Connect providers need their keys fetched over the network, which this
//!   core cannot do yet: their tokens are refused, never trusted.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::identities::LinkedLogin;
use super::pools::{CognitoProvider, IdentityPoolRecord};
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
    base_url: &str,
    pool: &IdentityPoolRecord,
    logins: &BTreeMap<String, String>,
    developer: bool,
) -> Result<Proof, Error> {
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
                "Cognate cannot verify tokens of {} yet.",
                provider.chars().take(128).collect::<String>()
            )));
        }
        return Err(unsupported());
    }
    Ok(proof)
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
