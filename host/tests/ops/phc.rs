//! Users moved out and in with their password hashes: an export re-imported into a fresh pool
//! signs in with the same passwords; bcrypt, scrypt and PBKDF2 hashes from elsewhere sign in
//! too and are replaced by argon2id at that first sign-in.

use std::process::Command;

use cognate_host::config::ServeArgs;
use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY_ID, Host, SECRET};

async fn pool(host: &Host, name: &str) -> (String, String) {
    let pool = host
        .admin_ok("CreateUserPool", &json!({"PoolName": name}))
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
    (pool_id, client_id)
}

async fn sign_in(host: &Host, client_id: &str, username: &str, password: &str) -> (u16, String) {
    let (status, body) = host
        .public(
            "InitiateAuth",
            &json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": username, "PASSWORD": password}}),
        )
        .await;
    let outcome = if status == 200 {
        assert!(
            body["AuthenticationResult"]["AccessToken"].is_string(),
            "{body}"
        );
        "tokens".to_owned()
    } else {
        body["__type"].as_str().unwrap_or_default().to_owned()
    };
    (status, outcome)
}

fn cli(host: &Host, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(args)
        .args(["--endpoint", &host.base])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("COGNATE_ENDPOINT")
        .output()
        .unwrap()
}

async fn hashes(host: &Host, pool_id: &str) -> Vec<(String, String)> {
    let page = host
        .admin_target("CognateUsers.ExportUsers", &json!({"UserPoolId": pool_id}))
        .await;
    assert_eq!(page.0, 200, "{}", page.1);
    page.1["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["Username"].as_str().unwrap().to_owned(),
                u["PasswordHash"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_reimported_signs_in_with_the_same_passwords_and_foreign_hashes_are_upgraded() {
    let host = Host::start("", ServeArgs::default()).await;
    let (source, source_client) = pool(&host, "source").await;
    let users = [("alice", "Passw0rd!alice"), ("bob", "Passw0rd!bob")];
    for (name, password) in users {
        host.admin_ok(
            "AdminCreateUser",
            &json!({"UserPoolId": source, "Username": name, "MessageAction": "SUPPRESS",
                    "UserAttributes": [{"Name": "email", "Value": format!("{name}@example.com")}]}),
        )
        .await;
        host.admin_ok(
            "AdminSetUserPassword",
            &json!({"UserPoolId": source, "Username": name, "Password": password, "Permanent": true}),
        )
        .await;
        assert_eq!(
            sign_in(&host, &source_client, name, password).await,
            (200, "tokens".to_owned())
        );
    }

    // Export with the CLI: JSON lines with argon2id hashes, in a file only the owner reads.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let out = cli(
        &host,
        &[
            "users",
            "export",
            "--pool",
            &source,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert!(
            line["PasswordHash"]
                .as_str()
                .unwrap()
                .starts_with("$argon2id$"),
            "{line}"
        );
        assert_eq!(line["UserStatus"], "CONFIRMED");
    }
    assert!(!text.contains("Passw0rd"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    // Nothing of the hashes on the CLI's output; a second export to the same file is refused.
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("$argon2id$"), "{printed}");
    let again = cli(
        &host,
        &[
            "users",
            "export",
            "--pool",
            &source,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(!again.status.success());

    // Import into a fresh pool: the same passwords work, attributes came along.
    let (target, target_client) = pool(&host, "target").await;
    let out = cli(
        &host,
        &["users", "import", "--pool", &target, file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, password) in users {
        assert_eq!(
            sign_in(&host, &target_client, name, password).await,
            (200, "tokens".to_owned())
        );
        assert_eq!(
            sign_in(&host, &target_client, name, "Wr0ng!password").await,
            (400, "NotAuthorizedException".to_owned())
        );
    }
    let bob = host
        .admin_ok(
            "AdminGetUser",
            &json!({"UserPoolId": target, "Username": "bob"}),
        )
        .await;
    assert_eq!(bob["UserStatus"], "CONFIRMED");
    assert!(
        bob["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "email" && a["Value"] == "bob@example.com"),
        "{bob}"
    );

    // Hashes from other systems (computed independently: the bcrypt crate here, Python's
    // hashlib for scrypt and PBKDF2, salt "saltsaltsaltsalt", password "password").
    let foreign = [
        ("carol", bcrypt::hash("Passw0rd!carol", 4).unwrap(), "Passw0rd!carol"),
        (
            "dave",
            "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA".to_owned(),
            "password",
        ),
        (
            "erin",
            "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$BVMRKqdiVYikKAaPR1wucsKUKvw4TuPLkdEYtoSHas4".to_owned(),
            "password",
        ),
    ];
    for (name, hash, _) in &foreign {
        let (status, body) = host
            .admin_target(
                "CognateUsers.ImportUser",
                &json!({"UserPoolId": target, "Username": name, "PasswordHash": hash}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for (name, hash, password) in &foreign {
        assert_eq!(
            sign_in(&host, &target_client, name, "Wr0ng!password").await,
            (400, "NotAuthorizedException".to_owned())
        );
        // Not rehashed by a wrong password.
        let stored = hashes(&host, &target).await;
        assert!(stored.contains(&(name.to_string(), hash.clone())), "{name}");
        assert_eq!(
            sign_in(&host, &target_client, name, password).await,
            (200, "tokens".to_owned()),
            "{name}"
        );
    }
    // Each was replaced by argon2id at its first sign-in, and still signs in.
    for (name, hash) in hashes(&host, &target).await {
        assert!(hash.starts_with("$argon2id$"), "{name}: {hash}");
    }
    for (name, _, password) in &foreign {
        assert_eq!(
            sign_in(&host, &target_client, name, password).await,
            (200, "tokens".to_owned())
        );
    }

    // Bad input: Cognito-style 4xx.
    for (body, expected) in [
        (
            json!({"UserPoolId": target, "Username": "x", "PasswordHash": "plaintext"}),
            "InvalidParameterException",
        ),
        (
            json!({"UserPoolId": target, "Username": "alice", "PasswordHash": foreign[0].1}),
            "UsernameExistsException",
        ),
        (
            json!({"UserPoolId": "us-east-1_NoSuchPoo", "Username": "x", "PasswordHash": foreign[0].1}),
            "ResourceNotFoundException",
        ),
        (json!({"UserPoolId": target}), "InvalidParameterException"),
    ] {
        let (status, answer) = host.admin_target("CognateUsers.ImportUser", &body).await;
        assert_eq!(
            (status, answer["__type"].as_str()),
            (400, Some(expected)),
            "{body}"
        );
    }
    let (status, answer) = host
        .public_target("CognateUsers.ExportUsers", &json!({"UserPoolId": target}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "UnrecognizedClientException");
}
