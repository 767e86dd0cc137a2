//! Properties of the edge deployment (the Worker under a local Workers runtime) that the
//! portable scenarios cannot see: the storage contract suite run inside the runtime, KV cache
//! staleness, state surviving a runtime restart. They need the Worker's test-only routes
//! (`COGNATE_TEST_KEY` next to `COGNATE_BASE_URL`), so they are ignored by default and
//! scripts/test-edge.sh, which sets both, runs them with `--include-ignored`; run against any
//! other target they fail, saying so.
//!
//! `fifty_concurrent_sign_ups_of_one_username_give_one_success` is portable and runs everywhere.

use std::time::Duration;

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::scenarios;
use cognate_tests::{PASSWORD, Target, attribute, ok, unique, unique_email};
use serde_json::{Value, json};

/// The Worker's test key; panics unless the target is the edge (an edge-only test run
/// elsewhere fails instead of passing without checking anything).
fn edge(target: &Target) -> String {
    let key = std::env::var("COGNATE_TEST_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    match key {
        Some(key) if std::env::var_os("COGNATE_BASE_URL").is_some() => key,
        _ => panic!(
            "an edge-only test, run against {}: it needs the Worker under wrangler dev \
             (COGNATE_TEST_KEY and COGNATE_BASE_URL, as scripts/test-edge.sh sets them)",
            target.base_url()
        ),
    }
}

async fn test_route(
    target: &Target,
    key: &str,
    method: reqwest::Method,
    route: &str,
    query: &[(&str, &str)],
) -> (u16, String) {
    let url = format!("{}/__cognate/test/{route}", target.base_url());
    let response = target
        .http()
        .request(method, &url)
        .query(query)
        .header("x-cognate-test-key", key)
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Sign in with Apple's client secret signed by the Worker (WebCrypto ECDSA P-256): an ES256
/// JWT with Apple's claims that verifies with the key's public half (a test key made with
/// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`), checked by jsonwebtoken.
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_worker_signs_apples_client_secret_with_es256() {
    const PRIVATE_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghse5KiPH1QpO7H6wSTbvhOut6Bd8Lr56nyTZGmriQBOhRANCAAT4lNTBFwLOXG4oBPG2kBUuDsVDh2XvaKUvRU3nWU64+g/upb1kvPYBAOqHu0OShmd+s5kkt7R12imxv1bMScE8";
    // The public point's coordinates (base64url), from the same key.
    const PUBLIC_X: &str = "-JTUwRcCzlxuKATxtpAVLg7FQ4dl72ilL0VN51lOuPo";
    const PUBLIC_Y: &str = "D-6lvWS89gEA6oe7Q5KGZ36zmSS3tHXaKbG_VsxJwTw";
    let target = Target::shared();
    let key = edge(target);
    let (status, jwt) = test_route(
        target,
        &key,
        reqwest::Method::POST,
        "apple-client-secret",
        &[("key", PRIVATE_PKCS8)],
    )
    .await;
    assert_eq!(status, 200, "{jwt}");
    let header = jsonwebtoken::decode_header(&jwt).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["https://appleid.apple.com"]);
    validation.set_issuer(&["TEAM123456"]);
    validation.sub = Some("com.example.web".into());
    let decoding =
        jsonwebtoken::DecodingKey::from_ec_components(PUBLIC_X, PUBLIC_Y).expect("a P-256 point");
    let token = jsonwebtoken::decode::<Value>(&jwt, &decoding, &validation)
        .expect("the client secret verifies with the key's public half");
    let (iat, exp) = (token.claims["iat"].as_u64(), token.claims["exp"].as_u64());
    assert_eq!(
        exp.zip(iat).map(|(e, i)| e - i),
        Some(300),
        "{}",
        token.claims
    );

    // A key that is not P-256 PKCS#8 is refused, not signed with.
    let (status, _) = test_route(
        target,
        &key,
        reqwest::Method::POST,
        "apple-client-secret",
        &[("key", "bm90IGEga2V5")],
    )
    .await;
    assert_eq!(status, 500);
}

/// The route `scripts/bench-edge.sh` reads the edge's signing bound from: RS256 signatures and
/// verifications through the Worker's `Jws` port (WebCrypto), each counted only when it checks
/// out (a signature equal to one that verified, a verification that passed).
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_rs256_bench_route_signs_and_verifies_with_webcrypto() {
    let target = Target::shared();
    let key = edge(target);
    for op in ["sign", "verify"] {
        let (status, body) = test_route(
            target,
            &key,
            reqwest::Method::POST,
            "rs256",
            &[("n", "3"), ("op", op)],
        )
        .await;
        assert_eq!(status, 200, "{op}: {body}");
        let answer: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(answer, json!({"n": 3, "verified": 3}), "{op}");
    }
}

/// The Worker's own passkey verifier (edge/src/webauthn.rs: WebCrypto signatures) on browser
/// responses recorded from real authenticators (Touch ID's `packed` ES256, a YubiKey 5's `packed`
/// with its attestation certificate, Windows Hello's `none` RS256 and an assertion), and on copies with a few bits of a signature changed. The
/// software-authenticator scenarios (tests/tests/e2e/passkeys.rs) run against the Worker too.
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_workers_passkey_verifier_checks_recorded_signatures_with_webcrypto() {
    let target = Target::shared();
    let key = edge(target);
    let (status, body) = test_route(target, &key, reqwest::Method::POST, "webauthn", &[]).await;
    assert_eq!(status, 200, "{body}");
    let outcomes: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        outcomes,
        json!({
            "packed_es256": "packed uv=true",
            "packed_es256_tampered": "Failed(\"the attestation signature does not verify\")",
            "packed_x5c_es256": "packed uv=true",
            "packed_x5c_es256_tampered": "Failed(\"the attestation signature does not verify\")",
            "packed_x5c_other_aaguid": "Failed(\"attestation certificate: its AAGUID is not the authenticator's\")",
            "hello_rs256": "none uv=true",
            "hello_assertion": "count=1 uv=true",
            "hello_assertion_tampered": "Failed(\"signature does not verify\")",
            "hello_assertion_other_key": "Failed(\"signature does not verify\")",
        })
    );
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_storage_contract_holds_for_durable_objects_inside_the_runtime() {
    let target = Target::shared();
    let key = edge(target);
    let (status, body) = test_route(target, &key, reqwest::Method::GET, "contract", &[]).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).expect("JSON");
    let checks: Vec<String> = list["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c.as_str().expect("name").to_owned())
        .collect();
    assert!(checks.len() >= 17, "{checks:?}");
    for check in checks {
        let (status, body) = test_route(
            target,
            &key,
            reqwest::Method::POST,
            "contract",
            &[("check", &check)],
        )
        .await;
        assert_eq!(
            status, 200,
            "storage contract check {check} failed inside the Worker (see the runtime log): {body}"
        );
    }
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_test_routes_are_hidden_without_the_key() {
    let target = Target::shared();
    edge(target);
    for key in ["", "wrong-key"] {
        let (status, _) = test_route(
            target,
            key,
            reqwest::Method::GET,
            "outbox",
            &[("pool", "us-east-1_abcdefghi")],
        )
        .await;
        assert_eq!(status, 404, "a test route answered with key {key:?}");
    }
}

/// The Worker serves the admin console as hosts do, under the same strict CSP (the walk itself,
/// `console_browser`, runs against the Worker too).
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_worker_serves_the_console_under_its_csp() {
    let target = Target::shared();
    edge(target);
    let response = reqwest::get(format!("{}/console/", target.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(response.text().await.unwrap().contains("Cognate console"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_sign_ups_of_one_username_give_one_success() {
    let target = Target::shared();
    let client = target.standard_setup("fifty").await;
    let username = unique("zoe");
    let public = target.public_client();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let public = public.clone();
        let client_id = client.id.clone();
        let username = username.clone();
        tasks.push(tokio::spawn(async move {
            public
                .sign_up()
                .client_id(client_id)
                .username(username)
                .password(format!("{PASSWORD}-{i}"))
                .user_attributes(attribute("email", &unique_email("fifty")))
                .send()
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("sign-up task") {
            Ok(_) => winners += 1,
            Err(e) => assert_eq!(
                e.code(),
                Some("UsernameExistsException"),
                "{}",
                cognate_tests::describe(&e)
            ),
        }
    }
    assert_eq!(winners, 1, "exactly one of 50 concurrent SignUps succeeds");
    // And the one user is whole: it confirms and signs in.
    let code = target.latest_code(&client.pool_id, &username).await;
    ok(
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(code)
            .send()
            .await,
        "ConfirmSignUp",
    );
    let listed = ok(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&client.pool_id)
            .send()
            .await,
        "ListUsers",
    );
    assert_eq!(listed.users().len(), 1, "one user in the pool");
}

/// Copies every store entry under `prefix` into KV exactly as the read cache would hold it.
async fn snapshot_into_kv(target: &Target, key: &str, prefix: &str) -> Vec<String> {
    let (status, body) = test_route(
        target,
        key,
        reqwest::Method::POST,
        "cache-snapshot",
        &[("prefix", prefix)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let copied: Value = serde_json::from_str(&body).expect("JSON");
    copied["copied"]
        .as_array()
        .expect("copied")
        .iter()
        .map(|k| k.as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn stale_kv_cannot_resurrect_a_deleted_user() {
    let target = Target::shared();
    let key = edge(target);
    let client = target.standard_setup("stale-user").await;
    let username = scenarios::confirmed_user(target, &client, "ghost").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let access = tokens.access_token().expect("access token").to_owned();
    let refresh = tokens.refresh_token().expect("refresh token").to_owned();
    // Every entry of the pool (user, aliases, sessions) and the pool record, as a cache
    // that had seen them all would hold them.
    let copied = snapshot_into_kv(target, &key, &format!("p/{}/", client.pool_id)).await;
    assert!(copied.len() >= 2, "{copied:?}");
    snapshot_into_kv(target, &key, &format!("pool/{}", client.pool_id)).await;

    ok(
        scenarios::admin_delete(target, &client.pool_id, &username).await,
        "AdminDeleteUser",
    );

    scenarios::assert_user_not_found(target, &client.pool_id, &username, "after deletion").await;
    scenarios::assert_access_token_refused(target, &access, "deleted user's access token").await;
    scenarios::assert_refresh_refused(target, &client, &refresh, "deleted user's refresh token")
        .await;
    scenarios::assert_sign_in_refused(target, &client, &username, PASSWORD, "deleted user").await;
    // The name is free again: a new user takes it, and it is a new user.
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("reborn"))
        .await;
    let status = scenarios::user_status(target, &client.pool_id, &username).await;
    assert_eq!(status.as_str(), "UNCONFIRMED");
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn stale_kv_cannot_revive_a_revoked_token() {
    let target = Target::shared();
    let key = edge(target);
    let client = target.standard_setup("stale-token").await;
    let username = scenarios::confirmed_user(target, &client, "revoked").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let refresh = tokens.refresh_token().expect("refresh token").to_owned();
    let other = target.password_sign_in(&client, &username, PASSWORD).await;
    let other_access = other.access_token().expect("access token").to_owned();
    snapshot_into_kv(target, &key, &format!("p/{}/", client.pool_id)).await;

    ok(
        scenarios::revoke_token(target, &client.id, &refresh).await,
        "RevokeToken",
    );
    scenarios::assert_refresh_refused(target, &client, &refresh, "revoked refresh token").await;

    ok(
        scenarios::admin_global_sign_out(target, &client.pool_id, &username).await,
        "AdminUserGlobalSignOut",
    );
    scenarios::assert_access_token_revoked(target, &other_access, "signed-out access token").await;
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn pool_records_are_cached_in_kv_and_dropped_on_write() {
    let target = Target::shared();
    let key = edge(target);
    let client = target.standard_setup("cached-pool").await;
    // A public call reads the pool record, and so caches it.
    target
        .sign_up(&client, &unique("cache"), PASSWORD, &unique_email("cache"))
        .await;
    let cache_key = format!("cache/v1/pool/{}", client.pool_id);
    let (status, body) = test_route(
        target,
        &key,
        reqwest::Method::GET,
        "kv",
        &[("key", &cache_key)],
    )
    .await;
    assert_eq!(status, 200, "the pool record is cached in KV: {body}");

    ok(
        target
            .admin_client()
            .update_user_pool()
            .user_pool_id(&client.pool_id)
            .user_pool_tags("edge", "cached")
            .send()
            .await,
        "UpdateUserPool",
    );
    let (status, _) = test_route(
        target,
        &key,
        reqwest::Method::GET,
        "kv",
        &[("key", &cache_key)],
    )
    .await;
    assert_eq!(status, 404, "a write drops the cached pool record");

    // JWKS documents are cached too, and only public keys go there.
    let jwks = target.jwks(&client.pool_id).await;
    assert!(!jwks.keys.keys.is_empty());
    let (status, body) = test_route(
        target,
        &key,
        reqwest::Method::GET,
        "kv",
        &[("key", &format!("jwks/v1/{}", client.pool_id))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cached: Value = serde_json::from_str(&body).expect("JSON");
    for jwk in cached["keys"].as_array().expect("keys") {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "private part {private} in KV");
        }
    }
    // A client secret never lands in KV.
    let secret_client = target
        .create_client(&client.pool_id, |b| b.generate_secret(true))
        .await;
    let (status, _) = test_route(
        target,
        &key,
        reqwest::Method::GET,
        "kv",
        &[("key", &format!("cache/v1/c/{}", secret_client.id))],
    )
    .await;
    assert_eq!(status, 404);
}

/// Phase one of the restart check (scripts/test-edge.sh): leaves a pool, a user and a refresh
/// token, and writes where to find them to `COGNATE_EDGE_STATE_FILE`.
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn state_for_the_restart_check_is_written() {
    let target = Target::shared();
    edge(target);
    let path = std::env::var_os("COGNATE_EDGE_STATE_FILE")
        .expect("COGNATE_EDGE_STATE_FILE (scripts/test-edge.sh sets it)");
    let client = target.standard_setup("restart").await;
    let username = scenarios::confirmed_user(target, &client, "durable").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let state = json!({
        "pool_id": client.pool_id,
        "client_id": client.id,
        "username": username,
        "refresh_token": tokens.refresh_token().expect("refresh token"),
    });
    std::fs::write(path, state.to_string()).expect("write the state file");
}

/// Phase two, after the runtime restarted on the same `--persist-to` directory: everything
/// phase one left is still there. Ignored unless run explicitly.
#[tokio::test]
#[ignore = "run by scripts/test-edge.sh after restarting the runtime"]
async fn state_survives_a_runtime_restart() {
    let target = Target::shared();
    let path = std::env::var_os("COGNATE_EDGE_STATE_FILE").expect("COGNATE_EDGE_STATE_FILE");
    let state: Value =
        serde_json::from_slice(&std::fs::read(path).expect("state file")).expect("JSON");
    let client = cognate_tests::AppClient {
        pool_id: state["pool_id"].as_str().expect("pool").to_owned(),
        id: state["client_id"].as_str().expect("client").to_owned(),
        secret: None,
    };
    let username = state["username"].as_str().expect("username");
    let status = scenarios::user_status(target, &client.pool_id, username).await;
    assert_eq!(status.as_str(), "CONFIRMED");
    target.password_sign_in(&client, username, PASSWORD).await;
    let refreshed = ok(
        scenarios::refresh_token_auth(
            target,
            &client,
            state["refresh_token"].as_str().expect("refresh token"),
        )
        .await,
        "REFRESH_TOKEN_AUTH with a token from before the restart",
    );
    assert!(
        refreshed
            .authentication_result()
            .and_then(|r| r.access_token())
            .is_some()
    );
}

/// Ignored unless run explicitly, alone: the reset that follows a panic also fails whatever
/// else the isolate was serving at that moment, so it must not race other scenarios.
#[tokio::test]
#[ignore = "run alone by scripts/test-edge.sh: a panic fails the isolate's in-flight requests"]
async fn a_rust_panic_fails_one_request_and_the_worker_recovers() {
    let target = Target::shared();
    let key = edge(target);
    let (status, _) = test_route(target, &key, reqwest::Method::POST, "panic", &[]).await;
    assert_eq!(status, 500, "the panicking request fails");
    // The next requests get a fresh Wasm instance: the Worker and its Durable Objects answer.
    let client = target.standard_setup("after-panic").await;
    let username = scenarios::confirmed_user(target, &client, "phoenix").await;
    target.password_sign_in(&client, &username, PASSWORD).await;
}

// ---------------------------------------------------------------------------------------------
// Trigger plugins: the same .wasm answers the same on the host (wasmtime) and on the edge (V8,
// bundled at deploy time with its limits written in).

/// Cognito-shaped events for the example plugins' triggers.
fn parity_events() -> Vec<Value> {
    let envelope = |source: &str, request: Value, response: Value| {
        json!({
            "version": "1",
            "triggerSource": source,
            "region": "us-east-1",
            "userPoolId": "us-east-1_Parity123",
            "userName": "ada",
            "callerContext": {"awsSdkVersion": "aws-sdk-rust", "clientId": "parityclient"},
            "request": request,
            "response": response,
        })
    };
    let attributes = json!({
        "sub": "5f1c2d3e-0000-4000-8000-000000000001",
        "email": "ada@example.com",
        "email_verified": "true",
        "name": "Ada Lovelace",
    });
    let mut v2 = envelope(
        "TokenGeneration_Authentication",
        json!({
            "userAttributes": attributes,
            "groupConfiguration": {"groupsToOverride": ["admins"], "iamRolesToOverride": [], "preferredRole": null},
            "scopes": ["openid", "email"],
        }),
        json!({"claimsAndScopeOverrideDetails": null}),
    );
    v2["version"] = json!("2");
    vec![
        envelope(
            "PreSignUp_SignUp",
            json!({"userAttributes": {"email": "ada@example.com"}, "validationData": {"invite": "x"}, "clientMetadata": {"campaign": "launch"}}),
            json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
        ),
        envelope(
            "PreSignUp_SignUp",
            json!({"userAttributes": {"email": "eve@elsewhere.org"}, "validationData": null}),
            json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
        ),
        v2,
        envelope(
            "CustomMessage_SignUp",
            json!({"userAttributes": attributes, "codeParameter": "{####}", "usernameParameter": null, "linkParameter": "{##Click##}"}),
            json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}),
        ),
        envelope(
            "UserMigration_Authentication",
            json!({"password": "Correct-Horse-9", "validationData": null, "clientMetadata": null}),
            json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null}),
        ),
        envelope(
            "DefineAuthChallenge_Authentication",
            json!({"userAttributes": attributes, "session": [], "userNotFound": false}),
            json!({"challengeName": null, "issueTokens": false, "failAuthentication": false}),
        ),
    ]
}

#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_same_plugin_gives_the_same_answer_on_the_host_and_the_edge() {
    use cognate_host::plugins::{PluginLimits, PluginRuntime};
    use cognate_tests::plugins as test_plugins;
    let target = Target::shared();
    let key = edge(target);
    let host = PluginRuntime::new(None, PluginLimits::default()).unwrap();
    let mut modules: Vec<(String, Vec<u8>)> = [
        "pre-sign-up",
        "pre-token-generation",
        "custom-auth",
        "user-migration",
        "custom-message",
        "custom-sender",
        "echo-event",
    ]
    .iter()
    .map(|example| ((*example).to_owned(), test_plugins::example_wasm(example)))
    .collect();
    modules.extend(
        test_plugins::wat_modules()
            .into_iter()
            .map(|(name, wat)| (name.to_owned(), wat.into_bytes())),
    );
    let mut compared = 0;
    for (name, module) in &modules {
        let reference = host.register(None, module).unwrap().reference;
        for event in parity_events() {
            let bytes = event.to_string().into_bytes();
            let on_host = match host.call(&reference, &bytes) {
                Ok(output) => json!({ "output": String::from_utf8_lossy(&output) }),
                Err(e) => {
                    let debug = format!("{e:?}");
                    let kind = debug.split('(').next().unwrap_or_default().to_owned();
                    json!({ "error": kind })
                }
            };
            let url = format!(
                "{}/__cognate/test/plugin-invoke?plugin={reference}",
                target.base_url()
            );
            let response = target
                .http()
                .post(&url)
                .header("x-cognate-test-key", &key)
                .body(bytes.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{name}");
            let on_edge: Value = response.json().await.unwrap();
            assert_eq!(
                on_edge, on_host,
                "{name} on {}: the edge and the host disagree",
                event["triggerSource"]
            );
            compared += 1;
        }
    }
    assert_eq!(compared, modules.len() * parity_events().len());
}

/// The Cron Trigger runs the janitor: an authorization code and a refresh token past their
/// expiry and the grace hour are removed, a live code is kept. Triggered through wrangler's
/// `/__scheduled` (scripts/edge-env.sh starts it with `--test-scheduled`), so the Worker's real
/// `scheduled` export is what runs.
#[tokio::test]
#[ignore = "edge only: needs the Worker's test routes under wrangler dev; scripts/test-edge.sh runs it (--include-ignored)"]
async fn the_cron_trigger_sweeps_expired_records() {
    let target = Target::shared();
    let key = edge(target);
    let client = target.standard_setup("janitor").await;
    let pool = &client.pool_id;
    let now_millis = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let two_hours_ago = now_millis - 2 * 3600 * 1000;
    let records = [
        (
            format!("p/{pool}/oc/{}", unique("expired")),
            two_hours_ago,
            false,
        ),
        (
            format!("p/{pool}/rt/{}", unique("expired")),
            two_hours_ago,
            false,
        ),
        (
            format!("p/{pool}/oc/{}", unique("live")),
            now_millis + 3600 * 1000,
            true,
        ),
    ];
    for (record, expires_millis, _) in &records {
        let url = format!("{}/__cognate/test/record", target.base_url());
        let response = target
            .http()
            .put(&url)
            .query(&[("key", record.as_str())])
            .header("x-cognate-test-key", &key)
            .body(json!({ "expires_millis": expires_millis }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "seeding {record}");
    }

    let scheduled = target
        .http()
        .get(format!("{}/__scheduled", target.base_url()))
        .query(&[("cron", "*/10 * * * *")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        scheduled.status().as_u16(),
        200,
        "wrangler ran the scheduled event"
    );

    for (record, _, kept) in &records {
        let (status, body) = test_route(
            target,
            &key,
            reqwest::Method::GET,
            "record",
            &[("key", record.as_str())],
        )
        .await;
        let want = if *kept { 200 } else { 404 };
        assert_eq!(status, want, "{record} after the sweep: {body}");
    }
}
