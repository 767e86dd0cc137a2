//! JWTs: reading claims, and verifying ID tokens with WebCrypto against the pool's JWKS.

use std::cell::RefCell;
use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use js_sys::Function;
use serde::Deserialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use crate::error::{AuthError, Result, names};
use crate::js;

/// How far a token's `exp` may be behind our clock before it is refused (clock skew).
const EXP_LEEWAY_SECS: f64 = 60.0;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// A JWT's parts: claims decoded, signature not checked.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub claims: Map<String, Value>,
    kid: Option<String>,
    alg: String,
    signing_input: String,
    signature: Vec<u8>,
}

fn malformed() -> AuthError {
    AuthError::new(names::TOKEN, "the token is not a well-formed JWT")
}

impl Jwt {
    pub fn decode(token: &str) -> Result<Self> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let header: Header = serde_json::from_slice(
            &Base64UrlUnpadded::decode_vec(header).map_err(|_| malformed())?,
        )
        .map_err(|_| malformed())?;
        let claims: Map<String, Value> = serde_json::from_slice(
            &Base64UrlUnpadded::decode_vec(payload).map_err(|_| malformed())?,
        )
        .map_err(|_| malformed())?;
        Ok(Self {
            claims,
            kid: header.kid,
            alg: header.alg,
            signing_input: token
                .get(..header_payload_len(token))
                .unwrap_or_default()
                .to_owned(),
            signature: Base64UrlUnpadded::decode_vec(signature).map_err(|_| malformed())?,
        })
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `exp` in seconds since the epoch (0 when absent, so the token counts as expired).
    pub fn exp(&self) -> f64 {
        self.claims
            .get("exp")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }
}

/// The length of `header.payload` (the signed part).
fn header_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

/// What an ID token must say.
#[derive(Debug)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
}

/// The pool's signing keys, imported once and cached by `kid`.
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: RefCell<BTreeMap<String, web_sys::CryptoKey>>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Value>,
}

impl KeyCache {
    /// Verifies an ID token: RS256 signature by a key of `jwks_url`, then `iss`, `aud`,
    /// `token_use` = `id`, `exp`, and `nonce` when one was sent.
    pub async fn verify_id_token(
        &self,
        fetch: Option<&Function>,
        jwks_url: &str,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<Jwt> {
        let jwt = Jwt::decode(token)?;
        if jwt.alg != "RS256" {
            return Err(AuthError::new(
                names::TOKEN,
                format!("unexpected algorithm {}", jwt.alg),
            ));
        }
        let kid = jwt
            .kid
            .clone()
            .ok_or_else(|| AuthError::new(names::TOKEN, "the token names no key (kid)"))?;
        let key = self.key(fetch, jwks_url, &kid).await?;
        if !js::verify_rs256(&key, &jwt.signature, jwt.signing_input.as_bytes()).await? {
            return Err(AuthError::new(names::TOKEN, "the signature is invalid"));
        }
        check_claims(&jwt, expected, js::now_millis() / 1000.0)?;
        Ok(jwt)
    }

    async fn key(
        &self,
        fetch: Option<&Function>,
        jwks_url: &str,
        kid: &str,
    ) -> Result<web_sys::CryptoKey> {
        if let Some(key) = self.keys.borrow().get(kid) {
            return Ok(key.clone());
        }
        // An unknown kid: the pool may have rotated its keys, so fetch the set again.
        let response = js::get_url(fetch, jwks_url).await?;
        if response.status != 200 {
            return Err(AuthError::new(
                names::NETWORK,
                format!("JWKS answered HTTP {}", response.status),
            ));
        }
        let jwks: Jwks = serde_json::from_str(&response.body)
            .map_err(|e| AuthError::new(names::NETWORK, format!("JWKS: {e}")))?;
        for jwk in jwks.keys {
            let (Some(id), Some("RSA")) = (
                jwk.get("kid").and_then(Value::as_str),
                jwk.get("kty").and_then(Value::as_str),
            ) else {
                continue;
            };
            let imported = js::import_rs256_key(&jwk_object(&jwk)).await?;
            self.keys.borrow_mut().insert(id.to_owned(), imported);
        }
        self.keys
            .borrow()
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::new(names::TOKEN, format!("no key {kid} in the pool's JWKS")))
    }
}

/// Only the members WebCrypto's JWK import needs (it refuses some, e.g. a mismatched `use`).
fn jwk_object(jwk: &Value) -> JsValue {
    let mut out = Map::new();
    for member in ["kty", "n", "e"] {
        if let Some(value) = jwk.get(member) {
            out.insert(member.into(), value.clone());
        }
    }
    out.insert("alg".into(), "RS256".into());
    js::to_value(&out)
}

/// The claim checks, apart from the signature.
pub fn check_claims(jwt: &Jwt, expected: &Expected<'_>, now_secs: f64) -> Result<()> {
    let fail = |what: &str| Err(AuthError::new(names::TOKEN, what.to_owned()));
    if jwt.claim_str("iss") != Some(expected.issuer) {
        return fail("iss is not the pool's issuer");
    }
    let aud_ok = match jwt.claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.client_id)),
        _ => false,
    };
    if !aud_ok {
        return fail("aud is not this app client");
    }
    if jwt.claim_str("token_use") != Some("id") {
        return fail("token_use is not id");
    }
    if jwt.exp() + EXP_LEEWAY_SECS < now_secs {
        return fail("the token has expired");
    }
    if let Some(nonce) = expected.nonce
        && jwt.claim_str("nonce") != Some(nonce)
    {
        return fail("nonce does not match the sign-in request");
    }
    Ok(())
}
