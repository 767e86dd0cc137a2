//! USER_SRP_AUTH through the AWS SDK for Rust, the client's side computed with the core's `srp`
//! module (checked against pycognito's and amazon-cognito-identity-js's vectors): sign-in with
//! and without a client secret, the Admin twins, a replayed SECRET_BLOCK, a wrong password, a bad
//! SRP_A, a user without a verifier, and the pool switch (`CognateSrp`).

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType};
use cognate_tests::srp::SrpClient;
use cognate_tests::{
    AppClient, PASSWORD, Target, ok, service_error, standard_pool, unique, unique_email,
};
use serde_json::{Value, json};

const INCORRECT: &str = "Incorrect username or password.";

/// A client allowing SRP, password and refresh sign-in.
async fn srp_client(target: &Target, pool_id: &str, secret: bool) -> AppClient {
    target
        .create_client(pool_id, |b| {
            b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
                .generate_secret(secret)
        })
        .await
}

#[tokio::test]
async fn srp_sign_in_issues_tokens_with_and_without_a_client_secret() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("srp").await;
    for secret in [false, true] {
        let client = srp_client(target, &pool_id, secret).await;
        let username = unique("srp-user");
        target
            .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("srp"))
            .await;
        let srp = SrpClient::new();
        let challenge = ok(
            target.srp_initiate(&client, &username, &srp).await,
            "InitiateAuth USER_SRP_AUTH",
        );
        assert_eq!(
            challenge.challenge_name(),
            Some(&ChallengeNameType::PasswordVerifier)
        );
        assert_eq!(challenge.session(), None, "Cognito sends no Session here");
        let parameters = challenge
            .challenge_parameters()
            .cloned()
            .unwrap_or_default();
        let mut names: Vec<&str> = parameters.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "SALT",
                "SECRET_BLOCK",
                "SRP_B",
                "USERNAME",
                "USER_ID_FOR_SRP"
            ]
        );
        assert_eq!(parameters["USER_ID_FOR_SRP"], username);
        let out = ok(
            target
                .srp_respond(&client, srp.answer(&client, &parameters, PASSWORD))
                .await,
            "RespondToAuthChallenge PASSWORD_VERIFIER",
        );
        let tokens = out.authentication_result().expect("AuthenticationResult");
        let claims = target
            .jwks(&pool_id)
            .await
            .verify_access_token(tokens.access_token().expect("AccessToken"), &client.id)
            .expect("a valid access token");
        assert_eq!(claims["username"], json!(username));
        // The refresh token works as after a password sign-in.
        assert!(tokens.refresh_token().is_some());
    }
}

#[tokio::test]
async fn admin_initiate_auth_takes_user_srp_auth() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("srp-admin").await;
    let client = srp_client(target, &pool_id, false).await;
    let username = unique("srp-admin");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("srpa"))
        .await;
    let srp = SrpClient::new();
    let challenge = ok(
        target
            .admin_client()
            .admin_initiate_auth()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("SRP_A", &srp.big_a)
            .send()
            .await,
        "AdminInitiateAuth USER_SRP_AUTH",
    );
    let parameters = challenge
        .challenge_parameters()
        .cloned()
        .unwrap_or_default();
    let out = ok(
        target
            .admin_client()
            .admin_respond_to_auth_challenge()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .set_challenge_responses(Some(srp.answer(&client, &parameters, PASSWORD)))
            .send()
            .await,
        "AdminRespondToAuthChallenge PASSWORD_VERIFIER",
    );
    assert!(out.authentication_result().is_some());
}

#[tokio::test]
async fn a_secret_block_is_single_use_and_a_wrong_password_is_incorrect() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("srp-replay").await;
    let client = srp_client(target, &pool_id, false).await;
    let username = unique("srp-replay");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("srpr"))
        .await;
    let srp = SrpClient::new();
    let challenge = ok(
        target.srp_initiate(&client, &username, &srp).await,
        "InitiateAuth USER_SRP_AUTH",
    );
    let parameters = challenge
        .challenge_parameters()
        .cloned()
        .unwrap_or_default();
    let answer = srp.answer(&client, &parameters, PASSWORD);
    ok(
        target.srp_respond(&client, answer.clone()).await,
        "the first answer",
    );
    let replay = service_error(
        target.srp_respond(&client, answer).await,
        "the same SECRET_BLOCK again",
    );
    assert!(replay.is_not_authorized_exception(), "{replay:?}");

    let wrong = service_error(
        target
            .srp_sign_in(&client, &username, "Wrong-Horse-9-Battery")
            .await,
        "a wrong password",
    );
    assert!(wrong.is_not_authorized_exception(), "{wrong:?}");
    assert_eq!(wrong.message(), Some(INCORRECT));
    let unknown = service_error(
        target
            .srp_sign_in(&client, &unique("nobody"), PASSWORD)
            .await,
        "an unknown user (PreventUserExistenceErrors)",
    );
    assert!(unknown.is_not_authorized_exception(), "{unknown:?}");
    assert_eq!(unknown.message(), Some(INCORRECT));
}

#[tokio::test]
async fn srp_a_that_is_zero_mod_n_or_malformed_is_an_invalid_parameter() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("srp-a").await;
    let client = srp_client(target, &pool_id, false).await;
    for a in [
        "0",
        "00",
        cognate_core::srp::N_HEX,
        "not-hex",
        &"a".repeat(2000),
    ] {
        let err = service_error(
            target
                .public_client()
                .initiate_auth()
                .client_id(&client.id)
                .auth_flow(AuthFlowType::UserSrpAuth)
                .auth_parameters("USERNAME", "someone")
                .auth_parameters("SRP_A", a)
                .send()
                .await,
            "a bad SRP_A",
        );
        assert!(err.is_invalid_parameter_exception(), "{a:.16}: {err:?}");
    }
}

/// The pool switch, over the wire: `CognateSrp` is Cognate's extension, which the AWS SDK
/// cannot send.
async fn create_pool_raw(target: &Target, extra: Value) -> String {
    let mut body = json!({"PoolName": unique("srp-switch"), "AutoVerifiedAttributes": ["email"]});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let response = target
        .signed_call("AWSCognitoIdentityProviderService.CreateUserPool", &body)
        .await;
    assert_eq!(response.status, 200, "{response}");
    response.json().expect("JSON")["UserPool"]["Id"]
        .as_str()
        .expect("Id")
        .to_owned()
}

#[tokio::test]
async fn the_pool_switch_refuses_srp_and_users_without_a_verifier_get_one_at_a_password_sign_in() {
    let target = Target::shared();
    let pool_id = create_pool_raw(target, json!({"CognateSrp": "DISABLED"})).await;
    let described = target
        .signed_call(
            "AWSCognitoIdentityProviderService.DescribeUserPool",
            &json!({"UserPoolId": pool_id}),
        )
        .await;
    assert_eq!(
        described.json().expect("JSON")["UserPool"]["CognateSrp"],
        json!("DISABLED")
    );
    let client = srp_client(target, &pool_id, false).await;
    let username = unique("no-verifier");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("nov"))
        .await;
    let srp = SrpClient::new();
    let refused = service_error(
        target.srp_initiate(&client, &username, &srp).await,
        "USER_SRP_AUTH in a pool with CognateSrp DISABLED",
    );
    assert!(refused.is_invalid_parameter_exception(), "{refused:?}");

    // SRP on again (UpdateUserPool without CognateSrp: Cognito's default). The user's
    // password was set while no verifiers were stored: SRP answers as for a wrong password.
    ok(
        standard_update(target, &pool_id).send().await,
        "UpdateUserPool",
    );
    let before = service_error(
        target.srp_sign_in(&client, &username, PASSWORD).await,
        "USER_SRP_AUTH for a user without a verifier",
    );
    assert!(before.is_not_authorized_exception(), "{before:?}");
    assert_eq!(before.message(), Some(INCORRECT));
    let events = target
        .signed_call(
            "AWSCognitoIdentityProviderService.AdminListUserAuthEvents",
            &json!({"UserPoolId": pool_id, "Username": username}),
        )
        .await;
    let events = events.json().expect("JSON");
    let reason = events["AuthEvents"][0]["CognateReason"]
        .as_str()
        .unwrap_or_else(|| panic!("no CognateReason in {events}"));
    assert!(reason.contains("no SRP verifier"), "{reason}");

    // A password sign-in stores the verifier; SRP works from then on.
    target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        target.srp_sign_in(&client, &username, PASSWORD).await,
        "USER_SRP_AUTH after a password sign-in",
    );
}

fn standard_update(
    target: &Target,
    pool_id: &str,
) -> cognate_tests::cognito::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder {
    target
        .admin_client()
        .update_user_pool()
        .user_pool_id(pool_id)
        .auto_verified_attributes(cognate_tests::cognito::types::VerifiedAttributeType::Email)
}

#[tokio::test]
async fn email_username_pools_sign_in_with_the_internal_username() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("srp-email", |b| {
            standard_pool(b)
                .username_attributes(cognate_tests::cognito::types::UsernameAttributeType::Email)
        })
        .await;
    let client = srp_client(target, &pool_id, true).await;
    let email = unique_email("srp-email");
    target
        .sign_up_confirmed(&client, &email, PASSWORD, &email)
        .await;
    let srp = SrpClient::new();
    let challenge = ok(
        target.srp_initiate(&client, &email, &srp).await,
        "InitiateAuth USER_SRP_AUTH by email",
    );
    let parameters = challenge
        .challenge_parameters()
        .cloned()
        .unwrap_or_default();
    let internal = parameters["USER_ID_FOR_SRP"].clone();
    assert_ne!(internal, email);
    assert_eq!(parameters["USERNAME"], internal);
    let out = ok(
        target
            .srp_respond(&client, srp.answer(&client, &parameters, PASSWORD))
            .await,
        "RespondToAuthChallenge PASSWORD_VERIFIER",
    );
    assert!(out.authentication_result().is_some());
}
