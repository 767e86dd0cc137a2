//! Test-only routes under `/__cognate/test/`, for the end-to-end harness and local demos.
//!
//! They exist only when the variable `COGNATE_TEST_KEY` is set (the local development
//! configuration sets it; a deployment must not) and answer 404 unless the request carries the
//! same value in `x-cognate-test-key`:
//!
//! - `GET  outbox?pool=<poolId>`: the development outbox as JSON lines (the host's
//!   `outbox.jsonl` format), for the harness's `COGNATE_OUTBOX_URL`.
//! - `POST contract?check=<name>`: runs one check of the storage contract suite
//!   (`cognate_core::store::contract`) against the Durable Object store, inside the runtime,
//!   on fresh shards; `GET contract` lists the checks.
//! - `POST cache-snapshot?prefix=<p>`: copies every store entry under `p` into KV exactly as
//!   the read cache would hold it, to prove stale KV cannot bring data back.
//! - `GET kv?key=<k>`: a raw KV entry (404 when absent).
//! - `POST panic`: panics, to prove the isolate recovers (the next request gets a fresh instance).
//! - `POST argon2?n=<n>`: hashes `n` passwords with argon2id (benchmarks read the CPU time).
//! - `POST rs256?n=<n>&op=sign|verify`: `n` RS256 signatures, or `n` verifications of one,
//!   through the Worker's `Jws` port (WebCrypto) with a 2048-bit key made once per isolate;
//!   answers how many verified (benchmarks read the CPU time: the edge's signing bound).
//! - `POST demo`: creates the demo pool (fixed ids) unless it exists; answers its ids.
//! - `POST webauthn`: runs the passkey verifier (`crate::webauthn`), WebCrypto signatures
//!   included, on recorded browser responses and on tampered copies; answers each outcome.
//! - `POST apple-client-secret?key=<base64 PKCS#8 P-256 key>`: a Sign in with Apple client
//!   secret signed with that key (WebCrypto ES256).

use cognate_core::service::{ClientSpec, PoolSpec};
use cognate_core::store::{Store, StoreError, Versioned, contract};
use serde_json::json;
use subtle_compare::ct_eq;
use worker::{Response, Result};

use crate::{edge_env, setting};

/// Where the test-only routes live.
pub const PREFIX: &str = "/__cognate/test/";
/// The header carrying the test key.
pub const KEY_HEADER: &str = "x-cognate-test-key";

/// The demo pool's fixed ids (a pool id is `<region>_<9 alphanumerics>`, a client id 26
/// lower-case alphanumerics).
pub const DEMO_POOL_ID: &str = "us-east-1_CognateDm";
pub const DEMO_CLIENT_ID: &str = "cognatedemoapp000000000000";

mod subtle_compare {
    /// Constant-time equality of two strings (the length is not secret).
    pub fn ct_eq(a: &str, b: &str) -> bool {
        a.len() == b.len()
            && a.bytes()
                .zip(b.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
}

fn not_found() -> Result<Response> {
    Response::error("Not Found", 404)
}

/// The variant of an invocation failure (details differ between engines' trap messages).
fn invocation_kind(error: &cognate_core::ports::InvocationError) -> &'static str {
    use cognate_core::ports::InvocationError as E;
    match error {
        E::NotFound => "NotFound",
        E::MissingExport(_) => "MissingExport",
        E::Trap(_) => "Trap",
        E::Timeout => "Timeout",
        E::OutOfMemory => "OutOfMemory",
        E::BadOutput(_) => "BadOutput",
        E::OutputTooLarge => "OutputTooLarge",
        E::Unavailable(_) => "Unavailable",
    }
}

fn query_param(url: &worker::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every entry under `prefix`, following the cursor.
async fn scan_all(
    store: &dyn Store,
    prefix: &str,
) -> core::result::Result<Vec<(String, Versioned)>, StoreError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.scan(prefix, after.as_deref(), 1000).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

fn store_error(e: &StoreError) -> Result<Response> {
    Response::error(format!("store: {e}"), 500)
}

/// Serves `/__cognate/test/...`.
pub async fn handle(req: worker::Request, env: &worker::Env, origin: &str) -> Result<Response> {
    let Some(expected) = setting(env, "COGNATE_TEST_KEY") else {
        return not_found();
    };
    let given = req.headers().get(KEY_HEADER)?.unwrap_or_default();
    if !ct_eq(&given, &expected) {
        return not_found();
    }
    let url = req.url()?;
    let route = url
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or_default()
        .to_owned();
    let method = req.method().to_string();
    let edge = edge_env(env)?;
    match (method.as_str(), route.as_str()) {
        ("GET", "outbox") => {
            let Some(pool) = query_param(&url, "pool") else {
                return Response::error("pool= is required", 400);
            };
            let items =
                match scan_all(edge.store.inner(), &crate::outbox::outbox_prefix(&pool)).await {
                    Ok(items) => items,
                    Err(e) => return store_error(&e),
                };
            let mut text = String::new();
            for (_, item) in items {
                text.push_str(&String::from_utf8_lossy(&item.value));
                text.push('\n');
            }
            let mut response = Response::ok(text)?;
            response
                .headers_mut()
                .set("content-type", "application/x-ndjson")?;
            Ok(response)
        }
        ("GET", "contract") => Response::from_json(&json!({ "checks": contract::CHECKS })),
        ("POST", "contract") => {
            let Some(check) =
                query_param(&url, "check").filter(|c| contract::CHECKS.contains(&c.as_str()))
            else {
                return Response::error("check= must name a contract check", 400);
            };
            let mut nonce = [0u8; 8];
            cognate_core::Random::fill(&edge.random, &mut nonce);
            let nonce = hex::encode(nonce);
            // Fresh shards for every run: the suite wants a store with nothing under
            // `contract/`, and must see the real key-length limits.
            let store = crate::store::DoStore::named(
                env.durable_object(crate::STORE_BINDING)?,
                &format!("contract-{nonce}"),
            );
            // A violated property panics inside the check (the runtime logs it and answers
            // 500); reaching the end means the check held.
            if contract::run_check(&store, &check).await {
                Response::from_json(&json!({ "check": check, "ok": true }))
            } else {
                Response::error("unknown check", 400)
            }
        }
        ("POST", "plugin-invoke") => {
            // Runs a plugin on the posted event exactly as a trigger would: the raw answer, or
            // the failure's kind (the host/edge parity test compares both with wasmtime's).
            let Some(plugin) = query_param(&url, "plugin") else {
                return Response::error("plugin= is required", 400);
            };
            let mut req = req;
            let event = req.bytes().await?;
            let answer = match crate::plugins::invoke(edge.store.inner(), &plugin, &event).await {
                Ok(output) => json!({ "output": String::from_utf8_lossy(&output) }),
                Err(e) => json!({ "error": invocation_kind(&e) }),
            };
            Response::from_json(&answer)
        }
        ("POST", "cache-snapshot") => {
            let Some(prefix) = query_param(&url, "prefix").filter(|p| !p.is_empty()) else {
                return Response::error("prefix= is required", 400);
            };
            let items = match scan_all(edge.store.inner(), &prefix).await {
                Ok(items) => items,
                Err(e) => return store_error(&e),
            };
            let kv = env.kv(crate::CACHE_BINDING)?;
            let mut keys = Vec::new();
            for (key, item) in items {
                let entry = json!({
                    "v": <base64ct::Base64 as base64ct::Encoding>::encode_string(&item.value),
                    "n": item.version,
                });
                kv.put(&crate::cache::cache_key(&key), entry.to_string())?
                    .execute()
                    .await?;
                keys.push(key);
            }
            Response::from_json(&json!({ "copied": keys }))
        }
        ("PUT", "record") => {
            // Writes a raw store record (the janitor test seeds expired records with it).
            let Some(key) = query_param(&url, "key") else {
                return Response::error("key= is required", 400);
            };
            let mut req = req;
            let value = req.bytes().await?;
            match edge
                .store
                .put(&key, &value, cognate_core::Expect::Any)
                .await
            {
                Ok(version) => Response::from_json(&json!({ "version": version })),
                Err(e) => Response::error(format!("store: {e}"), 500),
            }
        }
        ("GET", "record") => {
            let Some(key) = query_param(&url, "key") else {
                return Response::error("key= is required", 400);
            };
            match edge.store.get(&key).await {
                Ok(Some(item)) => Response::ok(String::from_utf8_lossy(&item.value).into_owned()),
                Ok(None) => not_found(),
                Err(e) => Response::error(format!("store: {e}"), 500),
            }
        }
        ("GET", "kv") => {
            let Some(key) = query_param(&url, "key") else {
                return Response::error("key= is required", 400);
            };
            match env.kv(crate::CACHE_BINDING)?.get(&key).text().await? {
                Some(text) => Response::ok(text),
                None => not_found(),
            }
        }
        ("POST", "webauthn") => Response::from_json(&webauthn_known_answers().await),
        ("POST", "apple-client-secret") => {
            let Some(key) = query_param(&url, "key") else {
                return Response::error("key= is required", 400);
            };
            match cognate_core::federation::apple::client_secret(&edge, &apple_provider(&key)).await
            {
                Ok(jwt) => Response::ok(jwt),
                Err(e) => Response::error(format!("client secret: {e}"), 500),
            }
        }
        ("POST", "panic") => {
            // Proves the isolate recovers from a Rust panic (the shim resets the instance).
            #[allow(clippy::panic)]
            {
                panic!("panic requested by the test route");
            }
        }
        ("POST", "argon2") => {
            // For the benchmark: `n` argon2id hashes at the default (OWASP) parameters, so the
            // runtime's CPU time per hash can be read off the process.
            let n = query_param(&url, "n")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1)
                .clamp(1, 50);
            let params = cognate_core::ports::HashParams::default();
            for i in 0..n {
                let salt = [u8::try_from(i % 256).unwrap_or(0); 16];
                if let Err(e) =
                    cognate_core::password::hash_argon2id("benchmark-password", salt, params)
                {
                    return Response::error(format!("argon2: {e}"), 500);
                }
            }
            Response::from_json(&json!({ "hashes": n }))
        }
        ("POST", "rs256") => {
            let n = query_param(&url, "n")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1)
                .clamp(1, 5000);
            let verify_only = query_param(&url, "op").as_deref() == Some("verify");
            match rs256_rounds(&edge, n, verify_only).await {
                Ok(verified) => Response::from_json(&json!({ "n": n, "verified": verified })),
                Err(e) => Response::error(format!("rs256: {e}"), 500),
            }
        }
        ("POST", "demo") => {
            let service = crate::service(env, origin);
            let spec = demo_spec(service.config().default_region.as_str());
            match service.apply_pool_spec(&edge, &spec).await {
                Ok(applied) => Response::from_json(&json!({
                    "pool_id": applied.pool_id,
                    "client_id": applied.clients.first().map(|c| c.1.clone()),
                    "created": applied.created,
                })),
                Err(e) => Response::error(format!("demo pool: {e}"), 500),
            }
        }
        _ => not_found(),
    }
}

/// `n` signatures of a token-sized input, or `n` verifications of one; returns how many
/// verified. RSASSA-PKCS1-v1_5 is deterministic, so a signature equal to one that verified
/// verifies: signing rounds are proved without a verification each (which would count in their
/// time). The key is generated as a pool's is, once per isolate.
async fn rs256_rounds(
    edge: &crate::EdgeEnv,
    n: u32,
    verify_only: bool,
) -> core::result::Result<u32, cognate_core::error::Error> {
    use cognate_core::ports::{Env as _, JwsAlgorithm};
    thread_local! {
        /// Generated once per isolate: generating an RSA key costs more than the rounds measured.
        static KEY: core::cell::RefCell<Option<cognate_core::ports::GeneratedKey>> =
            const { core::cell::RefCell::new(None) };
    }
    let jws = edge.jws();
    let key = match KEY.with_borrow(Clone::clone) {
        Some(key) => key,
        None => {
            let key = jws.generate(JwsAlgorithm::RS256).await?;
            KEY.set(Some(key.clone()));
            key
        }
    };
    let kid = "bench";
    // About an access token's signed part (header and claims, base64url).
    let input = [b'a'; 700];
    let first = jws
        .sign(JwsAlgorithm::RS256, kid, &key.private_pkcs8_der, &input)
        .await?;
    let verify = || {
        jws.verify(
            JwsAlgorithm::RS256,
            kid,
            &key.modulus,
            &key.exponent,
            &input,
            &first,
        )
    };
    if !verify().await? {
        return Ok(0);
    }
    let mut verified = 1;
    for _ in 1..n {
        let ok = if verify_only {
            verify().await?
        } else {
            jws.sign(JwsAlgorithm::RS256, kid, &key.private_pkcs8_der, &input)
                .await?
                == first
        };
        verified += u32::from(ok);
    }
    Ok(verified)
}

/// The demo pool, as the host's: email auto-verified, one public client allowing password,
/// SRP and refresh-token sign-in.
pub fn demo_spec(region: &str) -> PoolSpec {
    PoolSpec {
        id: Some(DEMO_POOL_ID.to_owned()),
        region: Some(region.to_owned()),
        create: json!({
            "PoolName": "cognate-demo",
            "AutoVerifiedAttributes": ["email"],
        }),
        clients: vec![ClientSpec {
            id: Some(DEMO_CLIENT_ID.to_owned()),
            create: json!({
                "ClientName": "demo-app",
                "GenerateSecret": false,
                "ExplicitAuthFlows": [
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH",
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                ],
            }),
        }],
    }
}

/// A Sign in with Apple provider with the test's key (`POST apple-client-secret`).
fn apple_provider(private_key: &str) -> cognate_core::federation::provider::IdentityProvider {
    use cognate_core::federation::provider::{IdentityProvider, ProviderType};
    let details = [
        ("client_id", "com.example.web"),
        ("team_id", "TEAM123456"),
        ("key_id", "KEY1234567"),
        ("private_key", private_key),
        ("authorize_scopes", "email name"),
    ];
    IdentityProvider {
        user_pool_id: String::new(),
        provider_name: "SignInWithApple".into(),
        provider_type: ProviderType::SignInWithApple,
        provider_details: details
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        attribute_mapping: Default::default(),
        idp_identifiers: Vec::new(),
        acr_mapping: None,
        created_millis: 0,
        modified_millis: 0,
    }
}

/// `POST webauthn`: each recorded ceremony's outcome (`crate::webauthn::known_answers`).
async fn webauthn_known_answers() -> serde_json::Value {
    use crate::webauthn::known_answers::*;
    use crate::webauthn::{assert, register};
    use cognate_core::ports::WebAuthnRefusal;

    fn refused(e: &WebAuthnRefusal) -> String {
        format!("{e:?}")
    }
    let packed = match register(&packed_es256()).await {
        Ok(p) => format!("{} uv={}", p.attestation_format, p.user_verified),
        Err(e) => refused(&e),
    };
    let mut check = packed_es256();
    check.response_json = tampered(&check.response_json, PACKED_SIG_PREFIX);
    let packed_tampered = match register(&check).await {
        Ok(p) => format!("{} uv={}", p.attestation_format, p.user_verified),
        Err(e) => refused(&e),
    };
    let registered = |r: Result<cognate_core::ports::VerifiedPasskey, WebAuthnRefusal>| match r {
        Ok(p) => format!("{} uv={}", p.attestation_format, p.user_verified),
        Err(e) => refused(&e),
    };
    let packed_x5c = registered(register(&packed_x5c_es256()).await);
    let mut check = packed_x5c_es256();
    check.response_json = tampered(&check.response_json, YUBIKEY_SIG_PREFIX);
    let packed_x5c_tampered = registered(register(&check).await);
    let packed_x5c_other_aaguid = registered(register(&packed_x5c_other_aaguid()).await);
    let (hello, key) = match register(&hello_rs256()).await {
        Ok(p) => (
            format!("{} uv={}", p.attestation_format, p.user_verified),
            p.key,
        ),
        Err(e) => (refused(&e), String::new()),
    };
    let outcome = |r: Result<cognate_core::ports::VerifiedAssertion, WebAuthnRefusal>| match r {
        Ok(a) => format!("count={} uv={}", a.sign_count, a.user_verified),
        Err(e) => refused(&e),
    };
    let assertion = outcome(assert(&hello_assertion(key.clone())).await);
    let mut check = hello_assertion(key);
    check.response_json = tampered(&check.response_json, HELLO_SIG_PREFIX);
    let assertion_tampered = outcome(assert(&check).await);
    // The packed key in place of the RSA one: another key, and another kind of key.
    let packed_key = crate::webauthn::check_registration(&packed_es256())
        .map(|c| c.passkey.key)
        .unwrap_or_default();
    let assertion_other_key = outcome(assert(&hello_assertion(packed_key)).await);
    json!({
        "packed_es256": packed,
        "packed_es256_tampered": packed_tampered,
        "packed_x5c_es256": packed_x5c,
        "packed_x5c_es256_tampered": packed_x5c_tampered,
        "packed_x5c_other_aaguid": packed_x5c_other_aaguid,
        "hello_rs256": hello,
        "hello_assertion": assertion,
        "hello_assertion_tampered": assertion_tampered,
        "hello_assertion_other_key": assertion_other_key,
    })
}
