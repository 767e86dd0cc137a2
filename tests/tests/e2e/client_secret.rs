//! App clients with a secret: every public call names the user and proves the secret with
//! `SECRET_HASH` = base64(HMAC-SHA256(secret, username + clientId)).

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::AuthFlowType;
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, ok, password_flows, secret_hash, service_error, unique,
    unique_email,
};
use serde_json::Value;

async fn secret_client(target: &Target, prefix: &str) -> AppClient {
    let pool_id = target.create_standard_pool(prefix).await;
    let client = target
        .create_client(&pool_id, |b| password_flows(b).generate_secret(true))
        .await;
    assert!(
        client.secret.is_some(),
        "GenerateSecret returned no ClientSecret"
    );
    client
}

/// The refusal for a missing `SECRET_HASH` names the client, as Cognito's does ("Client <id> is
/// configured for secret but secret was not received").
fn assert_missing_secret<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E, client: &AppClient) {
    assert_eq!(err.code(), Some("NotAuthorizedException"), "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(&client.id),
        "the message names the client: {message:?}"
    );
}

/// The refusal for a wrong `SECRET_HASH` ("Unable to verify secret hash for client <id>").
fn assert_wrong_secret<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E, client: &AppClient) {
    assert_eq!(err.code(), Some("NotAuthorizedException"), "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(&client.id),
        "the message names the client: {message:?}"
    );
}

#[tokio::test]
async fn sign_up_requires_a_correct_secret_hash() {
    let target = Target::shared();
    let client = secret_client(target, "secret-signup").await;
    let secret = client.secret.clone().expect("secret");
    let public = target.public_client();
    let username = unique("grace");
    let email = unique_email("grace");
    let sign_up = || {
        public
            .sign_up()
            .client_id(&client.id)
            .username(&username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &email))
    };

    let err = service_error(sign_up().send().await, "SignUp without SECRET_HASH");
    assert_missing_secret(&err, &client);
    let err = service_error(
        sign_up().secret_hash("bm9wZQ==").send().await,
        "SignUp with a wrong SECRET_HASH",
    );
    assert_wrong_secret(&err, &client);
    let err = service_error(
        sign_up()
            .secret_hash(secret_hash(&secret, "someone-else", &client.id))
            .send()
            .await,
        "SignUp with another username's SECRET_HASH",
    );
    assert_wrong_secret(&err, &client);

    let output = ok(
        sign_up()
            .secret_hash(secret_hash(&secret, &username, &client.id))
            .send()
            .await,
        "SignUp with SECRET_HASH",
    );
    assert!(!output.user_confirmed());
}

#[tokio::test]
async fn confirm_sign_up_requires_a_correct_secret_hash() {
    let target = Target::shared();
    let client = secret_client(target, "secret-confirm").await;
    let username = unique("heidi");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("heidi"))
        .await;
    let code = target.latest_code(&client.pool_id, &username).await;
    let confirm = || {
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(&code)
    };

    let err = service_error(confirm().send().await, "ConfirmSignUp without SECRET_HASH");
    assert_missing_secret(&err, &client);
    let err = service_error(
        confirm().secret_hash("bm9wZQ==").send().await,
        "ConfirmSignUp with a wrong SECRET_HASH",
    );
    assert_wrong_secret(&err, &client);
    ok(
        confirm()
            .set_secret_hash(client.secret_hash(&username))
            .send()
            .await,
        "ConfirmSignUp with SECRET_HASH",
    );
}

#[tokio::test]
async fn initiate_auth_and_refresh_require_a_correct_secret_hash() {
    let target = Target::shared();
    let client = secret_client(target, "secret-auth").await;
    let secret = client.secret.clone().expect("secret");
    let username = unique("ivan");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("ivan"))
        .await;
    let public = target.public_client();
    let password_auth = || {
        public
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", PASSWORD)
    };

    let err = service_error(
        password_auth().send().await,
        "InitiateAuth without SECRET_HASH",
    );
    assert_missing_secret(&err, &client);
    let err = service_error(
        password_auth()
            .auth_parameters("SECRET_HASH", "bm9wZQ==")
            .send()
            .await,
        "InitiateAuth with a wrong SECRET_HASH",
    );
    assert_wrong_secret(&err, &client);
    let auth = ok(
        password_auth()
            .auth_parameters("SECRET_HASH", secret_hash(&secret, &username, &client.id))
            .send()
            .await,
        "InitiateAuth with SECRET_HASH",
    );
    let result = auth.authentication_result().expect("AuthenticationResult");
    let refresh_token = result.refresh_token().expect("RefreshToken");
    let jwks = target.jwks(&client.pool_id).await;
    let id = jwks
        .verify_id_token(result.id_token().expect("IdToken"), &client.id)
        .expect("ID token verifies");
    // Refresh's SECRET_HASH is computed over the user's username as the tokens carry it.
    let token_username = id
        .get("cognito:username")
        .and_then(Value::as_str)
        .expect("cognito:username")
        .to_owned();

    let refresh = || {
        public
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
    };
    let err = service_error(
        refresh().send().await,
        "REFRESH_TOKEN_AUTH without SECRET_HASH",
    );
    assert_missing_secret(&err, &client);
    let err = service_error(
        refresh()
            .auth_parameters("SECRET_HASH", "bm9wZQ==")
            .send()
            .await,
        "REFRESH_TOKEN_AUTH with a wrong SECRET_HASH",
    );
    assert_wrong_secret(&err, &client);
    let refreshed = ok(
        refresh()
            .auth_parameters(
                "SECRET_HASH",
                secret_hash(&secret, &token_username, &client.id),
            )
            .send()
            .await,
        "REFRESH_TOKEN_AUTH with SECRET_HASH",
    );
    let result = refreshed
        .authentication_result()
        .expect("AuthenticationResult");
    jwks.verify_access_token(result.access_token().expect("AccessToken"), &client.id)
        .expect("refreshed access token verifies");
    assert_eq!(result.refresh_token(), None);
}

#[tokio::test]
async fn a_secret_hash_made_with_another_clients_secret_is_refused() {
    let target = Target::shared();
    let client = secret_client(target, "secret-other").await;
    let other = target
        .create_client(&client.pool_id, |b| password_flows(b).generate_secret(true))
        .await;
    let username = unique("judy");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("judy"))
        .await;
    let foreign = secret_hash(
        other.secret.as_deref().expect("secret"),
        &username,
        &client.id,
    );
    let err = service_error(
        target
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", PASSWORD)
            .auth_parameters("SECRET_HASH", foreign)
            .send()
            .await,
        "InitiateAuth with a SECRET_HASH from another client's secret",
    );
    assert_wrong_secret(&err, &client);
}
