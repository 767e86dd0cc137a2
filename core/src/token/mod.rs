//! Tokens: the pool's signing keys, JWT signing and verification, the JWKS; what goes in them
//! ([`claims`]), issuing them ([`issue`]), refresh tokens with rotation and reuse detection
//! ([`refresh`]) and access-token checks ([`access`]).
//!
//! ID and access tokens are RS256 JWS (RFC 7515) with Cognito's claims; the signature itself is
//! the `Jws` port's job, so the edge signs with WebCrypto and the host with a native library.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub mod access;
pub mod claims;
pub mod issue;
pub mod refresh;
pub mod session;

pub use access::{
    authorize_access_token, authorize_access_token_scoped, authorize_access_token_user,
};
pub use claims::Grant;
pub use issue::{RefreshIssue, Tokens, issue_tokens_for};
pub use refresh::{find_refresh, global_sign_out, refresh, revoke_family, rotates_refresh_tokens};
pub use session::{FamilyRecord, RefreshRecord, Session};

// The codecs moved to `crate::codec`; the hosted UI still names them here.
pub use crate::codec::{b64, b64_decode, b64url, b64url_decode, b64url_decode_public, sha256_hex};
use crate::error::Error;
use crate::ports::{Env, JwsAlgorithm};
use crate::secret::Secret;
use crate::store::{Expect, StoreError};

/// OIDC Core 3.1.3.6 `at_hash`: base64url of the left half of SHA-256 over the access token's
/// ASCII bytes (the hash that goes with RS256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64url(digest.get(..16).unwrap_or_default())
}

/// One signing key of a pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: JwsAlgorithm,
    /// Standard base64 of the PKCS#8 DER private key, where the set keeps it inline: the
    /// identity service's set, and user pools' keys made before private keys moved out. A user
    /// pool's key keeps it in a record of its own ([`store::keys::signing_key_secret`]), so the
    /// set that every token check reads holds no private key: no read path loads one (nor,
    /// on the Wasm engine, copies one into the guest).
    ///
    /// [`store::keys::signing_key_secret`]: crate::store::keys::signing_key_secret
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<Secret>,
    /// RSA modulus, base64url (as in the JWK).
    pub n: String,
    /// RSA exponent, base64url.
    pub e: String,
    pub created_millis: u64,
    /// A rotated-in key is published (JWKS, verification) at once but signs only from this
    /// time on, so relying parties have fetched it before they meet a token it signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signs_from_millis: Option<u64>,
    /// A rotated-out key stops verifying (and leaves the JWKS) at this time: when the longest
    /// token it signed has expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_millis: Option<u64>,
}

impl SigningKey {
    /// This key as the signer, with its private half.
    fn signer(&self, private_key: Secret) -> Signer {
        Signer {
            kid: self.kid.clone(),
            alg: self.alg,
            private_key,
        }
    }

    /// Published and accepted for verification at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.retires_millis.is_none_or(|t| now < t)
    }

    /// May sign at `now`.
    pub fn may_sign(&self, now: u64) -> bool {
        self.is_live(now) && self.signs_from_millis.is_none_or(|t| t <= now)
    }
}

/// A pool's key set, newest first. The first key that may sign does; every live key verifies
/// (so keys can be rotated without downtime, [`rotate_key_set`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeySet {
    pub keys: Vec<SigningKey>,
}

impl KeySet {
    /// The key that signs at `now`.
    pub fn signing_key(&self, now: u64) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.may_sign(now))
            // Nothing may sign yet (a clock gone backwards): the newest live key, rather than
            // no tokens at all.
            .or_else(|| self.keys.iter().find(|k| k.is_live(now)))
    }
}

/// A user pool key's private half, in its own record: written once, before the key set names
/// the key, and deleted after the set drops it.
#[derive(Serialize, Deserialize)]
struct KeySecret {
    private_key: Secret,
}

/// The key that signs, with its private half.
#[derive(Debug)]
pub struct Signer {
    pub kid: String,
    pub alg: JwsAlgorithm,
    pub private_key: Secret,
}

impl KeySet {
    /// The signer of a set that keeps its private keys inline (the identity service's).
    pub fn inline_signer(&self, now: u64) -> Result<Signer, Error> {
        let key = self
            .signing_key(now)
            .ok_or_else(|| Error::internal("the key set has no signing key"))?;
        let private_key = key
            .private_key
            .clone()
            .ok_or_else(|| Error::internal("the signing key's private half is not in its set"))?;
        Ok(key.signer(private_key))
    }
}

/// A key set as verifying a token reads it: the public halves only (a set that still keeps
/// its private keys inline has them skipped by the parser, not copied).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VerificationKeys {
    pub keys: Vec<VerificationKey>,
}

/// What verifying needs of a [`SigningKey`]: its modulus and exponent decoded when the set is
/// read, so a set kept decoded ([`crate::decoded`]) decodes them once, not at every token check.
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationKey {
    pub kid: String,
    pub alg: JwsAlgorithm,
    #[serde(rename = "n", deserialize_with = "public_b64url")]
    pub modulus: Vec<u8>,
    #[serde(rename = "e", deserialize_with = "public_b64url")]
    pub exponent: Vec<u8>,
    #[serde(default)]
    pub retires_millis: Option<u64>,
}

/// A base64url member (an RSA public key's `n` or `e`), decoded.
fn public_b64url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    b64url_decode_public(&text).ok_or_else(|| serde::de::Error::custom("not base64url"))
}

impl VerificationKey {
    /// Accepted for verification at `now` (as [`SigningKey::is_live`]).
    pub fn is_live(&self, now: u64) -> bool {
        self.retires_millis.is_none_or(|t| now < t)
    }
}

/// What [`rotate_key_set`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub set: KeySet,
    pub new_kid: String,
    pub signs_from_millis: u64,
}

/// Rotates a pool's signing key without downtime: a new key is published at once and signs
/// from `now + publish_ahead_millis`; every older key keeps verifying until
/// `longest_token_millis` after that (the longest-lived token it can still sign has expired),
/// then leaves the JWKS. Keys already retired are dropped. A compare-and-set on the key set
/// record: concurrent rotations each add their key, none is lost.
pub async fn rotate_key_set(
    env: &dyn Env,
    pool_id: &str,
    publish_ahead_millis: u64,
    longest_token_millis: u64,
) -> Result<Rotation, Error> {
    let key_name = crate::store::keys::signing_keys(pool_id);
    let new_key = new_pool_key(env, pool_id).await?;
    let kid = new_key.kid.clone();
    for _ in 0..8 {
        let item = env.store().get(&key_name).await?.ok_or_else(|| {
            Error::resource_not_found(alloc::format!("User pool {pool_id} does not exist."))
        })?;
        let mut set: KeySet = serde_json::from_slice(&item.value)?;
        let now = env.clock().now_millis();
        let signs_from = now.saturating_add(publish_ahead_millis);
        let retires = signs_from.saturating_add(longest_token_millis);
        let (live, dropped): (Vec<_>, Vec<_>) = core::mem::take(&mut set.keys)
            .into_iter()
            .partition(|k| k.is_live(now));
        set.keys = live;
        for key in &mut set.keys {
            key.retires_millis = Some(key.retires_millis.map_or(retires, |t| t.min(retires)));
            // A key from before private keys moved out moves out now (the same bytes again
            // if a conflict makes this loop run twice).
            if let Some(private_key) = key.private_key.take() {
                put_key_secret(env, pool_id, &key.kid, &private_key, Expect::Any).await?;
            }
        }
        set.keys.insert(
            0,
            SigningKey {
                created_millis: now,
                signs_from_millis: Some(signs_from),
                ..new_key.clone()
            },
        );
        let bytes = serde_json::to_vec(&set)?;
        match env
            .store()
            .put(&key_name, &bytes, Expect::Version(item.version))
            .await
        {
            Ok(_) => {
                // No set names the retired keys any more, so nothing signs with them.
                for key in dropped {
                    forget_key_secret(env, pool_id, &key.kid).await;
                }
                return Ok(Rotation {
                    set,
                    new_kid: kid,
                    signs_from_millis: signs_from,
                });
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    // Given up: no set names the new key.
    forget_key_secret(env, pool_id, &kid).await;
    Err(Error::new(
        crate::error::ErrorKind::TooManyRequests,
        "The key set changed too often; try again.",
    ))
}

/// Writes a pool key's private half to its own record.
async fn put_key_secret(
    env: &dyn Env,
    pool_id: &str,
    kid: &str,
    private_key: &Secret,
    expect: Expect,
) -> Result<(), Error> {
    let record = serde_json::to_vec(&KeySecret {
        private_key: private_key.clone(),
    })?;
    env.store()
        .put(
            &crate::store::keys::signing_key_secret(pool_id, kid),
            &record,
            expect,
        )
        .await?;
    Ok(())
}

/// Deletes a pool key's private half once no key set names it. A delete that fails leaves a
/// record nothing reads, removed with the pool.
async fn forget_key_secret(env: &dyn Env, pool_id: &str, kid: &str) {
    let _ = env
        .store()
        .delete(
            &crate::store::keys::signing_key_secret(pool_id, kid),
            Expect::Any,
        )
        .await;
}

/// A new RS256 key for a pool, its private half already in its own record (written first: once
/// a set names the key, its private half is there); the public half, for the set.
async fn new_pool_key(env: &dyn Env, pool_id: &str) -> Result<SigningKey, Error> {
    let generated = env.jws().generate(JwsAlgorithm::RS256).await?;
    let kid = crate::ids::random_token(env.random(), 24);
    put_key_secret(
        env,
        pool_id,
        &kid,
        &generated.private_pkcs8_der,
        Expect::Absent,
    )
    .await?;
    Ok(SigningKey {
        kid,
        alg: JwsAlgorithm::RS256,
        private_key: None,
        n: b64url(&generated.modulus),
        e: b64url(&generated.exponent),
        created_millis: env.clock().now_millis(),
        signs_from_millis: None,
        retires_millis: None,
    })
}

/// Creates a pool's first key pair (with the pool).
pub async fn create_key_set(env: &dyn Env, pool_id: &str) -> Result<KeySet, Error> {
    let key = new_pool_key(env, pool_id).await?;
    let kid = key.kid.clone();
    let set = KeySet {
        keys: alloc::vec![key],
    };
    let bytes = serde_json::to_vec(&set)?;
    match env
        .store()
        .put(
            &crate::store::keys::signing_keys(pool_id),
            &bytes,
            Expect::Absent,
        )
        .await
    {
        Ok(_) => Ok(set),
        // Another request created it first: use theirs (and drop the private half of ours).
        Err(StoreError::Conflict) => {
            forget_key_secret(env, pool_id, &kid).await;
            load_key_set(env, pool_id).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The pool's signing key at this time, with its private half (from its own record, or inline
/// in a set written before private keys moved out).
pub async fn pool_signer(env: &dyn Env, pool_id: &str) -> Result<Signer, Error> {
    let set = load_key_set_shared(env, pool_id).await?;
    let key = set
        .signing_key(env.clock().now_millis())
        .ok_or_else(|| Error::internal("the pool has no signing key"))?;
    let private_key = match &key.private_key {
        Some(inline) => inline.clone(),
        None => {
            let name = crate::store::keys::signing_key_secret(pool_id, &key.kid);
            let (secret, _) = crate::decoded::get_kept::<KeySecret>(env, &name)
                .await?
                .ok_or_else(|| Error::internal("the signing key's private half is missing"))?;
            secret.private_key.clone()
        }
    };
    Ok(key.signer(private_key))
}

pub async fn load_key_set(env: &dyn Env, pool_id: &str) -> Result<KeySet, Error> {
    Ok(Arc::unwrap_or_clone(
        load_key_set_shared(env, pool_id).await?,
    ))
}

/// [`load_key_set`] as kept decoded ([`crate::decoded`]): every token a pool issues reads it.
async fn load_key_set_shared(env: &dyn Env, pool_id: &str) -> Result<Arc<KeySet>, Error> {
    crate::decoded::get_kept(env, &crate::store::keys::signing_keys(pool_id))
        .await?
        .map(|(set, _)| set)
        .ok_or_else(|| {
            Error::resource_not_found(alloc::format!("User pool {pool_id} does not exist."))
        })
}

pub async fn delete_key_set(env: &dyn Env, pool_id: &str) -> Result<(), Error> {
    env.store()
        .delete(&crate::store::keys::signing_keys(pool_id), Expect::Any)
        .await?;
    Ok(())
}

/// The JWKS document for a key set at `now`: every live key, those not signing yet included.
pub fn jwks(set: &KeySet, now: u64) -> Value {
    let keys: Vec<Value> = set
        .keys
        .iter()
        .filter(|k| k.is_live(now))
        .map(|k| json!({"alg": k.alg.name(), "e": k.e, "kid": k.kid, "kty": "RSA", "n": k.n, "use": "sig"}))
        .collect();
    json!({ "keys": keys })
}

/// Signs `claims` as a compact JWS with `key`.
pub async fn sign(
    env: &dyn Env,
    key: &Signer,
    claims: &Map<String, Value>,
) -> Result<String, Error> {
    /// The members in the order a JSON object of them has always been written (sorted).
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'a str,
        kid: &'a str,
    }
    let header = serde_json::to_vec(&Header {
        alg: key.alg.name(),
        kid: &key.kid,
    })?;
    let payload = serde_json::to_vec(claims)?;
    // A JWT is public: its segments are encoded by the fast (not constant-time) encoder.
    let mut input = String::with_capacity((header.len() + payload.len() + 256) * 4 / 3 + 8);
    crate::codec::b64url_public_into(&header, &mut input);
    input.push('.');
    crate::codec::b64url_public_into(&payload, &mut input);
    let signature = env
        .jws()
        .sign(key.alg, &key.kid, &key.private_key, input.as_bytes())
        .await?;
    input.push('.');
    crate::codec::b64url_public_into(&signature, &mut input);
    Ok(input)
}

/// The parts of a compact JWS, decoded but not yet verified.
#[derive(Debug)]
pub struct UnverifiedJwt<'a> {
    pub kid: String,
    pub alg: String,
    pub claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl UnverifiedJwt<'_> {
    /// Whether the signature verifies with the RSA public key `n`, `e` (big-endian bytes).
    pub async fn verify_with(
        &self,
        env: &dyn Env,
        alg: JwsAlgorithm,
        kid: &str,
        n: &[u8],
        e: &[u8],
    ) -> Result<bool, Error> {
        env.jws()
            .verify(
                alg,
                kid,
                n,
                e,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .await
    }
}

/// Splits and decodes a compact JWS. Any malformation is `None`.
pub fn decode_unverified(token: &str) -> Option<UnverifiedJwt<'_>> {
    if token.len() > 16 * 1024 {
        return None;
    }
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    /// The two header members this reads; others are ignored, a repeated one refused.
    #[derive(Deserialize)]
    struct Header {
        kid: String,
        alg: String,
    }
    let header: Header = serde_json::from_slice(&b64url_decode_public(h)?).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&b64url_decode_public(p)?).ok()?;
    let signing_input = token.get(..h.len() + 1 + p.len())?;
    Some(UnverifiedJwt {
        kid: header.kid,
        alg: header.alg,
        claims,
        signing_input,
        signature: b64url_decode_public(s)?,
    })
}

/// Verifies a JWT's signature against the pool's keys and its `iss`, `exp` and `token_use`.
/// Every failure is the same `NotAuthorizedException`, as Cognito answers.
pub async fn verify(
    env: &dyn Env,
    issuer_base: &str,
    token: &str,
    token_use: &str,
) -> Result<(String, Map<String, Value>), Error> {
    let invalid = || Error::not_authorized("Invalid Access Token");
    let jwt = decode_unverified(token).ok_or_else(invalid)?;
    let pool_id = issuer_pool_id(&jwt, issuer_base)
        .ok_or_else(invalid)?
        .to_string();
    let name = crate::store::keys::signing_keys(&pool_id);
    let set = env
        .store()
        .get(&name)
        .await
        .ok()
        .flatten()
        .and_then(|item| crate::decoded::decode_kept::<VerificationKeys>(env, &name, &item).ok())
        .ok_or_else(invalid)?;
    let claims = verify_decoded(env, jwt, &set, token_use).await?;
    Ok((pool_id, claims))
}

/// The pool a token claims to come from: its `iss` is `<issuer_base>/<pool id>`. Unverified:
/// only for choosing the keys to verify it with (and records to read alongside).
pub fn issuer_pool_id<'t>(jwt: &'t UnverifiedJwt<'_>, issuer_base: &str) -> Option<&'t str> {
    jwt.claims
        .get("iss")
        .and_then(Value::as_str)?
        .strip_prefix(issuer_base)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| crate::ids::is_pool_id(id))
}

/// [`verify`] with the pool's key set already read: the signature with the key the header
/// names, then `token_use` and expiry. Returns the (now verified) claims.
pub async fn verify_decoded(
    env: &dyn Env,
    jwt: UnverifiedJwt<'_>,
    set: &VerificationKeys,
    token_use: &str,
) -> Result<Map<String, Value>, Error> {
    let invalid = || Error::not_authorized("Invalid Access Token");
    let now = env.clock().now_millis();
    let key = set
        .keys
        .iter()
        .find(|k| k.kid == jwt.kid && k.is_live(now))
        .ok_or_else(invalid)?;
    if jwt.alg != key.alg.name() {
        return Err(invalid());
    }
    let ok = env
        .jws()
        .verify(
            key.alg,
            &key.kid,
            &key.modulus,
            &key.exponent,
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .await?;
    if !ok {
        return Err(invalid());
    }
    if jwt.claims.get("token_use").and_then(Value::as_str) != Some(token_use) {
        return Err(invalid());
    }
    let exp = jwt
        .claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(invalid)?;
    if env.clock().now_millis() / 1000 >= exp {
        return Err(Error::not_authorized("Access Token has expired"));
    }
    Ok(jwt.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Clock, Jws as _};
    use crate::store::Store as _;
    use crate::testing::TestEnv;
    use futures_util::FutureExt;

    const POOL: &str = "us-east-1_abcdefghi";

    fn sign_now(env: &TestEnv, pool_id: &str, claims: &Map<String, Value>) -> String {
        let signer = pool_signer(env, pool_id).now_or_never().unwrap().unwrap();
        sign(env, &signer, claims).now_or_never().unwrap().unwrap()
    }

    fn record(env: &TestEnv, key: &str) -> Option<Value> {
        env.store
            .get(key)
            .now_or_never()
            .unwrap()
            .unwrap()
            .map(|item| serde_json::from_slice(&item.value).unwrap())
    }

    fn access_claims(env: &TestEnv) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(alloc::format!("http://x/{POOL}")));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("exp".into(), json!(env.clock.now_millis() / 1000 + 3600));
        claims
    }

    fn verifies(env: &TestEnv, token: &str) -> bool {
        verify(env, "http://x", token, "access")
            .now_or_never()
            .unwrap()
            .is_ok()
    }

    fn kid_of(token: &str) -> String {
        decode_unverified(token).unwrap().kid
    }

    #[test]
    fn a_pools_key_set_holds_no_private_key_and_its_own_record_does() {
        let env = TestEnv::new();
        let set = create_key_set(&env, POOL).now_or_never().unwrap().unwrap();
        let kid = &set.keys[0].kid;
        let stored = record(&env, &crate::store::keys::signing_keys(POOL)).unwrap();
        assert!(stored["keys"][0].get("private_key").is_none(), "{stored}");
        assert_eq!(stored["keys"][0]["kid"], json!(kid));
        let secret = record(&env, &crate::store::keys::signing_key_secret(POOL, kid)).unwrap();
        assert!(
            secret["private_key"]
                .as_str()
                .is_some_and(|k| !k.is_empty())
        );
        let token = sign_now(&env, POOL, &access_claims(&env));
        assert_eq!(&kid_of(&token), kid);
        assert!(verifies(&env, &token));
        // Without its private half the key cannot sign: an internal error, not a token.
        env.store
            .delete(
                &crate::store::keys::signing_key_secret(POOL, kid),
                Expect::Any,
            )
            .now_or_never()
            .unwrap()
            .unwrap();
        let err = pool_signer(&env, POOL).now_or_never().unwrap().unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Internal);
    }

    #[test]
    fn an_inline_key_set_signs_and_rotation_moves_its_key_out_then_deletes_it_when_retired() {
        let env = TestEnv::new();
        // A set as pools stored it before private keys moved out: the key inline.
        let generated = env
            .jws
            .generate(JwsAlgorithm::RS256)
            .now_or_never()
            .unwrap()
            .unwrap();
        let old = SigningKey {
            kid: "oldkid".into(),
            alg: JwsAlgorithm::RS256,
            private_key: Some(generated.private_pkcs8_der),
            n: b64url(&generated.modulus),
            e: b64url(&generated.exponent),
            created_millis: env.clock.now_millis(),
            signs_from_millis: None,
            retires_millis: None,
        };
        let inline = serde_json::to_vec(&KeySet {
            keys: alloc::vec![old],
        })
        .unwrap();
        env.store
            .put(
                &crate::store::keys::signing_keys(POOL),
                &inline,
                Expect::Absent,
            )
            .now_or_never()
            .unwrap()
            .unwrap();
        let before = sign_now(&env, POOL, &access_claims(&env));
        assert_eq!(kid_of(&before), "oldkid");
        assert!(verifies(&env, &before));

        // Rotation: the new key signs after 10 s; the old one retires 60 s after that.
        let rotation = rotate_key_set(&env, POOL, 10_000, 60_000)
            .now_or_never()
            .unwrap()
            .unwrap();
        let stored = record(&env, &crate::store::keys::signing_keys(POOL)).unwrap();
        for key in stored["keys"].as_array().unwrap() {
            assert!(key.get("private_key").is_none(), "{stored}");
        }
        for kid in [rotation.new_kid.as_str(), "oldkid"] {
            assert!(record(&env, &crate::store::keys::signing_key_secret(POOL, kid)).is_some());
        }
        // Until the new key signs, the old one does, from its own record now.
        assert_eq!(
            kid_of(&sign_now(&env, POOL, &access_claims(&env))),
            "oldkid"
        );
        env.clock.advance(10_000);
        let after = sign_now(&env, POOL, &access_claims(&env));
        assert_eq!(kid_of(&after), rotation.new_kid);
        assert!(verifies(&env, &after) && verifies(&env, &before));

        // Once retired, the old key stops verifying, and the next rotation deletes its
        // private half.
        env.clock.advance(60_000);
        assert!(!verifies(&env, &before));
        assert!(verifies(&env, &sign_now(&env, POOL, &access_claims(&env))));
        rotate_key_set(&env, POOL, 0, 60_000)
            .now_or_never()
            .unwrap()
            .unwrap();
        assert!(
            record(
                &env,
                &crate::store::keys::signing_key_secret(POOL, "oldkid")
            )
            .is_none()
        );
        assert!(
            record(
                &env,
                &crate::store::keys::signing_key_secret(POOL, &rotation.new_kid)
            )
            .is_some()
        );
    }

    #[test]
    fn sign_and_verify_round_trip_and_reject_tampering() {
        let env = TestEnv::new();
        create_key_set(&env, "us-east-1_abcdefghi")
            .now_or_never()
            .unwrap()
            .unwrap();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!("http://x/us-east-1_abcdefghi"));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("exp".into(), json!(env.clock.now_millis() / 1000 + 60));
        let token = sign_now(&env, "us-east-1_abcdefghi", &claims);
        let (pool, got) = verify(&env, "http://x", &token, "access")
            .now_or_never()
            .unwrap()
            .unwrap();
        assert_eq!(pool, "us-east-1_abcdefghi");
        assert_eq!(got, claims);
        assert!(
            verify(&env, "http://x", &token, "id")
                .now_or_never()
                .unwrap()
                .is_err()
        );
        assert!(
            verify(&env, "http://other", &token, "access")
                .now_or_never()
                .unwrap()
                .is_err()
        );
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(
            verify(&env, "http://x", &tampered, "access")
                .now_or_never()
                .unwrap()
                .is_err()
        );
        env.clock.advance(61_000);
        let err = verify(&env, "http://x", &token, "access")
            .now_or_never()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.message, "Access Token has expired");
        for garbage in ["", "a.b", "a.b.c.d", "....", "eyJ.eyJ.x"] {
            assert!(
                verify(&env, "http://x", garbage, "access")
                    .now_or_never()
                    .unwrap()
                    .is_err()
            );
        }
    }
}
