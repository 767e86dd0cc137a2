//! Trigger plugin benchmarks on the host (DESIGN.md §7: "a trivial trigger plugin costs tens of
//! microseconds"):
//!
//! - `plugin_round_trip`: the pre token generation V2 example on a realistic event, through
//!   `PluginRuntime::call` (fresh instance from `InstancePre`, event in, answer out): p50, p99
//!   and calls/s on one thread. Goal: p99 ≤ 100 µs.
//! - `core_dispatch`: the same through the core's `Triggers` port and answer validation.
//! - `sign_in` and `refresh`: InitiateAuth USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH through
//!   `Service::handle` with the real host ports, on a pool without triggers and on one with the
//!   pre token generation V2 plugin; reported as calls/s and the ratio with/without.
//!
//! Needs the example built: `cargo build --profile plugin --target wasm32-unknown-unknown
//! -p cognate-example-pre-token-generation` (scripts/test.sh and scripts/bench.sh do), found in
//! `$COGNATE_PLUGINS_DIR` or `<target>/wasm32-unknown-unknown/plugin`.
//! `COGNATE_BENCH_CALLS` sets the number of plugin calls (default 20000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cognate_core::service::{ClientSpec, PoolSpec};
use cognate_core::{Config, Request, Service};
use cognate_host::{HostEnv, PluginLimits, PluginRuntime, SqliteStore};
use serde_json::{Value, json};

fn plugin_path() -> PathBuf {
    let file = "cognate_example_pre_token_generation.wasm";
    if let Some(dir) = std::env::var_os("COGNATE_PLUGINS_DIR") {
        return PathBuf::from(dir).join(file);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("wasm32-unknown-unknown/plugin").join(file)
}

/// A pre token generation V2 event as Cognito sends it for a user with a handful of attributes
/// and two groups (~1 KiB).
fn realistic_event() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "us-east-1",
        "userPoolId": "us-east-1_AbCdEf123",
        "userName": "alice.example",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "abcdefghijklmnopqrstuvwxyz"},
        "request": {
            "userAttributes": {
                "sub": "9f2c6a1e-2b7d-4a55-9c1e-3b8f1d2e4a60",
                "email": "alice@example.com",
                "email_verified": "true",
                "given_name": "Alice",
                "family_name": "Example",
                "phone_number": "+15555550123",
                "phone_number_verified": "false",
                "custom:tier": "gold",
                "custom:tenant": "acme-corp",
                "locale": "en-GB",
                "cognito:user_status": "CONFIRMED"
            },
            "groupConfiguration": {
                "groupsToOverride": ["readers", "editors"],
                "iamRolesToOverride": [],
                "preferredRole": null
            },
            "scopes": ["aws.cognito.signin.user.admin"],
            "clientMetadata": {}
        },
        "response": {"claimsAndScopeOverrideDetails": null}
    }))
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>, total: Duration) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.1}µs p99={:.1}µs max={:.1}µs calls/s={:.0}",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().unwrap().as_secs_f64() * 1e6,
        samples.len() as f64 / total.as_secs_f64()
    );
}

fn time_calls(n: usize, mut f: impl FnMut()) -> (Vec<Duration>, Duration) {
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    (samples, start.elapsed())
}

struct SignIn {
    rt: tokio::runtime::Runtime,
    service: Service,
    env: HostEnv,
    _dir: tempfile::TempDir,
}

impl SignIn {
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

    /// A pool (with `lambda` as its LambdaConfig) with one confirmed user; its client id.
    fn pool(&self, name: &str, lambda: Value) -> String {
        let spec = PoolSpec {
            id: None,
            region: None,
            create: json!({"PoolName": name, "AutoVerifiedAttributes": ["email"], "LambdaConfig": lambda}),
            clients: vec![ClientSpec {
                id: None,
                create: json!({"ClientName": name,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            }],
        };
        let applied = self
            .rt
            .block_on(self.service.apply_pool_spec(&self.env, &spec))
            .unwrap();
        let pool_id = applied.pool_id.clone();
        let client_id = applied.clients[0].1.clone();
        // Public calls only (admin calls need SigV4): sign up, confirm with the outbox's code.
        self.call(
            "SignUp",
            json!({"ClientId": client_id, "Username": "bench", "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}]}),
        );
        let outbox = std::fs::read_to_string(self._dir.path().join("outbox.jsonl")).unwrap();
        let code = outbox
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .rfind(|m| m["pool_id"] == pool_id.as_str())
            .unwrap()["code"]
            .clone();
        self.call(
            "ConfirmSignUp",
            json!({"ClientId": client_id, "Username": "bench", "ConfirmationCode": code}),
        );
        client_id
    }

    fn sign_in(&self, client_id: &str) -> Value {
        self.call(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bench", "PASSWORD": "Passw0rd!"}}),
        )
    }

    fn refresh(&self, client_id: &str, token: &str) -> Value {
        self.call(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                   "AuthParameters": {"REFRESH_TOKEN": token}}),
        )
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing else here.
    let path = plugin_path();
    let wasm = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} ({e}): build the example first: cargo build --profile plugin --target \
             wasm32-unknown-unknown -p cognate-example-pre-token-generation",
            path.display()
        )
    });
    let calls: usize = std::env::var("COGNATE_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runtime = Arc::new(PluginRuntime::new(None, PluginLimits::default()).unwrap());
    runtime.register(Some("pre-token"), &wasm).unwrap();
    let event = realistic_event();
    println!("plugin: {} bytes; event: {} bytes", wasm.len(), event.len());
    let answer = runtime.call("pre-token", &event).unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert!(
        answer["claimsAndScopeOverrideDetails"].is_object(),
        "{answer}"
    );
    for _ in 0..1000 {
        runtime.call("pre-token", &event).unwrap();
    }
    let (samples, total) = time_calls(calls, || {
        runtime.call("pre-token", &event).unwrap();
    });
    report("plugin_round_trip (PluginRuntime::call)", samples, total);

    // Through the core: event built, port called, answer validated and applied.
    let (samples, total) = time_calls(calls, || {
        let mut id = serde_json::Map::new();
        let mut access = serde_json::Map::new();
        let out = futures_util_block_on(cognate_core::Triggers::invoke(
            &*runtime,
            "pre-token",
            &event,
        ))
        .unwrap();
        let parsed = cognate_core::trigger::parse_output(
            cognate_core::trigger::TriggerKind::PreTokenGeneration,
            &out,
        )
        .unwrap();
        cognate_core::trigger::apply_pre_token_answer(&parsed, true, &mut id, &mut access).unwrap();
    });
    report("core_dispatch (port + parse + apply)", samples, total);

    // Sign-in and refresh, with and without the plugin.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    let env = HostEnv::native(Arc::new(store), dir.path())
        .unwrap()
        .with_plugins(Arc::clone(&runtime));
    let bench = SignIn {
        rt,
        service: Service::new(Config::new("http://bench.local", "us-east-1")),
        env,
        _dir: dir,
    };
    let plain = bench.pool("plain", json!({}));
    let with_plugin = bench.pool(
        "plugin",
        json!({"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": "pre-token"}}),
    );
    let claims = bench.sign_in(&with_plugin);
    assert!(claims["AuthenticationResult"]["IdToken"].is_string());
    let rounds: usize = std::env::var("COGNATE_BENCH_SIGN_INS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut results = Vec::new();
    for (name, client) in [("without", &plain), ("with", &with_plugin)] {
        bench.sign_in(client);
        let (samples, total) = time_calls(rounds, || {
            bench.sign_in(client);
        });
        let per_second = rounds as f64 / total.as_secs_f64();
        report(&format!("sign_in {name} plugin"), samples, total);
        let token = bench.sign_in(client)["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let (samples, total) = time_calls(rounds * 10, || {
            bench.refresh(client, &token);
        });
        let refresh_per_second = (rounds * 10) as f64 / total.as_secs_f64();
        report(&format!("refresh {name} plugin"), samples, total);
        results.push((per_second, refresh_per_second));
    }
    println!(
        "ratio with/without plugin: sign-in {:.3}, refresh {:.3}",
        results[1].0 / results[0].0,
        results[1].1 / results[0].1
    );
}

/// Polls a future that never waits (the plugin port runs inline) to completion.
fn futures_util_block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}
