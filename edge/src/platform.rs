//! The Workers implementations of the small ports: clock, randomness, WebCrypto JWS.

use std::cell::RefCell;
use std::collections::HashMap;

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use cognate_core::ports::{BoxFuture, GeneratedKey, JwsAlgorithm, boxed};
use cognate_core::{Clock, Error, Jws, Random, Secret};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, SubtleCrypto};
use worker::send::SendFuture;

/// RSA key size for new signing keys (what Cognito uses).
const RSA_BITS: u32 = 2048;
/// Imported keys kept per isolate; a crude bound, cleared when reached.
const MAX_CACHED_KEYS: usize = 1024;
const RSASSA: &str = "RSASSA-PKCS1-v1_5";

/// `Date.now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_millis(&self) -> u64 {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            // Milliseconds since 1970 fit a u64 for the next 500 million years.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let millis = now as u64;
            millis
        } else {
            0
        }
    }
}

/// The global `crypto` object of the Workers runtime.
pub fn crypto() -> Result<Crypto, Error> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|c| c.dyn_into::<Crypto>().ok())
        .ok_or_else(|| Error::internal("the runtime has no WebCrypto"))
}

pub(crate) fn subtle() -> Result<SubtleCrypto, Error> {
    Ok(crypto()?.subtle())
}

/// `crypto.getRandomValues`, the runtime's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerRandom;

impl Random for WorkerRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getRandomValues takes at most 65536 bytes per call.
        let filled = crypto().ok().is_some_and(|c| {
            buf.chunks_mut(65_536)
                .all(|chunk| c.get_random_values_with_u8_array(chunk).is_ok())
        });
        if !filled {
            // The port cannot fail, and predictable codes or tokens must never be handed out:
            // abort this isolate (the runtime answers 500 and starts a fresh one).
            std::process::abort();
        }
    }
}

fn js_error(what: &str, e: &JsValue) -> Error {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_default();
    Error::internal(format!("{what}: {detail}"))
}

pub(crate) fn set(object: &Object, key: &str, value: &JsValue) -> Result<(), Error> {
    Reflect::set(object, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| js_error("Reflect.set", &e))
}

fn get_string(object: &JsValue, key: &str) -> Result<String, Error> {
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| Error::internal(format!("WebCrypto: no `{key}` in the exported key")))
}

pub(crate) fn usages(list: &[&str]) -> JsValue {
    let array = js_sys::Array::new();
    for usage in list {
        array.push(&JsValue::from_str(usage));
    }
    array.into()
}

fn rsassa_params() -> Result<Object, Error> {
    params(&[("name", RSASSA), ("hash", "SHA-256")])
}

/// A WebCrypto parameter object of string members.
pub(crate) fn params(pairs: &[(&str, &str)]) -> Result<Object, Error> {
    let params = Object::new();
    for (k, v) in pairs {
        set(&params, k, &JsValue::from_str(v))?;
    }
    Ok(params)
}

/// ES256 (Sign in with Apple's client secret, one per federated sign-in: not cached).
/// WebCrypto's ECDSA answers `r || s`, which is JWS's form.
async fn sign_es256(private_pkcs8_der: &Secret, input: &[u8]) -> Result<Vec<u8>, Error> {
    let der = Base64::decode_vec(private_pkcs8_der.expose())
        .map_err(|_| Error::internal("signing key is not valid base64"))?;
    let key: CryptoKey = promise(
        "importKey pkcs8",
        subtle()?.import_key_with_object(
            "pkcs8",
            &Uint8Array::from(der.as_slice()),
            &params(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
            false,
            &usages(&["sign"]),
        ),
    )
    .await?
    .dyn_into()
    .map_err(|_| Error::internal("importKey: not a CryptoKey"))?;
    let signature = promise(
        "sign",
        subtle()?.sign_with_object_and_u8_array(
            &params(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
            &key,
            input,
        ),
    )
    .await?;
    Ok(Uint8Array::new(&signature).to_vec())
}

pub(crate) async fn promise(
    what: &str,
    p: Result<js_sys::Promise, JsValue>,
) -> Result<JsValue, Error> {
    let p = p.map_err(|e| js_error(what, &e))?;
    JsFuture::from(p).await.map_err(|e| js_error(what, &e))
}

thread_local! {
    /// Imported private keys by `kid`, with the encoded key they came from (a reused `kid`
    /// for another key is imported again). Importing costs more than a signature.
    static PRIVATE: RefCell<HashMap<String, (Secret, CryptoKey)>> = RefCell::new(HashMap::new());
    /// Imported public keys by `kid` and `n`.
    static PUBLIC: RefCell<HashMap<(String, Vec<u8>), CryptoKey>> = RefCell::new(HashMap::new());
}

/// RS256 through WebCrypto (`crypto.subtle`): ~1 ms per signature, where RSA compiled to Wasm
/// takes ~15 ms.
///
/// New pools get a freshly generated key pair (kept in the Durable Object store with the pool),
/// unless the operator configured one with the `COGNATE_SIGNING_KEY` secret (PKCS#8, PEM or
/// base64 DER): then new pools sign with that key.
#[derive(Clone, Default)]
pub struct WebCryptoJws {
    provided: Option<Secret>,
}

impl core::fmt::Debug for WebCryptoJws {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebCryptoJws")
            .field("provided_key", &self.provided.is_some())
            .finish()
    }
}

/// Standard base64 of the DER inside a PEM block (or of base64 given as is).
pub fn pem_to_base64(text: &str) -> String {
    text.lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect()
}

impl WebCryptoJws {
    pub fn new(provided_signing_key: Option<String>) -> Self {
        Self {
            provided: provided_signing_key.map(|k| Secret::new(pem_to_base64(&k))),
        }
    }

    /// The operator's key as a [`GeneratedKey`]: its public half from a JWK export.
    async fn provided_rsa(pkcs8: &Secret) -> Result<GeneratedKey, Error> {
        let der = Base64::decode_vec(pkcs8.expose())
            .map_err(|_| Error::internal("COGNATE_SIGNING_KEY is not PEM or base64 PKCS#8"))?;
        let subtle = subtle()?;
        let data = Uint8Array::from(der.as_slice());
        let key: CryptoKey = promise(
            "importKey COGNATE_SIGNING_KEY",
            subtle.import_key_with_object(
                "pkcs8",
                &data,
                &rsassa_params()?,
                true,
                &usages(&["sign"]),
            ),
        )
        .await?
        .dyn_into()
        .map_err(|_| Error::internal("importKey: not a CryptoKey"))?;
        let jwk = promise("exportKey jwk", subtle.export_key("jwk", &key)).await?;
        let n = Base64UrlUnpadded::decode_vec(&get_string(&jwk, "n")?)
            .map_err(|_| Error::internal("WebCrypto: bad modulus"))?;
        let e = Base64UrlUnpadded::decode_vec(&get_string(&jwk, "e")?)
            .map_err(|_| Error::internal("WebCrypto: bad exponent"))?;
        Ok(GeneratedKey {
            private_pkcs8_der: pkcs8.clone(),
            modulus: n,
            exponent: e,
        })
    }

    async fn generate_rsa() -> Result<GeneratedKey, Error> {
        let subtle = subtle()?;
        let params = rsassa_params()?;
        set(&params, "modulusLength", &JsValue::from(RSA_BITS))?;
        set(
            &params,
            "publicExponent",
            &Uint8Array::from(&[1u8, 0, 1][..]).into(),
        )?;
        let pair = promise(
            "generateKey",
            subtle.generate_key_with_object(&params, true, &usages(&["sign", "verify"])),
        )
        .await?;
        let private: CryptoKey = Reflect::get(&pair, &JsValue::from_str("privateKey"))
            .ok()
            .and_then(|k| k.dyn_into().ok())
            .ok_or_else(|| Error::internal("generateKey: no private key"))?;
        let public: CryptoKey = Reflect::get(&pair, &JsValue::from_str("publicKey"))
            .ok()
            .and_then(|k| k.dyn_into().ok())
            .ok_or_else(|| Error::internal("generateKey: no public key"))?;
        let pkcs8 = promise("exportKey pkcs8", subtle.export_key("pkcs8", &private)).await?;
        let der = Uint8Array::new(&pkcs8).to_vec();
        let jwk = promise("exportKey jwk", subtle.export_key("jwk", &public)).await?;
        let n = Base64UrlUnpadded::decode_vec(&get_string(&jwk, "n")?)
            .map_err(|_| Error::internal("WebCrypto: bad modulus"))?;
        let e = Base64UrlUnpadded::decode_vec(&get_string(&jwk, "e")?)
            .map_err(|_| Error::internal("WebCrypto: bad exponent"))?;
        Ok(GeneratedKey {
            private_pkcs8_der: Secret::new(Base64::encode_string(&der)),
            modulus: n,
            exponent: e,
        })
    }

    async fn private_key(kid: &str, pkcs8: &Secret) -> Result<CryptoKey, Error> {
        let cached = PRIVATE.with(|keys| {
            keys.borrow()
                .get(kid)
                .filter(|(encoded, _)| encoded.ct_eq(pkcs8.expose()))
                .map(|(_, key)| key.clone())
        });
        if let Some(key) = cached {
            return Ok(key);
        }
        let der = Base64::decode_vec(pkcs8.expose())
            .map_err(|_| Error::internal("signing key is not valid base64"))?;
        let data = Uint8Array::from(der.as_slice());
        let key: CryptoKey = promise(
            "importKey pkcs8",
            subtle()?.import_key_with_object(
                "pkcs8",
                &data,
                &rsassa_params()?,
                false,
                &usages(&["sign"]),
            ),
        )
        .await?
        .dyn_into()
        .map_err(|_| Error::internal("importKey: not a CryptoKey"))?;
        PRIVATE.with(|keys| {
            let mut keys = keys.borrow_mut();
            if keys.len() >= MAX_CACHED_KEYS {
                keys.clear();
            }
            keys.insert(kid.to_owned(), (pkcs8.clone(), key.clone()));
        });
        Ok(key)
    }

    async fn public_key(kid: &str, n: &[u8], e: &[u8]) -> Result<CryptoKey, Error> {
        let cache_key = (kid.to_owned(), n.to_vec());
        if let Some(key) = PUBLIC.with(|keys| keys.borrow().get(&cache_key).cloned()) {
            return Ok(key);
        }
        let jwk = Object::new();
        set(&jwk, "kty", &JsValue::from_str("RSA"))?;
        set(
            &jwk,
            "n",
            &JsValue::from_str(&Base64UrlUnpadded::encode_string(n)),
        )?;
        set(
            &jwk,
            "e",
            &JsValue::from_str(&Base64UrlUnpadded::encode_string(e)),
        )?;
        set(&jwk, "alg", &JsValue::from_str("RS256"))?;
        set(&jwk, "ext", &JsValue::TRUE)?;
        let key: CryptoKey = promise(
            "importKey jwk",
            subtle()?.import_key_with_object(
                "jwk",
                &jwk,
                &rsassa_params()?,
                true,
                &usages(&["verify"]),
            ),
        )
        .await?
        .dyn_into()
        .map_err(|_| Error::internal("importKey: not a CryptoKey"))?;
        PUBLIC.with(|keys| {
            let mut keys = keys.borrow_mut();
            if keys.len() >= MAX_CACHED_KEYS {
                keys.clear();
            }
            keys.insert(cache_key, key.clone());
        });
        Ok(key)
    }
}

impl Jws for WebCryptoJws {
    fn generate<'a>(&'a self, alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>> {
        boxed(SendFuture::new(async move {
            if alg != JwsAlgorithm::RS256 {
                // Pools sign with RS256; ES256 keys are the operator's (Apple's client secret).
                return Err(Error::internal("only RS256 keys are generated"));
            }
            match &self.provided {
                Some(key) => Self::provided_rsa(key).await,
                None => Self::generate_rsa().await,
            }
        }))
    }

    fn sign<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        boxed(SendFuture::new(async move {
            if alg == JwsAlgorithm::ES256 {
                return sign_es256(private_pkcs8_der, input).await;
            }
            let key = Self::private_key(kid, private_pkcs8_der).await?;
            let signature = promise(
                "sign",
                subtle()?.sign_with_str_and_u8_array(RSASSA, &key, input),
            )
            .await?;
            Ok(Uint8Array::new(&signature).to_vec())
        }))
    }

    fn verify<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        modulus: &'a [u8],
        exponent: &'a [u8],
        input: &'a [u8],
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<bool, Error>> {
        boxed(SendFuture::new(async move {
            if alg != JwsAlgorithm::RS256 {
                // Only RSA public keys come this way.
                return Ok(false);
            }
            let key = Self::public_key(kid, modulus, exponent).await?;
            let ok = promise(
                "verify",
                subtle()?.verify_with_str_and_u8_array_and_u8_array(RSASSA, &key, signature, input),
            )
            .await?;
            Ok(ok.as_bool().unwrap_or(false))
        }))
    }
}
