//! Administrative operations need a valid SigV4 signature made with a configured key; public
//! operations need none.

use cognate_tests::cognito::Client;
use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::AuthFlowType;
use cognate_tests::{PASSWORD, Target, attribute, ok, unique, unique_email};
use serde_json::json;

/// What AWS answers for a request signed with an access key it does not know.
const UNKNOWN_KEY: &str = "UnrecognizedClientException";
/// What AWS answers for a known key whose signature does not verify.
const BAD_SIGNATURE: &str = "InvalidSignatureException";
/// What AWS-style services answer for a request with no signature at all.
const UNSIGNED: [&str; 3] = [
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];

/// Every kind of administrative call, sent with `client`; returns each error code.
async fn admin_calls_with(
    client: &Client,
    pool_id: &str,
    client_id: &str,
    username: &str,
) -> Vec<(String, Option<String>)> {
    let mut codes = Vec::new();
    let mut record =
        |what: &str, code: Option<&str>| codes.push((what.to_owned(), code.map(str::to_owned)));

    let r = client.list_user_pools().max_results(10).send().await;
    record("ListUserPools", r.err().as_ref().and_then(|e| e.code()));
    let r = client
        .create_user_pool()
        .pool_name(unique("forbidden"))
        .send()
        .await;
    record("CreateUserPool", r.err().as_ref().and_then(|e| e.code()));
    let r = client
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await;
    record("DescribeUserPool", r.err().as_ref().and_then(|e| e.code()));
    let r = client.delete_user_pool().user_pool_id(pool_id).send().await;
    record("DeleteUserPool", r.err().as_ref().and_then(|e| e.code()));
    let r = client
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("forbidden")
        .send()
        .await;
    record(
        "CreateUserPoolClient",
        r.err().as_ref().and_then(|e| e.code()),
    );
    let r = client
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await;
    record(
        "DescribeUserPoolClient",
        r.err().as_ref().and_then(|e| e.code()),
    );
    let r = client
        .admin_get_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await;
    record("AdminGetUser", r.err().as_ref().and_then(|e| e.code()));
    let r = client
        .admin_confirm_sign_up()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await;
    record(
        "AdminConfirmSignUp",
        r.err().as_ref().and_then(|e| e.code()),
    );
    let r = client
        .admin_initiate_auth()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    record("AdminInitiateAuth", r.err().as_ref().and_then(|e| e.code()));
    codes
}

/// The pool and its (unconfirmed) user are untouched by refused admin calls.
async fn assert_untouched(target: &Target, pool_id: &str, username: &str) {
    let admin = target.admin_client();
    ok(
        admin
            .describe_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    let user = ok(
        admin
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(
        user.user_status().map(|s| s.as_str()),
        Some("UNCONFIRMED"),
        "a refused AdminConfirmSignUp confirmed the user"
    );
}

#[tokio::test]
async fn admin_operations_signed_with_an_unknown_access_key_are_unrecognized_client() {
    let target = Target::shared();
    let client = target.standard_setup("unknown-key").await;
    let username = unique("victim");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("victim"))
        .await;

    let codes = admin_calls_with(
        &target.unknown_key_client(),
        &client.pool_id,
        &client.id,
        &username,
    )
    .await;
    for (operation, code) in &codes {
        assert_eq!(
            code.as_deref(),
            Some(UNKNOWN_KEY),
            "{operation} with an unknown key: {codes:?}"
        );
    }
    assert_untouched(target, &client.pool_id, &username).await;
}

#[tokio::test]
async fn admin_operations_signed_with_a_wrong_secret_are_invalid_signature() {
    let target = Target::shared();
    let client = target.standard_setup("wrong-secret").await;
    let username = unique("victim");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("victim"))
        .await;

    let codes = admin_calls_with(
        &target.wrong_secret_client(),
        &client.pool_id,
        &client.id,
        &username,
    )
    .await;
    for (operation, code) in &codes {
        assert_eq!(
            code.as_deref(),
            Some(BAD_SIGNATURE),
            "{operation} with a wrong secret: {codes:?}"
        );
    }
    assert_untouched(target, &client.pool_id, &username).await;
}

#[tokio::test]
async fn admin_operations_through_the_public_client_are_refused() {
    // The public client's bogus key is not configured on the server: its admin calls are signed
    // (Admin* operations are SigV4 in Cognito's model) with a key the server does not know.
    let target = Target::shared();
    let client = target.standard_setup("public-admin").await;
    let username = unique("victim");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("victim"))
        .await;

    let codes = admin_calls_with(
        &target.public_client(),
        &client.pool_id,
        &client.id,
        &username,
    )
    .await;
    for (operation, code) in &codes {
        assert_eq!(code.as_deref(), Some(UNKNOWN_KEY), "{operation}: {codes:?}");
    }
    assert_untouched(target, &client.pool_id, &username).await;
}

#[tokio::test]
async fn unsigned_admin_requests_are_refused_with_400() {
    let target = Target::shared();
    let client = target.standard_setup("unsigned").await;
    let username = unique("victim");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("victim"))
        .await;
    let pool_name = unique("unsigned-pool");

    let requests = [
        ("ListUserPools", json!({"MaxResults": 10})),
        ("CreateUserPool", json!({"PoolName": pool_name})),
        ("DescribeUserPool", json!({"UserPoolId": client.pool_id})),
        ("DeleteUserPool", json!({"UserPoolId": client.pool_id})),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": client.pool_id, "ClientName": "x"}),
        ),
        (
            "AdminGetUser",
            json!({"UserPoolId": client.pool_id, "Username": username}),
        ),
        (
            "AdminConfirmSignUp",
            json!({"UserPoolId": client.pool_id, "Username": username}),
        ),
        (
            "AdminInitiateAuth",
            json!({
                "UserPoolId": client.pool_id,
                "ClientId": client.id,
                "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD},
            }),
        ),
    ];
    for (operation, body) in &requests {
        let response = target.call_raw(operation, body).await;
        assert_eq!(response.status, 400, "unsigned {operation}: {response}");
        let error = response.error_type();
        assert!(
            error.as_deref().is_some_and(|e| UNSIGNED.contains(&e)),
            "unsigned {operation}: {response}"
        );
        assert!(response.header("x-amzn-errortype").is_some(), "{response}");
    }
    assert_untouched(target, &client.pool_id, &username).await;
    // The unsigned CreateUserPool created nothing.
    let pools = target.all_pools().await;
    assert!(
        pools.iter().all(|(_, name)| *name != pool_name),
        "an unsigned CreateUserPool created a pool"
    );
}

#[tokio::test]
async fn public_operations_work_without_valid_credentials() {
    let target = Target::shared();
    let client = target.standard_setup("public").await;

    // The public client carries bogus credentials, which the SDK does not use for these calls.
    let username = unique("bogus-creds");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("b"))
        .await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let access = tokens.access_token().expect("AccessToken");
    ok(
        target
            .public_client()
            .get_user()
            .access_token(access)
            .send()
            .await,
        "GetUser with the public client",
    );

    // A client with no credentials at all.
    let anonymous = target.anonymous_client();
    let username = unique("anonymous");
    ok(
        anonymous
            .sign_up()
            .client_id(&client.id)
            .username(&username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &unique_email("anon")))
            .send()
            .await,
        "SignUp with no credentials",
    );
    let code = target.latest_code(&client.pool_id, &username).await;
    ok(
        anonymous
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(code)
            .send()
            .await,
        "ConfirmSignUp with no credentials",
    );
    let auth = ok(
        anonymous
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "InitiateAuth with no credentials",
    );
    let access = auth
        .authentication_result()
        .and_then(|r| r.access_token())
        .expect("AccessToken");
    ok(
        anonymous.get_user().access_token(access).send().await,
        "GetUser with no credentials",
    );

    // And a raw request with no Authorization header at all.
    let response = target
        .call_raw(
            "SignUp",
            &json!({
                "ClientId": client.id,
                "Username": unique("raw"),
                "Password": PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": unique_email("raw")}],
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{response}");
    let body = response.json().expect("JSON body");
    assert_eq!(body["UserConfirmed"], false, "{body}");
    assert!(
        body["UserSub"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
}
