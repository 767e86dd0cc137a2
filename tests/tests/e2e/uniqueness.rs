//! Usernames and verified aliases name exactly one user.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{
    AliasAttributeType, UserStatusType, UsernameAttributeType, UsernameConfigurationType,
};
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, ok, service_error, standard_pool, unique, unique_email,
};
use serde_json::Value;

async fn id_claims(
    target: &Target,
    client: &AppClient,
    username: &str,
    password: &str,
) -> serde_json::Map<String, Value> {
    let tokens = target.password_sign_in(client, username, password).await;
    target
        .jwks(&client.pool_id)
        .await
        .verify_id_token(tokens.id_token().expect("IdToken"), &client.id)
        .expect("ID token verifies")
}

#[tokio::test]
async fn signing_up_an_existing_username_is_username_exists() {
    let target = Target::shared();
    let client = target.standard_setup("dup").await;
    let username = unique("kim");
    // Taken while unconfirmed ...
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("kim"))
        .await;
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(&username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &unique_email("kim2")))
            .send()
            .await,
        "SignUp of an unconfirmed user's username",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");

    // ... and once confirmed.
    let confirmed = unique("lee");
    target
        .sign_up_confirmed(&client, &confirmed, PASSWORD, &unique_email("lee"))
        .await;
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(&confirmed)
            .password(PASSWORD)
            .send()
            .await,
        "SignUp of a confirmed user's username",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");
    // The first user keeps its password.
    target.password_sign_in(&client, &confirmed, PASSWORD).await;
}

#[tokio::test]
async fn usernames_are_case_insensitive_by_default() {
    // Cognate's default for pools created without UsernameConfiguration (Cognito's console and
    // recommended setting): "Alice" and "alice" are one user.
    let target = Target::shared();
    let client = target.standard_setup("case").await;
    let base = unique("mallory");
    let mixed = format!("Mx{base}");
    target
        .sign_up_confirmed(&client, &mixed, PASSWORD, &unique_email("m"))
        .await;

    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(mixed.to_lowercase())
            .password(PASSWORD)
            .send()
            .await,
        "SignUp of a username differing only in case",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");

    // Sign-in and lookups find the user whatever the case.
    let claims = id_claims(target, &client, &mixed.to_uppercase(), PASSWORD).await;
    let token_username = claims["cognito:username"]
        .as_str()
        .expect("cognito:username");
    assert!(
        token_username.eq_ignore_ascii_case(&mixed),
        "{token_username}"
    );
    let user = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&client.pool_id)
            .username(mixed.to_lowercase())
            .send()
            .await,
        "AdminGetUser in another case",
    );
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
}

#[tokio::test]
async fn case_sensitive_pools_keep_usernames_differing_in_case_apart() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("case-sensitive", |b| {
            standard_pool(b).username_configuration(
                UsernameConfigurationType::builder()
                    .case_sensitive(true)
                    .build()
                    .expect("UsernameConfiguration"),
            )
        })
        .await;
    let client = target.create_password_client(&pool_id).await;
    let base = unique("niaj");
    let upper = format!("N{base}");
    let lower = upper.to_lowercase();
    target
        .sign_up_confirmed(&client, &upper, PASSWORD, &unique_email("n1"))
        .await;
    target
        .sign_up_confirmed(&client, &lower, "Other-Password-2", &unique_email("n2"))
        .await;

    let upper_sub = id_claims(target, &client, &upper, PASSWORD).await["sub"].clone();
    let lower_sub = id_claims(target, &client, &lower, "Other-Password-2").await["sub"].clone();
    assert_ne!(upper_sub, lower_sub);
    let err = service_error(
        target
            .password_auth(&client, &upper, "Other-Password-2")
            .send()
            .await,
        "the other user's password",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_sign_ups_of_one_username_create_exactly_one_user() {
    let target = Target::shared();
    let client = target.standard_setup("race").await;
    let username = unique("olivia");
    let public = target.public_client();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let public = public.clone();
        let client_id = client.id.clone();
        let username = username.clone();
        tasks.push(tokio::spawn(async move {
            public
                .sign_up()
                .client_id(client_id)
                .username(username)
                .password(format!("{PASSWORD}-{i}"))
                .user_attributes(attribute("email", &unique_email("race")))
                .send()
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("sign-up task") {
            Ok(_) => winners += 1,
            Err(e) => {
                let code = e.code().map(str::to_owned);
                assert_eq!(
                    code.as_deref(),
                    Some("UsernameExistsException"),
                    "{}",
                    cognate_tests::describe(&e)
                );
            }
        }
    }
    assert_eq!(
        winners, 1,
        "exactly one concurrent SignUp of a username succeeds"
    );
}

#[tokio::test]
async fn a_verified_email_alias_belongs_to_one_user() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("alias", |b| {
            standard_pool(b).alias_attributes(AliasAttributeType::Email)
        })
        .await;
    let client = target.create_password_client(&pool_id).await;
    let email = unique_email("shared");
    let first = unique("peggy");
    let second = unique("quinn");

    // The first user verifies the address (confirming verifies the auto-verified email).
    target
        .sign_up_confirmed(&client, &first, PASSWORD, &email)
        .await;
    // An unverified address is no alias yet: the second user may sign up with it ...
    target
        .sign_up(&client, &second, "Second-Password-2", &email)
        .await;
    let code = target.latest_code(&pool_id, &second).await;
    // ... but not verify it while the first user holds it.
    let err = service_error(
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&second)
            .confirmation_code(&code)
            .send()
            .await,
        "ConfirmSignUp verifying an email that is another user's alias",
    );
    assert!(err.is_alias_exists_exception(), "{err:?}");
    let user = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&second)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(user.user_status(), Some(&UserStatusType::Unconfirmed));

    // Signing in with the email resolves to the user holding the verified alias.
    let claims = id_claims(target, &client, &email, PASSWORD).await;
    let token_username = claims["cognito:username"]
        .as_str()
        .expect("cognito:username");
    assert!(
        token_username.eq_ignore_ascii_case(&first),
        "{token_username} is not {first}"
    );
    let err = service_error(
        target
            .password_auth(&client, &email, "Second-Password-2")
            .send()
            .await,
        "the second user's password with the first user's alias",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

#[tokio::test]
async fn email_as_username_signs_in_by_email_and_refuses_a_second_account() {
    let target = Target::shared();
    let pool_id = target
        .create_pool("email-username", |b| {
            standard_pool(b).username_attributes(UsernameAttributeType::Email)
        })
        .await;
    let client = target.create_password_client(&pool_id).await;
    let email = unique_email("rupert");

    let signed_up = target.sign_up(&client, &email, PASSWORD, &email).await;
    let code = target.latest_code(&pool_id, &email).await;
    ok(
        target
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&email)
            .confirmation_code(&code)
            .send()
            .await,
        "ConfirmSignUp by email",
    );
    let claims = id_claims(target, &client, &email, PASSWORD).await;
    assert_eq!(claims["email"], email.as_str());
    assert_eq!(claims["sub"], signed_up.user_sub());
    // The email is the sign-in name, not the stored username.
    let token_username = claims["cognito:username"]
        .as_str()
        .expect("cognito:username");
    assert_ne!(token_username, email);
    // Case does not matter in an email.
    id_claims(target, &client, &email.to_uppercase(), PASSWORD).await;

    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(&email)
            .password("Another-Password-3")
            .user_attributes(attribute("email", &email))
            .send()
            .await,
        "a second SignUp with the same email",
    );
    assert!(err.is_username_exists_exception(), "{err:?}");

    // A username that is not an email is refused in such a pool.
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(unique("not-an-email"))
            .password(PASSWORD)
            .send()
            .await,
        "SignUp with a non-email username in an email-username pool",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}
