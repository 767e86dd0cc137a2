//! `/metrics`: who may read it, and that the counters move as the calls made say they should.

use cognate_host::config::ServeArgs;
use serde_json::{Value, json};

use crate::harness::{Host, repo_file, sample};

async fn pool(host: &Host, name: &str, extra: Value) -> (String, String) {
    let mut create = json!({"PoolName": name});
    for (k, v) in extra.as_object().unwrap() {
        create[k] = v.clone();
    }
    let pool = host.admin_ok("CreateUserPool", &create).await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = host
        .admin_ok(
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": pool_id,
                "ClientName": "app",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            }),
        )
        .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    (pool_id, client_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_admin_only_and_count_what_happened() {
    let config = format!(
        "[[plugins.register]]\nname = \"minimal\"\npath = \"{}\"\n[[plugins.register]]\nname = \"trap\"\npath = \"{}\"\n",
        repo_file("plugins/examples/minimal.wat").display(),
        repo_file("plugins/hostile/trap.wat").display(),
    );
    let host = Host::start(
        &config,
        ServeArgs {
            metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..ServeArgs::default()
        },
    )
    .await;

    // Unsigned, or signed with a key the server does not know: the admin API's errors.
    let response = reqwest::get(format!("{}/metrics", host.base))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "UnrecognizedClientException", "{body}");

    // A pool with email verification; one that runs the minimal pre sign-up; one whose pre
    // sign-up traps.
    let (pool_id, client_id) = pool(
        &host,
        "metrics",
        json!({"AutoVerifiedAttributes": ["email"]}),
    )
    .await;
    let (_, minimal_client) = pool(
        &host,
        "minimal",
        json!({"LambdaConfig": {"PreSignUp": "minimal"}}),
    )
    .await;
    let (_, trap_client) = pool(
        &host,
        "trap",
        json!({"LambdaConfig": {"PreSignUp": "trap"}}),
    )
    .await;

    // One sign-up that sends a code by email.
    let (status, body) = host
        .public(
            "SignUp",
            &json!({"ClientId": client_id, "Username": "bob", "Password": "Passw0rd!long",
                    "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // One through each plugin.
    let (status, body) = host
        .public(
            "SignUp",
            &json!({"ClientId": minimal_client, "Username": "carol", "Password": "Passw0rd!long"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["UserConfirmed"], true, "{body}");
    let (status, body) = host
        .public(
            "SignUp",
            &json!({"ClientId": trap_client, "Username": "dave", "Password": "Passw0rd!long"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "UnexpectedLambdaException", "{body}");

    // A user who signs in once, then fails until locked out.
    host.admin_ok(
        "AdminCreateUser",
        &json!({"UserPoolId": pool_id, "Username": "alice", "MessageAction": "SUPPRESS"}),
    )
    .await;
    host.admin_ok(
        "AdminSetUserPassword",
        &json!({"UserPoolId": pool_id, "Username": "alice", "Password": "Passw0rd!long", "Permanent": true}),
    )
    .await;
    let sign_in = |password: &str| {
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": password}})
    };
    let (status, body) = host.public("InitiateAuth", &sign_in("Passw0rd!long")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["AuthenticationResult"]["AccessToken"].is_string());
    let (mut failures, mut locked) = (0.0, 0.0);
    for _ in 0..10 {
        let (status, body) = host
            .public("InitiateAuth", &sign_in("wrong-password"))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
        failures += 1.0;
        if body["message"] == "Password attempts exceeded" {
            locked += 1.0;
            break;
        }
    }
    assert_eq!(locked, 1.0, "no lockout after {failures} failures");

    // A made-up operation, and a token request from a client that does not exist.
    let (status, body) = host
        .public_target(
            "AWSCognitoIdentityProviderService.MadeUpOperation",
            &json!({}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let response = reqwest::Client::new()
        .post(format!("{}/oauth2/token", host.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=nosuchclient&client_secret=x")
        .send()
        .await
        .unwrap();
    let token_status = response.status().as_u16();
    let token_error: Value = response.json().await.unwrap();
    assert!(token_status >= 400, "{token_error}");
    let token_error = token_error["error"].as_str().unwrap().to_owned();

    // Signed: the same text the metrics listener serves.
    let (status, signed_text) = host.signed_get("/metrics").await;
    assert_eq!(status, 200, "{signed_text}");
    let scrape = reqwest::get(format!("http://{}/metrics", host.metrics_addr.unwrap()))
        .await
        .unwrap();
    assert_eq!(scrape.status().as_u16(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = scrape.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    for text in [&signed_text, &text] {
        assert!(text.contains("# TYPE cognate_requests counter"), "{text}");
    }
    let get = |name: &str, labels: &[(&str, &str)]| sample(&text, name, labels);

    let requests = "cognate_requests_total";
    assert_eq!(
        get(
            requests,
            &[("operation", "InitiateAuth"), ("outcome", "success")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            requests,
            &[
                ("operation", "InitiateAuth"),
                ("outcome", "NotAuthorizedException")
            ]
        ),
        Some(failures)
    );
    assert_eq!(
        get(
            "cognate_request_duration_seconds_count",
            &[("operation", "InitiateAuth")]
        ),
        Some(1.0 + failures)
    );
    assert_eq!(
        get(requests, &[("operation", "SignUp"), ("outcome", "success")]),
        Some(2.0)
    );
    assert_eq!(
        get(
            requests,
            &[
                ("operation", "SignUp"),
                ("outcome", "UnexpectedLambdaException")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            requests,
            &[("operation", "CreateUserPool"), ("outcome", "success")]
        ),
        Some(3.0)
    );
    assert_eq!(
        get(
            requests,
            &[
                ("operation", "other"),
                ("outcome", "UnknownOperationException")
            ]
        ),
        Some(1.0)
    );
    assert!(!text.contains("MadeUpOperation"), "{text}");
    assert_eq!(
        get(
            requests,
            &[
                ("operation", "GET /metrics"),
                ("outcome", "UnrecognizedClientException")
            ]
        ),
        Some(1.0)
    );

    let sign_ins = "cognate_sign_ins_total";
    let flow = [("step", "initiate"), ("flow", "USER_PASSWORD_AUTH")];
    assert_eq!(
        get(sign_ins, &[flow[0], flow[1], ("result", "tokens")]),
        Some(1.0)
    );
    assert_eq!(
        get(
            sign_ins,
            &[flow[0], flow[1], ("result", "NotAuthorizedException")]
        ),
        Some(failures)
    );
    assert_eq!(
        get(
            sign_ins,
            &[
                ("step", "token"),
                ("flow", "client_credentials"),
                ("result", &token_error)
            ]
        ),
        Some(1.0)
    );
    assert_eq!(get("cognate_lockouts_total", &[]), Some(locked));

    let plugins = "cognate_plugin_calls_total";
    assert_eq!(
        get(plugins, &[("plugin", "minimal"), ("result", "ok")]),
        Some(1.0)
    );
    assert_eq!(
        get(plugins, &[("plugin", "trap"), ("result", "trap")]),
        Some(1.0)
    );
    assert_eq!(
        get(
            "cognate_plugin_call_duration_seconds_count",
            &[("plugin", "minimal")]
        ),
        Some(1.0)
    );

    // Only bob's code went out (alice's invitation was suppressed; carol was auto-confirmed).
    assert_eq!(
        get(
            "cognate_message_deliveries_total",
            &[("medium", "email"), ("result", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get("cognate_message_deliveries_total", &[("result", "error")]),
        None
    );

    let writes = get(
        "cognate_store_operations_total",
        &[("operation", "put"), ("result", "ok")],
    )
    .unwrap();
    // Pools, clients, users, sessions, codes, events: many writes, and each timed.
    assert!(writes >= 10.0, "{writes}");
    assert_eq!(
        get(
            "cognate_store_operation_duration_seconds_count",
            &[("operation", "put")]
        ),
        get("cognate_store_operations_total", &[("operation", "put")])
    );
    assert_eq!(
        get(
            "cognate_store_operations_total",
            &[("result", "unavailable")]
        ),
        None
    );

    // The SQLite store's read cache answered some reads (the same pool, client and user are
    // read again and again) and read others from the file (first reads, and reads after
    // writes), and holds what it read.
    let hits = get("cognate_store_cache_reads_total", &[("result", "hit")]).unwrap();
    let misses = get("cognate_store_cache_reads_total", &[("result", "miss")]).unwrap();
    assert!(hits >= 1.0 && misses >= 1.0, "{hits} {misses}");
    assert!(get("cognate_store_cache_entries", &[]).unwrap() >= 1.0);

    // Every successful write was committed, some of them together (a sign-in's refresh token,
    // session and event are written at once): at least one commit, never more than writes.
    let commits = get("cognate_store_commits_total", &[]).unwrap();
    let deletes = get(
        "cognate_store_operations_total",
        &[("operation", "delete"), ("result", "ok")],
    )
    .unwrap_or(0.0);
    assert!(
        commits >= 1.0 && commits <= writes + deletes,
        "{commits} {writes} {deletes}"
    );

    // The Wasm core: nothing running during the scrape (the host answers /metrics itself),
    // instances kept for the next requests, within the limit.
    let max = f64::from(cognate_host::engine::wasm::DEFAULT_MAX_INSTANCES);
    assert_eq!(
        get("cognate_wasm_instances", &[("state", "max")]),
        Some(max)
    );
    assert_eq!(
        get("cognate_wasm_instances", &[("state", "busy")]),
        Some(0.0)
    );
    let idle = get("cognate_wasm_instances", &[("state", "idle")]).unwrap();
    let created = get("cognate_wasm_instances_created_total", &[]).unwrap();
    assert!(
        idle >= 1.0 && created >= idle && created <= max,
        "{idle} {created}"
    );

    // No secrets or personal data in the text.
    for secret in [
        "Passw0rd",
        "wrong-password",
        "alice",
        "bob@example.com",
        &pool_id,
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
}
