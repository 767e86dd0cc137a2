//! The hot paths of DESIGN.md §7, measured in one run through the real host ports (SQLite in WAL
//! mode, aws-lc-rs RS256, argon2id on the blocking pool), in-process (no HTTP):
//!
//! - `argon2id_verify`: the raw cost a password sign-in cannot avoid (same parameters);
//! - `password_sign_in`: InitiateAuth USER_PASSWORD_AUTH, end to end through `Service::handle`;
//! - `refresh_token_auth` and `get_user`: the token paths; `get_user_revoked_63` is GetUser for
//!   a user with 63 revoked sessions on record (the revocation check's cost);
//! - `list_users_prefix_page/<pool size>`: one 60-user page of `email ^= "user"` on pools of
//!   1 000 and 100 000 users (set `COGNATE_BENCH_POOL_SIZES=1000,10000` to change): the time
//!   per page must not grow with the pool.
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
    // The same user with 63 revoked sessions on record.
    let mut sessions: Vec<Value> = (0..64)
        .map(|_| bench.sign_in()["AuthenticationResult"].clone())
        .collect();
    let live = sessions.pop().unwrap();
    for s in &sessions {
        bench.call(
            "RevokeToken",
            json!({"ClientId": bench.client_id, "Token": s["RefreshToken"]}),
        );
    }
    fast.bench_function("get_user_revoked_63", |b| {
        b.iter(|| bench.call("GetUser", json!({"AccessToken": live["AccessToken"]})))
    });
    fast.finish();
}

/// ListUsers pages on growing pools, loaded straight into the store (hashing 100 000 passwords
/// would take an hour and measures nothing here).
fn directory(c: &mut Criterion) {
    let sizes: Vec<usize> = std::env::var("COGNATE_BENCH_POOL_SIZES")
        .unwrap_or_else(|_| "1000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_for_bulk_load(dir.path().join("directory.db")).unwrap();
    let env = HostEnv::native(Arc::new(store), dir.path()).unwrap();
    let service = Service::new(Config::new("http://bench.local", "us-east-1"));
    let created = rt
        .block_on(service.call_trusted(
            &env,
            "CreateUserPool",
            json!({"PoolName": "directory", "AutoVerifiedAttributes": ["email"]}),
        ))
        .unwrap();
    let pool_id = created["UserPool"]["Id"].as_str().unwrap().to_string();
    let (pool, _) = rt
        .block_on(cognate_core::pool::load_pool(&env, &pool_id))
        .unwrap();
    let phc = hash_argon2id("Passw0rd!", [7; 16], HashParams::default()).unwrap();
    let mut group = c.benchmark_group("directory");
    let mut loaded = 0usize;
    for size in sizes {
        rt.block_on(async {
            for i in loaded..size {
                let mut attributes = std::collections::BTreeMap::new();
                attributes.insert("email".to_string(), format!("user{i:06}@example.com"));
                attributes.insert("email_verified".to_string(), "true".to_string());
                let record = cognate_core::user::UserRecord::new(
                    format!("user{i:06}"),
                    format!("00000000-0000-4000-8000-{i:012}"),
                    attributes,
                    cognate_core::user::UserStatus::Confirmed,
                    Some(cognate_core::password::Credentials {
                        hash: phc.clone(),
                        srp: None,
                    }),
                    1_767_225_600_000,
                );
                cognate_core::user::save(&env, &pool, None, &record, cognate_core::Expect::Absent)
                    .await
                    .unwrap();
            }
        });
        loaded = size;
        group.bench_function(format!("list_users_prefix_page/{size}"), |b| {
            b.iter(|| {
                let page = rt
                    .block_on(service.call_trusted(
                        &env,
                        "ListUsers",
                        json!({"UserPoolId": pool_id, "Filter": "email ^= \"user\"", "Limit": 60}),
                    ))
                    .unwrap();
                assert_eq!(page["Users"].as_array().unwrap().len(), 60.min(size));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hot_paths, directory);
criterion_main!(benches);
