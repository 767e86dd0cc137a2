//! Multi-factor authentication (issue 17): the pool's MFA settings, software tokens set up during
//! sign-in (MFA_SETUP) and after it (with an access token), SELECT_MFA_TYPE, SMS and email codes
//! read from the outbox, wrong and replayed codes, the lockout across MFA attempts, and
//! administrators' preferences. TOTP codes are computed here (RFC 6238 with RustCrypto's SHA-1,
//! independently of the server's code).

use std::time::{SystemTime, UNIX_EPOCH};

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::operation::initiate_auth::InitiateAuthOutput;
use cognate_tests::cognito::types::{
    ChallengeNameType, EmailMfaConfigType, EmailMfaSettingsType, SmsConfigurationType,
    SmsMfaConfigType, SmsMfaSettingsType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType,
    UserPoolMfaType, VerifySoftwareTokenResponseType,
};
use cognate_tests::scenarios::{admin_create_quietly, admin_set_password};
use cognate_tests::{AppClient, PASSWORD, Target, ok, service_error, unique, unique_email};
use hmac::{KeyInit, Mac};

// ------------------------------------------------------------------ TOTP, computed here

/// The RFC 6238 code (SHA-1, 6 digits) of a base32 secret at time step `step`.
fn totp(secret: &str, step: u64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .expect("the secret is base32");
    let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let value = u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

fn now_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// A code that is none of the codes accepted around now.
fn wrong_totp(secret: &str) -> String {
    let now = now_step();
    let valid: Vec<String> = (now - 2..=now + 2).map(|s| totp(secret, s)).collect();
    (0..1000)
        .map(|n| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap()
}

// ------------------------------------------------------------------ fixtures

/// A pool with `mode` and the given methods, and a password client.
async fn mfa_pool(
    target: &Target,
    prefix: &str,
    mode: UserPoolMfaType,
    software_token: bool,
    sms: bool,
    email: bool,
) -> AppClient {
    let pool_id = target.create_standard_pool(prefix).await;
    let mut request = target
        .admin_client()
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(mode)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder()
                .enabled(software_token)
                .build(),
        );
    if sms {
        request = request.sms_mfa_configuration(
            SmsMfaConfigType::builder()
                .sms_authentication_message("Your sign-in code: {####}")
                .sms_configuration(
                    SmsConfigurationType::builder()
                        .sns_caller_arn("arn:aws:iam::000000000000:role/cognate-sms")
                        .external_id("cognate")
                        .build(),
                )
                .build(),
        );
    }
    if email {
        request = request.email_mfa_configuration(
            EmailMfaConfigType::builder()
                .message("Sign-in code {####}, valid for 3 minutes.")
                .subject("Your Cognate sign-in code")
                .build(),
        );
    }
    ok(request.send().await, "SetUserPoolMfaConfig");
    target.create_password_client(&pool_id).await
}

/// A confirmed user with an email address and a phone number.
async fn user_with_contacts(target: &Target, client: &AppClient, prefix: &str) -> (String, String) {
    let username = unique(prefix);
    let phone = format!("+1555{:07}", now_step() % 10_000_000);
    admin_create_quietly(
        target,
        &client.pool_id,
        &username,
        "Temporary-Pass-1",
        &[
            ("email", &unique_email(prefix)),
            ("email_verified", "true"),
            ("phone_number", &phone),
            ("phone_number_verified", "true"),
        ],
    )
    .await;
    ok(
        admin_set_password(target, &client.pool_id, &username, PASSWORD, true).await,
        "AdminSetUserPassword",
    );
    (username, phone)
}

async fn sign_in(target: &Target, client: &AppClient, username: &str) -> InitiateAuthOutput {
    ok(
        target
            .password_auth(client, username, PASSWORD)
            .send()
            .await,
        "InitiateAuth USER_PASSWORD_AUTH",
    )
}

/// RespondToAuthChallenge with `USERNAME` and one answer.
async fn answer(
    target: &Target,
    client: &AppClient,
    challenge: ChallengeNameType,
    session: &str,
    username: &str,
    response: (&str, &str),
) -> Result<
    cognate_tests::cognito::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput,
    String,
> {
    target
        .public_client()
        .respond_to_auth_challenge()
        .client_id(&client.id)
        .challenge_name(challenge)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses(response.0, response.1)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

/// Sets up a software token for a signed-in user (AssociateSoftwareToken and
/// VerifySoftwareToken with the access token); returns the secret and the step used.
async fn set_up_token(target: &Target, access_token: &str) -> (String, u64) {
    let public = target.public_client();
    let associated = ok(
        public
            .associate_software_token()
            .access_token(access_token)
            .send()
            .await,
        "AssociateSoftwareToken",
    );
    let secret = associated.secret_code().expect("SecretCode").to_owned();
    let step = now_step();
    let verified = ok(
        public
            .verify_software_token()
            .access_token(access_token)
            .user_code(totp(&secret, step))
            .friendly_device_name("phone")
            .send()
            .await,
        "VerifySoftwareToken",
    );
    assert_eq!(
        verified.status(),
        Some(&VerifySoftwareTokenResponseType::Success)
    );
    assert_eq!(verified.session(), None);
    (secret, step)
}

// ------------------------------------------------------------------ scenarios

#[tokio::test]
async fn pool_mfa_settings_round_trip_with_cognitos_checks() {
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("mfa-config").await;

    let fresh = ok(
        admin
            .get_user_pool_mfa_config()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "GetUserPoolMfaConfig",
    );
    assert_eq!(fresh.mfa_configuration(), Some(&UserPoolMfaType::Off));
    assert_eq!(
        fresh
            .software_token_mfa_configuration()
            .map(|c| c.enabled()),
        Some(false)
    );
    assert!(fresh.sms_mfa_configuration().is_none());
    assert!(fresh.email_mfa_configuration().is_none());

    // ON with no method, SMS without an SmsConfiguration, an email template without the code.
    let no_method = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::On)
        .send()
        .await;
    assert_eq!(
        service_error(no_method, "ON without a method").code(),
        Some("InvalidParameterException")
    );
    let sms_without_configuration = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(
            SmsMfaConfigType::builder()
                .sms_authentication_message("code {####}")
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        service_error(
            sms_without_configuration,
            "SMS MFA without SmsConfiguration"
        )
        .code(),
        Some("InvalidParameterException")
    );
    let email_without_code = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .email_mfa_configuration(
            EmailMfaConfigType::builder()
                .message("no code here")
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        service_error(email_without_code, "email MFA message without {####}").code(),
        Some("InvalidParameterException")
    );
    // CreateUserPool with MFA ON and nothing to send codes with.
    let create_on = admin
        .create_user_pool()
        .pool_name(unique("mfa-on"))
        .mfa_configuration(UserPoolMfaType::On)
        .send()
        .await;
    assert_eq!(
        service_error(create_on, "CreateUserPool ON without a method").code(),
        Some("InvalidParameterException")
    );

    let set = ok(
        admin
            .set_user_pool_mfa_config()
            .user_pool_id(&pool_id)
            .mfa_configuration(UserPoolMfaType::On)
            .software_token_mfa_configuration(
                SoftwareTokenMfaConfigType::builder().enabled(true).build(),
            )
            .email_mfa_configuration(
                EmailMfaConfigType::builder()
                    .message("Code {####}")
                    .subject("Sign-in")
                    .build(),
            )
            .send()
            .await,
        "SetUserPoolMfaConfig",
    );
    assert_eq!(set.mfa_configuration(), Some(&UserPoolMfaType::On));
    let got = ok(
        admin
            .get_user_pool_mfa_config()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "GetUserPoolMfaConfig",
    );
    assert_eq!(got.mfa_configuration(), Some(&UserPoolMfaType::On));
    assert_eq!(
        got.software_token_mfa_configuration().map(|c| c.enabled()),
        Some(true)
    );
    let email = got
        .email_mfa_configuration()
        .expect("EmailMfaConfiguration");
    assert_eq!(email.message(), Some("Code {####}"));
    assert_eq!(email.subject(), Some("Sign-in"));
    assert!(got.sms_mfa_configuration().is_none());
    let described = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    assert_eq!(
        described.user_pool().and_then(|p| p.mfa_configuration()),
        Some(&UserPoolMfaType::On)
    );
}

#[tokio::test]
async fn mfa_setup_during_sign_in_then_totp_codes_are_single_use() {
    let target = Target::shared();
    let client = mfa_pool(target, "mfa-setup", UserPoolMfaType::On, true, false, false).await;
    let username = unique("setup");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("setup"))
        .await;

    let started = sign_in(target, &client, &username).await;
    assert_eq!(started.challenge_name(), Some(&ChallengeNameType::MfaSetup));
    assert!(started.authentication_result().is_none());
    assert_eq!(
        started
            .challenge_parameters()
            .and_then(|p| p.get("MFAS_CAN_SETUP")),
        Some(&r#"["SOFTWARE_TOKEN_MFA"]"#.to_owned())
    );
    let public = target.public_client();
    let associated = ok(
        public
            .associate_software_token()
            .session(started.session().expect("Session"))
            .send()
            .await,
        "AssociateSoftwareToken with Session",
    );
    let secret = associated.secret_code().expect("SecretCode").to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let session = associated.session().expect("a new Session").to_owned();

    // A wrong code: EnableSoftwareTokenMFAException, and the session still works.
    let wrong = public
        .verify_software_token()
        .session(&session)
        .user_code(wrong_totp(&secret))
        .send()
        .await;
    assert_eq!(
        service_error(wrong, "VerifySoftwareToken with a wrong code").code(),
        Some("EnableSoftwareTokenMFAException")
    );
    let step = now_step();
    let verified = ok(
        public
            .verify_software_token()
            .session(&session)
            .user_code(totp(&secret, step))
            .friendly_device_name("my phone")
            .send()
            .await,
        "VerifySoftwareToken with Session",
    );
    assert_eq!(
        verified.status(),
        Some(&VerifySoftwareTokenResponseType::Success)
    );
    let setup_session = verified.session().expect("Session for MFA_SETUP");
    let done = answer(
        target,
        &client,
        ChallengeNameType::MfaSetup,
        setup_session,
        &username,
        ("SESSION", setup_session),
    )
    .await
    .expect("MFA_SETUP answered");
    let tokens = done
        .authentication_result()
        .expect("tokens after MFA_SETUP");
    let me = ok(
        public
            .get_user()
            .access_token(tokens.access_token().unwrap())
            .send()
            .await,
        "GetUser",
    );
    assert_eq!(me.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);
    assert_eq!(me.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));
    assert!(me.mfa_options().is_empty());

    // Next sign-in: SOFTWARE_TOKEN_MFA. The verification code (already used) is refused, a
    // wrong one too; the next step's code signs in once, and not twice.
    let challenged = sign_in(target, &client, &username).await;
    assert_eq!(
        challenged.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    assert_eq!(
        challenged
            .challenge_parameters()
            .and_then(|p| p.get("FRIENDLY_DEVICE_NAME")),
        Some(&"my phone".to_owned())
    );
    let session = challenged.session().unwrap();
    let code = ChallengeNameType::SoftwareTokenMfa;
    let replayed = answer(
        target,
        &client,
        code.clone(),
        session,
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &totp(&secret, step)),
    )
    .await;
    assert_eq!(replayed.err().as_deref(), Some("CodeMismatchException"));
    let wrong = answer(
        target,
        &client,
        code.clone(),
        session,
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &wrong_totp(&secret)),
    )
    .await;
    assert_eq!(wrong.err().as_deref(), Some("CodeMismatchException"));
    let next = totp(&secret, step + 1);
    let signed_in = answer(
        target,
        &client,
        code.clone(),
        session,
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &next),
    )
    .await
    .expect("the next step's code");
    assert!(signed_in.authentication_result().is_some());
    // The session is used up, and the code too.
    let again = answer(
        target,
        &client,
        code.clone(),
        session,
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &next),
    )
    .await;
    assert_eq!(again.err().as_deref(), Some("NotAuthorizedException"));
    let fresh = sign_in(target, &client, &username).await;
    let replay = answer(
        target,
        &client,
        code,
        fresh.session().unwrap(),
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &next),
    )
    .await;
    assert_eq!(replay.err().as_deref(), Some("CodeMismatchException"));
}

#[tokio::test]
async fn optional_pool_set_up_after_sign_in_and_enabled_by_preference() {
    let target = Target::shared();
    let client = mfa_pool(
        target,
        "mfa-opt",
        UserPoolMfaType::Optional,
        true,
        false,
        false,
    )
    .await;
    let username = unique("opt");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("opt"))
        .await;
    // OPTIONAL: no method, no challenge.
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let access = tokens.access_token().unwrap().to_owned();
    let public = target.public_client();

    // VerifySoftwareToken before AssociateSoftwareToken has nothing to verify.
    let early = public
        .verify_software_token()
        .access_token(&access)
        .user_code("123456")
        .send()
        .await;
    assert_eq!(
        service_error(early, "VerifySoftwareToken before AssociateSoftwareToken").code(),
        Some("InvalidParameterException")
    );
    // Enabling a token that is not verified yet is refused.
    let unverified = public
        .set_user_mfa_preference()
        .access_token(&access)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        service_error(unverified, "enable an unverified token").code(),
        Some("InvalidParameterException")
    );
    let (secret, step) = set_up_token(target, &access).await;

    // Verified but not enabled: still no challenge.
    let plain = sign_in(target, &client, &username).await;
    assert!(plain.challenge_name().is_none());
    assert!(plain.authentication_result().is_some());

    // SMS MFA needs a phone number (and this pool does not offer it anyway).
    let sms = public
        .set_user_mfa_preference()
        .access_token(&access)
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await;
    assert_eq!(
        service_error(sms, "SMS MFA without a phone number").code(),
        Some("InvalidParameterException")
    );
    ok(
        public
            .set_user_mfa_preference()
            .access_token(&access)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await,
        "SetUserMFAPreference",
    );
    let admin_view = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&client.pool_id)
            .username(&username)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(admin_view.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);
    assert_eq!(
        admin_view.preferred_mfa_setting(),
        Some("SOFTWARE_TOKEN_MFA")
    );

    let challenged = sign_in(target, &client, &username).await;
    assert_eq!(
        challenged.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    let done = answer(
        target,
        &client,
        ChallengeNameType::SoftwareTokenMfa,
        challenged.session().unwrap(),
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", &totp(&secret, step + 1)),
    )
    .await
    .expect("TOTP answer");
    assert!(done.authentication_result().is_some());

    // Disabled again by the administrator: no challenge.
    ok(
        target
            .admin_client()
            .admin_set_user_mfa_preference()
            .user_pool_id(&client.pool_id)
            .username(&username)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(false)
                    .build(),
            )
            .send()
            .await,
        "AdminSetUserMFAPreference",
    );
    let after = sign_in(target, &client, &username).await;
    assert!(after.challenge_name().is_none());
    let me = ok(
        public.get_user().access_token(&access).send().await,
        "GetUser",
    );
    assert!(me.user_mfa_setting_list().is_empty());
    assert_eq!(me.preferred_mfa_setting(), None);
}

#[tokio::test]
async fn sms_and_email_codes_with_select_mfa_type() {
    let target = Target::shared();
    let client = mfa_pool(
        target,
        "mfa-codes",
        UserPoolMfaType::Optional,
        false,
        true,
        true,
    )
    .await;
    let pool_id = client.pool_id.clone();
    let (username, phone) = user_with_contacts(target, &client, "codes").await;
    let admin = target.admin_client();
    ok(
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id(&pool_id)
            .username(&username)
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
            .email_mfa_settings(EmailMfaSettingsType::builder().enabled(true).build())
            .send()
            .await,
        "AdminSetUserMFAPreference",
    );
    let view = ok(
        admin
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(view.user_mfa_setting_list(), ["SMS_MFA", "EMAIL_OTP"]);
    assert_eq!(view.preferred_mfa_setting(), None);
    let options = view.mfa_options();
    assert_eq!(options.len(), 1);
    assert_eq!(options[0].attribute_name(), Some("phone_number"));

    // Two methods, none preferred: the user chooses.
    let started = sign_in(target, &client, &username).await;
    assert_eq!(
        started.challenge_name(),
        Some(&ChallengeNameType::SelectMfaType)
    );
    assert_eq!(
        started
            .challenge_parameters()
            .and_then(|p| p.get("MFAS_CAN_CHOOSE")),
        Some(&r#"["SMS_MFA","EMAIL_OTP"]"#.to_owned())
    );
    let not_offered = answer(
        target,
        &client,
        ChallengeNameType::SelectMfaType,
        started.session().unwrap(),
        &username,
        ("ANSWER", "SOFTWARE_TOKEN_MFA"),
    )
    .await;
    assert_eq!(
        not_offered.err().as_deref(),
        Some("InvalidParameterException")
    );
    let seen = target.codes(&pool_id, &username).await.len();
    let sms = answer(
        target,
        &client,
        ChallengeNameType::SelectMfaType,
        started.session().unwrap(),
        &username,
        ("ANSWER", "SMS_MFA"),
    )
    .await
    .expect("SELECT_MFA_TYPE answered");
    assert_eq!(sms.challenge_name(), Some(&ChallengeNameType::SmsMfa));
    let parameters = sms.challenge_parameters().unwrap();
    assert_eq!(parameters["CODE_DELIVERY_DELIVERY_MEDIUM"], "SMS");
    assert_eq!(
        parameters["CODE_DELIVERY_DESTINATION"],
        format!(
            "+{}{}",
            "*".repeat(phone.len() - 5),
            &phone[phone.len() - 4..]
        )
    );
    let code = target.code_after(&pool_id, &username, seen).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(message.medium, "SMS");
    assert_eq!(message.destination, phone);
    assert_eq!(message.body, format!("Your sign-in code: {code}"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let session = sms.session().unwrap();
    let refused = answer(
        target,
        &client,
        ChallengeNameType::SmsMfa,
        session,
        &username,
        ("SMS_MFA_CODE", wrong),
    )
    .await;
    assert_eq!(refused.err().as_deref(), Some("CodeMismatchException"));
    let done = answer(
        target,
        &client,
        ChallengeNameType::SmsMfa,
        session,
        &username,
        ("SMS_MFA_CODE", &code),
    )
    .await
    .expect("SMS code");
    assert!(done.authentication_result().is_some());
    // Single use: the session and its code are gone.
    let again = answer(
        target,
        &client,
        ChallengeNameType::SmsMfa,
        session,
        &username,
        ("SMS_MFA_CODE", &code),
    )
    .await;
    assert_eq!(again.err().as_deref(), Some("NotAuthorizedException"));

    // Email preferred: EMAIL_OTP straight away, with the pool's email MFA template.
    ok(
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id(&pool_id)
            .username(&username)
            .email_mfa_settings(
                EmailMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await,
        "AdminSetUserMFAPreference email preferred",
    );
    let seen = target.codes(&pool_id, &username).await.len();
    let email = sign_in(target, &client, &username).await;
    assert_eq!(email.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let parameters = email.challenge_parameters().unwrap();
    assert_eq!(parameters["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
    assert!(
        parameters["CODE_DELIVERY_DESTINATION"].contains("***@"),
        "masked: {}",
        parameters["CODE_DELIVERY_DESTINATION"]
    );
    let code = target.code_after(&pool_id, &username, seen).await;
    let message = target.messages(&pool_id, &username).await.pop().unwrap();
    assert_eq!(message.medium, "EMAIL");
    assert_eq!(message.subject, "Your Cognate sign-in code");
    assert_eq!(
        message.body,
        format!("Sign-in code {code}, valid for 3 minutes.")
    );
    let done = answer(
        target,
        &client,
        ChallengeNameType::EmailOtp,
        email.session().unwrap(),
        &username,
        ("EMAIL_OTP_CODE", &code),
    )
    .await
    .expect("email code");
    assert!(done.authentication_result().is_some());
}

#[tokio::test]
async fn mfa_on_sends_an_email_code_to_a_user_without_a_method() {
    let target = Target::shared();
    let client = mfa_pool(
        target,
        "mfa-on-email",
        UserPoolMfaType::On,
        false,
        false,
        true,
    )
    .await;
    let (username, _) = user_with_contacts(target, &client, "onmail").await;
    // MFA ON, nothing enabled by the user, an email on file and email MFA offered: EMAIL_OTP.
    let started = sign_in(target, &client, &username).await;
    assert_eq!(started.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let code = target.latest_code(&client.pool_id, &username).await;
    let done = answer(
        target,
        &client,
        ChallengeNameType::EmailOtp,
        started.session().unwrap(),
        &username,
        ("EMAIL_OTP_CODE", &code),
    )
    .await
    .expect("email code");
    assert!(done.authentication_result().is_some());
}

#[tokio::test]
async fn wrong_mfa_codes_count_toward_the_lockout() {
    let target = Target::shared();
    let client = mfa_pool(
        target,
        "mfa-lock",
        UserPoolMfaType::Optional,
        true,
        false,
        false,
    )
    .await;
    let username = unique("lock");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("lock"))
        .await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let (secret, _) = set_up_token(target, tokens.access_token().unwrap()).await;
    ok(
        target
            .public_client()
            .set_user_mfa_preference()
            .access_token(tokens.access_token().unwrap())
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(true)
                    .build(),
            )
            .send()
            .await,
        "SetUserMFAPreference",
    );
    let started = sign_in(target, &client, &username).await;
    assert_eq!(
        started.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    let session = started.session().unwrap();
    let wrong = wrong_totp(&secret);
    for attempt in 1..=5 {
        let refused = answer(
            target,
            &client,
            ChallengeNameType::SoftwareTokenMfa,
            session,
            &username,
            ("SOFTWARE_TOKEN_MFA_CODE", &wrong),
        )
        .await;
        assert_eq!(
            refused.err().as_deref(),
            Some("CodeMismatchException"),
            "attempt {attempt}"
        );
    }
    // The fifth failure locked the account for a second, each later one for twice as long: as
    // with passwords (self_service.rs), keep failing until a request lands inside a lock.
    let mut locked = false;
    for _ in 6..=20 {
        let refused = answer(
            target,
            &client,
            ChallengeNameType::SoftwareTokenMfa,
            session,
            &username,
            ("SOFTWARE_TOKEN_MFA_CODE", &wrong),
        )
        .await;
        match refused.err().as_deref() {
            Some("NotAuthorizedException") => {
                locked = true;
                break;
            }
            other => assert_eq!(other, Some("CodeMismatchException")),
        }
    }
    assert!(locked, "wrong MFA codes never locked the account");
}

#[tokio::test]
async fn an_mfa_session_belongs_to_its_challenge_and_user() {
    let target = Target::shared();
    let client = mfa_pool(
        target,
        "mfa-session",
        UserPoolMfaType::On,
        true,
        false,
        false,
    )
    .await;
    let username = unique("sess");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("sess"))
        .await;
    let other = unique("other");
    target
        .sign_up_confirmed(&client, &other, PASSWORD, &unique_email("other"))
        .await;
    let started = sign_in(target, &client, &username).await;
    let session = started.session().unwrap();
    // The MFA_SETUP session answered before any token was verified: refused.
    let early = answer(
        target,
        &client,
        ChallengeNameType::MfaSetup,
        session,
        &username,
        ("SESSION", session),
    )
    .await;
    assert_eq!(early.err().as_deref(), Some("NotAuthorizedException"));
    // Another user's name, another challenge, a forged session: refused.
    let started = sign_in(target, &client, &username).await;
    let session = started.session().unwrap();
    let wrong_user = answer(
        target,
        &client,
        ChallengeNameType::MfaSetup,
        session,
        &other,
        ("SESSION", session),
    )
    .await;
    assert_eq!(wrong_user.err().as_deref(), Some("NotAuthorizedException"));
    let wrong_step = answer(
        target,
        &client,
        ChallengeNameType::SoftwareTokenMfa,
        session,
        &username,
        ("SOFTWARE_TOKEN_MFA_CODE", "123456"),
    )
    .await;
    assert_eq!(wrong_step.err().as_deref(), Some("NotAuthorizedException"));
    let forged = target
        .public_client()
        .associate_software_token()
        .session(format!(
            "{}.forged-session-value-0123456789",
            client.pool_id
        ))
        .send()
        .await;
    assert_eq!(
        service_error(forged, "AssociateSoftwareToken with a forged session").code(),
        Some("NotAuthorizedException")
    );
}

// ------------------------------------------------------------------ the hosted UI

const CALLBACK: &str = "http://localhost:8977/callback";

/// A confidential hosted-UI client (authorization code flow; public clients would need PKCE).
async fn hosted_ui_client(target: &Target, pool_id: &str) -> AppClient {
    use cognate_tests::cognito::types::{ExplicitAuthFlowsType, OAuthFlowType};
    target
        .create_client(pool_id, |b| {
            b.generate_secret(true)
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

/// The sign-in page, submitted with the user's password: the page that follows.
async fn ui_sign_in(
    browser: &mut cognate_tests::form_browser::Browser,
    query: &str,
    username: &str,
) -> cognate_tests::form_browser::Page {
    let login = browser.get(&format!("/login?{query}")).await;
    assert_eq!(login.status, 200);
    browser
        .submit(&login, &[("username", username), ("password", PASSWORD)])
        .await
}

#[tokio::test]
async fn hosted_ui_totp_set_up_with_a_qr_code_then_a_totp_code() {
    use cognate_tests::form_browser::{Browser, hidden_fields, query_param};
    let target = Target::shared();
    let client = mfa_pool(target, "mfa-ui", UserPoolMfaType::On, true, false, false).await;
    let web = hosted_ui_client(target, &client.pool_id).await;
    let (username, _) = user_with_contacts(target, &client, "ui").await;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid&state=st",
        web.id
    );
    let mut browser = Browser::new(target);
    let setup = ui_sign_in(&mut browser, &query, &username).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(setup.body.contains("Set up an authenticator app"));
    let hidden = hidden_fields(&setup.body);
    let secret = hidden
        .iter()
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.clone())
        .expect("the key");
    assert_eq!(secret.len(), 32);
    // The QR code is an image generated by the server (a data: URI), not a third party's.
    assert!(
        setup
            .body
            .contains("<img class=\"qr\" src=\"data:image/svg+xml;base64,"),
        "{}",
        setup.body
    );
    let wrong = browser
        .submit(&setup, &[("code", &wrong_totp(&secret))])
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("role=\"alert\""));
    let step = now_step();
    let done = browser
        .submit(&wrong, &[("code", &totp(&secret, step))])
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    let location = done.location.unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert!(query_param(&location, "code").is_some());

    // The user now has an authenticator: a fresh browser is asked for its code.
    let mut browser = Browser::new(target);
    let code_page = ui_sign_in(&mut browser, &query, &username).await;
    assert_eq!(code_page.status, 200);
    assert!(
        code_page
            .body
            .contains("Enter the code from your authenticator app.")
    );
    let done = browser
        .submit(&code_page, &[("code", &totp(&secret, step + 1))])
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.location.unwrap().starts_with(CALLBACK));
}
