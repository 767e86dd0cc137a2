//! The audit stream: security-relevant events as JSON lines, without secrets; the sign-in
//! events AdminListUserAuthEvents lists are there too.

use std::time::{Duration, Instant};

use base64ct::Encoding as _;
use cognate_host::config::ServeArgs;
use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY_ID, Host, SECRET, repo_file};

/// The audit file's lines once there are at least `count` (the writer thread flushes when
/// its queue runs empty; the deadline only bounds a failing test).
async fn lines(path: &std::path::Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if lines.len() >= count || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn find<'a>(lines: &'a [Value], operation: &str, outcome: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["operation"] == operation && l["outcome"] == outcome)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_are_json_lines_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let host = Host::start(
        "",
        ServeArgs {
            audit_log: Some(audit.display().to_string()),
            ..ServeArgs::default()
        },
    )
    .await;
    let pool = host
        .admin_ok("CreateUserPool", &json!({"PoolName": "audit"}))
        .await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = host
        .admin_ok(
            "CreateUserPoolClient",
            &json!({"UserPoolId": pool_id, "ClientName": "app",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    host.admin_ok(
        "SetUserPoolMfaConfig",
        &json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
                "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (password, new_password, wrong) = ("Passw0rd!first", "Passw0rd!second", "Wr0ng!guess");
    let (status, body) = host
        .public(
            "SignUp",
            &json!({"ClientId": client_id, "Username": "alice", "Password": password}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    host.admin_ok(
        "AdminConfirmSignUp",
        &json!({"UserPoolId": pool_id, "Username": "alice"}),
    )
    .await;
    let sign_in = |password: &str| {
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": password}})
    };
    let (status, body) = host.public("InitiateAuth", &sign_in(wrong)).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = host.public("InitiateAuth", &sign_in(password)).await;
    assert_eq!(status, 200, "{body}");
    let tokens = body["AuthenticationResult"].clone();
    let access = tokens["AccessToken"].as_str().unwrap().to_owned();
    let refresh = tokens["RefreshToken"].as_str().unwrap().to_owned();
    let id_token = tokens["IdToken"].as_str().unwrap().to_owned();
    // A public read is not an event.
    let (status, _) = host
        .public("GetUser", &json!({"AccessToken": access}))
        .await;
    assert_eq!(status, 200);

    let (status, body) = host
        .public(
            "ChangePassword",
            &json!({"AccessToken": access, "PreviousPassword": password, "ProposedPassword": new_password}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = host
        .public("AssociateSoftwareToken", &json!({"AccessToken": access}))
        .await;
    assert_eq!(status, 200, "{body}");
    let totp_secret = body["SecretCode"].as_str().unwrap().to_owned();
    let (status, body) = host
        .public(
            "RevokeToken",
            &json!({"ClientId": client_id, "Token": refresh}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    host.admin_ok(
        "AdminSetUserPassword",
        &json!({"UserPoolId": pool_id, "Username": "alice", "Password": password, "Permanent": true}),
    )
    .await;
    let wat = std::fs::read(repo_file("plugins/examples/minimal.wat")).unwrap();
    let (status, body) = host
        .admin_target(
            "CognatePlugins.RegisterPlugin",
            &json!({"Name": "minimal", "Wasm": base64ct::Base64::encode_string(&wat)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // 3 admin setup calls + sign-up + confirm + 2 sign-ins + change + associate + revoke +
    // set password + plugin = 12 lines.
    let lines = lines(&audit, 12).await;
    assert_eq!(lines.len(), 12, "{lines:#?}");
    let mfa = find(&lines, "SetUserPoolMfaConfig", "success");
    assert_eq!(mfa[0]["event"], "mfa_change");
    assert_eq!(mfa[0]["admin_key_id"], ACCESS_KEY_ID);

    let failed = find(&lines, "InitiateAuth", "failure");
    assert_eq!(failed.len(), 1, "{lines:#?}");
    let failed = failed[0];
    assert_eq!(failed["event"], "sign_in");
    assert_eq!(failed["error"], "NotAuthorizedException");
    assert_eq!(failed["username"], "alice");
    assert_eq!(failed["client_id"], client_id.as_str());
    assert_eq!(failed["flow"], "USER_PASSWORD_AUTH");
    assert_eq!(failed["source_ip"], "127.0.0.1");
    assert!(failed["time"].as_str().unwrap().ends_with('Z'));
    let ok = find(&lines, "InitiateAuth", "success");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["username"], "alice");
    assert!(ok[0].get("admin_key_id").is_none());

    let change = find(&lines, "ChangePassword", "success");
    assert_eq!(change.len(), 1);
    assert_eq!(change[0]["event"], "password_change");
    // From the access token the core accepted.
    assert_eq!(change[0]["username"], "alice");
    assert_eq!(
        find(&lines, "AssociateSoftwareToken", "success")[0]["event"],
        "mfa_change"
    );
    assert_eq!(
        find(&lines, "RevokeToken", "success")[0]["event"],
        "token_revocation"
    );
    let set = find(&lines, "AdminSetUserPassword", "success");
    assert_eq!(set[0]["event"], "password_change");
    assert_eq!(set[0]["admin_key_id"], ACCESS_KEY_ID);
    assert_eq!(set[0]["pool_id"], pool_id.as_str());
    let plugin = find(&lines, "RegisterPlugin", "success");
    assert_eq!(plugin[0]["event"], "plugin_registration");
    assert_eq!(plugin[0]["plugin"], "minimal");
    assert_eq!(plugin[0]["admin_key_id"], ACCESS_KEY_ID);
    let create = find(&lines, "CreateUserPool", "success");
    assert_eq!(create[0]["event"], "admin_action");
    assert_eq!(create[0]["admin_key_id"], ACCESS_KEY_ID);
    assert_eq!(find(&lines, "SignUp", "success")[0]["event"], "account");
    assert!(find(&lines, "GetUser", "success").is_empty());

    // Never a secret: passwords, tokens, the TOTP key, the admin secret.
    let text = std::fs::read_to_string(&audit).unwrap();
    for secret in [
        password,
        new_password,
        wrong,
        &access,
        &refresh,
        &id_token,
        &totp_secret,
        SECRET,
    ] {
        assert!(!text.contains(secret), "a secret in the audit log:\n{text}");
    }
    // Nor a piece of a token (its signature).
    let signature = access.rsplit('.').next().unwrap();
    assert!(!text.contains(signature));

    // AdminListUserAuthEvents lists the same two sign-ins.
    let events = host
        .admin_ok(
            "AdminListUserAuthEvents",
            &json!({"UserPoolId": pool_id, "Username": "alice"}),
        )
        .await;
    let events = events["AuthEvents"].as_array().unwrap();
    let responses: Vec<&str> = events
        .iter()
        .map(|e| e["EventResponse"].as_str().unwrap())
        .collect();
    assert_eq!(responses, ["Pass", "Fail"], "{events:#?}");
}
