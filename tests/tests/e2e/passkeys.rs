//! Choice-based sign-in (issue 18): USER_AUTH's SELECT_CHALLENGE, one-time codes from the
//! outbox, and passkeys with a software authenticator and WebAuthn client
//! (`cognate_tests::passkeys`, 1Password's passkey-rs) standing in for the browser: registration
//! (StartWebAuthnRegistration, CompleteWebAuthnRegistration), listing and deletion, and sign-in
//! with the WEB_AUTHN answer; a wrong origin, a wrong relying party id, a replayed challenge, a
//! registration finished by another app client, a cloned authenticator (its signature counter
//! goes backwards) and another user's passkey are refused. Pool settings go through the AWS SDK;
//! the user's calls are plain JSON, as a browser's SDK sends them.

use cognate_tests::cognito::types::{
    AuthFactorType, ExplicitAuthFlowsType, SignInPolicyType, UserPoolPolicyType,
    UserVerificationType, WebAuthnConfigurationType,
};
use cognate_tests::passkeys::{SoftAuthenticator, with_client_data};
use cognate_tests::{AppClient, PASSWORD, Target, ok, standard_pool, unique, unique_email};
use serde_json::{Value, json};

/// The relying party of these pools, and the origin the "browser" is on.
const RP_ID: &str = "cognate.test";
const ORIGIN: &str = "https://auth.cognate.test";

/// A pool allowing `factors` first, passkeys for [`RP_ID`] with `verification`, and a client
/// allowing USER_AUTH.
async fn pool(
    target: &Target,
    factors: &[AuthFactorType],
    verification: UserVerificationType,
) -> AppClient {
    let policy = SignInPolicyType::builder()
        .set_allowed_first_auth_factors(Some(factors.to_vec()))
        .build();
    let pool_id = target
        .create_pool("passkeys", |b| {
            standard_pool(b).policies(UserPoolPolicyType::builder().sign_in_policy(policy).build())
        })
        .await;
    let admin = target.admin_client();
    ok(
        admin
            .set_user_pool_mfa_config()
            .user_pool_id(&pool_id)
            .web_authn_configuration(
                WebAuthnConfigurationType::builder()
                    .relying_party_id(RP_ID)
                    .user_verification(verification)
                    .build(),
            )
            .send()
            .await,
        "SetUserPoolMfaConfig",
    );
    let described = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    let allowed = described
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.sign_in_policy())
        .map(|s| s.allowed_first_auth_factors().to_vec());
    assert_eq!(allowed.as_deref(), Some(factors));
    user_auth_client(target, &pool_id).await
}

async fn user_auth_client(target: &Target, pool_id: &str) -> AppClient {
    target
        .create_client(pool_id, |b| {
            b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        })
        .await
}

/// A confirmed user and their access token (from a password sign-in through `client`).
async fn user(target: &Target, client: &AppClient) -> (String, String) {
    let username = unique("pk-user");
    target
        .sign_up_confirmed(client, &username, PASSWORD, &unique_email("pk"))
        .await;
    let tokens = target.password_sign_in(client, &username, PASSWORD).await;
    (username, tokens.access_token().unwrap().to_owned())
}

/// A public JSON call; `Ok(body)` or `Err(exception name)`.
async fn call(target: &Target, operation: &str, body: Value) -> Result<Value, String> {
    let response = target.call_raw(operation, &body).await;
    if response.status == 200 {
        Ok(response.json().expect("a JSON answer"))
    } else {
        assert!(response.status < 500, "{operation}: {response}");
        eprintln!("{operation}: {response}");
        Err(response.error_type().unwrap_or_default())
    }
}

/// Registers a passkey for the access token's user with `authenticator`.
async fn register(target: &Target, access: &str, authenticator: &mut SoftAuthenticator) {
    let started = call(
        target,
        "StartWebAuthnRegistration",
        json!({"AccessToken": access}),
    )
    .await
    .unwrap();
    let options = &started["CredentialCreationOptions"];
    assert_eq!(options["rp"]["id"], json!(RP_ID));
    let credential = authenticator.register(ORIGIN, options).await;
    let done = call(
        target,
        "CompleteWebAuthnRegistration",
        json!({"AccessToken": access, "Credential": credential}),
    )
    .await
    .unwrap();
    assert_eq!(done, json!({}));
}

/// USER_AUTH with `PREFERRED_CHALLENGE` WEB_AUTHN: the session and the request options.
async fn passkey_challenge(target: &Target, client: &AppClient, username: &str) -> (String, Value) {
    let out = call(
        target,
        "InitiateAuth",
        json!({"ClientId": client.id, "AuthFlow": "USER_AUTH",
               "AuthParameters": {"USERNAME": username, "PREFERRED_CHALLENGE": "WEB_AUTHN"}}),
    )
    .await
    .unwrap();
    assert_eq!(out["ChallengeName"], json!("WEB_AUTHN"), "{out}");
    let options: Value = serde_json::from_str(
        out["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    (out["Session"].as_str().unwrap().to_owned(), options)
}

async fn answer_passkey(
    target: &Target,
    client: &AppClient,
    username: &str,
    session: &str,
    credential: &Value,
) -> Result<Value, String> {
    call(
        target,
        "RespondToAuthChallenge",
        json!({"ClientId": client.id, "ChallengeName": "WEB_AUTHN", "Session": session,
               "ChallengeResponses": {"USERNAME": username, "CREDENTIAL": credential.to_string()}}),
    )
    .await
}

/// Signs in with `authenticator`'s passkey; the answer.
async fn passkey_sign_in(
    target: &Target,
    client: &AppClient,
    username: &str,
    authenticator: &mut SoftAuthenticator,
) -> Result<Value, String> {
    let (session, options) = passkey_challenge(target, client, username).await;
    let credential = authenticator.authenticate(ORIGIN, &options).await;
    answer_passkey(target, client, username, &session, &credential).await
}

#[tokio::test]
async fn a_passkey_registers_lists_signs_in_through_user_auth_and_is_deleted() {
    let target = Target::shared();
    let client = pool(
        target,
        &[AuthFactorType::Password, AuthFactorType::WebAuthn],
        UserVerificationType::Required,
    )
    .await;
    let (username, access) = user(target, &client).await;

    // No passkey yet: SELECT_CHALLENGE offers the password only.
    let select = call(
        target,
        "InitiateAuth",
        json!({"ClientId": client.id, "AuthFlow": "USER_AUTH", "AuthParameters": {"USERNAME": username}}),
    )
    .await
    .unwrap();
    assert_eq!(
        select["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );

    let mut authenticator = SoftAuthenticator::new();
    register(target, &access, &mut authenticator).await;
    let listed = call(
        target,
        "ListWebAuthnCredentials",
        json!({"AccessToken": access}),
    )
    .await
    .unwrap();
    let credentials = listed["Credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1, "{listed}");
    assert_eq!(credentials[0]["RelyingPartyId"], json!(RP_ID));
    assert!(credentials[0]["CreatedAt"].is_number());
    let credential_id = credentials[0]["CredentialId"].as_str().unwrap().to_owned();
    let factors = call(target, "GetUserAuthFactors", json!({"AccessToken": access}))
        .await
        .unwrap();
    assert_eq!(
        factors["ConfiguredUserAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"])
    );

    // SELECT_CHALLENGE now offers the passkey; choosing it gives the request options.
    let select = call(
        target,
        "InitiateAuth",
        json!({"ClientId": client.id, "AuthFlow": "USER_AUTH", "AuthParameters": {"USERNAME": username}}),
    )
    .await
    .unwrap();
    assert_eq!(
        select["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"])
    );
    let chosen = call(
        target,
        "RespondToAuthChallenge",
        json!({"ClientId": client.id, "ChallengeName": "SELECT_CHALLENGE", "Session": select["Session"],
               "ChallengeResponses": {"USERNAME": username, "ANSWER": "WEB_AUTHN"}}),
    )
    .await
    .unwrap();
    assert_eq!(chosen["ChallengeName"], json!("WEB_AUTHN"));
    let options: Value = serde_json::from_str(
        chosen["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(options["rpId"], json!(RP_ID));
    assert_eq!(options["userVerification"], json!("required"));
    assert_eq!(options["allowCredentials"][0]["id"], json!(credential_id));
    let credential = authenticator.authenticate(ORIGIN, &options).await;
    let session = chosen["Session"].as_str().unwrap();
    let signed_in = answer_passkey(target, &client, &username, session, &credential)
        .await
        .unwrap();
    assert!(
        signed_in["AuthenticationResult"]["AccessToken"].is_string(),
        "{signed_in}"
    );

    // The same assertion again: its challenge is used up.
    assert_eq!(
        answer_passkey(target, &client, &username, session, &credential).await,
        Err("NotAuthorizedException".to_owned())
    );
    // ... and on a fresh challenge it answers the wrong one.
    let (fresh, _) = passkey_challenge(target, &client, &username).await;
    assert_eq!(
        answer_passkey(target, &client, &username, &fresh, &credential).await,
        Err("NotAuthorizedException".to_owned())
    );

    // A cloned authenticator: the original signs on, the clone's counter falls behind.
    let mut clone = authenticator.cloned();
    assert!(
        passkey_sign_in(target, &client, &username, &mut authenticator)
            .await
            .is_ok()
    );
    assert_eq!(
        passkey_sign_in(target, &client, &username, &mut clone).await,
        Err("NotAuthorizedException".to_owned())
    );
    assert!(
        passkey_sign_in(target, &client, &username, &mut authenticator)
            .await
            .is_ok()
    );

    // Deleted: gone from the list and from the choices.
    let signed_in = target.password_sign_in(&client, &username, PASSWORD).await;
    let access = signed_in.access_token().unwrap();
    assert_eq!(
        call(
            target,
            "DeleteWebAuthnCredential",
            json!({"AccessToken": access, "CredentialId": credential_id})
        )
        .await,
        Ok(json!({}))
    );
    assert_eq!(
        call(
            target,
            "DeleteWebAuthnCredential",
            json!({"AccessToken": access, "CredentialId": credential_id})
        )
        .await,
        Err("ResourceNotFoundException".to_owned())
    );
    let listed = call(
        target,
        "ListWebAuthnCredentials",
        json!({"AccessToken": access}),
    )
    .await
    .unwrap();
    assert_eq!(listed, json!({"Credentials": []}));
}

#[tokio::test]
async fn registration_refuses_wrong_origins_relying_parties_replays_and_other_clients() {
    let target = Target::shared();
    let client = pool(
        target,
        &[AuthFactorType::Password, AuthFactorType::WebAuthn],
        UserVerificationType::Preferred,
    )
    .await;
    let (_, access) = user(target, &client).await;
    let start = || async {
        call(
            target,
            "StartWebAuthnRegistration",
            json!({"AccessToken": access}),
        )
        .await
        .unwrap()["CredentialCreationOptions"]
            .clone()
    };
    let complete = |credential: Value| {
        let access = access.clone();
        async move {
            call(
                target,
                "CompleteWebAuthnRegistration",
                json!({"AccessToken": access, "Credential": credential}),
            )
            .await
        }
    };

    // A challenge replaced by a newer StartWebAuthnRegistration.
    let made = SoftAuthenticator::new()
        .register(ORIGIN, &start().await)
        .await;
    start().await;
    assert_eq!(
        complete(made).await,
        Err("WebAuthnChallengeNotFoundException".to_owned())
    );

    // An origin outside the relying party.
    let made = SoftAuthenticator::new()
        .register(ORIGIN, &start().await)
        .await;
    let elsewhere = with_client_data(&made, |d| d["origin"] = json!("https://cognate.example"));
    assert_eq!(
        complete(elsewhere).await,
        Err("WebAuthnOriginNotAllowedException".to_owned())
    );

    // A credential made for another relying party id (on an origin this one allows).
    let mut options = start().await;
    options["rp"]["id"] = json!("auth.cognate.test");
    let made = SoftAuthenticator::new().register(ORIGIN, &options).await;
    assert_eq!(
        complete(made).await,
        Err("WebAuthnRelyingPartyMismatchException".to_owned())
    );

    // A good one, then the same again: the challenge is used up.
    let made = SoftAuthenticator::new()
        .register(ORIGIN, &start().await)
        .await;
    assert_eq!(complete(made.clone()).await, Ok(json!({})));
    assert_eq!(
        complete(made).await,
        Err("WebAuthnChallengeNotFoundException".to_owned())
    );

    // Started through one app client, finished through another.
    let other = user_auth_client(target, &client.pool_id).await;
    let options = start().await;
    let made = SoftAuthenticator::new().register(ORIGIN, &options).await;
    let listed = call(
        target,
        "ListWebAuthnCredentials",
        json!({"AccessToken": access}),
    )
    .await
    .unwrap();
    assert_eq!(listed["Credentials"].as_array().unwrap().len(), 1);
    let whoami = call(target, "GetUser", json!({"AccessToken": access}))
        .await
        .unwrap();
    let name = whoami["Username"].as_str().unwrap().to_owned();
    let other_access = target
        .password_sign_in(&other, &name, PASSWORD)
        .await
        .access_token()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(
            target,
            "CompleteWebAuthnRegistration",
            json!({"AccessToken": other_access, "Credential": made})
        )
        .await,
        Err("WebAuthnClientMismatchException".to_owned())
    );

    // A pool that does not allow passkeys.
    let plain = pool(
        target,
        &[AuthFactorType::Password],
        UserVerificationType::Preferred,
    )
    .await;
    let (_, plain_access) = user(target, &plain).await;
    assert_eq!(
        call(
            target,
            "StartWebAuthnRegistration",
            json!({"AccessToken": plain_access})
        )
        .await,
        Err("WebAuthnNotEnabledException".to_owned())
    );
}

#[tokio::test]
async fn another_users_passkey_does_not_sign_in() {
    let target = Target::shared();
    let client = pool(
        target,
        &[AuthFactorType::Password, AuthFactorType::WebAuthn],
        UserVerificationType::Preferred,
    )
    .await;
    let (alice, alice_access) = user(target, &client).await;
    let (bob, bob_access) = user(target, &client).await;
    let mut alices = SoftAuthenticator::new();
    let mut bobs = SoftAuthenticator::new();
    register(target, &alice_access, &mut alices).await;
    register(target, &bob_access, &mut bobs).await;

    // Bob's challenge, signed by Alice's authenticator (as a discoverable credential).
    let (session, mut options) = passkey_challenge(target, &client, &bob).await;
    options["allowCredentials"] = json!([]);
    let alices_answer = alices.authenticate(ORIGIN, &options).await;
    assert_eq!(
        answer_passkey(target, &client, &bob, &session, &alices_answer).await,
        Err("NotAuthorizedException".to_owned())
    );
    // A wrong origin in an assertion.
    let (session, options) = passkey_challenge(target, &client, &alice).await;
    let answer = alices.authenticate(ORIGIN, &options).await;
    let elsewhere = with_client_data(&answer, |d| d["origin"] = json!("https://cognate.example"));
    assert_eq!(
        answer_passkey(target, &client, &alice, &session, &elsewhere).await,
        Err("NotAuthorizedException".to_owned())
    );
    // Both still sign in with their own.
    assert!(
        passkey_sign_in(target, &client, &alice, &mut alices)
            .await
            .is_ok()
    );
    assert!(
        passkey_sign_in(target, &client, &bob, &mut bobs)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn user_auth_signs_in_with_an_email_code_from_the_outbox_or_a_password() {
    let target = Target::shared();
    let client = pool(
        target,
        &[AuthFactorType::Password, AuthFactorType::EmailOtp],
        UserVerificationType::Preferred,
    )
    .await;
    let (username, _) = user(target, &client).await;
    let seen = target.codes(&client.pool_id, &username).await.len();
    let challenge = call(
        target,
        "InitiateAuth",
        json!({"ClientId": client.id, "AuthFlow": "USER_AUTH",
               "AuthParameters": {"USERNAME": username, "PREFERRED_CHALLENGE": "EMAIL_OTP"}}),
    )
    .await
    .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("EMAIL_OTP"));
    assert_eq!(
        challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        json!("EMAIL")
    );
    assert!(
        challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"]
            .as_str()
            .unwrap()
            .contains("***@"),
        "{challenge}"
    );
    let code = target.code_after(&client.pool_id, &username, seen).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let respond = |code: String| {
        let body = json!({"ClientId": client.id, "ChallengeName": "EMAIL_OTP", "Session": challenge["Session"],
                          "ChallengeResponses": {"USERNAME": username, "EMAIL_OTP_CODE": code}});
        async move { call(target, "RespondToAuthChallenge", body).await }
    };
    assert_eq!(
        respond(wrong.to_owned()).await,
        Err("CodeMismatchException".to_owned())
    );
    let signed_in = respond(code.clone()).await.unwrap();
    assert!(signed_in["AuthenticationResult"]["IdToken"].is_string());
    assert_eq!(
        respond(code).await,
        Err("NotAuthorizedException".to_owned())
    );

    // PASSWORD straight away.
    let signed_in = call(
        target,
        "InitiateAuth",
        json!({"ClientId": client.id, "AuthFlow": "USER_AUTH",
               "AuthParameters": {"USERNAME": username, "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD}}),
    )
    .await
    .unwrap();
    assert!(signed_in["AuthenticationResult"]["AccessToken"].is_string());
}

// ------------------------------------------------------------------ the hosted UI

const CALLBACK: &str = "http://localhost:8977/callback";

/// A confidential hosted-UI client of `pool_id` that may use USER_AUTH.
async fn hosted_ui_client(target: &Target, pool_id: &str) -> AppClient {
    use cognate_tests::cognito::types::OAuthFlowType;
    target
        .create_client(pool_id, |b| {
            b.generate_secret(true)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .callback_urls(CALLBACK)
                .supported_identity_providers("COGNITO")
        })
        .await
}

fn hidden(page: &cognate_tests::form_browser::Page, name: &str) -> String {
    cognate_tests::form_browser::hidden_fields(&page.body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no hidden {name} in {}", page.body))
}

/// A redirect to the client's callback with a code (and the state).
fn assert_code(page: &cognate_tests::form_browser::Page) {
    use cognate_tests::form_browser::query_param;
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert!(query_param(&location, "code").is_some(), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("st"));
}

#[tokio::test]
async fn the_hosted_ui_adds_a_passkey_then_signs_in_with_it_or_an_email_code() {
    use cognate_tests::form_browser::Browser;
    let target = Target::shared();
    let client = pool(
        target,
        &[
            AuthFactorType::Password,
            AuthFactorType::EmailOtp,
            AuthFactorType::WebAuthn,
        ],
        UserVerificationType::Required,
    )
    .await;
    let web = hosted_ui_client(target, &client.pool_id).await;
    let (username, _) = user(target, &client).await;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid&state=st",
        web.id
    );

    // The sign-in page offers the pool's passwordless factors to a USER_AUTH client...
    let mut browser = Browser::new(target);
    let login = browser.get(&format!("/login?{query}")).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains(">Sign in with a passkey</a>"),
        "{}",
        login.body
    );
    assert!(login.body.contains(">Sign in with a one-time code</a>"));
    // ... and no script runs on it.
    assert!(!login.body.contains("<script"));

    // Adding a passkey needs a signed-in user.
    let refused = browser.get(&format!("/passkeys/add?{query}")).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Sign in first"), "{}", refused.body);

    // Signed in with the password, the user adds a passkey and goes back to the app.
    let signed_in = browser
        .submit(&login, &[("username", &username), ("password", PASSWORD)])
        .await;
    assert_code(&signed_in);
    let add = browser.get(&format!("/passkeys/add?{query}")).await;
    assert_eq!(add.status, 200, "{}", add.body);
    assert!(add.body.contains("<script src=\"/passkeys.js\"></script>"));
    assert_eq!(hidden(&add, "ceremony"), "create");
    let options: Value = serde_json::from_str(&hidden(&add, "options")).unwrap();
    assert_eq!(options["rp"]["id"], json!(RP_ID));
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        json!("required")
    );
    let mut authenticator = SoftAuthenticator::new();
    let credential = authenticator.register(ORIGIN, &options).await;
    let added = browser
        .submit(&add, &[("credential", &credential.to_string())])
        .await;
    assert_eq!(added.status, 302, "{}", added.body);
    let back = added.location.unwrap();
    // The authorization request, re-encoded.
    assert!(back.starts_with("/oauth2/authorize?"), "{back}");
    assert!(back.contains(&format!("client_id={}", web.id)), "{back}");
    assert_code(&browser.get(&back).await);
    // The same registration again: its challenge is spent.
    let again = browser
        .submit(&add, &[("credential", &credential.to_string())])
        .await;
    assert_eq!(again.status, 400);
    assert!(
        again.body.contains("The passkey was not added"),
        "{}",
        again.body
    );

    // A new browser signs in with the passkey.
    let mut browser = Browser::new(target);
    let start = browser.get(&format!("/passkeySignIn?{query}")).await;
    assert_eq!(start.status, 200);
    let use_it = browser.submit(&start, &[("username", &username)]).await;
    assert_eq!(use_it.status, 200, "{}", use_it.body);
    assert!(
        use_it
            .body
            .contains("<script src=\"/passkeys.js\"></script>")
    );
    assert_eq!(hidden(&use_it, "ceremony"), "get");
    let options: Value = serde_json::from_str(&hidden(&use_it, "options")).unwrap();
    let assertion = authenticator.authenticate(ORIGIN, &options).await;
    let signed_in = browser
        .submit(&use_it, &[("credential", &assertion.to_string())])
        .await;
    assert_code(&signed_in);
    // The same answer again: refused, and the page says so.
    let replayed = browser
        .submit(&use_it, &[("credential", &assertion.to_string())])
        .await;
    assert_eq!(replayed.status, 400);
    assert!(
        replayed.body.contains("The passkey was not accepted"),
        "{}",
        replayed.body
    );

    // A new browser signs in with a code sent by email.
    let mut browser = Browser::new(target);
    let start = browser.get(&format!("/codeSignIn?{query}")).await;
    assert_eq!(start.status, 200);
    let seen = target.codes(&client.pool_id, &username).await.len();
    let code_page = browser.submit(&start, &[("username", &username)]).await;
    assert_eq!(code_page.status, 200, "{}", code_page.body);
    assert!(
        code_page.body.contains("We sent a code to"),
        "{}",
        code_page.body
    );
    let code = target.code_after(&client.pool_id, &username, seen).await;
    assert_code(&browser.submit(&code_page, &[("code", &code)]).await);
}

#[tokio::test]
async fn the_passkey_script_is_served_and_pages_without_user_auth_offer_no_passkey() {
    let target = Target::shared();
    let script = target
        .http()
        .get(format!("{}/passkeys.js", target.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let text = script.text().await.unwrap();
    assert!(text.contains("navigator.credentials.get"), "{text}");
    assert!(text.contains("navigator.credentials.create"));

    // A client without ALLOW_USER_AUTH: a password sign-in page, and no passkey page.
    let client = pool(
        target,
        &[AuthFactorType::Password, AuthFactorType::WebAuthn],
        UserVerificationType::Preferred,
    )
    .await;
    use cognate_tests::cognito::types::OAuthFlowType;
    let web = target
        .create_client(&client.pool_id, |b| {
            b.generate_secret(true)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .callback_urls(CALLBACK)
                .supported_identity_providers("COGNITO")
        })
        .await;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid&state=st",
        web.id
    );
    let mut browser = cognate_tests::form_browser::Browser::new(target);
    let login = browser.get(&format!("/login?{query}")).await;
    assert_eq!(login.status, 200);
    assert!(
        !login.body.contains(">Sign in with a passkey</a>"),
        "{}",
        login.body
    );
    assert!(!login.body.contains(">Sign in with a one-time code</a>"));
    let page = browser.get(&format!("/passkeySignIn?{query}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Sign in</h1>"), "{}", page.body);
    assert!(!page.body.contains("<script"));
}
