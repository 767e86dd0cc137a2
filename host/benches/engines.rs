//! The two engines side by side, in one run, over the same ports (SQLite in WAL mode, aws-lc-rs
//! RS256, argon2id on the blocking pool), in-process (no HTTP): the core linked natively
//! (`--engine native`) against the core's Wasm build in wasmtime (`--engine wasm`: `wasm` with
//! the default 1000 requests per instance, `wasm_fresh` with a fresh instance per request).
//!
//! - `sign_in/*`: InitiateAuth USER_PASSWORD_AUTH (one argon2id verification);
//! - `srp_sign_in/*`: USER_SRP_AUTH, both calls (InitiateAuth, RespondToAuthChallenge
//!   PASSWORD_VERIFIER), timing the server's calls only (the client's side is computed between
//!   them, outside the measurement); `srp_math/*`: the core's SRP arithmetic alone, natively
//!   (B = k·v + g^b, and the server's key (A·v^u)^b: 3072-bit modulus, 256-bit exponents);
//! - `refresh_token_auth/*` and `get_user/*`: the token paths;
//! - `health/*`: the smallest request: the engine's fixed cost per request;
//! - `instantiate/wasm`: creating and dropping one instance (pooling allocator, copy-on-write
//!   memory image).
//!
//! `BENCH_STORE=memory` runs everything over the in-memory store instead of SQLite: the
//! engines' own cost without SQLite's blocking-pool round trips.
//!
//! The embedded core module's size is printed first (host/build.rs has run `wasm-opt -O3` on
//! it). Goals (README, "Engines"): wasm within 10% of native on sign-in, within 25% on
//! refresh and GetUser; report the ratios of one run.
// A benchmark that cannot set up should stop loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use cognate_core::service::{ClientSpec, PoolSpec};
use cognate_core::{Config, Request, Service};
use cognate_host::engine::{CoreEngine, EngineKind, WasmCore, WasmLimits};
use cognate_host::{HostEnv, SqliteStore};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

struct Bench {
    rt: tokio::runtime::Runtime,
    service: Service,
    env: Arc<HostEnv>,
    native: CoreEngine,
    wasm: CoreEngine,
    /// The Wasm engine with a fresh instance for every request.
    wasm_fresh: CoreEngine,
    client_id: String,
    pool_id: String,
    _dir: tempfile::TempDir,
}

fn api_request(op: &str, body: &Value) -> Request {
    Request::new("POST", "/")
        .with_header("content-type", "application/x-amz-json-1.1")
        .with_header(
            "x-amz-target",
            &format!("AWSCognitoIdentityProviderService.{op}"),
        )
        .with_body(serde_json::to_vec(body).unwrap())
}

impl Bench {
    fn call(&self, engine: &CoreEngine, op: &str, body: &Value) -> Value {
        let response =
            self.rt
                .block_on(engine.handle(&self.service, api_request(op, body), &self.env));
        let out: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(response.status, 200, "{op}: {out}");
        out
    }

    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn cognate_core::Store> =
            if std::env::var("BENCH_STORE").as_deref() == Ok("memory") {
                Arc::new(cognate_core::store::MemoryStore::new())
            } else {
                Arc::new(SqliteStore::open(dir.path().join("bench.db")).unwrap())
            };
        let env = Arc::new(HostEnv::native(store, dir.path()).unwrap());
        let service = Service::new(Config::new("http://bench.local", "us-east-1"));
        let spec = PoolSpec {
            id: None,
            region: None,
            create: json!({"PoolName": "bench", "AutoVerifiedAttributes": ["email"]}),
            clients: vec![ClientSpec {
                id: None,
                create: json!({"ClientName": "bench",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            }],
        };
        let applied = rt.block_on(service.apply_pool_spec(&*env, &spec)).unwrap();
        let client_id = applied.clients[0].1.clone();
        let pool_id = applied.pool_id.clone();
        let wasm =
            CoreEngine::new(EngineKind::Wasm, &service, None, WasmLimits::default()).unwrap();
        let wasm_fresh = CoreEngine::new(
            EngineKind::Wasm,
            &service,
            None,
            WasmLimits {
                requests_per_instance: 1,
                ..WasmLimits::default()
            },
        )
        .unwrap();
        let bench = Self {
            rt,
            service,
            env,
            native: CoreEngine::Native,
            wasm,
            wasm_fresh,
            client_id,
            pool_id,
            _dir: dir,
        };
        // The user is created through the Wasm engine: its writes must be what native reads.
        bench.call(
            &bench.wasm,
            "SignUp",
            &json!({"ClientId": bench.client_id, "Username": "bench", "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}]}),
        );
        let outbox = std::fs::read_to_string(bench._dir.path().join("outbox.jsonl")).unwrap();
        let last: Value = serde_json::from_str(outbox.lines().last().unwrap()).unwrap();
        bench.call(
            &bench.wasm,
            "ConfirmSignUp",
            &json!({"ClientId": bench.client_id, "Username": "bench", "ConfirmationCode": last["code"]}),
        );
        bench
    }

    fn engines(&self) -> [(&'static str, &CoreEngine); 3] {
        [
            ("native", &self.native),
            ("wasm", &self.wasm),
            ("wasm_fresh", &self.wasm_fresh),
        ]
    }

    fn sign_in(&self, engine: &CoreEngine) -> Value {
        self.call(
            engine,
            "InitiateAuth",
            &json!({"ClientId": self.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bench", "PASSWORD": "Passw0rd!"}}),
        )
    }
}

impl Bench {
    /// One USER_SRP_AUTH sign-in; returns the time the two server calls took.
    fn srp_sign_in(&self, engine: &CoreEngine) -> std::time::Duration {
        use cognate_core::srp;
        let a = [0x42u8; 32];
        let big_a = srp::client_public(&a).unwrap();
        let started = std::time::Instant::now();
        let challenge = self.call(
            engine,
            "InitiateAuth",
            &json!({"ClientId": self.client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": "bench", "SRP_A": big_a}}),
        );
        let mut spent = started.elapsed();
        let p = &challenge["ChallengeParameters"];
        let user_id = p["USER_ID_FOR_SRP"].as_str().unwrap();
        let pool_id = self.pool_id.as_str();
        let key = srp::client_key(
            &a,
            p["SRP_B"].as_str().unwrap(),
            p["SALT"].as_str().unwrap(),
            srp::pool_name(pool_id),
            user_id,
            "Passw0rd!",
        )
        .unwrap();
        let timestamp = "Tue Feb 1 03:04:05 UTC 2022";
        let block = cognate_core::codec::b64_decode(p["SECRET_BLOCK"].as_str().unwrap()).unwrap();
        let signature = srp::signature(&key, srp::pool_name(pool_id), user_id, &block, timestamp);
        let body = json!({"ClientId": self.client_id, "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {"USERNAME": p["USERNAME"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                "TIMESTAMP": timestamp, "PASSWORD_CLAIM_SIGNATURE": cognate_core::codec::b64(&signature)}});
        let started = std::time::Instant::now();
        let out = self.call(engine, "RespondToAuthChallenge", &body);
        spent += started.elapsed();
        assert!(
            out["AuthenticationResult"]["AccessToken"].is_string(),
            "{out}"
        );
        spent
    }
}

fn artifact_size() {
    eprintln!(
        "core module: {} bytes (as embedded: after host/build.rs's wasm-opt -O3)",
        cognate_host::engine::wasm::CORE_WASM.len()
    );
}

fn engines(c: &mut Criterion) {
    artifact_size();
    let bench = Bench::new();

    let mut slow = c.benchmark_group("sign_in");
    slow.sample_size(20);
    for (name, engine) in bench.engines() {
        slow.bench_function(name, |b| b.iter(|| bench.sign_in(engine)));
    }
    slow.finish();

    let mut srp_group = c.benchmark_group("srp_sign_in");
    srp_group.sample_size(20);
    for (name, engine) in bench.engines() {
        srp_group.bench_function(name, |b| {
            b.iter_custom(|iterations| (0..iterations).map(|_| bench.srp_sign_in(engine)).sum())
        });
    }
    srp_group.finish();

    let verifier = cognate_core::srp::verifier("pool", "bench", "Passw0rd!", [7; 16]);
    let big_a = cognate_core::srp::client_public(&[0x42; 32]).unwrap();
    let hello = cognate_core::srp::server_hello(&verifier.v, [9; 32]).unwrap();
    let mut group = c.benchmark_group("srp_math");
    group.bench_function("server_hello/native", |b| {
        b.iter(|| cognate_core::srp::server_hello(&verifier.v, [9; 32]).unwrap())
    });
    group.bench_function("server_key/native", |b| {
        b.iter(|| cognate_core::srp::server_key(&big_a, &hello, &verifier.v).unwrap())
    });
    group.bench_function("verifier/native", |b| {
        b.iter(|| cognate_core::srp::verifier("pool", "bench", "Passw0rd!", [7; 16]))
    });
    group.finish();

    let tokens = bench.sign_in(&bench.native);
    let refresh = tokens["AuthenticationResult"]["RefreshToken"].clone();
    let access = tokens["AuthenticationResult"]["AccessToken"].clone();
    let mut group = c.benchmark_group("refresh_token_auth");
    for (name, engine) in bench.engines() {
        group.bench_function(name, |b| {
            b.iter(|| {
                bench.call(
                    engine,
                    "InitiateAuth",
                    &json!({"ClientId": bench.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                           "AuthParameters": {"REFRESH_TOKEN": refresh}}),
                )
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("get_user");
    for (name, engine) in bench.engines() {
        group.bench_function(name, |b| {
            b.iter(|| bench.call(engine, "GetUser", &json!({"AccessToken": access})))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("health");
    for (name, engine) in bench.engines() {
        group.bench_function(name, |b| {
            b.iter(|| {
                let response = bench.rt.block_on(engine.handle(
                    &bench.service,
                    Request::new("GET", "/health"),
                    &bench.env,
                ));
                assert_eq!(response.status, 200);
            })
        });
    }
    group.finish();

    let core = WasmCore::new(bench.service.config(), None, WasmLimits::default()).unwrap();
    let mut group = c.benchmark_group("instantiate");
    group.bench_function("wasm", |b| {
        b.iter(|| {
            bench
                .rt
                .block_on(core.instantiate_once(Arc::clone(&bench.env)))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, engines);
criterion_main!(benches);
