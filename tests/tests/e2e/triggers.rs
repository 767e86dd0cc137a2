//! Trigger plugins end to end through the AWS SDK: every trigger point with the example plugins
//! (the event each plugin sees, and how its answer changes the outcome), and hostile plugins
//! that must fail only their own request.
//!
//! The `echo-event` example refuses every call with the event it got as the error message, so
//! `<Trigger> failed with error <event JSON>.` shows the event exactly as the plugin saw it.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, CustomEmailLambdaVersionConfigType,
    CustomEmailSenderLambdaVersionType, DeliveryMediumType, ExplicitAuthFlowsType,
    LambdaConfigType, MessageActionType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType, UserStatusType,
};
use cognate_tests::plugins::{self, constant_plugin};
use cognate_tests::scenarios::{
    admin_create_quietly, admin_create_user, admin_set_password, admin_user,
    confirm_forgot_password, error_code, forgot_password, refresh_tokens, verified_claims,
};
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, ok, password_flows, service_error, standard_pool,
    unique, unique_email,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A standard pool whose LambdaConfig is `lambda`, and a password + custom-auth client.
async fn pool_with(target: &Target, prefix: &str, lambda: LambdaConfigType) -> AppClient {
    pool_with_settings(target, prefix, lambda, standard_pool).await
}

async fn pool_with_settings(
    target: &Target,
    prefix: &str,
    lambda: LambdaConfigType,
    settings: impl FnOnce(CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder,
) -> AppClient {
    let pool_id = target
        .create_pool(prefix, |b| settings(b).lambda_config(lambda))
        .await;
    target
        .create_client(&pool_id, |b| {
            password_flows(b).explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
        })
        .await
}

/// A confirmed user with [`PASSWORD`], made by an administrator (no sign-up triggers).
async fn admin_user_with_password(
    target: &Target,
    pool_id: &str,
    prefix: &str,
) -> (String, String) {
    let username = unique(prefix);
    let email = unique_email(prefix);
    admin_create_quietly(
        target,
        pool_id,
        &username,
        PASSWORD,
        &[("email", &email), ("email_verified", "true")],
    )
    .await;
    ok(
        admin_set_password(target, pool_id, &username, PASSWORD, true).await,
        "AdminSetUserPassword",
    );
    (username, email)
}

/// The event inside an echo plugin's refusal: "<trigger> failed with error <event>."
fn echoed_event(code: Option<&str>, message: Option<&str>, trigger: &str) -> Value {
    assert_eq!(
        code,
        Some("UserLambdaValidationException"),
        "{trigger}: {message:?}"
    );
    let message = message.expect("a message");
    let prefix = format!("{trigger} failed with error ");
    let json = message
        .strip_prefix(&prefix)
        .and_then(|m| m.strip_suffix('.'))
        .unwrap_or_else(|| panic!("not Cognito's trigger error format: {message}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("event is not JSON ({e}): {json}"))
}

/// The common part of every event.
fn assert_envelope(event: &Value, source: &str, pool_id: &str, user_name: &str) {
    assert_eq!(event["version"], "1", "{event}");
    assert_eq!(event["triggerSource"], source, "{event}");
    assert_eq!(event["region"], "us-east-1", "{event}");
    assert_eq!(event["userPoolId"], pool_id, "{event}");
    assert_eq!(event["userName"], user_name, "{event}");
    assert!(
        event["callerContext"]["awsSdkVersion"].is_string(),
        "{event}"
    );
    assert!(event["callerContext"]["clientId"].is_string(), "{event}");
    assert!(event["request"].is_object(), "{event}");
    assert!(event.get("response").is_some(), "{event}");
}

async fn sign_up(
    target: &Target,
    client: &AppClient,
    username: &str,
    email: &str,
) -> cognate_tests::scenarios::Sent<
    aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpOutput,
    aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpError,
> {
    target
        .public_client()
        .sign_up()
        .client_id(&client.id)
        .username(username)
        .password(PASSWORD)
        .user_attributes(attribute("email", email))
        .validation_data(attribute("invite", "cognate-2026"))
        .client_metadata("campaign", "launch")
        .send()
        .await
}

fn lambda() -> aws_sdk_cognitoidentityprovider::types::builders::LambdaConfigTypeBuilder {
    LambdaConfigType::builder()
}

fn v2(reference: &str) -> PreTokenGenerationVersionConfigType {
    PreTokenGenerationVersionConfigType::builder()
        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
        .lambda_arn(reference)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Pre sign-up

#[tokio::test]
async fn pre_sign_up_auto_confirms_allow_listed_domains_and_refuses_others() {
    let target = Target::shared();
    let plugin = target.register_example("pre-sign-up").await;
    let client = pool_with(target, "presignup", lambda().pre_sign_up(&plugin).build()).await;

    let username = unique("allowed");
    let out = ok(
        sign_up(target, &client, &username, &unique_email("allowed")).await,
        "SignUp in an allowed domain",
    );
    assert!(out.user_confirmed, "auto-confirmed by the plugin");
    assert!(out.code_delivery_details.is_none(), "no code needed");
    let user = admin_user(target, &client.pool_id, &username).await;
    assert_eq!(user.user_status, Some(UserStatusType::Confirmed));
    let verified = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "email_verified")
        .and_then(|a| a.value());
    assert_eq!(verified, Some("true"), "autoVerifyEmail");
    target.password_sign_in(&client, &username, PASSWORD).await;

    let refused = unique("refused");
    let e = service_error(
        sign_up(
            target,
            &client,
            &refused,
            &format!("{refused}@elsewhere.org"),
        )
        .await,
        "SignUp outside the allow-list",
    );
    assert_eq!(e.code(), Some("UserLambdaValidationException"));
    assert_eq!(
        e.message(),
        Some(
            "PreSignUp failed with error Sign-up is open to example.com and cognate.test addresses only."
        )
    );
    assert_eq!(
        error_code(
            target
                .admin_client()
                .admin_get_user()
                .user_pool_id(&client.pool_id)
                .username(&refused)
                .send()
                .await
        )
        .as_deref(),
        Some("UserNotFoundException"),
        "a refused sign-up stores no user"
    );
}

#[tokio::test]
async fn pre_sign_up_event_matches_cognito_for_sign_up_and_admin_create_user() {
    let target = Target::shared();
    let plugin = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "presignupevent",
        lambda().pre_sign_up(&plugin).build(),
    )
    .await;
    let username = unique("shape");
    let email = unique_email("shape");
    let sent = sign_up(target, &client, &username, &email).await;
    let e = sent.expect_err("echo refuses");
    let e = e.into_service_error();
    let event = echoed_event(e.code(), e.message(), "PreSignUp");
    assert_envelope(&event, "PreSignUp_SignUp", &client.pool_id, &username);
    assert_eq!(event["callerContext"]["clientId"], client.id);
    assert_eq!(event["request"]["userAttributes"]["email"], email);
    assert_eq!(event["request"]["validationData"]["invite"], "cognate-2026");
    assert_eq!(event["request"]["clientMetadata"]["campaign"], "launch");
    assert_eq!(
        event["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );

    let admin_name = unique("adminshape");
    let e = admin_create_user(target, &client.pool_id, &admin_name, |b| {
        b.user_attributes(attribute("email", &email))
            .message_action(MessageActionType::Suppress)
    })
    .await
    .expect_err("echo refuses")
    .into_service_error();
    let event = echoed_event(e.code(), e.message(), "PreSignUp");
    assert_envelope(
        &event,
        "PreSignUp_AdminCreateUser",
        &client.pool_id,
        &admin_name,
    );
    assert_eq!(
        event["callerContext"]["clientId"],
        "CLIENT_ID_NOT_APPLICABLE"
    );
}

// ---------------------------------------------------------------------------------------------
// Post confirmation, pre and post authentication

#[tokio::test]
async fn post_confirmation_sees_the_confirmed_user_and_can_fail_the_call() {
    let target = Target::shared();
    let plugin = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "postconfirm",
        lambda().post_confirmation(&plugin).build(),
    )
    .await;
    let username = unique("pc");
    let email = unique_email("pc");
    ok(sign_up(target, &client, &username, &email).await, "SignUp");
    let code = target.latest_code(&client.pool_id, &username).await;
    let e = target
        .public_client()
        .confirm_sign_up()
        .client_id(&client.id)
        .username(&username)
        .confirmation_code(&code)
        .client_metadata("step", "confirm")
        .send()
        .await
        .expect_err("echo refuses")
        .into_service_error();
    let event = echoed_event(e.code(), e.message(), "PostConfirmation");
    assert_envelope(
        &event,
        "PostConfirmation_ConfirmSignUp",
        &client.pool_id,
        &username,
    );
    assert_eq!(event["request"]["userAttributes"]["email"], email);
    assert_eq!(event["request"]["userAttributes"]["email_verified"], "true");
    assert_eq!(
        event["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert!(event["request"]["userAttributes"]["sub"].is_string());
    assert_eq!(event["request"]["clientMetadata"]["step"], "confirm");
    // As in Cognito, the confirmation itself stands.
    let user = admin_user(target, &client.pool_id, &username).await;
    assert_eq!(user.user_status, Some(UserStatusType::Confirmed));
}

#[tokio::test]
async fn pre_authentication_can_refuse_a_sign_in_before_the_password_is_checked() {
    let target = Target::shared();
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "preauth",
        lambda().pre_authentication(&echo).build(),
    )
    .await;
    let (username, email) = admin_user_with_password(target, &client.pool_id, "pa").await;
    let e = service_error(
        target
            .password_auth(&client, &username, "Wrong-Passw0rd!")
            .send()
            .await,
        "InitiateAuth",
    );
    let event = echoed_event(e.code(), e.message(), "PreAuthentication");
    assert_envelope(
        &event,
        "PreAuthentication_Authentication",
        &client.pool_id,
        &username,
    );
    assert_eq!(event["callerContext"]["clientId"], client.id);
    assert_eq!(event["request"]["userAttributes"]["email"], email);
    assert_eq!(event["request"]["userNotFound"], false);

    let blocked = target
        .register_plugin(
            "const-block-sign-in",
            constant_plugin(plugins::ANSWER_BLOCK_SIGN_IN).as_bytes(),
        )
        .await
        .unwrap();
    let reference = blocked["Reference"].as_str().unwrap();
    let client = pool_with(
        target,
        "preauthblock",
        lambda().pre_authentication(reference).build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "pb").await;
    let e = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth",
    );
    assert_eq!(e.code(), Some("UserLambdaValidationException"));
    assert_eq!(
        e.message(),
        Some("PreAuthentication failed with error Sign-in is paused.")
    );
}

#[tokio::test]
async fn post_authentication_runs_after_the_password_and_can_withhold_tokens() {
    let target = Target::shared();
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "postauth",
        lambda().post_authentication(&echo).build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "pt").await;
    // A wrong password never reaches the plugin.
    let e = service_error(
        target
            .password_auth(&client, &username, "Wrong-Passw0rd!")
            .send()
            .await,
        "wrong password",
    );
    assert_eq!(e.code(), Some("NotAuthorizedException"));
    let e = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth",
    );
    let event = echoed_event(e.code(), e.message(), "PostAuthentication");
    assert_envelope(
        &event,
        "PostAuthentication_Authentication",
        &client.pool_id,
        &username,
    );
    assert_eq!(event["request"]["newDeviceUsed"], false);
    assert!(event["request"]["userAttributes"]["sub"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Pre token generation

#[tokio::test]
async fn pre_token_generation_v2_changes_claims_scopes_and_groups() {
    let target = Target::shared();
    let plugin = target.register_example("pre-token-generation").await;
    let client = pool_with(
        target,
        "pretoken",
        lambda().pre_token_generation_config(v2(&plugin)).build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "tok").await;
    let admin = target.admin_client();
    for group in ["readers", "blocked"] {
        ok(
            admin
                .create_group()
                .user_pool_id(&client.pool_id)
                .group_name(group)
                .send()
                .await,
            "CreateGroup",
        );
        ok(
            admin
                .admin_add_user_to_group()
                .user_pool_id(&client.pool_id)
                .username(&username)
                .group_name(group)
                .send()
                .await,
            "AdminAddUserToGroup",
        );
    }
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let (id, access) = verified_claims(target, &client, &tokens).await;
    // What the plugin saw.
    assert_eq!(id["seen_trigger_source"], "TokenGeneration_Authentication");
    assert_eq!(id["seen_version"], "2");
    assert_eq!(id["seen_scopes"], json!(["aws.cognito.signin.user.admin"]));
    assert_eq!(id["seen_client_id"], client.id);
    let mut seen_groups: Vec<String> = serde_json::from_value(id["seen_groups"].clone()).unwrap();
    seen_groups.sort();
    assert_eq!(seen_groups, ["blocked", "readers"]);
    // What it changed.
    assert_eq!(id["tier"], "gold");
    assert_eq!(access["tier"], "gold");
    assert!(id.get("email_verified").is_none(), "suppressed");
    assert!(id.get("email").is_some(), "not suppressed");
    let scopes: Vec<&str> = access["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"cognate/plugins.read"), "{scopes:?}");
    assert!(
        scopes.contains(&"aws.cognito.signin.user.admin"),
        "{scopes:?}"
    );
    assert_eq!(id["cognito:groups"], json!(["readers", "plugin-users"]));
    assert_eq!(access["cognito:groups"], json!(["readers", "plugin-users"]));
    // Protected claims are Cognate's.
    assert_eq!(id["cognito:username"], username);
    assert_eq!(id["token_use"], "id");

    // A refresh runs it again, with its own source.
    let refreshed = ok(
        refresh_tokens(target, &client, tokens.refresh_token().unwrap()).await,
        "GetTokensFromRefreshToken",
    );
    let (id, _) =
        verified_claims(target, &client, refreshed.authentication_result().unwrap()).await;
    assert_eq!(id["seen_trigger_source"], "TokenGeneration_RefreshTokens");
}

#[tokio::test]
async fn pre_token_generation_v1_changes_the_id_token_and_groups() {
    let target = Target::shared();
    let registered = target
        .register_plugin(
            "const-pre-token-v1",
            constant_plugin(plugins::ANSWER_PRE_TOKEN_V1).as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(registered["Names"], json!(["const-pre-token-v1"]));
    let client = pool_with(
        target,
        "pretokenv1",
        lambda().pre_token_generation("const-pre-token-v1").build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "v1").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let (id, access) = verified_claims(target, &client, &tokens).await;
    assert_eq!(id["plan"], "v1-plan");
    assert!(
        access.get("plan").is_none(),
        "V1 leaves the access token's claims"
    );
    assert!(id.get("email").is_none());
    assert_eq!(id["cognito:groups"], json!(["v1-group"]));
    assert_eq!(access["cognito:groups"], json!(["v1-group"]));
    assert_ne!(id["iss"], "https://evil", "iss is protected");

    // And the V1 event.
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "pretokenv1echo",
        lambda().pre_token_generation(&echo).build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "v1e").await;
    let e = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth",
    );
    let event = echoed_event(e.code(), e.message(), "PreTokenGeneration");
    assert_envelope(
        &event,
        "TokenGeneration_Authentication",
        &client.pool_id,
        &username,
    );
    assert_eq!(
        event["request"]["groupConfiguration"]["groupsToOverride"],
        json!([])
    );
    assert!(event["request"].get("scopes").is_none(), "scopes are V2's");
    assert_eq!(event["response"], json!({"claimsOverrideDetails": null}));
}

// ---------------------------------------------------------------------------------------------
// Custom message and custom sender

#[tokio::test]
async fn custom_message_rewrites_every_message() {
    let target = Target::shared();
    let plugin = target.register_example("custom-message").await;
    let client = pool_with(
        target,
        "custommsg",
        lambda().custom_message(&plugin).build(),
    )
    .await;
    let username = unique("cm");
    let email = unique_email("cm");
    ok(sign_up(target, &client, &username, &email).await, "SignUp");
    let messages = target.messages(&client.pool_id, &username).await;
    let first = messages.last().expect("a sign-up message");
    assert_eq!(first.subject, "Welcome to Cognate");
    let code = first.code.clone().unwrap();
    assert_eq!(
        first.body,
        format!("[CustomMessage_SignUp] Hello {username}, use {code} to confirm your sign-up.")
    );
    ok(
        target
            .public_client()
            .resend_confirmation_code()
            .client_id(&client.id)
            .username(&username)
            .send()
            .await,
        "ResendConfirmationCode",
    );
    let resent = target.messages(&client.pool_id, &username).await;
    let resent = resent.last().unwrap();
    assert!(
        resent.body.starts_with("[CustomMessage_ResendCode] "),
        "{}",
        resent.body
    );
    let code = resent.code.clone().unwrap();
    assert!(resent.body.contains(&code));
    ok(
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(&code)
            .send()
            .await,
        "ConfirmSignUp with the rewritten message's code",
    );

    ok(
        forgot_password(target, &client.id, &username).await,
        "ForgotPassword",
    );
    let reset = target.messages(&client.pool_id, &username).await;
    let reset = reset.last().unwrap();
    assert_eq!(reset.subject, "Reset your Cognate password");
    assert!(
        reset.body.starts_with("[CustomMessage_ForgotPassword] "),
        "{}",
        reset.body
    );
    ok(
        confirm_forgot_password(
            target,
            &client,
            &username,
            reset.code.as_deref().unwrap(),
            "New-Passw0rd!!",
        )
        .await,
        "ConfirmForgotPassword",
    );

    // AdminCreateUser's invitation: the username and temporary password filled in.
    let invited = unique("invited");
    ok(
        admin_create_user(target, &client.pool_id, &invited, |b| {
            b.user_attributes(attribute("email", &unique_email("invited")))
                .user_attributes(attribute("name", "Ivy"))
                .desired_delivery_mediums(DeliveryMediumType::Email)
        })
        .await,
        "AdminCreateUser",
    );
    let invitation = target.messages(&client.pool_id, &invited).await;
    let invitation = invitation.last().unwrap();
    let password = invitation.code.clone().unwrap();
    assert_eq!(
        invitation.body,
        format!(
            "[CustomMessage_AdminCreateUser] Hello Ivy, sign in as {invited} with the temporary password {password}."
        )
    );
    let challenge = ok(
        target
            .password_auth(&client, &invited, &password)
            .send()
            .await,
        "sign-in with the invitation's password",
    );
    assert_eq!(
        challenge.challenge_name,
        Some(ChallengeNameType::NewPasswordRequired)
    );

    // Changing and verifying an attribute.
    let tokens = target
        .password_sign_in(&client, &username, "New-Passw0rd!!")
        .await;
    ok(
        target
            .public_client()
            .update_user_attributes()
            .access_token(tokens.access_token().unwrap())
            .user_attributes(attribute("email", &unique_email("cm2")))
            .send()
            .await,
        "UpdateUserAttributes",
    );
    let update = target.messages(&client.pool_id, &username).await;
    assert!(
        update
            .last()
            .unwrap()
            .body
            .starts_with("[CustomMessage_UpdateUserAttribute] "),
        "{:?}",
        update.last()
    );
    ok(
        target
            .public_client()
            .get_user_attribute_verification_code()
            .access_token(tokens.access_token().unwrap())
            .attribute_name("email")
            .send()
            .await,
        "GetUserAttributeVerificationCode",
    );
    let verify = target.messages(&client.pool_id, &username).await;
    assert!(
        verify
            .last()
            .unwrap()
            .body
            .starts_with("[CustomMessage_VerifyUserAttribute] "),
        "{:?}",
        verify.last()
    );
}

#[tokio::test]
async fn custom_message_event_matches_cognito() {
    let target = Target::shared();
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "custommsgevent",
        lambda().custom_message(&echo).build(),
    )
    .await;
    let username = unique("cme");
    let email = unique_email("cme");
    let e = sign_up(target, &client, &username, &email)
        .await
        .expect_err("echo refuses")
        .into_service_error();
    let event = echoed_event(e.code(), e.message(), "CustomMessage");
    assert_envelope(&event, "CustomMessage_SignUp", &client.pool_id, &username);
    assert_eq!(event["request"]["codeParameter"], "{####}");
    assert_eq!(event["request"]["userAttributes"]["email"], email);
    assert_eq!(
        event["response"],
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
    );
}

#[tokio::test]
async fn custom_email_sender_hands_the_code_to_an_allowed_delivery() {
    let target = Target::shared();
    let plugin = target.register_example("custom-sender").await;
    let sender = CustomEmailLambdaVersionConfigType::builder()
        .lambda_version(CustomEmailSenderLambdaVersionType::V10)
        .lambda_arn(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{plugin}"
        ))
        .build()
        .unwrap();
    let client = pool_with(
        target,
        "customsender",
        lambda().custom_email_sender(sender).build(),
    )
    .await;
    let username = unique("cs");
    let email = unique_email("cs");
    ok(sign_up(target, &client, &username, &email).await, "SignUp");
    let deliveries = target
        .messages(&client.pool_id, "https://mail.example.com/v1/send")
        .await;
    let delivery = deliveries.last().expect("a delivery request in the outbox");
    assert_eq!(delivery.medium, "HTTP");
    let body: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(body["to"], email);
    assert_eq!(body["template"], "CustomEmailSender_SignUp");
    let code = body["code"].as_str().unwrap().to_owned();
    assert!(
        target.messages(&client.pool_id, &username).await.is_empty(),
        "the sender plugin replaces the built-in message"
    );
    ok(
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(&code)
            .send()
            .await,
        "ConfirmSignUp with the delivered code",
    );

    // A delivery to a host the operator did not allow fails the request.
    let evil = constant_plugin(plugins::ANSWER_EVIL_SENDER);
    target
        .register_plugin("const-evil-sender", evil.as_bytes())
        .await
        .unwrap();
    let sender = CustomEmailLambdaVersionConfigType::builder()
        .lambda_version(CustomEmailSenderLambdaVersionType::V10)
        .lambda_arn("const-evil-sender")
        .build()
        .unwrap();
    let client = pool_with(
        target,
        "evilsender",
        lambda().custom_email_sender(sender).build(),
    )
    .await;
    let e = service_error(
        sign_up(target, &client, &unique("ev"), &unique_email("ev")).await,
        "SignUp",
    );
    assert_eq!(
        e.code(),
        Some("UnexpectedLambdaException"),
        "{:?}",
        e.message()
    );
}

// ---------------------------------------------------------------------------------------------
// User migration

#[tokio::test]
async fn user_migration_moves_a_legacy_user_in_on_sign_in_and_on_forgot_password() {
    let target = Target::shared();
    let plugin = target.register_example("user-migration").await;
    let client = pool_with(target, "migrate", lambda().user_migration(&plugin).build()).await;

    let e = service_error(
        target
            .password_auth(&client, "legacy-alice", "Wrong-Passw0rd!")
            .send()
            .await,
        "wrong legacy password",
    );
    assert_eq!(e.code(), Some("UserLambdaValidationException"));
    assert_eq!(
        e.message(),
        Some("UserMigration failed with error Bad password.")
    );

    let tokens = target
        .password_sign_in(&client, "legacy-alice", "Legacy-Passw0rd!")
        .await;
    let (id, _) = verified_claims(target, &client, &tokens).await;
    assert_eq!(id["email"], "alice@legacy.example");
    assert_eq!(id["cognito:username"], "legacy-alice");
    let user = admin_user(target, &client.pool_id, "legacy-alice").await;
    assert_eq!(user.user_status, Some(UserStatusType::Confirmed));

    // Stored: it signs in with the plugin gone.
    ok(
        target
            .admin_client()
            .update_user_pool()
            .user_pool_id(&client.pool_id)
            .auto_verified_attributes(
                aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
            )
            .lambda_config(LambdaConfigType::builder().build())
            .send()
            .await,
        "UpdateUserPool without triggers",
    );
    target
        .password_sign_in(&client, "legacy-alice", "Legacy-Passw0rd!")
        .await;
    let e = service_error(
        target
            .password_auth(&client, "legacy-bob", "B0b-Legacy-Secret!")
            .send()
            .await,
        "not migrated, no plugin",
    );
    assert!(
        matches!(
            e.code(),
            Some("UserNotFoundException" | "NotAuthorizedException")
        ),
        "{:?}",
        e.code()
    );

    // ForgotPassword: the user arrives needing a reset, the code goes to the legacy address.
    let client = pool_with(
        target,
        "migrateforgot",
        lambda().user_migration(&plugin).build(),
    )
    .await;
    let sent = ok(
        forgot_password(target, &client.id, "legacy-bob").await,
        "ForgotPassword for a legacy user",
    );
    assert!(sent.code_delivery_details.is_some());
    let user = admin_user(target, &client.pool_id, "legacy-bob").await;
    assert_eq!(user.user_status, Some(UserStatusType::ResetRequired));
    let code = target.latest_code(&client.pool_id, "legacy-bob").await;
    ok(
        confirm_forgot_password(target, &client, "legacy-bob", &code, "Fresh-Passw0rd!").await,
        "ConfirmForgotPassword",
    );
    target
        .password_sign_in(&client, "legacy-bob", "Fresh-Passw0rd!")
        .await;

    // Unknown to both.
    let e = service_error(
        target
            .password_auth(&client, "nobody-at-all", PASSWORD)
            .send()
            .await,
        "unknown user",
    );
    assert!(matches!(
        e.code(),
        Some("UserNotFoundException" | "NotAuthorizedException")
    ));
}

#[tokio::test]
async fn user_migration_event_carries_the_typed_password() {
    let target = Target::shared();
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "migrateevent",
        lambda().user_migration(&echo).build(),
    )
    .await;
    let e = service_error(
        target
            .password_auth(&client, "someone-old", "Typed-Passw0rd!")
            .send()
            .await,
        "InitiateAuth",
    );
    let event = echoed_event(e.code(), e.message(), "UserMigration");
    assert_envelope(
        &event,
        "UserMigration_Authentication",
        &client.pool_id,
        "someone-old",
    );
    assert_eq!(event["request"]["password"], "Typed-Passw0rd!");
    assert_eq!(event["response"]["userAttributes"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Custom authentication challenges

#[tokio::test]
async fn custom_auth_runs_define_create_verify_with_session_history() {
    let target = Target::shared();
    let plugin = target.register_example("custom-auth").await;
    let client = pool_with(
        target,
        "customauth",
        lambda()
            .define_auth_challenge(&plugin)
            .create_auth_challenge(&plugin)
            .verify_auth_challenge_response(&plugin)
            .build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "ca").await;
    let start = || {
        target
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", &username)
            .send()
    };
    let respond = |session: String, answer: String| {
        target
            .public_client()
            .respond_to_auth_challenge()
            .client_id(&client.id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", &username)
            .challenge_responses("ANSWER", answer)
            .send()
    };
    let first = ok(start().await, "InitiateAuth CUSTOM_AUTH");
    assert_eq!(
        first.challenge_name,
        Some(ChallengeNameType::CustomChallenge)
    );
    let params = first.challenge_parameters.clone().unwrap();
    assert_eq!(params["round"], "0");
    assert_eq!(params["USERNAME"], username);
    assert!(
        !params.contains_key("code"),
        "private parameters stay private"
    );
    let session = first.session.clone().unwrap();

    // A wrong answer: a second round with a new code.
    let second = ok(
        respond(session.clone(), "000000".into()).await,
        "wrong answer",
    );
    assert_eq!(
        second.challenge_name,
        Some(ChallengeNameType::CustomChallenge)
    );
    assert_eq!(second.challenge_parameters.clone().unwrap()["round"], "1");
    // The first session is used up.
    let e = service_error(
        respond(
            session,
            cognate_example_custom_auth::expected_code(&username, 0),
        )
        .await,
        "reused session",
    );
    assert_eq!(e.code(), Some("NotAuthorizedException"));

    let done = ok(
        respond(
            second.session.unwrap(),
            cognate_example_custom_auth::expected_code(&username, 1),
        )
        .await,
        "right answer",
    );
    let tokens = done.authentication_result.expect("tokens");
    let (id, _) = verified_claims(target, &client, &tokens).await;
    assert_eq!(id["cognito:username"], username);

    // Three wrong answers fail the sign-in.
    let mut session = ok(start().await, "InitiateAuth").session.unwrap();
    for round in 0..3 {
        match respond(session.clone(), "999999x".into()).await {
            Ok(next) => session = next.session.expect("another round"),
            Err(e) => {
                assert_eq!(round, 2, "fails on the third wrong answer");
                let e = e.into_service_error();
                assert_eq!(e.code(), Some("NotAuthorizedException"));
            }
        }
    }
}

#[tokio::test]
async fn custom_auth_events_match_cognito() {
    let target = Target::shared();
    let echo = target.register_example("echo-event").await;
    let client = pool_with(
        target,
        "customauthevent",
        lambda().define_auth_challenge(&echo).build(),
    )
    .await;
    let (username, _) = admin_user_with_password(target, &client.pool_id, "cae").await;
    let e = target
        .public_client()
        .initiate_auth()
        .client_id(&client.id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", &username)
        .client_metadata("via", "test")
        .send()
        .await
        .expect_err("echo refuses")
        .into_service_error();
    let event = echoed_event(e.code(), e.message(), "DefineAuthChallenge");
    assert_envelope(
        &event,
        "DefineAuthChallenge_Authentication",
        &client.pool_id,
        &username,
    );
    assert_eq!(event["request"]["session"], json!([]));
    assert_eq!(event["request"]["userNotFound"], false);
    assert_eq!(event["request"]["clientMetadata"]["via"], "test");
    assert_eq!(
        event["response"],
        json!({"challengeName": null, "issueTokens": false, "failAuthentication": false})
    );
}

// ---------------------------------------------------------------------------------------------
// References, configuration and failures

#[tokio::test]
async fn lambda_config_accepts_names_hashes_and_arns_and_refuses_the_rest() {
    let target = Target::shared();
    let registered = target
        .register_plugin("readme-minimal", plugins::MINIMAL.as_bytes())
        .await
        .unwrap();
    let reference = registered["Reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("sha256:"), "{registered}");
    for (prefix, value) in [
        ("byname", "readme-minimal".to_owned()),
        ("byhash", reference.clone()),
        (
            "byarn",
            "arn:aws:lambda:us-east-1:123456789012:function:readme-minimal".to_owned(),
        ),
    ] {
        let client = pool_with(target, prefix, lambda().pre_sign_up(&value).build()).await;
        let out = ok(
            sign_up(target, &client, &unique(prefix), &unique_email(prefix)).await,
            "SignUp",
        );
        assert!(
            out.user_confirmed,
            "{prefix}: the minimal plugin confirms everyone"
        );
        let described = ok(
            target
                .admin_client()
                .describe_user_pool()
                .user_pool_id(&client.pool_id)
                .send()
                .await,
            "DescribeUserPool",
        );
        let lambda = described.user_pool.unwrap().lambda_config.unwrap();
        assert_eq!(lambda.pre_sign_up(), Some(value.as_str()));
    }
    let e = service_error(
        target
            .admin_client()
            .create_user_pool()
            .pool_name(unique("badref"))
            .lambda_config(lambda().pre_sign_up("not a plugin!").build())
            .send()
            .await,
        "CreateUserPool with a bad reference",
    );
    assert_eq!(e.code(), Some("InvalidParameterException"));

    // A reference nothing is registered under fails the trigger's calls.
    let client = pool_with(
        target,
        "unregistered",
        lambda().pre_sign_up("never-registered").build(),
    )
    .await;
    let e = service_error(
        sign_up(target, &client, &unique("u"), &unique_email("u")).await,
        "SignUp",
    );
    assert_eq!(e.code(), Some("UnexpectedLambdaException"));
}

#[tokio::test]
async fn plugin_admin_api_lists_and_removes_and_requires_a_signature() {
    let target = Target::shared();
    let name = unique("tmp-plugin");
    target
        .register_plugin(&name, constant_plugin(plugins::ANSWER_EMPTY).as_bytes())
        .await
        .unwrap();
    let list = target.plugin_admin("ListPlugins", &json!({})).await;
    assert_eq!(list.status, 200, "{list}");
    let listed = list.json().unwrap();
    assert!(
        listed["Plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["Names"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == name.as_str())),
        "{listed}"
    );
    let removed = target
        .plugin_admin("DeletePlugin", &json!({"Name": name}))
        .await;
    assert_eq!(removed.status, 200, "{removed}");
    let again = target
        .plugin_admin("DeletePlugin", &json!({"Name": name}))
        .await;
    assert_eq!(
        again.error_type().as_deref(),
        Some("ResourceNotFoundException")
    );
    let refused = target
        .register_plugin("io-plugin", br#"(module (import "env" "fetch" (func)))"#)
        .await
        .unwrap_err();
    assert_eq!(
        refused.error_type().as_deref(),
        Some("InvalidParameterException")
    );
    // Unsigned: refused like any admin call.
    let unsigned = target
        .post_raw(
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "CognatePlugins.ListPlugins"),
            ],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(unsigned.status, 400);
    assert_eq!(
        unsigned.error_type().as_deref(),
        Some("UnrecognizedClientException")
    );
}

#[tokio::test]
async fn hostile_plugins_fail_only_their_request() {
    let target = Target::shared();
    let good = target
        .register_plugin("readme-minimal", plugins::MINIMAL.as_bytes())
        .await
        .unwrap();
    let good_client = pool_with(
        target,
        "goodneighbour",
        lambda()
            .pre_sign_up(good["Reference"].as_str().unwrap())
            .build(),
    )
    .await;
    for (name, module, expected) in [
        (
            "hostile-loop",
            plugins::HOSTILE_LOOP,
            "UnexpectedLambdaException",
        ),
        (
            "hostile-memory-bomb",
            plugins::HOSTILE_MEMORY_BOMB,
            "UnexpectedLambdaException",
        ),
        (
            "hostile-trap",
            plugins::HOSTILE_TRAP,
            "UnexpectedLambdaException",
        ),
        (
            "hostile-garbage",
            plugins::HOSTILE_GARBAGE,
            "InvalidLambdaResponseException",
        ),
        (
            "hostile-huge-output",
            plugins::HOSTILE_HUGE_OUTPUT,
            "InvalidLambdaResponseException",
        ),
        (
            "hostile-missing-export",
            plugins::HOSTILE_MISSING_EXPORT,
            "UnexpectedLambdaException",
        ),
    ] {
        target
            .register_plugin(name, module.as_bytes())
            .await
            .unwrap_or_else(|r| panic!("{name}: {r}"));
        let client = pool_with(target, "hostile", lambda().pre_sign_up(name).build()).await;
        let e = service_error(
            sign_up(target, &client, &unique("h"), &unique_email("h")).await,
            name,
        );
        assert_eq!(e.code(), Some(expected), "{name}: {:?}", e.message());
        // The next request, to a well-behaved plugin, succeeds.
        let out = ok(
            sign_up(target, &good_client, &unique("n"), &unique_email("n")).await,
            "SignUp after a hostile plugin",
        );
        assert!(out.user_confirmed, "after {name}");
        let health = target
            .http()
            .get(format!("{}/health", target.base_url()))
            .send()
            .await
            .expect("the server is up");
        assert_eq!(health.status().as_u16(), 200, "after {name}");
    }
}
