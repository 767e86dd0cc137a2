//! Choice-based sign-in in-process: the pool's first factors and passkey settings, USER_AUTH's
//! SELECT_CHALLENGE and its answers (PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::World;
use crate::error::ErrorKind;

#[test]
fn sign_in_policy_and_webauthn_configuration_round_trip() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["Policies"]["SignInPolicy"],
        json!({"AllowedFirstAuthFactors": ["PASSWORD"]})
    );
    let mfa = w.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(
        mfa["WebAuthnConfiguration"],
        json!({"UserVerification": "preferred", "FactorConfiguration": "SINGLE_FACTOR"})
    );

    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"],
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]}}}),
    );
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"])
    );
    let set = w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com", "UserVerification": "required"}}),
    );
    assert_eq!(
        set["WebAuthnConfiguration"],
        json!({"RelyingPartyId": "auth.example.com", "UserVerification": "required", "FactorConfiguration": "SINGLE_FACTOR"})
    );
    // Left out of a later call, the passkey settings stay.
    let later = w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    assert_eq!(
        later["WebAuthnConfiguration"]["RelyingPartyId"],
        json!("auth.example.com")
    );

    let refused: Vec<(Value, &str)> = alloc::vec![
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SOFTWARE_TOKEN"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": []}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "FACE"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"WebAuthnConfiguration": {"RelyingPartyId": "https://auth.example.com"}}),
            "SetUserPoolMfaConfig"
        ),
        (
            json!({"WebAuthnConfiguration": {"UserVerification": "discouraged"}}),
            "SetUserPoolMfaConfig"
        ),
    ];
    for (extra, op) in refused {
        let mut body = json!({"UserPoolId": pool});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra.clone()) {
            b.extend(e);
        }
        assert_eq!(w.err(op, body).kind, ErrorKind::InvalidParameter, "{extra}");
    }
}

const FLOWS: [&str; 3] = [
    "ALLOW_USER_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// A pool allowing PASSWORD, EMAIL_OTP and WEB_AUTHN, a USER_AUTH client and a confirmed user
/// with a verified email address.
fn world(extra_pool: Value) -> (World, String, String) {
    let w = World::new();
    let mut body = json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]}}});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra_pool) {
        b.extend(e);
    }
    let pool = w.pool(body);
    let client = w.client(&pool, json!({"ExplicitAuthFlows": FLOWS}));
    w.sign_up(&client, "ada", "ada@example.com");
    let code = w.code_for("ada");
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "ada", "ConfirmationCode": code}),
    );
    (w, pool, client)
}

fn user_auth(w: &World, client: &str, params: Value) -> Result<Value, crate::Error> {
    w.call(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_AUTH", "AuthParameters": params}),
    )
}

fn respond(
    w: &World,
    client: &str,
    name: &str,
    session: &Value,
    responses: Value,
) -> Result<Value, crate::Error> {
    let mut body =
        json!({"ClientId": client, "ChallengeName": name, "ChallengeResponses": responses});
    if let Some(s) = session.as_str() {
        body["Session"] = json!(s);
    }
    w.call("RespondToAuthChallenge", body)
}

#[test]
fn select_challenge_offers_exactly_the_factors_the_user_can_use() {
    let (w, pool, client) = world(json!({}));
    let out = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    assert_eq!(out["ChallengeName"], json!("SELECT_CHALLENGE"));
    // No passkey yet: no WEB_AUTHN.
    assert_eq!(
        out["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"])
    );
    assert_eq!(out["ChallengeParameters"], json!({}));
    assert!(out["Session"].is_string());

    // A factor the pool does not allow is not offered, even preferred.
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"],
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}}}),
    );
    let out = user_auth(
        &w,
        &client,
        json!({"USERNAME": "ada", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    )
    .unwrap();
    assert_eq!(out["ChallengeName"], json!("SELECT_CHALLENGE"));
    assert_eq!(
        out["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );

    // The flow must be enabled on the client.
    let plain = w.client(&pool, json!({}));
    assert_eq!(
        user_auth(&w, &plain, json!({"USERNAME": "ada"}))
            .unwrap_err()
            .kind,
        ErrorKind::InvalidParameter
    );
}

#[test]
fn password_answers_sign_in_and_count_toward_the_lockout() {
    let (w, _pool, client) = world(json!({}));
    // Straight to PASSWORD.
    let out = user_auth(
        &w,
        &client,
        json!({"USERNAME": "ada", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": "Passw0rd!"}),
    )
    .unwrap();
    assert!(out["AuthenticationResult"]["AccessToken"].is_string());

    // Through SELECT_CHALLENGE; a wrong password first (the session is used up either way).
    let select = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let wrong = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "PASSWORD", "PASSWORD": "Wrong-passw0rd"}),
    )
    .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::NotAuthorized);
    let replay = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "PASSWORD", "PASSWORD": "Passw0rd!"}),
    )
    .unwrap_err();
    assert_eq!(replay.kind, ErrorKind::NotAuthorized);
    let select = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let out = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "PASSWORD", "PASSWORD": "Passw0rd!"}),
    )
    .unwrap();
    assert!(out["AuthenticationResult"]["IdToken"].is_string());

    // An answer that was not offered.
    let select = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let refused = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "WEB_AUTHN"}),
    )
    .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidParameter);
}

#[test]
fn password_srp_answer_leads_to_password_verifier() {
    let (w, pool, client) = world(json!({}));
    let a = [9u8; 32];
    let select = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let challenge = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "PASSWORD_SRP",
               "SRP_A": crate::srp::client_public(&a).unwrap()}),
    )
    .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("PASSWORD_VERIFIER"));
    let responses = super::srp::answer(&w, &pool, &challenge, &a, "Passw0rd!");
    let out = respond(&w, &client, "PASSWORD_VERIFIER", &Value::Null, responses).unwrap();
    assert!(out["AuthenticationResult"]["AccessToken"].is_string());
    // Preferred, with SRP_A in AuthParameters.
    let challenge = user_auth(
        &w,
        &client,
        json!({"USERNAME": "ada", "PREFERRED_CHALLENGE": "PASSWORD_SRP",
               "SRP_A": crate::srp::client_public(&a).unwrap()}),
    )
    .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("PASSWORD_VERIFIER"));
}

#[test]
fn email_otp_is_sent_masked_single_use_and_counted_by_the_lockout() {
    let (w, _pool, client) = world(json!({}));
    let sent_before = w.env.sender.count();
    let challenge = user_auth(
        &w,
        &client,
        json!({"USERNAME": "ada", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    )
    .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("EMAIL_OTP"));
    assert_eq!(
        challenge["ChallengeParameters"],
        json!({"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": "a***@e***"})
    );
    assert_eq!(w.env.sender.count(), sent_before + 1);
    let code = w.code_for("ada");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = respond(
        &w,
        &client,
        "EMAIL_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "EMAIL_OTP_CODE": wrong}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CodeMismatch);
    assert_eq!(super::failures(&w, "ada"), 1);
    let out = respond(
        &w,
        &client,
        "EMAIL_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "EMAIL_OTP_CODE": code}),
    )
    .unwrap();
    assert!(out["AuthenticationResult"]["AccessToken"].is_string());
    assert_eq!(super::failures(&w, "ada"), 0);
    // Single use.
    let again = respond(
        &w,
        &client,
        "EMAIL_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "EMAIL_OTP_CODE": code}),
    )
    .unwrap_err();
    assert_eq!(again.kind, ErrorKind::NotAuthorized);

    // Through SELECT_CHALLENGE, and the code expires with the session.
    let select = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let challenge = respond(
        &w,
        &client,
        "SELECT_CHALLENGE",
        &select["Session"],
        json!({"USERNAME": "ada", "ANSWER": "EMAIL_OTP"}),
    )
    .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("EMAIL_OTP"));
    let code = w.code_for("ada");
    w.env.clock.advance(16 * 60 * 1000);
    let late = respond(
        &w,
        &client,
        "EMAIL_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "EMAIL_OTP_CODE": code}),
    )
    .unwrap_err();
    assert_eq!(late.kind, ErrorKind::NotAuthorized);
}

#[test]
fn passwordless_factors_are_not_offered_when_mfa_is_required() {
    let (w, pool, client) = world(json!({}));
    w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let out = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    assert_eq!(
        out["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );
}

#[test]
fn an_unknown_user_gets_a_select_challenge_that_looks_the_same() {
    let (w, _pool, client) = world(json!({}));
    let known = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    let unknown = user_auth(&w, &client, json!({"USERNAME": "nobody"})).unwrap();
    assert_eq!(unknown["ChallengeName"], json!("SELECT_CHALLENGE"));
    let answer = |session: &Value, user: &str| {
        respond(
            &w,
            &client,
            "SELECT_CHALLENGE",
            session,
            json!({"USERNAME": user, "ANSWER": "PASSWORD", "PASSWORD": "Wrong-passw0rd"}),
        )
        .unwrap_err()
    };
    assert_eq!(
        answer(&known["Session"], "ada"),
        answer(&unknown["Session"], "nobody")
    );
}

#[test]
fn get_user_auth_factors_lists_what_the_user_set_up() {
    let (w, _pool, client) = world(json!({}));
    let tokens = w.sign_in(&client, "ada", "Passw0rd!").unwrap();
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let out = w.ok("GetUserAuthFactors", json!({"AccessToken": access}));
    assert_eq!(
        out,
        json!({"Username": "ada", "ConfiguredUserAuthFactors": ["PASSWORD", "EMAIL_OTP"]})
    );
    // Passkeys need the pool's relying party (no domain, none configured here).
    let err = w.err("StartWebAuthnRegistration", json!({"AccessToken": access}));
    assert_eq!(err.kind, ErrorKind::WebAuthnConfigurationMissing);
    let listed = w.ok("ListWebAuthnCredentials", json!({"AccessToken": access}));
    assert_eq!(listed, json!({"Credentials": []}));
    let err = w.err(
        "DeleteWebAuthnCredential",
        json!({"AccessToken": access, "CredentialId": "AAAA"}),
    );
    assert_eq!(err.kind, ErrorKind::ResourceNotFound);
}

#[test]
fn deleting_a_user_frees_their_passkeys() {
    use crate::store::{Expect, Store, keys};
    use futures_util::FutureExt;
    let (w, pool, _client) = world(json!({}));
    let record = w.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ada"}),
    );
    let sub = record["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == json!("sub"))
        .unwrap()["Value"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |key: String| {
        w.env
            .store
            .put(&key, b"{}", Expect::Absent)
            .now_or_never()
            .unwrap()
            .unwrap();
    };
    put(keys::passkey(&pool, &sub, "Y3JlZA"));
    put(keys::passkey_owner(&pool, "Y3JlZA"));
    w.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "ada"}),
    );
    let get = |key: String| w.env.store.get(&key).now_or_never().unwrap().unwrap();
    assert!(get(keys::passkey(&pool, &sub, "Y3JlZA")).is_none());
    assert!(get(keys::passkey_owner(&pool, "Y3JlZA")).is_none());
}

#[test]
fn sms_otp_needs_a_verified_phone_and_signs_in_with_admin_initiate_auth_too() {
    let (w, pool, client) = world(json!({}));
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"],
               "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sms"},
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}}}),
    );
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "ada", "UserAttributes": [
            {"Name": "phone_number", "Value": "+15555550123"}]}),
    );
    // An unverified phone number is not offered.
    let out = user_auth(&w, &client, json!({"USERNAME": "ada"})).unwrap();
    assert_eq!(
        out["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "ada", "UserAttributes": [
            {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    let out = w
        .call(
            "AdminInitiateAuth",
            json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_AUTH",
                   "AuthParameters": {"USERNAME": "ada"}}),
        )
        .unwrap();
    assert_eq!(
        out["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "SMS_OTP"])
    );
    let challenge = w
        .call(
            "AdminRespondToAuthChallenge",
            json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "SELECT_CHALLENGE",
                   "Session": out["Session"],
                   "ChallengeResponses": {"USERNAME": "ada", "ANSWER": "SMS_OTP"}}),
        )
        .unwrap();
    assert_eq!(challenge["ChallengeName"], json!("SMS_OTP"));
    assert_eq!(
        challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        json!("SMS")
    );
    let code = w.code_for("ada");
    // The MFA code's name does not answer it.
    let wrong_name = respond(
        &w,
        &client,
        "SMS_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "SMS_MFA_CODE": code}),
    )
    .unwrap_err();
    assert_eq!(wrong_name.kind, ErrorKind::InvalidParameter);
    let out = respond(
        &w,
        &client,
        "SMS_OTP",
        &challenge["Session"],
        json!({"USERNAME": "ada", "SMS_OTP_CODE": code}),
    )
    .unwrap();
    assert!(out["AuthenticationResult"]["AccessToken"].is_string());
}
