//! The hot paths of DESIGN.md §7, measured in one run through the real host ports (SQLite in WAL
//! mode, ring RS256, argon2id on the blocking pool), in-process (no HTTP):
//!
//! - `argon2id_verify`: the raw cost a password sign-in cannot avoid (same parameters);
//! - `password_sign_in`: InitiateAuth USER_PASSWORD_AUTH, end to end through `Service::handle`;
//! - `refresh_token_auth` and `get_user`: the token paths.
//!
//! Report ratios from one run: sign-ins/s ÷ raw verifies/s should be ≥ 0.9.
// A benchmark that cannot set up should stop loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use cognate_core::password::{hash_argon2id, verify_argon2id};
use cognate_core::ports::HashParams;
use cognate_core::service::{ClientSpec, PoolSpec};
use cognate_core::{Config, Request, Service};
use cognate_host::{HostEnv, SqliteStore};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

struct Bench {
    rt: tokio::runtime::Runtime,
    service: Service,
    env: HostEnv,
    client_id: String,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn call(&self, op: &str, body: Value) -> Value {
        let request = Request::new("POST", "/")
            .with_header("content-type", "application/x-amz-json-1.1")
            .with_header(
                "x-amz-target",
                &format!("AWSCognitoIdentityProviderService.{op}"),
            )
            .with_body(serde_json::to_vec(&body).unwrap());
        let response = self.rt.block_on(self.service.handle(request, &self.env));
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
        let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
        let env = HostEnv::native(Arc::new(store), dir.path()).unwrap();
        let service = Service::new(Config::new("http://bench.local", "us-east-1"));
        let spec = PoolSpec {
            id: None,
            region: None,
            create: json!({"PoolName": "bench", "AutoVerifiedAttributes": ["email"]}),
            clients: vec![ClientSpec {
                id: None,
                create: json!({"ClientName": "bench",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            }],
        };
        let applied = rt.block_on(service.apply_pool_spec(&env, &spec)).unwrap();
        let client_id = applied.clients[0].1.clone();
        let bench = Self {
            rt,
            service,
            env,
            client_id,
            _dir: dir,
        };
        bench.call(
            "SignUp",
            json!({"ClientId": bench.client_id, "Username": "bench", "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}]}),
        );
        let outbox = std::fs::read_to_string(bench._dir.path().join("outbox.jsonl")).unwrap();
        let last: Value = serde_json::from_str(outbox.lines().last().unwrap()).unwrap();
        bench.call(
            "ConfirmSignUp",
            json!({"ClientId": bench.client_id, "Username": "bench", "ConfirmationCode": last["code"]}),
        );
        bench
    }

    fn sign_in(&self) -> Value {
        self.call(
            "InitiateAuth",
            json!({"ClientId": self.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bench", "PASSWORD": "Passw0rd!"}}),
        )
    }
}

fn hot_paths(c: &mut Criterion) {
    let bench = Bench::new();
    let params = HashParams::default();
    let phc = hash_argon2id("Passw0rd!", [7; 16], params).unwrap();

    let mut slow = c.benchmark_group("password");
    slow.sample_size(20);
    slow.bench_function("argon2id_verify", |b| {
        b.iter(|| verify_argon2id("Passw0rd!", &phc, params).unwrap())
    });
    slow.bench_function("argon2id_verify_via_port", |b| {
        b.iter(|| {
            bench
                .rt
                .block_on(bench.env.passwords.verify("Passw0rd!", &phc, params))
                .unwrap()
        })
    });
    slow.bench_function("password_sign_in", |b| b.iter(|| bench.sign_in()));
    slow.finish();

    let tokens = bench.sign_in();
    let refresh = tokens["AuthenticationResult"]["RefreshToken"].clone();
    let access = tokens["AuthenticationResult"]["AccessToken"].clone();
    let mut fast = c.benchmark_group("tokens");
    fast.bench_function("refresh_token_auth", |b| {
        b.iter(|| {
            bench.call(
                "InitiateAuth",
                json!({"ClientId": bench.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                       "AuthParameters": {"REFRESH_TOKEN": refresh}}),
            )
        })
    });
    fast.bench_function("get_user", |b| {
        b.iter(|| bench.call("GetUser", json!({"AccessToken": access})))
    });
    fast.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
