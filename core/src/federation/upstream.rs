//! Upstream OpenID providers: their discovery documents and JWKS, fetched over the
//! outbound-HTTP port ([`crate::ports::Http`]) and cached in the store (so every Wasm instance
//! and every Worker isolate shares one copy, with an expiry), and the verification of the ID
//! tokens they issue ([`verify_id_token`]).
//!
//! # Security
//! - Only RS256 is accepted (never `none`, never an HMAC algorithm keyed by a public key); the
//!   key is chosen by the token's `kid` from the issuer's JWKS, whose URL comes from the
//!   issuer's own discovery document (or the operator's configuration), never from the token.
//! - A `kid` not in the cached JWKS fetches the JWKS again, at most once per
//!   [`JWKS_REFETCH_MIN_MILLIS`] (keys rotate; tokens with made-up `kid`s must not turn into a
//!   stream of requests to the provider).
//! - `iss` must equal the issuer exactly, `aud` must name one of the accepted audiences, `exp`
//!   and `iat` are checked with [`CLOCK_SKEW_SECONDS`] of tolerance, and the `nonce` must match
//!   when one was sent.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codec::b64url_decode;
use crate::error::{Error, ErrorKind};
use crate::ports::{Env, HttpRequest, JwsAlgorithm};
use crate::store::{Expect, keys};

/// How long a fetched discovery document or JWKS is used before it is fetched again.
pub const DOCUMENT_TTL_MILLIS: u64 = 60 * 60 * 1000;
/// An unknown `kid` refetches the JWKS only if the cached copy is at least this old.
pub const JWKS_REFETCH_MIN_MILLIS: u64 = 10 * 1000;
/// Tolerance for the upstream's clock on `exp` and `iat`.
pub const CLOCK_SKEW_SECONDS: u64 = 60;
/// The largest ID token accepted.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The members of an OpenID Provider's discovery document (OIDC Discovery §3) Cognate uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
}

/// A cached upstream document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    fetched_millis: u64,
    expires_millis: u64,
    document: Value,
}

fn upstream_error(message: String) -> Error {
    Error::new(ErrorKind::ExternalService, message)
}

fn invalid_token(issuer: &str, detail: &str) -> Error {
    Error::not_authorized(format!("Invalid ID token from {issuer}: {detail}."))
}

/// GETs a JSON document over the port.
async fn fetch_json(env: &dyn Env, url: &str) -> Result<Value, Error> {
    let response = env.http().request(HttpRequest::get(url)).await?;
    if response.status != 200 {
        return Err(upstream_error(format!(
            "The identity provider answered {} for {}.",
            response.status,
            crate::codec::url_host(url).unwrap_or_default()
        )));
    }
    serde_json::from_slice(&response.body).map_err(|_| {
        upstream_error(format!(
            "The identity provider's document at {} is not JSON.",
            crate::codec::url_host(url).unwrap_or_default()
        ))
    })
}

/// A document from the store's cache if it is fresh, else fetched and cached. `force`: fetch
/// unless the cached copy is younger than [`JWKS_REFETCH_MIN_MILLIS`].
async fn document(env: &dyn Env, url: &str, force: bool) -> Result<(Value, bool), Error> {
    let key = keys::upstream_document(url);
    let now = env.clock().now_millis();
    if let Some(item) = env.store().get(&key).await?
        && let Ok(cached) = serde_json::from_slice::<Cached>(&item.value)
    {
        let fresh = now < cached.expires_millis;
        let recent = now.saturating_sub(cached.fetched_millis) < JWKS_REFETCH_MIN_MILLIS;
        if (fresh && !force) || (force && recent) {
            return Ok((cached.document, false));
        }
    }
    let fetched = fetch_json(env, url).await?;
    let cached = Cached {
        fetched_millis: now,
        expires_millis: now.saturating_add(DOCUMENT_TTL_MILLIS),
        document: fetched.clone(),
    };
    // A failed cache write costs only a later fetch.
    let _ = env
        .store()
        .put(&key, &serde_json::to_vec(&cached)?, Expect::Any)
        .await;
    Ok((fetched, true))
}

/// A SAML IdP's metadata XML at `url` (`MetadataURL`): the store's cached copy while it is
/// fresh ([`DOCUMENT_TTL_MILLIS`]), else fetched over the port and cached, so a sign-in (its
/// `AuthnRequest`, then the response's verification) fetches it at most once an hour. `force`
/// fetches it now (CreateIdentityProvider and UpdateIdentityProvider check what the IdP serves
/// today, and refresh the cache with it).
pub async fn saml_metadata(env: &dyn Env, url: &str, force: bool) -> Result<String, Error> {
    let key = keys::upstream_document(url);
    let now = env.clock().now_millis();
    if !force
        && let Some(item) = env.store().get(&key).await?
        && let Ok(Cached {
            expires_millis,
            document: Value::String(xml),
            ..
        }) = serde_json::from_slice::<Cached>(&item.value)
        && now < expires_millis
    {
        return Ok(xml);
    }
    let host = crate::codec::url_host(url).unwrap_or_default();
    let response = env.http().request(HttpRequest::get(url)).await?;
    if response.status != 200 {
        return Err(upstream_error(format!(
            "The SAML provider's metadata at {host} answered HTTP {}.",
            response.status
        )));
    }
    let xml = String::from_utf8(response.body).map_err(|_| {
        upstream_error(format!(
            "The SAML provider's metadata at {host} is not UTF-8."
        ))
    })?;
    let cached = Cached {
        fetched_millis: now,
        expires_millis: now.saturating_add(DOCUMENT_TTL_MILLIS),
        document: Value::String(xml.clone()),
    };
    // A failed cache write costs only a later fetch.
    let _ = env
        .store()
        .put(&key, &serde_json::to_vec(&cached)?, Expect::Any)
        .await;
    Ok(xml)
}

/// The discovery URL of an issuer (OIDC Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The issuer's discovery document (cached), checked against the issuer (OIDC Discovery
/// §4.3: its `issuer` must be exactly the one it was fetched for).
pub async fn discover(env: &dyn Env, issuer: &str) -> Result<Discovery, Error> {
    let (value, _) = document(env, &discovery_url(issuer), false).await?;
    let discovery: Discovery = serde_json::from_value(value).map_err(|_| {
        upstream_error(format!(
            "The discovery document of {issuer} lacks issuer, authorization_endpoint or jwks_uri."
        ))
    })?;
    if discovery.issuer != issuer {
        return Err(upstream_error(format!(
            "The discovery document of {issuer} names another issuer."
        )));
    }
    Ok(discovery)
}

/// One RSA key of a JWKS.
struct RsaKey {
    kid: Option<String>,
    n: Vec<u8>,
    e: Vec<u8>,
}

fn rsa_keys(jwks: &Value) -> Vec<RsaKey> {
    jwks.get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
                .filter(|k| {
                    k.get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig")
                })
                .filter_map(|k| {
                    Some(RsaKey {
                        kid: k
                            .get("kid")
                            .and_then(Value::as_str)
                            .map(ToString::to_string),
                        n: b64url_decode(k.get("n")?.as_str()?)?,
                        e: b64url_decode(k.get("e")?.as_str()?)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The key for `kid` (or the only key, for a token without `kid`).
fn pick(keys: Vec<RsaKey>, kid: Option<&str>) -> Option<RsaKey> {
    match kid {
        Some(kid) => keys.into_iter().find(|k| k.kid.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.into_iter().next(),
        None => None,
    }
}

/// Verifies an ID token issued by the OpenID provider `issuer` (found by discovery:
/// `<issuer>/.well-known/openid-configuration`, then its `jwks_uri`) and returns its claims.
///
/// - `audiences`: the client ids the token may be for (`aud`, a string or an array, must name
///   one; an `azp`, when present, must be one of them too).
/// - `nonce`: the nonce sent with the authorization request; `None` skips the check (tokens
///   that come with no authorization request of ours, such as identity pools' `Logins`).
///
/// Errors: a token that fails any check is `NotAuthorizedException` ("Invalid ID token from
/// <issuer>: <why>."); an unreachable or misbehaving provider (or one off the operator's
/// upstream hosts) is `ExternalServiceException`.
pub async fn verify_id_token(
    env: &dyn Env,
    issuer: &str,
    audiences: &[&str],
    token: &str,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, Error> {
    let discovery = discover(env, issuer).await?;
    verify_with_jwks(env, issuer, &discovery.jwks_uri, audiences, token, nonce).await
}

/// [`verify_id_token`] with a known JWKS URL (a provider whose endpoints are configured rather
/// than discovered).
pub async fn verify_with_jwks(
    env: &dyn Env,
    issuer: &str,
    jwks_uri: &str,
    audiences: &[&str],
    token: &str,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, Error> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid_token(issuer, "the token is too large"));
    }
    // 1. The JWS compact serialization: header, payload, signature.
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_token(issuer, "not a signed JWT"));
    };
    let header: Value = b64url_decode(header_b64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid_token(issuer, "the header does not decode"))?;
    // 2. RS256 only.
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid_token(issuer, "the algorithm is not RS256"));
    }
    if header.get("crit").is_some() {
        return Err(invalid_token(
            issuer,
            "unsupported critical header parameters",
        ));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = b64url_decode(signature_b64)
        .ok_or_else(|| invalid_token(issuer, "the signature does not decode"))?;
    // 3. The key by kid; an unknown kid refetches the JWKS once (keys rotate).
    let (jwks, fetched) = document(env, jwks_uri, false).await?;
    let key = match pick(rsa_keys(&jwks), kid) {
        Some(key) => key,
        None if fetched => {
            return Err(invalid_token(
                issuer,
                "no key of the issuer matches the kid",
            ));
        }
        None => {
            let (jwks, _) = document(env, jwks_uri, true).await?;
            pick(rsa_keys(&jwks), kid)
                .ok_or_else(|| invalid_token(issuer, "no key of the issuer matches the kid"))?
        }
    };
    // 4. The signature over `header.payload`.
    let input_len = header_b64.len() + 1 + payload_b64.len();
    let input = token.get(..input_len).unwrap_or_default().as_bytes();
    let valid = env
        .jws()
        .verify(
            JwsAlgorithm::RS256,
            key.kid.as_deref().unwrap_or_default(),
            &key.n,
            &key.e,
            input,
            &signature,
        )
        .await?;
    if !valid {
        return Err(invalid_token(issuer, "the signature does not verify"));
    }
    // 5. The claims.
    let claims: Map<String, Value> = b64url_decode(payload_b64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid_token(issuer, "the claims do not decode"))?;
    check_claims(env, issuer, audiences, &claims, nonce)?;
    Ok(claims)
}

/// OIDC Core §3.1.3.7, steps 2-3 and 9-11: issuer, audience, expiry, issue time, nonce.
fn check_claims(
    env: &dyn Env,
    issuer: &str,
    audiences: &[&str],
    claims: &Map<String, Value>,
    nonce: Option<&str>,
) -> Result<(), Error> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(invalid_token(issuer, "the issuer does not match"));
    }
    let aud: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => alloc::vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !aud.iter().any(|a| audiences.contains(a)) {
        return Err(invalid_token(issuer, "the audience does not match"));
    }
    if let Some(azp) = claims.get("azp")
        && !azp.as_str().is_some_and(|azp| audiences.contains(&azp))
    {
        return Err(invalid_token(issuer, "the authorized party does not match"));
    }
    let now = env.clock().now_millis() / 1000;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_token(issuer, "no exp"))?;
    if exp.saturating_add(CLOCK_SKEW_SECONDS) <= now {
        return Err(invalid_token(issuer, "the token has expired"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_token(issuer, "no iat"))?;
    if iat > now.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(invalid_token(issuer, "the token was issued in the future"));
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid_token(issuer, "no sub"));
    }
    if let Some(expected) = nonce
        && claims.get("nonce").and_then(Value::as_str) != Some(expected)
    {
        return Err(invalid_token(issuer, "the nonce does not match"));
    }
    Ok(())
}
