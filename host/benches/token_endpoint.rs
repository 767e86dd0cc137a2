//! The OAuth 2.0 token endpoint (issue 6) on one core, through the real host ports (SQLite in WAL
//! mode, aws-lc-rs RS256), in-process through `Service::handle` (no HTTP), next to the raw RS256
//! signature rate of the same port:
//!
//! - `rs256_sign`: one signature, the floor of any token issuance;
//! - `refresh_token`: `grant_type=refresh_token` (two signatures: ID and access token, plus the
//!   refresh record's reads);
//! - `client_credentials`: `grant_type=client_credentials` (one signature, client
//!   authentication with `client_secret_basic`).
//!
//! Run on one core: `taskset -c 0 cargo bench -p cognate-host --bench token_endpoint`.
//! Report: client_credentials/s ÷ signatures/s (ideal 1.0) and refresh_token/s ÷ signatures/s
//! (ideal 0.5: two signatures).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use cognate_core::service::{ClientSpec, PoolSpec};
use cognate_core::{Config, Request, Service};
use cognate_host::{HostEnv, SqliteStore};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    cognate_core::oidc::token::encode_form(pairs).into_bytes()
}

fn token_endpoint(c: &mut Criterion) {
    // One core: a current-thread runtime; SQLite and ring run on it.
    let rt = tokio::runtime::Builder::new_current_thread()
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
            create: json!({"ClientName": "web",
                "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid", "email"],
                "CallbackURLs": ["https://app.example.com/cb"]}),
        }],
    };
    let applied = rt.block_on(service.apply_pool_spec(&env, &spec)).unwrap();
    let pool_id = applied.pool_id.clone();
    let web = applied.clients[0].1.clone();
    let trusted =
        |op: &str, body: Value| rt.block_on(service.call_trusted(&env, op, body)).unwrap();
    trusted(
        "CreateResourceServer",
        json!({"UserPoolId": pool_id, "Identifier": "api", "Name": "API",
            "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}]}),
    );
    let machine = trusted(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "m2m", "GenerateSecret": true,
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": ["api/read"]}),
    )["UserPoolClient"]
        .clone();
    let basic = format!(
        "Basic {}",
        cognate_core::token::b64(
            format!(
                "{}:{}",
                machine["ClientId"].as_str().unwrap(),
                machine["ClientSecret"].as_str().unwrap()
            )
            .as_bytes()
        )
    );
    trusted(
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "bench", "MessageAction": "SUPPRESS"}),
    );
    trusted(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": "bench", "Password": "Passw0rd!", "Permanent": true}),
    );
    let tokens = trusted(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool_id, "ClientId": web, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "bench", "PASSWORD": "Passw0rd!"}}),
    );
    let refresh = tokens["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let key = rt
        .block_on(cognate_core::token::pool_signer(&env, &pool_id))
        .unwrap();
    let input = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9".to_vec();

    let post = |body: Vec<u8>, authorization: Option<&str>| {
        let mut request = Request::new("POST", "/oauth2/token")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body);
        if let Some(a) = authorization {
            request = request.with_header("authorization", a);
        }
        let response = rt.block_on(service.handle(request, &env));
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        response
    };

    let mut group = c.benchmark_group("token_endpoint");
    group.bench_function("rs256_sign", |b| {
        b.iter(|| {
            rt.block_on(env.jws.sign(key.alg, &key.kid, &key.private_key, &input))
                .unwrap()
        })
    });
    let refresh_body = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &web),
        ("refresh_token", &refresh),
    ]);
    group.bench_function("refresh_token", |b| {
        b.iter(|| post(refresh_body.clone(), None))
    });
    let cc_body = form(&[("grant_type", "client_credentials"), ("scope", "api/read")]);
    group.bench_function("client_credentials", |b| {
        b.iter(|| post(cc_body.clone(), Some(&basic)))
    });
    group.finish();
}

criterion_group!(benches, token_endpoint);
criterion_main!(benches);
