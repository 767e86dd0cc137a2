//! The identity service's OpenID tokens: RS256 JWTs signed by the service's own key (created on
//! first use, kept at [`crate::store::keys::identity_signing_keys`]), published with a discovery
//! document and a JWKS so AWS IAM can register Cognate as an OpenID Connect provider.
//!
//! Cognito's issuer is `https://cognito-identity.amazonaws.com`; Cognate's is its public base
//! URL followed by [`ISSUER_PATH`] (`<base>/cognito-identity`), with the discovery document at
//! `<issuer>/.well-known/openid-configuration` and the keys at `<issuer>/.well-known/jwks.json`.
//! Claims: `iss`, `sub` (the identity id), `aud` (the identity pool id), `amr`
//! (`authenticated` and the providers, or `unauthenticated`), `iat`, `exp` (10 minutes, or the
//! developer's `TokenDuration`), and principal tags under `https://aws.amazon.com/tags`.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::ports::{Env, JwsAlgorithm};
use crate::store::{Expect, StoreError, keys};
use crate::token::{KeySet, SigningKey};

/// The issuer's path under the base URL.
pub const ISSUER_PATH: &str = "/cognito-identity";
/// The discovery document's path.
pub const DISCOVERY_PATH: &str = "/cognito-identity/.well-known/openid-configuration";
/// The JWKS path.
pub const JWKS_PATH: &str = "/cognito-identity/.well-known/jwks.json";
/// How long an OpenID token lasts (GetOpenIdToken), in seconds.
pub const TOKEN_SECONDS: u64 = 600;
/// The default `TokenDuration` of GetOpenIdTokenForDeveloperIdentity, in seconds.
pub const DEVELOPER_TOKEN_SECONDS: u64 = 900;
/// The claim STS reads session tags from.
pub const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";

/// The identity service's issuer.
pub fn issuer(base_url: &str) -> String {
    format!("{base_url}{ISSUER_PATH}")
}

/// The service's keys, created on first use (racing creators agree: create-only).
pub async fn key_set(env: &dyn Env) -> Result<KeySet, Error> {
    let key = keys::identity_signing_keys();
    if let Some(item) = env.store().get(&key).await? {
        return Ok(serde_json::from_slice(&item.value)?);
    }
    let generated = env.jws().generate(JwsAlgorithm::RS256).await?;
    let set = KeySet {
        keys: alloc::vec![SigningKey {
            kid: crate::ids::random_token(env.random(), 24),
            alg: JwsAlgorithm::RS256,
            private_key: Some(generated.private_pkcs8_der),
            n: crate::codec::b64url(&generated.modulus),
            e: crate::codec::b64url(&generated.exponent),
            created_millis: env.clock().now_millis(),
            signs_from_millis: None,
            retires_millis: None,
        }],
    };
    match env
        .store()
        .put(&key, &serde_json::to_vec(&set)?, Expect::Absent)
        .await
    {
        Ok(_) => Ok(set),
        Err(StoreError::Conflict) => match env.store().get(&key).await? {
            Some(item) => Ok(serde_json::from_slice(&item.value)?),
            None => Err(Error::internal("identity signing keys vanished")),
        },
        Err(e) => Err(e.into()),
    }
}

/// What goes into one OpenID token.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub identity_pool_id: &'a str,
    pub identity_id: &'a str,
    /// `None`: a guest. Otherwise the `amr` entries of the logins (after `authenticated`).
    pub amr: Option<Vec<String>>,
    /// Session tags: tag key -> value.
    pub principal_tags: BTreeMap<String, String>,
    pub lifetime_seconds: u64,
}

/// Issues an OpenID token.
pub async fn issue(
    env: &dyn Env,
    base_url: &str,
    request: &TokenRequest<'_>,
) -> Result<String, Error> {
    let set = key_set(env).await?;
    let now = env.clock().now_millis() / 1000;
    let amr: Vec<String> = match &request.amr {
        None => alloc::vec!["unauthenticated".to_string()],
        Some(entries) => core::iter::once("authenticated".to_string())
            .chain(entries.iter().cloned())
            .collect(),
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(request.identity_id));
    claims.insert("aud".into(), json!(request.identity_pool_id));
    claims.insert("amr".into(), json!(amr));
    claims.insert("iss".into(), json!(issuer(base_url)));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + request.lifetime_seconds));
    if !request.principal_tags.is_empty() {
        let tags: BTreeMap<&String, [&String; 1]> = request
            .principal_tags
            .iter()
            .map(|(k, v)| (k, [v]))
            .collect();
        claims.insert(TAGS_CLAIM.into(), json!({ "principal_tags": tags }));
    }
    let signer = set.inline_signer(env.clock().now_millis())?;
    crate::token::sign(env, &signer, &claims).await
}

/// Verifies an OpenID token of this service for `identity_pool_id` (a `Logins` entry of the
/// identity service): signature, issuer, audience, expiry.
pub async fn verify(
    env: &dyn Env,
    base_url: &str,
    token: &str,
    identity_pool_id: &str,
) -> Result<Map<String, Value>, Error> {
    let invalid = || Error::not_authorized("Invalid login token.");
    let jwt = crate::token::decode_unverified(token).ok_or_else(invalid)?;
    let set = key_set(env).await?;
    let key = set
        .keys
        .iter()
        .find(|k| k.kid == jwt.kid)
        .ok_or_else(invalid)?;
    if jwt.alg != key.alg.name() {
        return Err(invalid());
    }
    let n = crate::codec::b64url_decode(&key.n).ok_or_else(invalid)?;
    let e = crate::codec::b64url_decode(&key.e).ok_or_else(invalid)?;
    if !jwt.verify_with(env, key.alg, &key.kid, &n, &e).await? {
        return Err(invalid());
    }
    let claims = jwt.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer(base_url).as_str())
        || claims.get("aud").and_then(Value::as_str) != Some(identity_pool_id)
    {
        return Err(invalid());
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(invalid)?;
    if env.clock().now_millis() / 1000 >= exp {
        return Err(Error::not_authorized("Invalid login token. Token expired."));
    }
    Ok(claims)
}

/// The discovery document.
pub fn discovery(base_url: &str) -> Value {
    let iss = issuer(base_url);
    json!({
        "issuer": iss,
        "jwks_uri": format!("{base_url}{JWKS_PATH}"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "aud", "amr", "iss", "iat", "exp", TAGS_CLAIM],
    })
}

/// The JWKS document.
pub async fn jwks(env: &dyn Env) -> Result<Value, Error> {
    Ok(crate::token::jwks(
        &key_set(env).await?,
        env.clock().now_millis(),
    ))
}
