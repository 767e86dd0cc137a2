//! Confirmation codes: single use, replaced by a resend, burnt by too many wrong guesses.
//!
//! Expiry (24 h for sign-up codes) is not tested here: a server cannot be moved through time
//! from outside, so the core's unit tests cover it with a fixed clock.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{DeliveryMediumType, UserStatusType};
use cognate_tests::{AppClient, PASSWORD, Target, ok, service_error, unique, unique_email};

/// Wrong guesses after which a code stops working, even the right one.
const ATTEMPT_LIMIT: usize = 5;

/// A code that is not `code`.
fn wrong_code(code: &str) -> String {
    if code == "000000" {
        "111111".to_owned()
    } else {
        "000000".to_owned()
    }
}

async fn confirm(
    target: &Target,
    client: &AppClient,
    username: &str,
    code: &str,
) -> Result<(), cognate_tests::cognito::operation::confirm_sign_up::ConfirmSignUpError> {
    match target
        .public_client()
        .confirm_sign_up()
        .client_id(&client.id)
        .username(username)
        .confirmation_code(code)
        .set_secret_hash(client.secret_hash(username))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => Err(service_error::<(), _, _>(Err(e), "ConfirmSignUp")),
    }
}

async fn status(target: &Target, pool_id: &str, username: &str) -> UserStatusType {
    let user = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await,
        "AdminGetUser",
    );
    user.user_status().cloned().expect("UserStatus")
}

/// Resends until the newest code differs from `old` (a fresh 6-digit code equals the old one
/// one time in a million); returns the new code.
async fn resend(target: &Target, client: &AppClient, username: &str, old: &str) -> String {
    for _ in 0..3 {
        let seen = target.codes(&client.pool_id, username).await.len();
        let output = ok(
            target
                .public_client()
                .resend_confirmation_code()
                .client_id(&client.id)
                .username(username)
                .send()
                .await,
            "ResendConfirmationCode",
        );
        let delivery = output.code_delivery_details().expect("CodeDeliveryDetails");
        assert_eq!(delivery.delivery_medium(), Some(&DeliveryMediumType::Email));
        assert_eq!(delivery.attribute_name(), Some("email"));
        let code = target.code_after(&client.pool_id, username, seen).await;
        if code != old {
            return code;
        }
    }
    panic!("ResendConfirmationCode kept sending the same code");
}

#[tokio::test]
async fn a_wrong_code_is_code_mismatch_and_the_right_one_still_works() {
    let target = Target::shared();
    let client = target.standard_setup("mismatch").await;
    let username = unique("sybil");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("sybil"))
        .await;
    let code = target.latest_code(&client.pool_id, &username).await;

    let err = confirm(target, &client, &username, &wrong_code(&code))
        .await
        .expect_err("wrong code");
    assert!(err.is_code_mismatch_exception(), "{err:?}");
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Unconfirmed
    );
    confirm(target, &client, &username, &code)
        .await
        .expect("the right code after one wrong guess");
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Confirmed
    );
}

#[tokio::test]
async fn a_used_code_cannot_confirm_again() {
    let target = Target::shared();
    let client = target.standard_setup("reuse").await;
    let username = unique("trent");
    let code = target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("trent"))
        .await;

    let err = confirm(target, &client, &username, &code)
        .await
        .expect_err("reused code");
    assert!(err.is_not_authorized_exception(), "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains("User cannot be confirmed. Current status is CONFIRMED"),
        "{message:?}"
    );
}

#[tokio::test]
async fn resend_confirmation_code_replaces_the_old_code() {
    let target = Target::shared();
    let client = target.standard_setup("resend").await;
    let username = unique("uma");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("uma"))
        .await;
    let old = target.latest_code(&client.pool_id, &username).await;
    let new = resend(target, &client, &username, &old).await;
    assert!(
        new.len() == 6 && new.chars().all(|c| c.is_ascii_digit()),
        "{new:?}"
    );

    let err = confirm(target, &client, &username, &old)
        .await
        .expect_err("the replaced code");
    assert!(err.is_code_mismatch_exception(), "{err:?}");
    confirm(target, &client, &username, &new)
        .await
        .expect("the new code");
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Confirmed
    );

    // Nothing to resend once confirmed.
    let err = service_error(
        target
            .public_client()
            .resend_confirmation_code()
            .client_id(&client.id)
            .username(&username)
            .send()
            .await,
        "ResendConfirmationCode for a confirmed user",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn too_many_wrong_codes_burn_the_code() {
    let target = Target::shared();
    let client = target.standard_setup("attempts").await;
    let username = unique("victor");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("victor"))
        .await;
    let code = target.latest_code(&client.pool_id, &username).await;

    for attempt in 1..=ATTEMPT_LIMIT {
        let err = confirm(target, &client, &username, &wrong_code(&code))
            .await
            .expect_err("wrong code");
        assert!(
            err.is_code_mismatch_exception()
                || err.is_limit_exceeded_exception()
                || err.is_too_many_failed_attempts_exception(),
            "wrong guess {attempt}: {err:?}"
        );
    }
    // The right code no longer works ...
    let err = confirm(target, &client, &username, &code)
        .await
        .expect_err("the right code after the attempt limit");
    assert!(
        err.is_code_mismatch_exception()
            || err.is_limit_exceeded_exception()
            || err.is_too_many_failed_attempts_exception()
            || err.is_expired_code_exception(),
        "{err:?}"
    );
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Unconfirmed
    );

    // ... but a fresh code does.
    let new = resend(target, &client, &username, &code).await;
    confirm(target, &client, &username, &new)
        .await
        .expect("a resent code after the limit");
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Confirmed
    );
}

#[tokio::test]
async fn admin_confirm_sign_up_confirms_without_a_code() {
    let target = Target::shared();
    let client = target.standard_setup("admin-confirm").await;
    let username = unique("walter");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("walter"))
        .await;

    ok(
        target
            .admin_client()
            .admin_confirm_sign_up()
            .user_pool_id(&client.pool_id)
            .username(&username)
            .send()
            .await,
        "AdminConfirmSignUp",
    );
    assert_eq!(
        status(target, &client.pool_id, &username).await,
        UserStatusType::Confirmed
    );
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    assert!(tokens.access_token().is_some());

    // A second confirmation is refused, as for ConfirmSignUp.
    let err = service_error(
        target
            .admin_client()
            .admin_confirm_sign_up()
            .user_pool_id(&client.pool_id)
            .username(&username)
            .send()
            .await,
        "AdminConfirmSignUp of a confirmed user",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    // And of a user that does not exist.
    let err = service_error(
        target
            .admin_client()
            .admin_confirm_sign_up()
            .user_pool_id(&client.pool_id)
            .username(unique("nobody"))
            .send()
            .await,
        "AdminConfirmSignUp of an unknown user",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");
}
