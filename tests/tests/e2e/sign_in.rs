//! Sign-up → confirm → sign-in → refresh → GetUser, the tokens verified as a relying party
//! would, and the ways sign-in is refused.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{
    AuthFlowType, DeliveryMediumType, ExplicitAuthFlowsType, UserStatusType,
};
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, attribute_value, ok, service_error, unique,
    unique_email,
};
use serde_json::{Map, Value};

const SCOPE: &str = "aws.cognito.signin.user.admin";
const INCORRECT: &str = "Incorrect username or password.";

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> &'a str {
    claims
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("claim {name} missing or not a string in {claims:?}"))
}

fn number_claim(claims: &Map<String, Value>, name: &str) -> u64 {
    claims
        .get(name)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("claim {name} missing or not a number in {claims:?}"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_confirm_sign_in_refresh_and_get_user() {
    let target = Target::shared();
    let client = target.standard_setup("path").await;
    let pool_id = client.pool_id.clone();
    let public = target.public_client();
    let username = unique("alice");
    let email = unique_email("alice");

    // SignUp: unconfirmed, a code sent by email.
    let signed_up = ok(
        public
            .sign_up()
            .client_id(&client.id)
            .username(&username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &email))
            .user_attributes(attribute("custom:tier", "gold"))
            .send()
            .await,
        "SignUp",
    );
    assert!(!signed_up.user_confirmed());
    let user_sub = signed_up.user_sub().to_owned();
    assert_eq!(user_sub.len(), 36, "sub is a UUID: {user_sub}");
    let delivery = signed_up
        .code_delivery_details()
        .expect("CodeDeliveryDetails");
    assert_eq!(delivery.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(delivery.attribute_name(), Some("email"));
    let destination = delivery.destination().expect("Destination");
    assert!(!destination.is_empty());
    assert_ne!(
        destination, email,
        "the destination is masked, as Cognito does"
    );

    let status = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .send()
            .await,
        "AdminGetUser before confirmation",
    );
    assert_eq!(status.user_status(), Some(&UserStatusType::Unconfirmed));

    // ConfirmSignUp with the code from the outbox.
    let code = target.latest_code(&pool_id, &username).await;
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "code {code:?}"
    );
    let messages = target.messages(&pool_id, &username).await;
    let message = messages.last().expect("a message");
    assert_eq!(message.medium, "EMAIL");
    assert_eq!(message.destination, email);
    assert!(
        message.body.contains(&code),
        "the email's body carries the code: {message:?}"
    );
    ok(
        public
            .confirm_sign_up()
            .client_id(&client.id)
            .username(&username)
            .confirmation_code(&code)
            .send()
            .await,
        "ConfirmSignUp",
    );

    // InitiateAuth USER_PASSWORD_AUTH.
    let started = now();
    let auth = ok(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth USER_PASSWORD_AUTH",
    );
    assert_eq!(auth.challenge_name(), None);
    let result = auth.authentication_result().expect("AuthenticationResult");
    assert_eq!(result.expires_in(), 3600);
    assert_eq!(result.token_type(), Some("Bearer"));
    let id_token = result.id_token().expect("IdToken");
    let access_token = result.access_token().expect("AccessToken");
    let refresh_token = result.refresh_token().expect("RefreshToken");

    // The tokens verify against the pool's JWKS, with Cognito's claims.
    let jwks = target.jwks(&pool_id).await;
    let id = jwks
        .verify_id_token(id_token, &client.id)
        .expect("ID token verifies");
    assert_eq!(string_claim(&id, "sub"), user_sub);
    assert!(string_claim(&id, "cognito:username").eq_ignore_ascii_case(&username));
    assert_eq!(string_claim(&id, "email"), email);
    assert_eq!(id.get("email_verified"), Some(&Value::Bool(true)), "{id:?}");
    assert_eq!(string_claim(&id, "custom:tier"), "gold");
    assert_eq!(string_claim(&id, "token_use"), "id");
    assert_eq!(string_claim(&id, "aud"), client.id);
    assert_eq!(string_claim(&id, "iss"), target.issuer(&pool_id));
    let auth_time = number_claim(&id, "auth_time");
    assert!(
        auth_time + 60 >= started && auth_time <= now() + 60,
        "auth_time {auth_time}"
    );
    assert_eq!(number_claim(&id, "exp") - number_claim(&id, "iat"), 3600);
    assert!(!string_claim(&id, "jti").is_empty());
    assert!(!string_claim(&id, "origin_jti").is_empty());
    assert!(!string_claim(&id, "event_id").is_empty());

    let access = jwks
        .verify_access_token(access_token, &client.id)
        .expect("access token verifies");
    assert_eq!(string_claim(&access, "sub"), user_sub);
    assert!(string_claim(&access, "username").eq_ignore_ascii_case(&username));
    assert_eq!(string_claim(&access, "token_use"), "access");
    assert_eq!(string_claim(&access, "client_id"), client.id);
    assert_eq!(string_claim(&access, "iss"), target.issuer(&pool_id));
    assert_eq!(string_claim(&access, "scope"), SCOPE);
    assert_eq!(number_claim(&access, "auth_time"), auth_time);
    assert_eq!(
        number_claim(&access, "exp") - number_claim(&access, "iat"),
        3600
    );
    assert!(
        access.get("aud").is_none(),
        "access tokens carry client_id, not aud: {access:?}"
    );
    // One sign-in, one origin and one event; each token its own jti.
    assert_eq!(
        string_claim(&access, "origin_jti"),
        string_claim(&id, "origin_jti")
    );
    assert_eq!(
        string_claim(&access, "event_id"),
        string_claim(&id, "event_id")
    );
    assert_ne!(string_claim(&access, "jti"), string_claim(&id, "jti"));
    // Each token verifies only as what it is.
    assert!(jwks.verify_access_token(id_token, &client.id).is_err());
    assert!(jwks.verify_id_token(access_token, &client.id).is_err());

    // REFRESH_TOKEN_AUTH: new ID and access tokens, no new refresh token.
    let refreshed = ok(
        public
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await,
        "InitiateAuth REFRESH_TOKEN_AUTH",
    );
    let result = refreshed
        .authentication_result()
        .expect("AuthenticationResult");
    assert_eq!(
        result.refresh_token(),
        None,
        "REFRESH_TOKEN_AUTH issues no new refresh token"
    );
    assert_eq!(result.expires_in(), 3600);
    assert_eq!(result.token_type(), Some("Bearer"));
    let new_id = jwks
        .verify_id_token(result.id_token().expect("IdToken"), &client.id)
        .expect("refreshed ID token verifies");
    let new_access = jwks
        .verify_access_token(result.access_token().expect("AccessToken"), &client.id)
        .expect("refreshed access token verifies");
    assert_eq!(string_claim(&new_id, "sub"), user_sub);
    assert_eq!(string_claim(&new_access, "sub"), user_sub);
    assert_ne!(
        string_claim(&new_access, "jti"),
        string_claim(&access, "jti")
    );
    assert_eq!(
        string_claim(&new_access, "origin_jti"),
        string_claim(&access, "origin_jti"),
        "a refresh keeps the sign-in's origin_jti"
    );
    assert_eq!(
        number_claim(&new_access, "auth_time"),
        auth_time,
        "a refresh keeps auth_time"
    );
    assert_eq!(number_claim(&new_id, "auth_time"), auth_time);

    // The REFRESH_TOKEN spelling of the flow works too.
    let refreshed = ok(
        public
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::RefreshToken)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await,
        "InitiateAuth REFRESH_TOKEN",
    );
    assert!(
        refreshed
            .authentication_result()
            .and_then(|r| r.access_token())
            .is_some()
    );

    // GetUser with the (original and refreshed) access token.
    for token in [access_token, result.access_token().expect("AccessToken")] {
        let user = ok(
            public.get_user().access_token(token).send().await,
            "GetUser",
        );
        assert!(user.username().eq_ignore_ascii_case(&username));
        let attributes = user.user_attributes();
        assert_eq!(attribute_value(attributes, "sub"), Some(user_sub.as_str()));
        assert_eq!(attribute_value(attributes, "email"), Some(email.as_str()));
        assert_eq!(attribute_value(attributes, "email_verified"), Some("true"));
        assert_eq!(attribute_value(attributes, "custom:tier"), Some("gold"));
    }

    // AdminGetUser: confirmed and enabled.
    let user = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .send()
            .await,
        "AdminGetUser",
    );
    assert!(user.username().eq_ignore_ascii_case(&username));
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    assert!(user.enabled());
    assert_eq!(
        attribute_value(user.user_attributes(), "sub"),
        Some(user_sub.as_str())
    );
    assert_eq!(
        attribute_value(user.user_attributes(), "email_verified"),
        Some("true")
    );
}

#[tokio::test]
async fn admin_initiate_auth_signs_in_with_admin_user_password_auth_and_admin_no_srp_auth() {
    let target = Target::shared();
    let client = target.standard_setup("admin-auth").await;
    let username = unique("admin-signin");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("a"))
        .await;
    let jwks = target.jwks(&client.pool_id).await;

    for flow in [
        AuthFlowType::AdminUserPasswordAuth,
        AuthFlowType::AdminNoSrpAuth,
    ] {
        let output = ok(
            target
                .admin_client()
                .admin_initiate_auth()
                .user_pool_id(&client.pool_id)
                .client_id(&client.id)
                .auth_flow(flow.clone())
                .auth_parameters("USERNAME", &username)
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await,
            flow.as_str(),
        );
        let result = output
            .authentication_result()
            .expect("AuthenticationResult");
        assert_eq!(result.expires_in(), 3600, "{flow:?}");
        assert_eq!(result.token_type(), Some("Bearer"), "{flow:?}");
        assert!(result.refresh_token().is_some(), "{flow:?}");
        let id = jwks
            .verify_id_token(result.id_token().expect("IdToken"), &client.id)
            .expect("ID token verifies");
        assert!(string_claim(&id, "cognito:username").eq_ignore_ascii_case(&username));
        jwks.verify_access_token(result.access_token().expect("AccessToken"), &client.id)
            .expect("access token verifies");

        // A wrong password is refused here too, with the same error as InitiateAuth.
        let err = service_error(
            target
                .admin_client()
                .admin_initiate_auth()
                .user_pool_id(&client.pool_id)
                .client_id(&client.id)
                .auth_flow(flow.clone())
                .auth_parameters("USERNAME", &username)
                .auth_parameters("PASSWORD", "Wrong-Password-1")
                .send()
                .await,
            "AdminInitiateAuth with a wrong password",
        );
        assert!(err.is_not_authorized_exception(), "{flow:?}: {err:?}");
        assert_eq!(err.message(), Some(INCORRECT));
    }
}

#[tokio::test]
async fn sign_up_refuses_passwords_that_break_the_policy() {
    let target = Target::shared();
    let client = target.standard_setup("policy").await;
    let cases = [
        ("Ab-1", "Password not long enough"),
        (
            "lowercase-only-1",
            "Password must have uppercase characters",
        ),
        (
            "UPPERCASE-ONLY-1",
            "Password must have lowercase characters",
        ),
        ("No-Numbers-Here", "Password must have numeric characters"),
        ("NoSymbols1234", "Password must have symbol characters"),
    ];
    for (password, reason) in cases {
        let username = unique("weak");
        let err = service_error(
            target
                .public_client()
                .sign_up()
                .client_id(&client.id)
                .username(&username)
                .password(password)
                .user_attributes(attribute("email", &unique_email("weak")))
                .send()
                .await,
            "SignUp with a weak password",
        );
        assert!(err.is_invalid_password_exception(), "{password:?}: {err:?}");
        let message = err.message().unwrap_or_default();
        assert!(
            message.contains("Password did not conform with policy"),
            "{password:?}: {message}"
        );
        assert!(
            message.contains(reason),
            "{password:?}: {message:?} should say {reason:?}"
        );
        // Nothing was created.
        let err = service_error(
            target
                .admin_client()
                .admin_get_user()
                .user_pool_id(&client.pool_id)
                .username(&username)
                .send()
                .await,
            "AdminGetUser of a refused sign-up",
        );
        assert!(err.is_user_not_found_exception(), "{err:?}");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_not_authorized_error() {
    let target = Target::shared();
    let client = target.standard_setup("wrong-password").await;
    let username = unique("bob");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("bob"))
        .await;

    let wrong = service_error(
        target
            .password_auth(&client, &username, "Wrong-Password-1")
            .send()
            .await,
        "InitiateAuth with a wrong password",
    );
    assert!(wrong.is_not_authorized_exception(), "{wrong:?}");
    assert_eq!(wrong.message(), Some(INCORRECT));

    let unknown = service_error(
        target
            .password_auth(&client, &unique("nobody"), PASSWORD)
            .send()
            .await,
        "InitiateAuth for an unknown user",
    );
    assert!(
        unknown.is_not_authorized_exception(),
        "sign-in must not reveal that a user does not exist: {unknown:?}"
    );
    assert_eq!(unknown.message(), Some(INCORRECT));
    assert_eq!(unknown.code(), wrong.code());

    // The right password still works after failures.
    target.password_sign_in(&client, &username, PASSWORD).await;
}

#[tokio::test]
async fn an_unconfirmed_user_cannot_sign_in() {
    let target = Target::shared();
    let client = target.standard_setup("unconfirmed").await;
    let username = unique("carol");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("carol"))
        .await;

    let err = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "InitiateAuth of an unconfirmed user",
    );
    assert!(err.is_user_not_confirmed_exception(), "{err:?}");
    let err = service_error(
        target
            .admin_client()
            .admin_initiate_auth()
            .user_pool_id(&client.pool_id)
            .client_id(&client.id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "AdminInitiateAuth of an unconfirmed user",
    );
    assert!(err.is_user_not_confirmed_exception(), "{err:?}");
}

#[tokio::test]
async fn user_password_auth_is_refused_unless_the_client_allows_it() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("flows").await;
    let open = target.create_password_client(&pool_id).await;
    let username = unique("dave");
    target
        .sign_up_confirmed(&open, &username, PASSWORD, &unique_email("dave"))
        .await;

    let clients: [AppClient; 2] = [
        // Cognito's default flows: SRP, custom auth, refresh.
        target.create_client(&pool_id, |b| b).await,
        target
            .create_client(&pool_id, |b| {
                b.explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                    .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
                    .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            })
            .await,
    ];
    for client in &clients {
        let err = service_error(
            target
                .password_auth(client, &username, PASSWORD)
                .send()
                .await,
            "USER_PASSWORD_AUTH on a client without ALLOW_USER_PASSWORD_AUTH",
        );
        assert!(err.is_invalid_parameter_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some("USER_PASSWORD_AUTH flow not enabled for this client")
        );
    }
    // Without ALLOW_ADMIN_USER_PASSWORD_AUTH, the admin password flow is refused too.
    let err = service_error(
        target
            .admin_client()
            .admin_initiate_auth()
            .user_pool_id(&pool_id)
            .client_id(&clients[0].id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "ADMIN_USER_PASSWORD_AUTH on a client without it",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn an_invalid_refresh_token_is_not_authorized() {
    let target = Target::shared();
    let client = target.standard_setup("bad-refresh").await;
    let err = service_error(
        target
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", "not-a-refresh-token")
            .send()
            .await,
        "REFRESH_TOKEN_AUTH with garbage",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");

    // A real refresh token used with another client of the same pool.
    let username = unique("erin");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("erin"))
        .await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let other = target.create_password_client(&client.pool_id).await;
    let err = service_error(
        target
            .public_client()
            .initiate_auth()
            .client_id(&other.id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters(
                "REFRESH_TOKEN",
                tokens.refresh_token().expect("RefreshToken"),
            )
            .send()
            .await,
        "REFRESH_TOKEN_AUTH with another client's refresh token",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

#[tokio::test]
async fn sign_up_refuses_attributes_outside_the_schema() {
    let target = Target::shared();
    let client = target.standard_setup("schema").await;
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(unique("frank"))
            .password(PASSWORD)
            .user_attributes(attribute("email", &unique_email("frank")))
            .user_attributes(attribute("custom:undeclared", "x"))
            .send()
            .await,
        "SignUp with an undeclared custom attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn sign_up_with_an_unknown_client_is_resource_not_found() {
    let target = Target::shared();
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id("0123456789abcdefghijklmnop")
            .username(unique("nobody"))
            .password(PASSWORD)
            .send()
            .await,
        "SignUp with an unknown client id",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}
