//! The administrator's user operations: AdminCreateUser and the NEW_PASSWORD_REQUIRED challenge,
//! deleting, disabling, setting and resetting passwords, attributes, global sign-out and the
//! auth event history.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::operation::admin_create_user::{
    AdminCreateUserError, AdminCreateUserOutput,
};
use cognate_tests::cognito::types::{
    AuthFlowType, ChallengeNameType, DeliveryMediumType, EventResponseType, MessageActionType,
    UserStatusType,
};
use cognate_tests::scenarios::{
    Sent, TEMPORARY_PASSWORD, admin_auth_events, admin_create_quietly, admin_create_user,
    admin_delete, admin_delete_attribute, admin_disable, admin_enable, admin_global_sign_out,
    admin_groups_page, admin_reset_password, admin_set_password, admin_update_attributes,
    admin_user, assert_access_token_refused, assert_access_token_revoked, assert_admin_attributes,
    assert_refresh_refused, assert_sign_in_refused, assert_user_not_found, confirm_forgot_password,
    confirmed_user, error_code, get_user, new_password_answer, password_client_in_pool,
    string_attribute, user_status, verified_claims,
};
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, attribute_value, ok, service_error, standard_pool,
    unique, unique_email,
};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "Brand-New-Pass-42";

/// AdminCreateUser with an email, sending the invitation by email (MessageAction unset).
async fn create_invited(
    target: &Target,
    pool_id: &str,
    username: &str,
    email: &str,
) -> AdminCreateUserOutput {
    ok(
        admin_create_user(target, pool_id, username, |b| {
            b.user_attributes(attribute("email", email))
                .desired_delivery_mediums(DeliveryMediumType::Email)
        })
        .await,
        "AdminCreateUser",
    )
}

/// AdminCreateUser RESEND: the invitation again, by email, with a new temporary password.
async fn resend_invitation(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminCreateUserOutput, AdminCreateUserError> {
    admin_create_user(target, pool_id, username, |b| {
        b.desired_delivery_mediums(DeliveryMediumType::Email)
            .message_action(MessageActionType::Resend)
    })
    .await
}

/// AdminCreateUser with a given temporary password, a verified unique email and no message.
async fn create_with_password(
    target: &Target,
    pool_id: &str,
    username: &str,
    temporary: &str,
) -> AdminCreateUserOutput {
    let email = unique_email("created");
    let attributes = [("email", email.as_str()), ("email_verified", "true")];
    admin_create_quietly(target, pool_id, username, temporary, &attributes).await
}

/// Signs in with a temporary password and answers NEW_PASSWORD_REQUIRED; returns the tokens.
async fn complete_new_password(
    target: &Target,
    client: &AppClient,
    username: &str,
    temporary: &str,
) -> cognate_tests::cognito::types::AuthenticationResultType {
    let auth = ok(
        target
            .password_auth(client, username, temporary)
            .send()
            .await,
        "InitiateAuth with the temporary password",
    );
    assert_eq!(
        auth.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );
    let session = auth.session().expect("Session");
    let answered = ok(
        new_password_answer(target, client, session, username, NEW_PASSWORD)
            .send()
            .await,
        "RespondToAuthChallenge NEW_PASSWORD_REQUIRED",
    );
    answered
        .authentication_result()
        .cloned()
        .expect("AuthenticationResult")
}

#[tokio::test]
async fn admin_create_user_sends_a_temporary_password_and_sign_in_asks_for_a_new_one() {
    let target = Target::shared();
    let client = target.standard_setup("create-user").await;
    let pool_id = client.pool_id.clone();
    let username = unique("invited");
    let email = unique_email("invited");

    let created = create_invited(target, &pool_id, &username, &email).await;
    let user = created.user().expect("User");
    assert!(user.username().unwrap().eq_ignore_ascii_case(&username));
    assert_eq!(
        user.user_status(),
        Some(&UserStatusType::ForceChangePassword)
    );
    assert!(user.enabled());
    assert_eq!(
        attribute_value(user.attributes(), "email"),
        Some(email.as_str())
    );
    assert!(attribute_value(user.attributes(), "sub").is_some());

    // The invitation carries the generated temporary password.
    let temporary = target.latest_code(&pool_id, &username).await;
    let messages = target.messages(&pool_id, &username).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].purpose, "AdminCreateUser");
    assert_eq!(messages[0].medium, "EMAIL");
    assert_eq!(messages[0].destination, email);
    assert!(messages[0].body.contains(&temporary), "{messages:?}");
    assert!(temporary.len() >= 8, "{temporary:?}");

    // Sign-in with it: the NEW_PASSWORD_REQUIRED challenge.
    let auth = ok(
        target
            .password_auth(&client, &username, &temporary)
            .send()
            .await,
        "InitiateAuth with the temporary password",
    );
    assert_eq!(
        auth.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );
    assert!(auth.authentication_result().is_none());
    let session = auth.session().expect("Session").to_owned();
    let parameters = auth.challenge_parameters().expect("ChallengeParameters");
    assert!(parameters.contains_key("USER_ID_FOR_SRP"), "{parameters:?}");
    let shown: Value =
        serde_json::from_str(parameters.get("userAttributes").expect("userAttributes")).unwrap();
    assert_eq!(shown["email"], json!(email), "{shown}");

    // A bad session is refused.
    let bad_session = "not-a-session-at-all-but-long-enough-to-look-like-one";
    let err = service_error(
        new_password_answer(target, &client, bad_session, &username, NEW_PASSWORD)
            .send()
            .await,
        "RespondToAuthChallenge with a bad session",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");

    // A new password breaking the policy is refused, and the session still works after.
    let err = service_error(
        new_password_answer(target, &client, &session, &username, "weak")
            .send()
            .await,
        "RespondToAuthChallenge with a weak password",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");

    let answered = ok(
        new_password_answer(target, &client, &session, &username, NEW_PASSWORD)
            .send()
            .await,
        "RespondToAuthChallenge NEW_PASSWORD_REQUIRED",
    );
    let result = answered.authentication_result().expect("tokens");
    verified_claims(target, &client, result).await;
    assert!(result.refresh_token().is_some());
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );

    // The session is used up; the new password signs in directly, the temporary one no more.
    let err = service_error(
        new_password_answer(target, &client, &session, &username, "Another-Pass-77")
            .send()
            .await,
        "RespondToAuthChallenge with a used session",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
    let what = "InitiateAuth with the old temporary password";
    assert_sign_in_refused(target, &client, &username, &temporary, what).await;
}

#[tokio::test]
async fn admin_create_user_message_actions_and_duplicates() {
    let target = Target::shared();
    let client = target.standard_setup("message-action").await;
    let pool_id = client.pool_id.clone();

    // SUPPRESS: nothing is sent.
    let quiet = unique("quiet");
    let quiet_email = unique_email("quiet");
    ok(
        admin_create_user(target, &pool_id, &quiet, |b| {
            b.user_attributes(attribute("email", &quiet_email))
                .desired_delivery_mediums(DeliveryMediumType::Email)
                .message_action(MessageActionType::Suppress)
        })
        .await,
        "AdminCreateUser SUPPRESS",
    );
    assert!(target.messages(&pool_id, &quiet).await.is_empty());
    assert!(target.messages(&pool_id, &quiet_email).await.is_empty());

    // RESEND: a new temporary password is sent; the first one no longer works.
    let username = unique("resend");
    create_invited(target, &pool_id, &username, &unique_email("resend")).await;
    let first = target.latest_code(&pool_id, &username).await;
    let resent = ok(
        resend_invitation(target, &pool_id, &username).await,
        "AdminCreateUser RESEND",
    );
    assert_eq!(
        resent.user().and_then(|u| u.user_status()),
        Some(&UserStatusType::ForceChangePassword)
    );
    let second = target.code_after(&pool_id, &username, 1).await;
    assert_ne!(first, second, "RESEND sends a new temporary password");
    let what = "InitiateAuth with the replaced temporary password";
    assert_sign_in_refused(target, &client, &username, &first, what).await;
    complete_new_password(target, &client, &username, &second).await;

    // RESEND for an unknown user.
    let err = service_error(
        admin_create_user(target, &pool_id, &unique("ghost"), |b| {
            b.message_action(MessageActionType::Resend)
        })
        .await,
        "AdminCreateUser RESEND of an unknown user",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");

    // A duplicate username.
    let err = service_error(
        admin_create_user(target, &pool_id, &username, |b| {
            b.message_action(MessageActionType::Suppress)
        })
        .await,
        "AdminCreateUser of an existing username",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");

    // A given temporary password that breaks the policy.
    let err = service_error(
        admin_create_user(target, &pool_id, &unique("weak"), |b| {
            b.temporary_password("weak")
                .message_action(MessageActionType::Suppress)
        })
        .await,
        "AdminCreateUser with a weak temporary password",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");

    // An unknown pool.
    let err = service_error(
        admin_create_user(target, "us-east-1_NoSuchPool", &unique("nobody"), |b| b).await,
        "AdminCreateUser in an unknown pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn a_given_temporary_password_works_once_and_admin_respond_to_auth_challenge_completes_it() {
    let target = Target::shared();
    let client = target.standard_setup("admin-challenge").await;
    let pool_id = client.pool_id.clone();
    let username = unique("given");
    let temporary = TEMPORARY_PASSWORD;
    let created = create_with_password(target, &pool_id, &username, temporary).await;
    assert_eq!(
        created.user().and_then(|u| u.user_status()),
        Some(&UserStatusType::ForceChangePassword)
    );
    assert!(target.messages(&pool_id, &username).await.is_empty());

    let admin = target.admin_client();
    let auth = ok(
        admin
            .admin_initiate_auth()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", temporary)
            .send()
            .await,
        "AdminInitiateAuth with the temporary password",
    );
    assert_eq!(
        auth.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );
    let answered = ok(
        admin
            .admin_respond_to_auth_challenge()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(auth.session().expect("Session"))
            .challenge_responses("USERNAME", &username)
            .challenge_responses("NEW_PASSWORD", NEW_PASSWORD)
            .send()
            .await,
        "AdminRespondToAuthChallenge NEW_PASSWORD_REQUIRED",
    );
    let result = answered.authentication_result().expect("tokens");
    let (claims, _) = verified_claims(target, &client, result).await;
    assert!(
        claims["cognito:username"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&username)
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
}

#[tokio::test]
async fn new_password_required_collects_missing_required_attributes() {
    let target = Target::shared();
    let client = password_client_in_pool(target, "required-attrs", |b| {
        standard_pool(b).schema(string_attribute("given_name", true, true))
    })
    .await;
    let pool_id = client.pool_id.clone();
    let username = unique("needs-name");
    let temporary = TEMPORARY_PASSWORD;

    // An administrator may leave a required attribute to the user (Cognito: "either you should
    // supply [it] in your call to AdminCreateUser or the user should supply [it]").
    admin_create_quietly(target, &pool_id, &username, temporary, &[]).await;
    let auth = ok(
        target
            .password_auth(&client, &username, temporary)
            .send()
            .await,
        "InitiateAuth",
    );
    assert_eq!(
        auth.challenge_name(),
        Some(&ChallengeNameType::NewPasswordRequired)
    );
    let session = auth.session().expect("Session").to_owned();
    let required: Vec<String> = serde_json::from_str(
        auth.challenge_parameters()
            .and_then(|p| p.get("requiredAttributes"))
            .expect("requiredAttributes"),
    )
    .unwrap();
    assert_eq!(required, vec!["userAttributes.given_name".to_owned()]);

    // Without it: refused, and the user still has to change the password.
    let answer = || new_password_answer(target, &client, &session, &username, NEW_PASSWORD);
    let err = service_error(
        answer().send().await,
        "RespondToAuthChallenge without the required attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::ForceChangePassword
    );
    // An attribute outside the schema is refused too.
    let err = service_error(
        answer()
            .challenge_responses("userAttributes.given_name", "Ada")
            .challenge_responses("userAttributes.custom:undeclared", "x")
            .send()
            .await,
        "RespondToAuthChallenge with an undeclared attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    // With it: tokens carrying it.
    let answered = ok(
        answer()
            .challenge_responses("userAttributes.given_name", "Ada")
            .send()
            .await,
        "RespondToAuthChallenge with userAttributes.given_name",
    );
    let result = answered.authentication_result().expect("tokens");
    let (claims, _) = verified_claims(target, &client, result).await;
    assert_eq!(claims["given_name"], json!("Ada"));
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );
}

#[tokio::test]
async fn admin_delete_user_removes_the_user_and_frees_the_username() {
    let target = Target::shared();
    let client = target.standard_setup("delete-user").await;
    let pool_id = client.pool_id.clone();
    let username = unique("doomed");
    let email = unique_email("doomed");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &email)
        .await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let access = tokens.access_token().unwrap();

    ok(
        admin_delete(target, &pool_id, &username).await,
        "AdminDeleteUser",
    );
    assert_user_not_found(
        target,
        &pool_id,
        &username,
        "AdminGetUser after AdminDeleteUser",
    )
    .await;
    assert_access_token_refused(target, access, "GetUser of a deleted user").await;
    let err = service_error(
        admin_delete(target, &pool_id, &username).await,
        "AdminDeleteUser twice",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");

    // The username (and the email) can be used again, by a new user with a new sub.
    target
        .sign_up_confirmed(&client, &username, "Second-Life-77", &email)
        .await;
    target
        .password_sign_in(&client, &username, "Second-Life-77")
        .await;
    let what = "GetUser with the deleted user's token after the username is reused";
    assert_access_token_refused(target, access, what).await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_use_tokens_or_refresh_until_enabled() {
    let target = Target::shared();
    let client = target.standard_setup("disable").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "disabled").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let (access, refresh) = (
        tokens.access_token().unwrap(),
        tokens.refresh_token().unwrap(),
    );

    ok(
        admin_disable(target, &pool_id, &username).await,
        "AdminDisableUser",
    );
    assert!(!admin_user(target, &pool_id, &username).await.enabled());

    let what = "InitiateAuth of a disabled user";
    let err = assert_sign_in_refused(target, &client, &username, PASSWORD, what).await;
    assert_eq!(err.message(), Some("User is disabled."));
    assert_access_token_refused(target, access, "GetUser of a disabled user").await;
    let what = "REFRESH_TOKEN_AUTH of a disabled user";
    assert_refresh_refused(target, &client, refresh, what).await;

    ok(
        admin_enable(target, &pool_id, &username).await,
        "AdminEnableUser",
    );
    // Enabled again: a new sign-in works; the tokens revoked by the disable stay revoked.
    let fresh = target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        get_user(target, fresh.access_token().unwrap()).await,
        "GetUser with a new token after AdminEnableUser",
    );
    let what = "GetUser with a token from before AdminDisableUser";
    assert_access_token_revoked(target, access, what).await;
    let what = "REFRESH_TOKEN_AUTH with a token from before AdminDisableUser";
    assert_refresh_refused(target, &client, refresh, what).await;
}

#[tokio::test]
async fn admin_set_user_password_permanent_or_temporary() {
    let target = Target::shared();
    let client = target.standard_setup("set-password").await;
    let pool_id = client.pool_id.clone();

    // Permanent on a FORCE_CHANGE_PASSWORD user: confirmed, signs in directly.
    let username = unique("perm");
    create_with_password(target, &pool_id, &username, TEMPORARY_PASSWORD).await;
    ok(
        admin_set_password(target, &pool_id, &username, "Permanent-Pass-9", true).await,
        "AdminSetUserPassword permanent",
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );
    target
        .password_sign_in(&client, &username, "Permanent-Pass-9")
        .await;

    // Temporary on a confirmed user: FORCE_CHANGE_PASSWORD and the challenge.
    let username = confirmed_user(target, &client, "temp").await;
    ok(
        admin_set_password(target, &pool_id, &username, "Temporary-Pass-2", false).await,
        "AdminSetUserPassword temporary",
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::ForceChangePassword
    );
    let what = "InitiateAuth with the old password";
    assert_sign_in_refused(target, &client, &username, PASSWORD, what).await;
    complete_new_password(target, &client, &username, "Temporary-Pass-2").await;
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;

    // A password breaking the policy.
    let err = service_error(
        admin_set_password(target, &pool_id, &username, "short", true).await,
        "AdminSetUserPassword with a weak password",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");
}

#[tokio::test]
async fn admin_reset_user_password_requires_a_reset_completed_with_the_code() {
    let target = Target::shared();
    let client = target.standard_setup("reset").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "reset").await;
    let seen = target.codes(&pool_id, &username).await.len();

    ok(
        admin_reset_password(target, &pool_id, &username).await,
        "AdminResetUserPassword",
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::ResetRequired
    );
    let err = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth after AdminResetUserPassword",
    );
    assert!(err.is_password_reset_required_exception(), "{err:?}");

    let code = target.code_after(&pool_id, &username, seen).await;
    let last = target.messages(&pool_id, &username).await;
    assert_eq!(last.last().unwrap().purpose, "ForgotPassword");
    ok(
        confirm_forgot_password(target, &client, &username, &code, NEW_PASSWORD).await,
        "ConfirmForgotPassword",
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
}

#[tokio::test]
async fn admin_update_and_delete_user_attributes_respect_the_schema() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("admin-attrs", |b| {
            standard_pool(b)
                .schema(string_attribute("employee", false, false))
                .schema(string_attribute("name", true, true))
        })
        .await;
    let username = unique("attrs");
    let email = unique_email("attrs");
    let attributes = [
        ("name", "Ada Lovelace"),
        ("email", email.as_str()),
        ("email_verified", "true"),
        ("custom:employee", "E-1"),
    ];
    admin_create_quietly(target, &pool_id, &username, TEMPORARY_PASSWORD, &attributes).await;

    ok(
        admin_update_attributes(
            target,
            &pool_id,
            &username,
            &[("given_name", "Ada"), ("custom:tier", "gold")],
        )
        .await,
        "AdminUpdateUserAttributes",
    );
    let expected = [("given_name", Some("Ada")), ("custom:tier", Some("gold"))];
    assert_admin_attributes(target, &pool_id, &username, &expected).await;

    // An immutable custom attribute cannot change.
    let err = service_error(
        admin_update_attributes(target, &pool_id, &username, &[("custom:employee", "E-2")]).await,
        "AdminUpdateUserAttributes of an immutable attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    // An attribute outside the schema.
    let err = service_error(
        admin_update_attributes(target, &pool_id, &username, &[("custom:undeclared", "x")]).await,
        "AdminUpdateUserAttributes of an undeclared attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    // Delete: an optional attribute goes; a required one cannot.
    ok(
        admin_delete_attribute(target, &pool_id, &username, "given_name").await,
        "AdminDeleteUserAttributes",
    );
    let err = service_error(
        admin_delete_attribute(target, &pool_id, &username, "name").await,
        "AdminDeleteUserAttributes of a required attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    let expected = [
        ("given_name", None),
        ("name", Some("Ada Lovelace")),
        ("custom:employee", Some("E-1")),
    ];
    assert_admin_attributes(target, &pool_id, &username, &expected).await;
}

#[tokio::test]
async fn admin_user_global_sign_out_revokes_every_token() {
    let target = Target::shared();
    let client = target.standard_setup("admin-signout").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "signout").await;
    let first = target.password_sign_in(&client, &username, PASSWORD).await;
    let second = target.password_sign_in(&client, &username, PASSWORD).await;

    ok(
        admin_global_sign_out(target, &pool_id, &username).await,
        "AdminUserGlobalSignOut",
    );
    for tokens in [&first, &second] {
        let what = "GetUser after AdminUserGlobalSignOut";
        assert_access_token_revoked(target, tokens.access_token().unwrap(), what).await;
        let what = "REFRESH_TOKEN_AUTH after AdminUserGlobalSignOut";
        assert_refresh_refused(target, &client, tokens.refresh_token().unwrap(), what).await;
    }
    // A new sign-in works.
    let fresh = target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        get_user(target, fresh.access_token().unwrap()).await,
        "GetUser after signing in again",
    );
}

#[tokio::test]
async fn admin_list_user_auth_events_lists_sign_ins_newest_first() {
    let target = Target::shared();
    let client = target.standard_setup("events").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "events").await;

    let none = ok(
        admin_auth_events(target, &pool_id, &username, None, None).await,
        "AdminListUserAuthEvents before any sign-in",
    );
    assert!(none.auth_events().is_empty(), "{none:?}");

    target.password_sign_in(&client, &username, PASSWORD).await;
    let what = "InitiateAuth with a wrong password";
    assert_sign_in_refused(target, &client, &username, "Wrong-Password-1", what).await;

    let listed = ok(
        admin_auth_events(target, &pool_id, &username, None, None).await,
        "AdminListUserAuthEvents",
    );
    let events = listed.auth_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].event_response(), Some(&EventResponseType::Fail));
    assert_eq!(events[1].event_response(), Some(&EventResponseType::Pass));
    for event in events {
        assert_eq!(event.event_type().map(|t| t.as_str()), Some("SignIn"));
        assert!(event.event_id().is_some_and(|id| !id.is_empty()));
        assert!(event.creation_date().is_some());
    }
    assert!(events[0].creation_date() >= events[1].creation_date());
    assert_ne!(events[0].event_id(), events[1].event_id());

    // MaxResults pages through them.
    let page = ok(
        admin_auth_events(target, &pool_id, &username, Some(1), None).await,
        "AdminListUserAuthEvents MaxResults 1",
    );
    assert_eq!(page.auth_events().len(), 1);
    assert_eq!(page.auth_events()[0].event_id(), events[0].event_id());
    let next = page.next_token().expect("NextToken").to_owned();
    let page = ok(
        admin_auth_events(target, &pool_id, &username, Some(1), Some(next)).await,
        "AdminListUserAuthEvents second page",
    );
    assert_eq!(page.auth_events().len(), 1);
    assert_eq!(page.auth_events()[0].event_id(), events[1].event_id());
}

#[tokio::test]
async fn admin_operations_on_an_unknown_user_are_user_not_found() {
    let target = Target::shared();
    let client = target.standard_setup("unknown-user").await;
    let pool_id = client.pool_id.as_str();
    let ghost = unique("ghost");

    let codes: Vec<(&str, Option<String>)> = vec![
        (
            "AdminDeleteUser",
            error_code(admin_delete(target, pool_id, &ghost).await),
        ),
        (
            "AdminDisableUser",
            error_code(admin_disable(target, pool_id, &ghost).await),
        ),
        (
            "AdminEnableUser",
            error_code(admin_enable(target, pool_id, &ghost).await),
        ),
        (
            "AdminSetUserPassword",
            error_code(admin_set_password(target, pool_id, &ghost, PASSWORD, true).await),
        ),
        (
            "AdminResetUserPassword",
            error_code(admin_reset_password(target, pool_id, &ghost).await),
        ),
        (
            "AdminUpdateUserAttributes",
            error_code(
                admin_update_attributes(target, pool_id, &ghost, &[("given_name", "x")]).await,
            ),
        ),
        (
            "AdminDeleteUserAttributes",
            error_code(admin_delete_attribute(target, pool_id, &ghost, "given_name").await),
        ),
        (
            "AdminUserGlobalSignOut",
            error_code(admin_global_sign_out(target, pool_id, &ghost).await),
        ),
        (
            "AdminListUserAuthEvents",
            error_code(admin_auth_events(target, pool_id, &ghost, None, None).await),
        ),
        (
            "AdminListGroupsForUser",
            error_code(admin_groups_page(target, pool_id, &ghost, None, None).await),
        ),
    ];
    for (operation, code) in &codes {
        assert_eq!(
            code.as_deref(),
            Some("UserNotFoundException"),
            "{operation}: {codes:?}"
        );
    }
}

#[tokio::test]
async fn unsigned_user_management_requests_are_refused() {
    let target = Target::shared();
    let client = target.standard_setup("unsigned-manage").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "victim").await;
    let user = json!({"UserPoolId": pool_id, "Username": username});
    let requests = [
        (
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": unique("intruder")}),
        ),
        ("AdminDeleteUser", user.clone()),
        ("AdminDisableUser", user.clone()),
        (
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": username, "Password": "Hijacked-Pass-1", "Permanent": true}),
        ),
        ("AdminResetUserPassword", user.clone()),
        ("AdminUserGlobalSignOut", user.clone()),
        ("AdminListUserAuthEvents", user.clone()),
        ("ListUsers", json!({"UserPoolId": pool_id})),
        (
            "CreateGroup",
            json!({"UserPoolId": pool_id, "GroupName": "intruders"}),
        ),
        ("ListGroups", json!({"UserPoolId": pool_id})),
        (
            "AddCustomAttributes",
            json!({"UserPoolId": pool_id, "CustomAttributes": [{"Name": "x", "AttributeDataType": "String"}]}),
        ),
    ];
    for (operation, body) in &requests {
        let response = target.call_raw(operation, body).await;
        assert_eq!(response.status, 400, "unsigned {operation}: {response}");
        let error = response.error_type().unwrap_or_default();
        assert!(
            [
                "MissingAuthenticationTokenException",
                "UnrecognizedClientException",
                "InvalidSignatureException"
            ]
            .contains(&error.as_str()),
            "unsigned {operation}: {response}"
        );
    }
    // Nothing happened: the user is enabled, the password unchanged.
    target.password_sign_in(&client, &username, PASSWORD).await;

    // Signed with an unknown key.
    let err = service_error(
        target
            .unknown_key_client()
            .admin_delete_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .send()
            .await,
        "AdminDeleteUser with an unknown key",
    );
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    target.password_sign_in(&client, &username, PASSWORD).await;
}

#[tokio::test]
async fn resend_to_a_confirmed_user_is_an_unsupported_state() {
    let target = Target::shared();
    let client = target.standard_setup("resend-confirmed").await;
    let username = confirmed_user(target, &client, "settled").await;
    let err = service_error(
        resend_invitation(target, &client.pool_id, &username).await,
        "AdminCreateUser RESEND to a confirmed user",
    );
    assert!(err.is_unsupported_user_state_exception(), "{err:?}");
    target.password_sign_in(&client, &username, PASSWORD).await;
}

#[tokio::test]
async fn admin_set_user_password_lifts_a_lockout() {
    let target = Target::shared();
    let client = target.standard_setup("unlock").await;
    let username = confirmed_user(target, &client, "unlock").await;
    for _ in 0..6 {
        let what = "InitiateAuth with a wrong password";
        assert_sign_in_refused(target, &client, &username, "Wrong-Password-1", what).await;
    }
    ok(
        admin_set_password(target, &client.pool_id, &username, NEW_PASSWORD, true).await,
        "AdminSetUserPassword",
    );
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
}

#[tokio::test]
async fn an_admin_set_verified_email_needs_no_code() {
    let target = Target::shared();
    let client = target.standard_setup("admin-verified").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "verified").await;
    let before = target.messages(&pool_id, &username).await.len();
    let new_email = unique_email("v-new");
    ok(
        admin_update_attributes(
            target,
            &pool_id,
            &username,
            &[("email", &new_email), ("email_verified", "true")],
        )
        .await,
        "AdminUpdateUserAttributes email + email_verified",
    );
    let expected = [
        ("email", Some(new_email.as_str())),
        ("email_verified", Some("true")),
    ];
    assert_admin_attributes(target, &pool_id, &username, &expected).await;
    assert_eq!(target.messages(&pool_id, &username).await.len(), before);

    // Without email_verified, an administrator's change is unverified and a code is sent.
    let third = unique_email("v-third");
    ok(
        admin_update_attributes(target, &pool_id, &username, &[("email", &third)]).await,
        "AdminUpdateUserAttributes email",
    );
    let code_message = target.messages(&pool_id, &third).await;
    assert_eq!(code_message.len(), 1, "{code_message:?}");
    assert_eq!(code_message[0].purpose, "VerifyUserAttribute");
}

#[tokio::test]
async fn email_username_pools_create_users_by_email() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("email-usernames", |b| {
            standard_pool(b)
                .username_attributes(cognate_tests::cognito::types::UsernameAttributeType::Email)
        })
        .await;
    let client = target.create_password_client(&pool_id).await;
    let email = unique_email("by-email");
    let created = ok(
        admin_create_user(target, &pool_id, &email, |b| {
            b.user_attributes(attribute("email_verified", "true"))
                .desired_delivery_mediums(DeliveryMediumType::Email)
        })
        .await,
        "AdminCreateUser by email",
    );
    let username = created.user().unwrap().username().unwrap().to_owned();
    assert_ne!(username, email, "the username is generated (the sub)");
    assert_eq!(
        attribute_value(created.user().unwrap().attributes(), "email"),
        Some(email.as_str())
    );
    let temporary = target.latest_code(&pool_id, &email).await;
    complete_new_password(target, &client, &email, &temporary).await;
    target.password_sign_in(&client, &email, NEW_PASSWORD).await;

    // The same email again.
    let err = service_error(
        admin_create_user(target, &pool_id, &email, |b| {
            b.message_action(MessageActionType::Suppress)
        })
        .await,
        "AdminCreateUser of an existing email",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");
    // Admin operations accept the email as the username.
    ok(
        admin_disable(target, &pool_id, &email).await,
        "AdminDisableUser by email",
    );
    let what = "InitiateAuth of the disabled user";
    let err = assert_sign_in_refused(target, &client, &email, NEW_PASSWORD, what).await;
    assert_eq!(err.message(), Some("User is disabled."));
}
