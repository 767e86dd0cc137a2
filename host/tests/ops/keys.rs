//! Signing-key rotation without downtime: the new key is in the JWKS before it signs, tokens
//! of both keys verify during the overlap, and the old key leaves when its tokens have expired.

use std::process::Command;

use cognate_host::config::ServeArgs;
use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY_ID, Host, SECRET};

fn kid(token: &str) -> String {
    use base64ct::Encoding as _;
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(host: &Host, pool_id: &str) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("{}/{pool_id}/.well-known/jwks.json", host.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// `cognate keys ...` against the server, with the admin key in the environment.
fn cli(host: &Host, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["keys"])
        .args(args)
        .args(["--endpoint", &host.base, "--json"])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("COGNATE_ENDPOINT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cognate keys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_published_first_and_the_old_one_verifies_until_retired() {
    let running = Host::start("", ServeArgs::default()).await;
    let host = &running;
    let pool = host
        .admin_ok("CreateUserPool", &json!({"PoolName": "keys"}))
        .await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = host
        .admin_ok(
            "CreateUserPoolClient",
            &json!({"UserPoolId": pool_id, "ClientName": "app",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
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
    let sign_in = || async {
        let (status, body) = host
            .public(
                "InitiateAuth",
                &json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                        "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Passw0rd!long"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let get_user = |token: String| async move {
        let (status, body) = host.public("GetUser", &json!({"AccessToken": token})).await;
        (status, body["__type"].as_str().unwrap_or("").to_owned())
    };

    let first = sign_in().await;
    let first_kid = kid(&first);
    assert_eq!(
        jwks_kids(host, &pool_id).await,
        std::slice::from_ref(&first_kid)
    );

    // Rotate with an hour's notice (the CLI): the new key is published, but does not sign yet.
    let rotated = cli(host, &["rotate", "--pool", &pool_id]);
    let pending = rotated["KeyId"].as_str().unwrap().to_owned();
    assert_ne!(pending, first_kid);
    assert_eq!(
        jwks_kids(host, &pool_id).await,
        [pending.clone(), first_kid.clone()]
    );
    assert_eq!(
        kid(&sign_in().await),
        first_kid,
        "the new key signed before its time"
    );
    let listed = cli(host, &["list", "--pool", &pool_id]);
    let keys = listed["Keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["KeyId"], pending.as_str());
    assert_eq!(keys[0]["Signing"], false);
    assert_eq!(keys[1]["Signing"], true);
    assert!(keys[1]["Retires"].as_f64().unwrap() > keys[0]["SignsFrom"].as_f64().unwrap());
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        !text.contains("private") && !text.contains("\"d\""),
        "{text}"
    );

    // Rotate again, now (the admin operation): the newest key signs at once; tokens of the
    // old key keep verifying during the overlap, and it stays in the JWKS.
    let (status, rotated) = host
        .admin_target(
            "CognateKeys.RotateSigningKey",
            &json!({"UserPoolId": pool_id, "PublishAheadSeconds": 0}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let newest = rotated["KeyId"].as_str().unwrap().to_owned();
    let second = sign_in().await;
    assert_eq!(kid(&second), newest);
    assert_eq!(get_user(first.clone()).await, (200, String::new()));
    assert_eq!(get_user(second.clone()).await, (200, String::new()));
    let kids = jwks_kids(host, &pool_id).await;
    assert!(
        kids.contains(&newest) && kids.contains(&first_kid),
        "{kids:?}"
    );

    // A rotation that says no token outlives it: the older keys retire at once. Their tokens
    // stop verifying and they leave the JWKS; the key that signs now is the newest.
    let (status, rotated) = host
        .admin_target(
            "CognateKeys.RotateSigningKey",
            &json!({"UserPoolId": pool_id, "PublishAheadSeconds": 0, "LongestTokenSeconds": 0}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let last = rotated["KeyId"].as_str().unwrap().to_owned();
    assert_eq!(jwks_kids(host, &pool_id).await, std::slice::from_ref(&last));
    assert_eq!(
        get_user(first).await,
        (400, "NotAuthorizedException".to_owned())
    );
    assert_eq!(
        get_user(second).await,
        (400, "NotAuthorizedException".to_owned())
    );
    assert_eq!(kid(&sign_in().await), last);

    // Bad input: Cognito-style 4xx.
    let (status, body) = host
        .admin_target(
            "CognateKeys.RotateSigningKey",
            &json!({"UserPoolId": pool_id, "PublishAheadSeconds": -1}),
        )
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidParameterException"))
    );
    let (status, body) = host
        .admin_target(
            "CognateKeys.RotateSigningKey",
            &json!({"UserPoolId": "us-east-1_NoSuchPoo"}),
        )
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ResourceNotFoundException"))
    );
    let (status, body) = host
        .public_target(
            "CognateKeys.RotateSigningKey",
            &json!({"UserPoolId": pool_id}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "UnrecognizedClientException");
}
