//! [`NativeJws`]: RS256 with aws-lc-rs (AWS-LC, built from source with the C compiler; no system
//! library): on this project's x86-64 machines it signs 1.9× faster than ring and as fast as
//! OpenSSL (`openssl speed rsa2048`), and verifies a little faster than either
//! (host/benches/rsa.rs measures them side by side). Keys are generated with the `rsa` crate.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use base64ct::{Base64, Encoding};
use cognate_core::Error;
use cognate_core::ports::{BoxFuture, GeneratedKey, Jws, JwsAlgorithm, boxed};
use cognate_core::secret::Secret;

use crate::ports::run_blocking;

/// RSA key size for new signing keys (what Cognito uses).
const RSA_BITS: usize = 2048;
/// Parsed keys kept; pools have one or two active keys each, so this is generous.
const MAX_CACHED_KEYS: usize = 4096;
/// Verified signatures remembered per generation (two generations): about 0.5 MB each when
/// full, nothing when idle.
const VERIFIED_PER_GENERATION: usize = 14_000;

/// Native JWS signing and verification with a cache of parsed private keys.
#[derive(Default)]
pub struct NativeJws {
    /// Parsed key pairs by `kid`, with the encoded key they were parsed from, so a `kid` reused
    /// for another key is parsed again rather than signing with the wrong key. Parsing (and
    /// checking) an RSA private key costs more than a signature, hence the cache.
    keys: Mutex<HashMap<String, (Secret, Arc<RsaKeyPair>)>>,
    /// Parsed public keys by `kid`, with the modulus and exponent they were built from (checked
    /// on every use, as for private keys). A parsed key keeps its Montgomery constants, which
    /// building the key from its components recomputes on every verification.
    public_keys: Mutex<HashMap<String, PublicKeyEntry>>,
    /// RS256 verifications that succeeded, by digest of everything they depended on.
    verified: Mutex<VerifiedSignatures>,
    /// RSA verifications actually computed (not answered from `verified`).
    rsa_verifications: AtomicU64,
}

/// Memoised RS256 verifications. Verifying is a pure function of the public key, the signed
/// input and the signature, and a client presents the same access token on every call for its
/// lifetime (an hour by default): remembering that exactly these bytes verified under exactly
/// this key turns the repeated RSA operation (~18 µs) into one SHA-256 (~1 µs), as JWT
/// gateways' verification caches do (Envoy's `jwt_cache_config`). Nothing else is skipped:
/// the core still checks the key is the pool's current one, the expiry, the claims and
/// revocation on every request. Only successes are kept (failures cannot fill it), in two
/// generations: when the current one is full it becomes the previous one and the oldest is
/// dropped, so memory stays bounded and a token in use stays remembered.
#[derive(Default)]
struct VerifiedSignatures {
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
}

impl VerifiedSignatures {
    /// SHA-256 over the key and the signed message, each length-prefixed so no two different
    /// tuples of bytes give the same digest input.
    fn digest(n: &[u8], e: &[u8], input: &[u8], signature: &[u8]) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [n, e, input, signature] {
            ctx.update(&(part.len() as u64).to_le_bytes());
            ctx.update(part);
        }
        let mut out = [0; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    fn contains(&mut self, digest: &[u8; 32]) -> bool {
        if self.current.contains(digest) {
            return true;
        }
        if self.previous.remove(digest) {
            self.insert(*digest); // still in use: keep it through the next turnover
            return true;
        }
        false
    }

    fn insert(&mut self, digest: [u8; 32]) {
        if self.current.len() >= VERIFIED_PER_GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(digest);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// A cached verification key: (modulus, exponent, parsed key).
type PublicKeyEntry = (Vec<u8>, Vec<u8>, Arc<ParsedPublicKey>);

impl fmt::Debug for NativeJws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.keys.lock().map(|keys| keys.len()).unwrap_or(0);
        f.debug_struct("NativeJws")
            .field("cached_keys", &cached)
            .field("remembered_verifications", &self.verified_lock().len())
            .field("rsa_verifications", &self.rsa_verifications)
            .finish()
    }
}

impl NativeJws {
    pub fn new() -> Self {
        Self::default()
    }

    fn key_pair(&self, kid: &str, private_pkcs8_der: &Secret) -> Result<Arc<RsaKeyPair>, Error> {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Constant time through aws-lc's CRYPTO_memcmp: `Secret::ct_eq` (subtle) hides every
        // byte behind its own barrier, ~2 µs for a 2048-bit key's 1.6 KB on every signature.
        if let Some((encoded, pair)) = keys.get(kid)
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                encoded.expose().as_bytes(),
                private_pkcs8_der.expose().as_bytes(),
            )
            .is_ok()
        {
            return Ok(Arc::clone(pair));
        }
        let der = Base64::decode_vec(private_pkcs8_der.expose())
            .map_err(|_| Error::internal("signing key is not valid base64"))?;
        let pair = Arc::new(
            RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| Error::internal(format!("signing key rejected: {e}")))?,
        );
        if keys.len() >= MAX_CACHED_KEYS {
            // Crude but bounded: an eviction storm only costs re-parsing.
            keys.clear();
        }
        keys.insert(
            kid.to_owned(),
            (private_pkcs8_der.clone(), Arc::clone(&pair)),
        );
        Ok(pair)
    }

    fn verified_lock(&self) -> std::sync::MutexGuard<'_, VerifiedSignatures> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn public_key(&self, kid: &str, n: &[u8], e: &[u8]) -> Option<Arc<ParsedPublicKey>> {
        let mut keys = self
            .public_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((cached_n, cached_e, key)) = keys.get(kid)
            && cached_n.as_slice() == n
            && cached_e.as_slice() == e
        {
            return Some(Arc::clone(key));
        }
        let key = Arc::new(
            RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                .ok()?,
        );
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        keys.insert(kid.to_owned(), (n.to_vec(), e.to_vec(), Arc::clone(&key)));
        Some(key)
    }
}

fn generate_rsa() -> Result<GeneratedKey, Error> {
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
        .map_err(|e| Error::internal(format!("RSA key generation failed: {e}")))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| Error::internal(format!("RSA key encoding failed: {e}")))?;
    Ok(GeneratedKey {
        private_pkcs8_der: Secret::new(Base64::encode_string(der.as_bytes())),
        modulus: key.n().to_bytes_be(),
        exponent: key.e().to_bytes_be(),
    })
}

/// Big-endian integers without leading zero bytes, as RSA public key components are given.
fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

impl Jws for NativeJws {
    fn generate<'a>(&'a self, alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>> {
        boxed(async move {
            match alg {
                // Key generation takes 100 ms or more: never on an async thread.
                JwsAlgorithm::RS256 => run_blocking(generate_rsa).await,
                JwsAlgorithm::ES256 => Err(Error::internal("ES256 keys are not generated here")),
            }
        })
    }

    fn sign<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        boxed(async move {
            match alg {
                JwsAlgorithm::RS256 => {
                    let pair = self.key_pair(kid, private_pkcs8_der)?;
                    // Inline on the request's thread: a quarter of a millisecond of CPU
                    // (aws-lc-rs), which a hop to the blocking pool and back (two thread
                    // wake-ups) made about a fifth more expensive (issue 23, measured on
                    // client_credentials). Other requests on this worker wait at most that
                    // long; the runtime's other workers steal its queued tasks meanwhile.
                    let mut signature = vec![0; pair.public_modulus_len()];
                    pair.sign(
                        &RSA_PKCS1_SHA256,
                        &aws_lc_rs::rand::SystemRandom::new(),
                        input,
                        &mut signature,
                    )
                    .map_err(|_| Error::internal("RSA signing failed"))?;
                    Ok(signature)
                }
                JwsAlgorithm::ES256 => {
                    let der = Base64::decode_vec(private_pkcs8_der.expose()).map_err(|_| {
                        Error::invalid_parameter("The EC private key is not base64.")
                    })?;
                    let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        &der,
                    )
                    .map_err(|_| {
                        Error::invalid_parameter("The private key is not a PKCS#8 P-256 key.")
                    })?;
                    let signature = pair
                        .sign(&aws_lc_rs::rand::SystemRandom::new(), input)
                        .map_err(|_| Error::internal("ECDSA signing failed"))?;
                    Ok(signature.as_ref().to_vec())
                }
            }
        })
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
        boxed(async move {
            match alg {
                // Tens of microseconds: fine inline.
                JwsAlgorithm::RS256 => {
                    let (n, e) = (trim_leading_zeros(modulus), trim_leading_zeros(exponent));
                    let digest = VerifiedSignatures::digest(n, e, input, signature);
                    if self.verified_lock().contains(&digest) {
                        return Ok(true);
                    }
                    self.rsa_verifications.fetch_add(1, Ordering::Relaxed);
                    let valid = self
                        .public_key(kid, n, e)
                        .is_some_and(|key| key.verify_sig(input, signature).is_ok());
                    if valid {
                        self.verified_lock().insert(digest);
                    }
                    Ok(valid)
                }
                // Only RSA public keys come this way.
                JwsAlgorithm::ES256 => Ok(false),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    /// ES256 (Sign in with Apple's client secret): a PKCS#8 P-256 key signs `r || s`, which
    /// the key's public half verifies; a key that is not P-256 PKCS#8 is refused.
    #[tokio::test]
    async fn es256_signs_with_a_pkcs8_p256_key() {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
            UnparsedPublicKey,
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let secret = Secret::new(Base64::encode_string(pkcs8.as_ref()));
        let jws = NativeJws::new();
        let input = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0";
        let sig = jws
            .sign(JwsAlgorithm::ES256, "apple", &secret, input)
            .await
            .unwrap();
        assert_eq!(sig.len(), 64, "r || s");
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref());
        public.verify(input, &sig).unwrap();
        assert!(public.verify(b"another input", &sig).is_err());

        let rsa = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        assert!(
            jws.sign(JwsAlgorithm::ES256, "apple", &rsa.private_pkcs8_der, input)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn generate_sign_verify_round_trip() {
        let jws = NativeJws::new();
        let key = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        assert_eq!(key.modulus.len(), 256, "a 2048-bit modulus is 256 bytes");
        assert_eq!(key.exponent, vec![1, 0, 1]);

        let input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0";
        let sig = jws
            .sign(JwsAlgorithm::RS256, "k1", &key.private_pkcs8_der, input)
            .await
            .unwrap();
        assert_eq!(sig.len(), 256);
        let ok = |input: &'static [u8], sig: Vec<u8>| {
            let jws = &jws;
            let key = &key;
            async move {
                jws.verify(
                    JwsAlgorithm::RS256,
                    "k1",
                    &key.modulus,
                    &key.exponent,
                    input,
                    &sig,
                )
                .await
                .unwrap()
            }
        };
        assert!(ok(input, sig.clone()).await);

        // Tampered input or signature fails.
        assert!(!ok(b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyIn0", sig.clone()).await);
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(!ok(input, bad).await);
        assert!(!ok(input, Vec::new()).await);

        // RS256 is deterministic (PKCS#1 v1.5): the cached key signs the same.
        let again = jws
            .sign(JwsAlgorithm::RS256, "k1", &key.private_pkcs8_der, input)
            .await
            .unwrap();
        assert_eq!(again, sig);
    }

    /// A verification that succeeded is remembered for exactly those bytes under exactly that
    /// key: the same token verifies again without the RSA operation; the same input and
    /// signature under another key, a changed signature or a changed input still do not.
    #[tokio::test]
    async fn verified_signatures_are_remembered_only_for_the_same_key_and_bytes() {
        let jws = NativeJws::new();
        let a = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        let b = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        let input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0";
        let sig = jws
            .sign(JwsAlgorithm::RS256, "a", &a.private_pkcs8_der, input)
            .await
            .unwrap();
        let verify = |key: &GeneratedKey, input: &[u8], sig: &[u8]| {
            let (jws, key, input, sig) = (&jws, key.clone(), input.to_vec(), sig.to_vec());
            async move {
                jws.verify(
                    JwsAlgorithm::RS256,
                    "a",
                    &key.modulus,
                    &key.exponent,
                    &input,
                    &sig,
                )
                .await
                .unwrap()
            }
        };
        let computed = || jws.rsa_verifications.load(Ordering::Relaxed);
        assert!(verify(&a, input, &sig).await);
        assert_eq!((jws.verified_lock().len(), computed()), (1, 1));
        assert!(verify(&a, input, &sig).await, "remembered");
        assert_eq!(computed(), 1, "answered without the RSA operation");
        // The remembered success helps nothing else.
        assert!(
            !verify(&b, input, &sig).await,
            "another key under the same kid"
        );
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(!verify(&a, input, &bad).await);
        assert!(!verify(&a, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyIn0", &sig).await);
        let mut e = a.clone();
        e.exponent = vec![3];
        assert!(!verify(&e, input, &sig).await, "another exponent");
        assert_eq!(jws.verified_lock().len(), 1, "failures are not kept");
        assert_eq!(computed(), 5, "each of the four others was computed");
    }

    /// Two generations bound the memory; an entry in use survives the turnover.
    #[test]
    fn remembered_verifications_stay_bounded() {
        let mut memo = VerifiedSignatures::default();
        let digest = |i: usize| VerifiedSignatures::digest(&i.to_le_bytes(), b"e", b"in", b"sig");
        let kept = digest(usize::MAX);
        memo.insert(kept);
        for i in 0..3 * VERIFIED_PER_GENERATION {
            memo.insert(digest(i));
            if i % 1000 == 0 {
                assert!(memo.contains(&kept), "in use, so kept (round {i})");
            }
        }
        assert!(memo.len() <= 2 * VERIFIED_PER_GENERATION);
        assert!(memo.contains(&kept));
        assert!(
            !memo.contains(&digest(0)),
            "the oldest unused ones are gone"
        );
        // Length-prefixed: moving a byte from the input to the signature changes the digest.
        assert_ne!(
            VerifiedSignatures::digest(b"n", b"e", b"ab", b"c"),
            VerifiedSignatures::digest(b"n", b"e", b"a", b"bc")
        );
    }

    #[tokio::test]
    async fn a_reused_kid_with_another_key_signs_with_that_key() {
        let jws = NativeJws::new();
        let a = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        let b = jws.generate(JwsAlgorithm::RS256).await.unwrap();
        let input = b"x.y";
        jws.sign(JwsAlgorithm::RS256, "same", &a.private_pkcs8_der, input)
            .await
            .unwrap();
        let sig = jws
            .sign(JwsAlgorithm::RS256, "same", &b.private_pkcs8_der, input)
            .await
            .unwrap();
        // The same kid with other public components is parsed again each time they change.
        for (key, valid) in [(&b, true), (&a, false), (&b, true)] {
            let verified = jws
                .verify(
                    JwsAlgorithm::RS256,
                    "same",
                    &key.modulus,
                    &key.exponent,
                    input,
                    &sig,
                )
                .await
                .unwrap();
            assert_eq!(verified, valid);
        }
    }

    #[tokio::test]
    async fn moduli_outside_2048_to_8192_bits_do_not_verify() {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let jws = NativeJws::new();
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let der = small.to_pkcs8_der().unwrap();
        let encoded = Secret::new(Base64::encode_string(der.as_bytes()));
        // AWS-LC refuses to sign with it (an error, not a panic) ...
        assert!(
            jws.sign(JwsAlgorithm::RS256, "small", &encoded, b"a.b")
                .await
                .is_err()
        );
        // ... and a valid 1024-bit signature (made with the `rsa` crate) never verifies.
        use rsa::signature::{SignatureEncoding, Signer};
        let sig = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(small.clone())
            .sign(b"a.b")
            .to_vec();
        let (n, e) = (small.n().to_bytes_be(), small.e().to_bytes_be());
        assert!(
            !jws.verify(JwsAlgorithm::RS256, "small", &n, &e, b"a.b", &sig)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn garbage_keys_are_errors_not_panics() {
        let jws = NativeJws::new();
        let not_b64 = Secret::new("%%%");
        assert!(
            jws.sign(JwsAlgorithm::RS256, "x", &not_b64, b"a.b")
                .await
                .is_err()
        );
        let not_der = Secret::new(Base64::encode_string(b"not a key"));
        assert!(
            jws.sign(JwsAlgorithm::RS256, "y", &not_der, b"a.b")
                .await
                .is_err()
        );
        assert!(
            !jws.verify(JwsAlgorithm::RS256, "z", &[1, 2, 3], &[1, 0, 1], b"a", b"b")
                .await
                .unwrap()
        );
    }
}
