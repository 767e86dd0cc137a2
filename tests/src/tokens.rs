//! Tokens as a relying party sees them: a pool's JWKS, verification, and a JWT's parts for
//! tampering with.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::Target;

impl Target {
    /// The pool's published keys, `GET <base>/<poolId>/.well-known/jwks.json`.
    pub async fn jwks(&self, pool_id: &str) -> Jwks {
        let url = format!("{}/{pool_id}/.well-known/jwks.json", self.base_url);
        let response = self.http().get(&url).send().await;
        let response = match response {
            Ok(r) => r,
            Err(e) => panic!("GET {url}: {e}"),
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status.as_u16(), 200, "GET {url}: {text}");
        let keys: JwkSet = match serde_json::from_str(&text) {
            Ok(keys) => keys,
            Err(e) => panic!("GET {url}: not a JWK set ({e}): {text}"),
        };
        Jwks {
            issuer: self.issuer(pool_id),
            keys,
        }
    }
}

/// Which token a JWT is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    pub fn claim(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

/// A pool's JWKS and issuer: verifies tokens as any relying party would.
#[derive(Debug, Clone)]
pub struct Jwks {
    pub issuer: String,
    pub keys: JwkSet,
}

impl Jwks {
    /// Verifies an ID token for `client_id`: RS256 under the key named by `kid`, `iss`,
    /// `exp`, `aud` = client id, `token_use` = `id`. Returns its claims.
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        self.verify(token, TokenUse::Id, client_id)
    }

    /// Verifies an access token for `client_id`: as for ID tokens, with `client_id` in place
    /// of `aud` and `token_use` = `access`.
    pub fn verify_access_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        self.verify(token, TokenUse::Access, client_id)
    }

    pub fn verify(
        &self,
        token: &str,
        token_use: TokenUse,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("alg is {:?}, not RS256", header.alg));
        }
        let kid = header.kid.ok_or("the token's header has no kid")?;
        let jwk = self
            .keys
            .find(&kid)
            .ok_or_else(|| format!("no key with kid {kid:?} in the JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWK {kid:?}: {e}"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match token_use {
            TokenUse::Id => validation.set_audience(&[client_id]),
            // Access tokens carry `client_id`, not `aud`; checked below.
            TokenUse::Access => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| format!("verification failed: {e}"))?;
        let claims = data.claims;
        let claimed_use = claims.get("token_use").and_then(Value::as_str);
        if claimed_use != Some(token_use.claim()) {
            return Err(format!(
                "token_use is {claimed_use:?}, expected {:?}",
                token_use.claim()
            ));
        }
        if token_use == TokenUse::Access {
            let claimed_client = claims.get("client_id").and_then(Value::as_str);
            if claimed_client != Some(client_id) {
                return Err(format!(
                    "client_id is {claimed_client:?}, expected {client_id:?}"
                ));
            }
        }
        Ok(claims)
    }
}

/// A JWT's three parts.
#[derive(Debug, Clone)]
pub struct JwtParts {
    pub header: String,
    pub payload: String,
    pub signature: String,
}

impl JwtParts {
    pub fn split(token: &str) -> JwtParts {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "not a JWS compact serialisation: {token}");
        JwtParts {
            header: parts[0].to_owned(),
            payload: parts[1].to_owned(),
            signature: parts[2].to_owned(),
        }
    }

    pub fn join(&self) -> String {
        format!("{}.{}.{}", self.header, self.payload, self.signature)
    }

    pub fn header_json(&self) -> Map<String, Value> {
        decode_json_part(&self.header)
    }

    pub fn payload_json(&self) -> Map<String, Value> {
        decode_json_part(&self.payload)
    }
}

/// Decodes one base64url JSON part of a JWT.
pub fn decode_json_part(part: &str) -> Map<String, Value> {
    let bytes = Base64UrlUnpadded::decode_vec(part).expect("a JWT part is base64url");
    serde_json::from_slice(&bytes).expect("a JWT part is a JSON object")
}

/// Encodes a JSON object as one base64url JWT part.
pub fn encode_json_part(value: &Map<String, Value>) -> String {
    let bytes = serde_json::to_vec(value).expect("JSON serialises");
    Base64UrlUnpadded::encode_string(&bytes)
}

/// `s` with the character at `index` replaced by a different base64url character.
pub fn flip_char(s: &str, index: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let c = chars[index];
    chars[index] = if c == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    use serde_json::json;
    use std::time::{SystemTime, UNIX_EPOCH};

    const ISSUER: &str = "http://127.0.0.1:9229/us-east-1_AbCdEf123";
    const CLIENT: &str = "abcdefghijklmnopqrstuvwxyz";

    fn new_key() -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key")
    }

    fn jwks_of(key: &rsa::RsaPrivateKey, kid: &str) -> Jwks {
        let n = Base64UrlUnpadded::encode_string(&key.n().to_bytes_be());
        let e = Base64UrlUnpadded::encode_string(&key.e().to_bytes_be());
        let keys = serde_json::from_value(json!({"keys": [
            {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": n, "e": e}
        ]}))
        .expect("JWK set");
        Jwks {
            issuer: ISSUER.to_owned(),
            keys,
        }
    }

    fn sign(key: &rsa::RsaPrivateKey, kid: &str, claims: &Value) -> String {
        let der = key.to_pkcs1_der().expect("DER");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes()))
            .expect("sign")
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn id_claims() -> Value {
        json!({"sub": "s", "iss": ISSUER, "aud": CLIENT, "token_use": "id",
               "iat": now(), "exp": now() + 3600})
    }

    fn access_claims() -> Value {
        json!({"sub": "s", "iss": ISSUER, "client_id": CLIENT, "token_use": "access",
               "iat": now(), "exp": now() + 3600})
    }

    #[test]
    fn jwks_verify_accepts_good_tokens_and_refuses_bad_ones() {
        let key = new_key();
        let jwks = jwks_of(&key, "k1");
        let id = sign(&key, "k1", &id_claims());
        let access = sign(&key, "k1", &access_claims());
        jwks.verify_id_token(&id, CLIENT).expect("good ID token");
        jwks.verify_access_token(&access, CLIENT)
            .expect("good access token");

        assert!(
            jwks.verify_access_token(&id, CLIENT).is_err(),
            "ID token as access"
        );
        assert!(
            jwks.verify_id_token(&access, CLIENT).is_err(),
            "access token as ID"
        );
        assert!(
            jwks.verify_id_token(&id, "otherclient").is_err(),
            "wrong aud"
        );
        assert!(
            jwks.verify_access_token(&access, "otherclient").is_err(),
            "wrong client_id"
        );

        let mut claims = id_claims();
        claims["iss"] = json!("http://elsewhere/us-east-1_AbCdEf123");
        assert!(
            jwks.verify_id_token(&sign(&key, "k1", &claims), CLIENT)
                .is_err(),
            "wrong iss"
        );
        let mut claims = id_claims();
        claims["exp"] = json!(now() - 3600);
        assert!(
            jwks.verify_id_token(&sign(&key, "k1", &claims), CLIENT)
                .is_err(),
            "expired"
        );
        assert!(
            jwks.verify_id_token(&sign(&key, "k2", &id_claims()), CLIENT)
                .is_err(),
            "unknown kid"
        );
        let other = new_key();
        assert!(
            jwks.verify_id_token(&sign(&other, "k1", &id_claims()), CLIENT)
                .is_err(),
            "other key"
        );

        let mut parts = JwtParts::split(&id);
        let mut header = parts.header_json();
        header.insert("alg".into(), json!("none"));
        parts.header = encode_json_part(&header);
        parts.signature = String::new();
        assert!(
            jwks.verify_id_token(&parts.join(), CLIENT).is_err(),
            "alg none"
        );

        let mut parts = JwtParts::split(&id);
        parts.signature = flip_char(&parts.signature, parts.signature.len() / 2);
        assert!(
            jwks.verify_id_token(&parts.join(), CLIENT).is_err(),
            "flipped signature"
        );
    }

    #[test]
    fn flip_char_changes_exactly_one_character() {
        assert_eq!(flip_char("xAy", 1), "xBy");
        assert_eq!(flip_char("xzy", 1), "xAy");
    }
}
