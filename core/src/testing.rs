//! In-memory ports with a settable clock and seeded randomness, for tests and examples.
//!
//! `TestJws` is a test double: it "signs" with HMAC-SHA256 keyed by the private key bytes, so
//! core tests run without an RSA implementation. Real adapters use real RSA (the host: aws-lc-rs).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::password::Argon2Hasher;
use crate::ports::{
    BoxFuture, Clock, Env, GeneratedKey, HashParams, Jws, JwsAlgorithm, Message, PasswordCheck,
    PasswordHasher, Random, Sender, boxed,
};
use crate::secret::Secret;
use crate::store::{MemoryStore, Store};

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn new(now_millis: u64) -> Self {
        Self(AtomicU64::new(now_millis))
    }
    pub fn advance(&self, millis: u64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
    pub fn set(&self, now_millis: u64) {
        self.0.store(now_millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A deterministic random source (SHA-256 in counter mode over a seed). Never for production.
#[derive(Debug)]
pub struct SeededRandom {
    seed: u64,
    counter: AtomicU64,
}

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
        }
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::SeqCst);
            let mut h = Sha256::new();
            h.update(self.seed.to_le_bytes());
            h.update(n.to_le_bytes());
            let block = h.finalize();
            for (dst, src) in chunk.iter_mut().zip(block.iter()) {
                *dst = *src;
            }
        }
    }
}

/// A sender that keeps every message in memory.
#[derive(Debug, Default)]
pub struct MemorySender {
    pub messages: Mutex<Vec<Message>>,
}

impl MemorySender {
    /// The code of the last message sent to `username`.
    pub fn last_code(&self, username: &str) -> Option<String> {
        let messages = self.messages.lock().ok()?;
        messages
            .iter()
            .rev()
            .find(|m| m.username == username)
            .map(|m| String::from(m.code.expose()))
    }
    pub fn count(&self) -> usize {
        self.messages.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl Sender for MemorySender {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            self.messages
                .lock()
                .map_err(|_| Error::internal("sender lock poisoned"))?
                .push(message);
            Ok(())
        })
    }
}

/// A JWS test double: HMAC-SHA256 keyed by the "private key". See the module docs.
#[derive(Debug)]
pub struct TestJws {
    random: Arc<SeededRandom>,
}

fn test_mac(key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <hmac::Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

impl Jws for TestJws {
    fn generate<'a>(&'a self, _alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>> {
        boxed(async move {
            let mut key = [0u8; 32];
            self.random.fill(&mut key);
            // The "public key" is the key itself: a double, not cryptography.
            Ok(GeneratedKey {
                private_pkcs8_der: Secret::new(crate::codec::b64(&key)),
                modulus: key.to_vec(),
                exponent: alloc::vec![1, 0, 1],
            })
        })
    }
    fn sign<'a>(
        &'a self,
        _alg: JwsAlgorithm,
        _kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        boxed(async move {
            let key = crate::codec::b64_decode(private_pkcs8_der.expose())
                .ok_or_else(|| Error::internal("bad test key"))?;
            Ok(test_mac(&key, input))
        })
    }
    fn verify<'a>(
        &'a self,
        _alg: JwsAlgorithm,
        _kid: &'a str,
        modulus: &'a [u8],
        _exponent: &'a [u8],
        input: &'a [u8],
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<bool, Error>> {
        boxed(async move {
            use subtle::ConstantTimeEq;
            Ok(test_mac(modulus, input).ct_eq(signature).into())
        })
    }
}

/// Argon2 with the parameters the pool asks for, but clamped to tiny costs so tests are fast.
#[derive(Debug, Default)]
pub struct FastHasher;

fn fast(params: HashParams) -> HashParams {
    HashParams {
        memory_kib: params.memory_kib.min(256),
        iterations: 1,
        parallelism: 1,
    }
}

impl PasswordHasher for FastHasher {
    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Argon2Hasher.hash(password, salt, fast(params))
    }
    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        Argon2Hasher.verify(password, phc, fast(params))
    }
}

/// Every port in memory: store, clock (starting 2026-01-01), seeded random, recording sender.
#[derive(Debug)]
pub struct TestEnv {
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub random: Arc<SeededRandom>,
    pub sender: MemorySender,
    pub jws: TestJws,
    pub passwords: FastHasher,
    /// Trigger plugins as Rust closures (see [`ScriptedTriggers`]).
    pub triggers: ScriptedTriggers,
    /// Outbound HTTP answered from a table (see [`ScriptedHttp`]).
    pub http: ScriptedHttp,
    /// Decoded records kept between requests, as the host keeps them.
    pub decoded: crate::decoded::KeptRecords,
}

/// Outbound HTTP for tests: answers by URL from a table the test fills; counts requests.
#[derive(Debug, Default)]
pub struct ScriptedHttp {
    pub routes: Mutex<alloc::collections::BTreeMap<String, (u16, Vec<u8>)>>,
    pub requests: Mutex<Vec<crate::ports::HttpRequest>>,
}

impl ScriptedHttp {
    /// Answers `url` with `status` and `body` from now on.
    pub fn route(&self, url: &str, status: u16, body: &[u8]) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.insert(url.into(), (status, body.to_vec()));
        }
    }
    /// How many requests went to `url`.
    pub fn count(&self, url: &str) -> usize {
        self.requests
            .lock()
            .map(|r| r.iter().filter(|q| q.url == url).count())
            .unwrap_or(0)
    }
}

impl crate::ports::Http for ScriptedHttp {
    fn request<'a>(
        &'a self,
        request: crate::ports::HttpRequest,
    ) -> BoxFuture<'a, Result<crate::ports::HttpResponse, Error>> {
        boxed(async move {
            let answer = self
                .routes
                .lock()
                .ok()
                .and_then(|r| r.get(&request.url).cloned());
            if let Ok(mut log) = self.requests.lock() {
                log.push(request.clone());
            }
            match answer {
                Some((status, body)) => Ok(crate::ports::HttpResponse {
                    status,
                    headers: Vec::new(),
                    body,
                }),
                None => Err(crate::ports::http_refused(&request.url)),
            }
        })
    }
}

impl ScriptedHttp {
    /// Serves an upstream OpenID provider: its discovery document at
    /// `<issuer>/.well-known/openid-configuration` and its keys (`kid`, key bytes: the test JWS
    /// keys an RSA "modulus" with them) at `<issuer>/jwks`.
    pub fn serve_openid_provider(&self, issuer: &str, keys: &[(&str, &[u8])]) {
        let jwks = alloc::format!("{issuer}/jwks");
        let discovery = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": alloc::format!("{issuer}/authorize"),
            "token_endpoint": alloc::format!("{issuer}/token"),
            "jwks_uri": jwks,
        });
        self.route(
            &alloc::format!("{issuer}/.well-known/openid-configuration"),
            200,
            &serde_json::to_vec(&discovery).unwrap_or_default(),
        );
        let keys: Vec<serde_json::Value> = keys
            .iter()
            .map(|(kid, key)| {
                serde_json::json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                                   "n": crate::codec::b64url(key), "e": "AQAB"})
            })
            .collect();
        self.route(
            &jwks,
            200,
            &serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap_or_default(),
        );
    }
}

/// A JWT with `claims`, signed by the test JWS with `key` under `kid` (as a provider served by
/// [`ScriptedHttp::serve_openid_provider`] with that key would sign it).
pub fn sign_openid_token(kid: &str, key: &[u8], claims: &serde_json::Value) -> String {
    use futures_util::FutureExt as _;
    let header = crate::codec::b64url(
        &serde_json::to_vec(&serde_json::json!({"alg": "RS256", "kid": kid, "typ": "JWT"}))
            .unwrap_or_default(),
    );
    let payload = crate::codec::b64url(&serde_json::to_vec(claims).unwrap_or_default());
    let input = alloc::format!("{header}.{payload}");
    let signature = TestEnv::new()
        .jws
        .sign(
            crate::ports::JwsAlgorithm::RS256,
            kid,
            &crate::secret::Secret::new(crate::codec::b64(key)),
            input.as_bytes(),
        )
        .now_or_never()
        .and_then(Result::ok)
        .unwrap_or_default();
    alloc::format!("{input}.{}", crate::codec::b64url(&signature))
}

impl TestEnv {
    pub fn new() -> Self {
        let random = Arc::new(SeededRandom::new(42));
        Self {
            store: MemoryStore::new(),
            clock: ManualClock::new(1_767_225_600_000),
            jws: TestJws {
                random: random.clone(),
            },
            random,
            sender: MemorySender::default(),
            passwords: FastHasher,
            triggers: ScriptedTriggers::default(),
            http: ScriptedHttp::default(),
            decoded: Default::default(),
        }
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for TestEnv {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    fn clock(&self) -> &dyn Clock {
        &self.clock
    }
    fn random(&self) -> &dyn Random {
        &*self.random
    }
    fn sender(&self) -> &dyn Sender {
        &self.sender
    }
    fn jws(&self) -> &dyn Jws {
        &self.jws
    }
    fn passwords(&self) -> &dyn PasswordHasher {
        &self.passwords
    }
    fn triggers(&self) -> &dyn crate::ports::Triggers {
        &self.triggers
    }
    fn http(&self) -> &dyn crate::ports::Http {
        &self.http
    }
    fn decoded_records(&self) -> &dyn crate::ports::DecodedRecords {
        &self.decoded
    }
}

/// A plugin as a Rust closure: the event in, the answer's bytes (or a failure) out.
pub type ScriptedPlugin =
    Arc<dyn Fn(&serde_json::Value) -> Result<Vec<u8>, crate::ports::InvocationError> + Send + Sync>;

/// Trigger plugins for tests: closures registered by reference, and every event they saw.
#[derive(Default)]
pub struct ScriptedTriggers {
    plugins: Mutex<alloc::collections::BTreeMap<String, ScriptedPlugin>>,
    /// `(plugin reference, event)` of every call, oldest first.
    pub events: Mutex<Vec<(String, serde_json::Value)>>,
}

impl core::fmt::Debug for ScriptedTriggers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScriptedTriggers").finish_non_exhaustive()
    }
}

impl ScriptedTriggers {
    /// Registers `plugin` under `reference`.
    pub fn register(
        &self,
        reference: &str,
        plugin: impl Fn(&serde_json::Value) -> Result<Vec<u8>, crate::ports::InvocationError>
        + Send
        + Sync
        + 'static,
    ) {
        if let Ok(mut plugins) = self.plugins.lock() {
            plugins.insert(reference.into(), Arc::new(plugin));
        }
    }
    /// The events the plugin under `reference` saw.
    pub fn events_of(&self, reference: &str) -> Vec<serde_json::Value> {
        self.events
            .lock()
            .map(|e| {
                e.iter()
                    .filter(|(r, _)| r == reference)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl crate::ports::Triggers for ScriptedTriggers {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, crate::ports::InvocationError>> {
        boxed(async move {
            let event: serde_json::Value = serde_json::from_slice(event)
                .map_err(|e| crate::ports::InvocationError::BadOutput(alloc::format!("{e}")))?;
            if let Ok(mut events) = self.events.lock() {
                events.push((plugin.into(), event.clone()));
            }
            let found = self
                .plugins
                .lock()
                .ok()
                .and_then(|p| p.get(plugin).cloned());
            match found {
                Some(f) => f(&event),
                None => Err(crate::ports::InvocationError::NotFound),
            }
        })
    }
}
