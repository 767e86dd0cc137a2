//! What a signed-in user does to their own account: attributes and their verification, password
//! changes and recovery, deleting the account, signing out everywhere, and the lockout after
//! repeated wrong passwords.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use cognate_tests::cognito::types::{
    DeliveryMediumType, PreventUserExistenceErrorTypes, UserAttributeUpdateSettingsType,
    VerifiedAttributeType,
};
use cognate_tests::scenarios::{
    admin_attribute, admin_update_attributes, assert_access_token_refused,
    assert_access_token_revoked, assert_refresh_refused, assert_sign_in_refused,
    assert_user_not_found, change_password, confirm_forgot_password, confirmed_user,
    forgot_password, get_user, password_client_in_pool, request_email_code, string_attribute,
    update_own_attributes, verify_email, wrong_code,
};
use cognate_tests::{
    AppClient, PASSWORD, Target, ok, password_flows, service_error, standard_pool, unique,
    unique_email,
};

const NEW_PASSWORD: &str = "Brand-New-Pass-42";
const INCORRECT: &str = "Incorrect username or password.";

/// A confirmed, signed-in user: (username, email, access token, refresh token).
async fn signed_in(
    target: &Target,
    client: &AppClient,
    prefix: &str,
) -> (String, String, String, String) {
    let username = unique(prefix);
    let email = unique_email(prefix);
    target
        .sign_up_confirmed(client, &username, PASSWORD, &email)
        .await;
    let tokens = target.password_sign_in(client, &username, PASSWORD).await;
    (
        username,
        email,
        tokens.access_token().unwrap().to_owned(),
        tokens.refresh_token().unwrap().to_owned(),
    )
}

async fn own_attributes(target: &Target, access_token: &str) -> Vec<(String, String)> {
    let user = ok(get_user(target, access_token).await, "GetUser");
    user.user_attributes()
        .iter()
        .map(|a| {
            (
                a.name().to_owned(),
                a.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The standard pool, where a new email takes effect only once verified.
fn verify_email_before_update(builder: CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder {
    standard_pool(builder).user_attribute_update_settings(
        UserAttributeUpdateSettingsType::builder()
            .attributes_require_verification_before_update(VerifiedAttributeType::Email)
            .build(),
    )
}

fn value<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn changing_the_email_unverifies_it_and_sends_a_code_that_verifies_it() {
    let target = Target::shared();
    let client = target.standard_setup("update-email").await;
    let pool_id = client.pool_id.clone();
    let (username, _, access, _) = signed_in(target, &client, "mover").await;
    let seen = target.codes(&pool_id, &username).await.len();

    let new_email = unique_email("moved");
    let updated = ok(
        update_own_attributes(
            target,
            &access,
            &[("email", &new_email), ("given_name", "Mover")],
        )
        .await,
        "UpdateUserAttributes",
    );
    let details = updated.code_delivery_details_list();
    assert_eq!(details.len(), 1, "{details:?}");
    assert_eq!(details[0].attribute_name(), Some("email"));
    assert_eq!(
        details[0].delivery_medium(),
        Some(&DeliveryMediumType::Email)
    );
    assert_ne!(details[0].destination(), Some(new_email.as_str()), "masked");

    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "email"), Some(new_email.as_str()));
    assert_eq!(value(&attributes, "email_verified"), Some("false"));
    assert_eq!(value(&attributes, "given_name"), Some("Mover"));

    let code = target.code_after(&pool_id, &username, seen).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(message.purpose, "VerifyUserAttribute");
    assert_eq!(message.destination, new_email);

    // A wrong code, then the right one.
    let wrong = wrong_code(&code);
    let err = service_error(
        verify_email(target, &access, wrong).await,
        "VerifyUserAttribute with a wrong code",
    );
    assert!(err.is_code_mismatch_exception(), "{err:?}");
    ok(
        verify_email(target, &access, &code).await,
        "VerifyUserAttribute",
    );
    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "email"), Some(new_email.as_str()));
    assert_eq!(value(&attributes, "email_verified"), Some("true"));

    // A user cannot mark their own email verified.
    let err = service_error(
        update_own_attributes(target, &access, &[("email_verified", "true")]).await,
        "UpdateUserAttributes of email_verified",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    // Nor write an attribute outside the schema.
    let err = service_error(
        update_own_attributes(target, &access, &[("custom:undeclared", "x")]).await,
        "UpdateUserAttributes of an undeclared attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn an_email_requiring_verification_before_update_keeps_the_old_value_until_verified() {
    let target = Target::shared();
    let client =
        password_client_in_pool(target, "verify-before-update", verify_email_before_update).await;
    let pool_id = client.pool_id.clone();
    let (username, old_email, access, _) = signed_in(target, &client, "careful").await;
    let seen = target.codes(&pool_id, &username).await.len();

    let new_email = unique_email("careful-new");
    let updated = ok(
        update_own_attributes(target, &access, &[("email", &new_email)]).await,
        "UpdateUserAttributes",
    );
    assert_eq!(updated.code_delivery_details_list().len(), 1);
    target.code_after(&pool_id, &username, seen).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(
        message.destination, new_email,
        "the code goes to the new address"
    );

    // Until verified, the old verified address stays.
    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "email"), Some(old_email.as_str()));
    assert_eq!(value(&attributes, "email_verified"), Some("true"));
    assert_eq!(
        admin_attribute(target, &pool_id, &username, "email").await,
        Some(old_email)
    );

    // GetUserAttributeVerificationCode sends another code, to the new address; it works.
    let requested = ok(
        request_email_code(target, &access).await,
        "GetUserAttributeVerificationCode",
    );
    let details = requested
        .code_delivery_details()
        .expect("CodeDeliveryDetails");
    assert_eq!(details.attribute_name(), Some("email"));
    let second = target.code_after(&pool_id, &username, seen + 1).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(message.destination, new_email);
    assert_eq!(message.purpose, "VerifyUserAttribute");

    ok(
        verify_email(target, &access, &second).await,
        "VerifyUserAttribute",
    );
    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "email"), Some(new_email.as_str()));
    assert_eq!(value(&attributes, "email_verified"), Some("true"));
}

#[tokio::test]
async fn get_user_attribute_verification_code_verifies_an_unverified_email() {
    let target = Target::shared();
    let client = target.standard_setup("verify-code").await;
    let pool_id = client.pool_id.clone();
    let (username, email, access, _) = signed_in(target, &client, "verifier").await;
    ok(
        admin_update_attributes(target, &pool_id, &username, &[("email_verified", "false")]).await,
        "AdminUpdateUserAttributes email_verified=false",
    );
    let seen = target.codes(&pool_id, &username).await.len();
    let requested = ok(
        request_email_code(target, &access).await,
        "GetUserAttributeVerificationCode",
    );
    assert_eq!(
        requested
            .code_delivery_details()
            .and_then(|d| d.delivery_medium()),
        Some(&DeliveryMediumType::Email)
    );
    let code = target.code_after(&pool_id, &username, seen).await;
    assert_eq!(
        target
            .messages(&pool_id, &username)
            .await
            .pop()
            .unwrap()
            .destination,
        email
    );
    ok(
        verify_email(target, &access, &code).await,
        "VerifyUserAttribute",
    );
    assert_eq!(
        value(&own_attributes(target, &access).await, "email_verified"),
        Some("true")
    );
    // The code was used up.
    let err = service_error(
        verify_email(target, &access, &code).await,
        "VerifyUserAttribute with a used code",
    );
    assert!(
        err.is_code_mismatch_exception() || err.is_expired_code_exception(),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_user_attributes_removes_optional_attributes_only() {
    let target = Target::shared();
    let client = password_client_in_pool(target, "delete-attrs", |b| {
        standard_pool(b).schema(string_attribute("email", true, true))
    })
    .await;
    let (_, email, access, _) = signed_in(target, &client, "pruner").await;
    let public = target.public_client();
    ok(
        update_own_attributes(
            target,
            &access,
            &[("nickname", "nick"), ("custom:tier", "gold")],
        )
        .await,
        "UpdateUserAttributes",
    );
    ok(
        public
            .delete_user_attributes()
            .access_token(&access)
            .user_attribute_names("nickname")
            .user_attribute_names("custom:tier")
            .send()
            .await,
        "DeleteUserAttributes",
    );
    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "nickname"), None);
    assert_eq!(value(&attributes, "custom:tier"), None);

    let err = service_error(
        public
            .delete_user_attributes()
            .access_token(&access)
            .user_attribute_names("email")
            .send()
            .await,
        "DeleteUserAttributes of a required attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert_eq!(
        value(&own_attributes(target, &access).await, "email"),
        Some(email.as_str())
    );
}

#[tokio::test]
async fn change_password_checks_the_previous_password_and_the_policy() {
    let target = Target::shared();
    let client = target.standard_setup("change-password").await;
    let (username, _, access, _) = signed_in(target, &client, "changer").await;

    let err = service_error(
        change_password(target, &access, "Not-The-Password-1", NEW_PASSWORD).await,
        "ChangePassword with a wrong previous password",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    let err = service_error(
        change_password(target, &access, PASSWORD, "nouppercase-1!").await,
        "ChangePassword to a password breaking the policy",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");
    let err = service_error(
        change_password(target, "not-a-token", PASSWORD, NEW_PASSWORD).await,
        "ChangePassword with a bad access token",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");

    ok(
        change_password(target, &access, PASSWORD, NEW_PASSWORD).await,
        "ChangePassword",
    );
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
    let what = "InitiateAuth with the old password";
    let err = assert_sign_in_refused(target, &client, &username, PASSWORD, what).await;
    assert_eq!(err.message(), Some(INCORRECT));
}

#[tokio::test]
async fn forgot_password_sends_a_code_that_sets_a_new_password() {
    let target = Target::shared();
    let client = target.standard_setup("forgot").await;
    let pool_id = client.pool_id.clone();
    let username = unique("forgetful");
    let email = unique_email("forgetful");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &email)
        .await;
    let seen = target.codes(&pool_id, &username).await.len();

    let sent = ok(
        forgot_password(target, &client.id, &username).await,
        "ForgotPassword",
    );
    let details = sent.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(details.attribute_name(), Some("email"));
    let code = target.code_after(&pool_id, &username, seen).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(message.purpose, "ForgotPassword");
    assert_eq!(message.destination, email);

    let wrong = wrong_code(&code);
    let err = service_error(
        confirm_forgot_password(target, &client, &username, wrong, NEW_PASSWORD).await,
        "ConfirmForgotPassword with a wrong code",
    );
    assert!(err.is_code_mismatch_exception(), "{err:?}");
    let err = service_error(
        confirm_forgot_password(target, &client, &username, &code, "weak").await,
        "ConfirmForgotPassword with a weak password",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");
    // The old password still works until the reset is confirmed.
    target.password_sign_in(&client, &username, PASSWORD).await;

    ok(
        confirm_forgot_password(target, &client, &username, &code, NEW_PASSWORD).await,
        "ConfirmForgotPassword",
    );
    target
        .password_sign_in(&client, &username, NEW_PASSWORD)
        .await;
    let what = "InitiateAuth with the old password";
    assert_sign_in_refused(target, &client, &username, PASSWORD, what).await;
    // The code works once.
    let err = service_error(
        confirm_forgot_password(target, &client, &username, &code, "Third-Password-3").await,
        "ConfirmForgotPassword with a used code",
    );
    assert!(
        err.is_code_mismatch_exception() || err.is_expired_code_exception(),
        "{err:?}"
    );
}

#[tokio::test]
async fn forgot_password_for_an_unknown_user_depends_on_prevent_user_existence_errors() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("forgot-unknown").await;
    let enabled = target.create_password_client(&pool_id).await;
    let legacy = target
        .create_client(&pool_id, |b| {
            password_flows(b).prevent_user_existence_errors(PreventUserExistenceErrorTypes::Legacy)
        })
        .await;
    let ghost = unique("ghost");

    // ENABLED (the default for new clients): an answer shaped like success, nothing sent.
    let answered = ok(
        forgot_password(target, &enabled.id, &ghost).await,
        "ForgotPassword for an unknown user (ENABLED)",
    );
    let details = answered
        .code_delivery_details()
        .expect("CodeDeliveryDetails");
    assert!(details.delivery_medium().is_some(), "{details:?}");
    assert!(
        details.destination().is_some_and(|d| !d.is_empty()),
        "{details:?}"
    );
    assert!(target.messages(&pool_id, &ghost).await.is_empty());

    // LEGACY: the user's absence is revealed.
    let err = service_error(
        forgot_password(target, &legacy.id, &ghost).await,
        "ForgotPassword for an unknown user (LEGACY)",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");

    // And sign-in of an unknown user on the LEGACY client.
    let err = service_error(
        target.password_auth(&legacy, &ghost, PASSWORD).send().await,
        "InitiateAuth of an unknown user (LEGACY)",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn delete_user_deletes_the_signed_in_user() {
    let target = Target::shared();
    let client = target.standard_setup("delete-self").await;
    let pool_id = client.pool_id.clone();
    let (username, _, access, refresh) = signed_in(target, &client, "leaver").await;
    let public = target.public_client();

    ok(
        public.delete_user().access_token(&access).send().await,
        "DeleteUser",
    );
    assert_user_not_found(target, &pool_id, &username, "AdminGetUser after DeleteUser").await;
    assert_access_token_refused(target, &access, "GetUser after DeleteUser").await;
    assert_refresh_refused(
        target,
        &client,
        &refresh,
        "REFRESH_TOKEN_AUTH after DeleteUser",
    )
    .await;
    let err = service_error(
        public.delete_user().access_token(&access).send().await,
        "DeleteUser twice",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

#[tokio::test]
async fn global_sign_out_revokes_the_users_tokens() {
    let target = Target::shared();
    let client = target.standard_setup("global-signout").await;
    let (username, _, access, refresh) = signed_in(target, &client, "everywhere").await;
    let other = target.password_sign_in(&client, &username, PASSWORD).await;
    let public = target.public_client();

    ok(
        public.global_sign_out().access_token(&access).send().await,
        "GlobalSignOut",
    );
    for token in [access.as_str(), other.access_token().unwrap()] {
        assert_access_token_revoked(target, token, "GetUser after GlobalSignOut").await;
    }
    for token in [refresh.as_str(), other.refresh_token().unwrap()] {
        assert_refresh_refused(
            target,
            &client,
            token,
            "REFRESH_TOKEN_AUTH after GlobalSignOut",
        )
        .await;
    }
    // Token-authorised operations are refused too.
    let err = service_error(
        update_own_attributes(target, &access, &[("given_name", "x")]).await,
        "UpdateUserAttributes after GlobalSignOut",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    let err = service_error(
        public.global_sign_out().access_token(&access).send().await,
        "GlobalSignOut with a revoked token",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");

    let fresh = target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        get_user(target, fresh.access_token().unwrap()).await,
        "GetUser after signing in again",
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account() {
    let target = Target::shared();
    let client = target.standard_setup("lockout").await;
    let username = confirmed_user(target, &client, "locked").await;
    let wrong = "Wrong-Password-1";

    for attempt in 1..=5 {
        let what = format!("InitiateAuth with a wrong password, attempt {attempt}");
        let err = assert_sign_in_refused(target, &client, &username, wrong, &what).await;
        assert_eq!(err.message(), Some(INCORRECT), "attempt {attempt}");
    }
    // The fifth failure locks the account for a second, each later one for twice as long. This
    // test cannot hold the server's clock, so it does not assume the next request arrives within
    // the first lock: it keeps failing until a request lands inside a lock, which the doubling
    // guarantees within a few attempts on any machine. (The in-process scenarios check, with a
    // test clock, that the right password is refused while locked and the lock's expiry.)
    let mut locked_at = None;
    for attempt in 6..=20 {
        let what = "InitiateAuth after five failures";
        let err = assert_sign_in_refused(target, &client, &username, wrong, what).await;
        if err.message() == Some("Password attempts exceeded") {
            locked_at = Some(attempt);
            break;
        }
        assert_eq!(err.message(), Some(INCORRECT), "attempt {attempt}");
    }
    assert!(locked_at.is_some(), "the account never locked");

    // Another user of the pool is not affected.
    let other = confirmed_user(target, &client, "unlocked").await;
    target.password_sign_in(&client, &other, PASSWORD).await;
}

#[tokio::test]
async fn forgot_password_needs_a_verified_contact() {
    let target = Target::shared();
    let client = target.standard_setup("forgot-unverified").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "unverified").await;
    ok(
        admin_update_attributes(target, &pool_id, &username, &[("email_verified", "false")]).await,
        "AdminUpdateUserAttributes email_verified=false",
    );
    let seen = target.messages(&pool_id, &username).await.len();
    let err = service_error(
        forgot_password(target, &client.id, &username).await,
        "ForgotPassword without a verified contact",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    assert_eq!(target.messages(&pool_id, &username).await.len(), seen);
}

#[tokio::test]
async fn an_unverified_email_changes_at_once_even_when_verification_comes_first() {
    let target = Target::shared();
    let client = password_client_in_pool(
        target,
        "verify-first-unverified",
        verify_email_before_update,
    )
    .await;
    let pool_id = client.pool_id.clone();
    let (username, _, access, _) = signed_in(target, &client, "loose").await;
    ok(
        admin_update_attributes(target, &pool_id, &username, &[("email_verified", "false")]).await,
        "AdminUpdateUserAttributes email_verified=false",
    );
    let new_email = unique_email("loose-new");
    ok(
        update_own_attributes(target, &access, &[("email", &new_email)]).await,
        "UpdateUserAttributes",
    );
    let attributes = own_attributes(target, &access).await;
    assert_eq!(value(&attributes, "email"), Some(new_email.as_str()));
    assert_eq!(value(&attributes, "email_verified"), Some("false"));
}
