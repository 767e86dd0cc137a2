//! The breached-password list (`--breached-passwords FILE`): every way of choosing a new
//! password refuses one from the list with InvalidPasswordException, and accepts others.

use std::io::Write as _;

use cognate_host::config::ServeArgs;
use serde_json::{Value, json};

use crate::harness::Host;

/// In the list as a HIBP line (SHA-1 of the password, upper-case hex, `:COUNT`).
const BREACHED_HASHED: &str = "Summer2024!x";
/// In the list as a plain line.
const BREACHED_PLAIN: &str = "Winter2025!x";
const GOOD: &str = "Unlisted-Pass-42";
const GOOD_2: &str = "Unlisted-Pass-43";
const MESSAGE: &str = "Provided password cannot be used for security reasons.";

fn assert_breached(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["__type"], "InvalidPasswordException", "{what}: {body}");
    assert_eq!(body["message"], MESSAGE, "{what}: {body}");
}

/// The newest code the outbox holds for `username`.
fn latest_code(host: &Host, username: &str) -> String {
    let text = std::fs::read_to_string(host.data.path().join("outbox.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["username"] == username)
        .filter_map(|m| m["code"].as_str().map(str::to_owned))
        .next_back()
        .expect("a code in the outbox")
}

#[tokio::test]
async fn new_passwords_from_the_breached_list_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("breached.txt");
    {
        let mut file = std::fs::File::create(&list).unwrap();
        // HIBP's form for one password: its SHA-1 in upper-case hex, then `:COUNT`.
        let digest = cognate_host::breached::sha1_hex(BREACHED_HASHED);
        writeln!(file, "{digest}:42").unwrap();
        writeln!(file, "{BREACHED_PLAIN}").unwrap();
    }
    let host = Host::start(
        "",
        ServeArgs {
            breached_passwords: Some(list),
            ..Default::default()
        },
    )
    .await;
    let pool = host
        .admin_ok(
            "CreateUserPool",
            &json!({"PoolName": "breached", "AutoVerifiedAttributes": ["email"]}),
        )
        .await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = host
        .admin_ok(
            "CreateUserPoolClient",
            &json!({"UserPoolId": pool_id, "ClientName": "app",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap();

    // SignUp.
    for breached in [BREACHED_HASHED, BREACHED_PLAIN] {
        let (status, body) = host
            .public(
                "SignUp",
                &json!({"ClientId": client_id, "Username": "ann", "Password": breached,
                        "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
            )
            .await;
        assert_breached(status, &body, "SignUp");
    }
    let (status, body) = host
        .public(
            "SignUp",
            &json!({"ClientId": client_id, "Username": "ann", "Password": GOOD,
                    "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
        )
        .await;
    assert_eq!(status, 200, "SignUp: {body}");
    host.admin_ok(
        "AdminConfirmSignUp",
        &json!({"UserPoolId": pool_id, "Username": "ann"}),
    )
    .await;

    // AdminCreateUser's temporary password and AdminSetUserPassword.
    let (status, body) = host
        .admin(
            "AdminCreateUser",
            &json!({"UserPoolId": pool_id, "Username": "bob", "TemporaryPassword": BREACHED_PLAIN,
                    "MessageAction": "SUPPRESS"}),
        )
        .await;
    assert_breached(status, &body, "AdminCreateUser");
    let (status, body) = host
        .admin(
            "AdminSetUserPassword",
            &json!({"UserPoolId": pool_id, "Username": "ann", "Password": BREACHED_HASHED,
                    "Permanent": true}),
        )
        .await;
    assert_breached(status, &body, "AdminSetUserPassword");

    // ChangePassword.
    let (status, tokens) = host
        .public(
            "InitiateAuth",
            &json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": "ann", "PASSWORD": GOOD}}),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let (status, body) = host
        .public(
            "ChangePassword",
            &json!({"AccessToken": access, "PreviousPassword": GOOD,
                    "ProposedPassword": BREACHED_PLAIN}),
        )
        .await;
    assert_breached(status, &body, "ChangePassword");

    // ConfirmForgotPassword (the code goes to a verified email).
    host.admin_ok(
        "AdminUpdateUserAttributes",
        &json!({"UserPoolId": pool_id, "Username": "ann",
                "UserAttributes": [{"Name": "email_verified", "Value": "true"}]}),
    )
    .await;
    let (status, body) = host
        .public(
            "ForgotPassword",
            &json!({"ClientId": client_id, "Username": "ann"}),
        )
        .await;
    assert_eq!(status, 200, "ForgotPassword: {body}");
    let code = latest_code(&host, "ann");
    let (status, body) = host
        .public(
            "ConfirmForgotPassword",
            &json!({"ClientId": client_id, "Username": "ann", "ConfirmationCode": code,
                    "Password": BREACHED_HASHED}),
        )
        .await;
    assert_breached(status, &body, "ConfirmForgotPassword");
    // The same code still sets a password that is not listed.
    let (status, body) = host
        .public(
            "ConfirmForgotPassword",
            &json!({"ClientId": client_id, "Username": "ann", "ConfirmationCode": code,
                    "Password": GOOD_2}),
        )
        .await;
    assert_eq!(status, 200, "ConfirmForgotPassword: {body}");
}

#[tokio::test]
async fn without_a_list_nothing_is_refused_as_breached() {
    let host = Host::start("", ServeArgs::default()).await;
    let pool = host
        .admin_ok("CreateUserPool", &json!({"PoolName": "no-list"}))
        .await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap();
    host.admin_ok(
        "AdminCreateUser",
        &json!({"UserPoolId": pool_id, "Username": "carl", "TemporaryPassword": BREACHED_PLAIN,
                "MessageAction": "SUPPRESS"}),
    )
    .await;
}
