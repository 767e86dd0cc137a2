//! Remembered devices through the API: offers in sign-in answers, ConfirmDevice, the device
//! operations and their Admin forms, device-bound refresh.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::{World, claims};
use crate::error::ErrorKind;
use crate::ports::Clock as _;

const VERIFIER: &str = "AAECAwQFBgcICQoLDA0ODw==";

fn device_pool(world: &World, on_prompt: bool) -> (String, String) {
    let pool = world.pool(json!({"DeviceConfiguration": {
        "ChallengeRequiredOnNewDevice": true,
        "DeviceOnlyRememberedOnUserPrompt": on_prompt,
    }}));
    let client = world.client(&pool, json!({}));
    (pool, client)
}

fn new_device(result: &Value) -> (String, String) {
    let metadata = &result["AuthenticationResult"]["NewDeviceMetadata"];
    (
        metadata["DeviceKey"]
            .as_str()
            .expect("DeviceKey")
            .to_string(),
        metadata["DeviceGroupKey"]
            .as_str()
            .expect("DeviceGroupKey")
            .to_string(),
    )
}

fn confirm(world: &World, access: &Value, device_key: &str) -> Result<Value, crate::Error> {
    world.call(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": device_key, "DeviceName": "laptop",
               "DeviceSecretVerifierConfig": {"PasswordVerifier": VERIFIER, "Salt": "c2FsdA=="}}),
    )
}

fn remembered_status(device: &Value) -> String {
    device["DeviceAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "dev:device_remembered_status")
        .expect("remembered status")["Value"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_pool_without_device_configuration_offers_no_device() {
    let world = World::new();
    let pool = world.pool(json!({}));
    let client = world.client(&pool, json!({}));
    let result = world.confirmed(&pool, &client, "ann");
    assert!(
        result["AuthenticationResult"]
            .get("NewDeviceMetadata")
            .is_none()
    );
    let access = result["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    assert!(claims(access).get("device_key").is_none());
}

#[test]
fn a_device_is_offered_confirmed_remembered_listed_and_forgotten() {
    let world = World::new();
    let (pool, client) = device_pool(&world, true);
    let result = world.confirmed(&pool, &client, "ann");
    let (device_key, group_key) = new_device(&result);
    assert!(device_key.starts_with("us-east-1_"), "{device_key}");
    assert!(
        group_key.starts_with('-') && group_key.len() == 10,
        "{group_key}"
    );
    let access = &result["AuthenticationResult"]["AccessToken"];
    assert_eq!(
        claims(access.as_str().unwrap())["device_key"],
        json!(device_key)
    );
    // Not confirmed yet: not a device of the user.
    let e = world.err(
        "GetDevice",
        json!({"AccessToken": access, "DeviceKey": device_key}),
    );
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);

    // DeviceOnlyRememberedOnUserPrompt: confirmed but not remembered until the user says so.
    let answer = confirm(&world, access, &device_key).unwrap();
    assert_eq!(answer, json!({"UserConfirmationNecessary": true}));
    let got = world.ok(
        "GetDevice",
        json!({"AccessToken": access, "DeviceKey": device_key}),
    );
    assert_eq!(got["Device"]["DeviceKey"], json!(device_key));
    assert_eq!(remembered_status(&got["Device"]), "not_remembered");
    world.ok(
        "UpdateDeviceStatus",
        json!({"AccessToken": access, "DeviceKey": device_key, "DeviceRememberedStatus": "remembered"}),
    );
    let got = world.ok(
        "AdminGetDevice",
        json!({"UserPoolId": pool, "Username": "ann", "DeviceKey": device_key}),
    );
    assert_eq!(remembered_status(&got["Device"]), "remembered");
    let names: Vec<&Value> = got["Device"]["DeviceAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["Name"] == "device_name")
        .collect();
    assert_eq!(names, [&json!({"Name": "device_name", "Value": "laptop"})]);

    let listed = world.ok("ListDevices", json!({"AccessToken": access}));
    assert_eq!(listed["Devices"].as_array().unwrap().len(), 1);
    assert!(listed.get("PaginationToken").is_none());
    let listed = world.ok(
        "AdminListDevices",
        json!({"UserPoolId": pool, "Username": "ann"}),
    );
    assert_eq!(listed["Devices"][0]["DeviceKey"], json!(device_key));

    world.ok(
        "ForgetDevice",
        json!({"AccessToken": access, "DeviceKey": device_key}),
    );
    let e = world.err(
        "GetDevice",
        json!({"AccessToken": access, "DeviceKey": device_key}),
    );
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
    // The offer was answered: a forgotten device cannot be confirmed again with its old key.
    assert_eq!(
        confirm(&world, access, &device_key).unwrap_err().kind,
        ErrorKind::ResourceNotFound
    );
    assert_eq!(
        world.ok("ListDevices", json!({"AccessToken": access}))["Devices"],
        json!([])
    );
}

#[test]
fn without_the_prompt_setting_confirm_device_remembers_at_once() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    let result = world.confirmed(&pool, &client, "ann");
    let (device_key, _) = new_device(&result);
    let access = &result["AuthenticationResult"]["AccessToken"];
    let answer = confirm(&world, access, &device_key).unwrap();
    assert_eq!(answer, json!({"UserConfirmationNecessary": false}));
    let got = world.ok(
        "GetDevice",
        json!({"AccessToken": access, "DeviceKey": device_key}),
    );
    assert_eq!(remembered_status(&got["Device"]), "remembered");
}

#[test]
fn another_users_or_an_expired_offer_cannot_be_confirmed() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    let ann = world.confirmed(&pool, &client, "ann");
    let bob = world.confirmed(&pool, &client, "bob");
    let (anns_device, _) = new_device(&ann);
    let bobs_access = &bob["AuthenticationResult"]["AccessToken"];
    assert_eq!(
        confirm(&world, bobs_access, &anns_device).unwrap_err().kind,
        ErrorKind::ResourceNotFound
    );
    // A public device operation never acts for a named user without their token.
    let e = world.err(
        "GetDevice",
        json!({"UserPoolId": pool, "Username": "ann", "DeviceKey": anns_device}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);

    world.env.clock.advance(crate::device::OFFER_TTL_MILLIS);
    let again = world.sign_in(&client, "ann", "Passw0rd!").unwrap();
    let access = &again["AuthenticationResult"]["AccessToken"];
    assert_eq!(
        confirm(&world, access, &anns_device).unwrap_err().kind,
        ErrorKind::ResourceNotFound
    );
    let bad = world.err(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": "us-east-1_../../u/bob",
               "DeviceSecretVerifierConfig": {"PasswordVerifier": VERIFIER, "Salt": "c2FsdA=="}}),
    );
    assert_eq!(bad.kind, ErrorKind::InvalidParameter);
}

#[test]
fn refreshed_tokens_keep_their_device_and_a_wrong_device_key_is_refused() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    let result = world.confirmed(&pool, &client, "ann");
    let (device_key, _) = new_device(&result);
    let refresh_token = &result["AuthenticationResult"]["RefreshToken"];
    let refreshed = world.ok(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": refresh_token, "DEVICE_KEY": device_key}}),
    );
    let access = refreshed["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    assert_eq!(claims(access)["device_key"], json!(device_key));
    assert!(
        refreshed["AuthenticationResult"]
            .get("NewDeviceMetadata")
            .is_none()
    );
    let e = world.err(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": refresh_token,
                                  "DEVICE_KEY": "us-east-1_00000000-0000-4000-8000-000000000000"}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
}

#[test]
fn devices_page_by_limit() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    world.confirmed(&pool, &client, "ann");
    let mut keys = Vec::new();
    let mut access = Value::Null;
    for _ in 0..3 {
        let result = world.sign_in(&client, "ann", "Passw0rd!").unwrap();
        access = result["AuthenticationResult"]["AccessToken"].clone();
        let (device_key, _) = new_device(&result);
        confirm(&world, &access, &device_key).unwrap();
        keys.push(device_key);
    }
    keys.sort();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let mut body = json!({"AccessToken": access, "Limit": 2});
        if let Some(t) = &token {
            body["PaginationToken"] = json!(t);
        }
        let page = world.ok("ListDevices", body);
        let devices = page["Devices"].as_array().unwrap();
        assert!(devices.len() <= 2);
        seen.extend(
            devices
                .iter()
                .map(|d| d["DeviceKey"].as_str().unwrap().to_string()),
        );
        match page.get("PaginationToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, keys);
}

/// A client's device secret and its ConfirmDevice verifier config, as amazon-cognito-identity-js
/// computes them (base64 of the padded salt and verifier bytes).
fn device_secret(device_key: &str, group_key: &str) -> (String, Value) {
    let password = "device-secret-from-the-client";
    let verifier = crate::srp::device_verifier(group_key, device_key, password, [7u8; 16]);
    let config = json!({
        "Salt": crate::codec::b64(&hex::decode(&verifier.salt).unwrap()),
        "PasswordVerifier": crate::codec::b64(&hex::decode(&verifier.v).unwrap()),
    });
    (password.to_string(), config)
}

/// Answers DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER as a client would; `tamper` spoils the
/// signature. Returns the final answer (or error).
fn prove_device(
    world: &World,
    client: &str,
    challenge: &Value,
    device_key: &str,
    group_key: &str,
    secret: &str,
    tamper: bool,
) -> Result<Value, crate::Error> {
    prove_device_as(
        world, client, challenge, device_key, group_key, secret, tamper, true,
    )
}

/// [`prove_device`], optionally without the `Session` members (as pycognito answers).
#[allow(clippy::too_many_arguments)]
fn prove_device_as(
    world: &World,
    client: &str,
    challenge: &Value,
    device_key: &str,
    group_key: &str,
    secret: &str,
    tamper: bool,
    send_session: bool,
) -> Result<Value, crate::Error> {
    let session = |s: &Value| if send_session { s.clone() } else { Value::Null };
    assert_eq!(challenge["ChallengeName"], json!("DEVICE_SRP_AUTH"));
    let a = [9u8; 32];
    let srp_a = crate::srp::client_public(&a).unwrap();
    let verifier_challenge = world.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "DEVICE_SRP_AUTH",
               "Session": session(&challenge["Session"]),
               "ChallengeResponses": {"USERNAME": "ann", "DEVICE_KEY": device_key, "SRP_A": srp_a}}),
    );
    assert_eq!(
        verifier_challenge["ChallengeName"],
        json!("DEVICE_PASSWORD_VERIFIER")
    );
    let p = &verifier_challenge["ChallengeParameters"];
    assert_eq!(p["DEVICE_KEY"], json!(device_key));
    let key = crate::srp::client_key(
        &a,
        p["SRP_B"].as_str().unwrap(),
        p["SALT"].as_str().unwrap(),
        group_key,
        device_key,
        secret,
    )
    .unwrap();
    let block = crate::codec::b64_decode(p["SECRET_BLOCK"].as_str().unwrap()).unwrap();
    let timestamp = "Tue Feb 1 03:04:05 UTC 2022";
    let mut signature = crate::srp::signature(&key, group_key, device_key, &block, timestamp);
    if tamper {
        signature[0] ^= 1;
    }
    world.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "DEVICE_PASSWORD_VERIFIER",
               "Session": session(&verifier_challenge["Session"]),
               "ChallengeResponses": {"USERNAME": "ann", "DEVICE_KEY": device_key,
                   "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                   "PASSWORD_CLAIM_SIGNATURE": crate::codec::b64(&signature),
                   "TIMESTAMP": timestamp}}),
    )
}

#[test]
fn a_confirmed_device_proves_itself_with_device_srp() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    let first = world.confirmed(&pool, &client, "ann");
    let (device_key, group_key) = new_device(&first);
    let (secret, config) = device_secret(&device_key, &group_key);
    world.ok(
        "ConfirmDevice",
        json!({"AccessToken": first["AuthenticationResult"]["AccessToken"],
               "DeviceKey": device_key, "DeviceSecretVerifierConfig": config}),
    );
    let sign_in_on_device = || {
        world.ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!", "DEVICE_KEY": device_key}}),
        )
    };

    let challenge = sign_in_on_device();
    let done = prove_device(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        &secret,
        false,
    )
    .unwrap();
    let result = &done["AuthenticationResult"];
    let access = result["AccessToken"].as_str().unwrap();
    assert_eq!(claims(access)["device_key"], json!(device_key));
    assert!(result.get("NewDeviceMetadata").is_none(), "{result}");

    // pycognito answers both steps without a Session.
    let challenge = sign_in_on_device();
    let done = prove_device_as(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        &secret,
        false,
        false,
    )
    .unwrap();
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    // Without a proved first factor there is no device session to answer.
    let srp_a = crate::srp::client_public(&[9u8; 32]).unwrap();
    let e = world.err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "DEVICE_SRP_AUTH",
               "ChallengeResponses": {"USERNAME": "ann", "DEVICE_KEY": device_key, "SRP_A": srp_a}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);

    // A wrong proof is a wrong password, and counts toward the lockout.
    let challenge = sign_in_on_device();
    let e = prove_device(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        &secret,
        true,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    let user = world.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ann"}),
    );
    assert_eq!(user["Username"], json!("ann"));

    // A device secret the device does not have proves nothing.
    let challenge = sign_in_on_device();
    let e = prove_device(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        "guess",
        false,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);

    // A forgotten device is a stranger again: a new device key is offered.
    world.ok(
        "AdminForgetDevice",
        json!({"UserPoolId": pool, "Username": "ann", "DeviceKey": device_key}),
    );
    let again = sign_in_on_device();
    assert!(again.get("ChallengeName").is_none(), "{again}");
    let (offered, _) = new_device(&again);
    assert_ne!(offered, device_key);
}

#[test]
fn a_device_verifier_session_is_single_use() {
    let world = World::new();
    let (pool, client) = device_pool(&world, false);
    let first = world.confirmed(&pool, &client, "ann");
    let (device_key, group_key) = new_device(&first);
    let (_, config) = device_secret(&device_key, &group_key);
    world.ok(
        "ConfirmDevice",
        json!({"AccessToken": first["AuthenticationResult"]["AccessToken"],
               "DeviceKey": device_key, "DeviceSecretVerifierConfig": config}),
    );
    let challenge = world.ok(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!", "DEVICE_KEY": device_key}}),
    );
    let srp_a = crate::srp::client_public(&[9u8; 32]).unwrap();
    let answer = json!({"ClientId": client, "ChallengeName": "DEVICE_SRP_AUTH",
        "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": "ann", "DEVICE_KEY": device_key, "SRP_A": srp_a}});
    world.ok("RespondToAuthChallenge", answer.clone());
    let e = world.err("RespondToAuthChallenge", answer);
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
}

#[test]
fn a_remembered_device_skips_mfa_and_a_forgotten_one_does_not() {
    let world = World::new();
    let (pool, client) = device_pool(&world, true);
    world.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let first = world.confirmed(&pool, &client, "ann");
    let access = first["AuthenticationResult"]["AccessToken"].clone();
    let (device_key, group_key) = new_device(&first);
    // ann turns on an authenticator app.
    let secret = world.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_string();
    let key = crate::totp::decode_secret(&secret).unwrap();
    let code_now = || {
        let step = crate::totp::step_of(world.env.clock.now_millis() / 1000);
        crate::totp::code_at(&key, step).unwrap()
    };
    world.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": code_now()}),
    );
    world.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    world.env.clock.advance(30_000);
    let (device_secret, config) = device_secret(&device_key, &group_key);
    world.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": device_key, "DeviceSecretVerifierConfig": config}),
    );
    let sign_in_on_device = || {
        world.ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!", "DEVICE_KEY": device_key}}),
        )
    };

    // Confirmed but not remembered: the device proves itself, then MFA all the same.
    let challenge = sign_in_on_device();
    let next = prove_device(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        &device_secret,
        false,
    )
    .unwrap();
    assert_eq!(next["ChallengeName"], json!("SOFTWARE_TOKEN_MFA"), "{next}");
    let done = world.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": next["Session"],
               "ChallengeResponses": {"USERNAME": "ann", "SOFTWARE_TOKEN_MFA_CODE": code_now(),
                                      "DEVICE_KEY": device_key}}),
    );
    let result = &done["AuthenticationResult"];
    assert_eq!(
        claims(result["AccessToken"].as_str().unwrap())["device_key"],
        json!(device_key)
    );
    assert!(result.get("NewDeviceMetadata").is_none(), "{result}");

    // Remembered (ChallengeRequiredOnNewDevice is on): the device stands in for MFA.
    world.ok(
        "AdminUpdateDeviceStatus",
        json!({"UserPoolId": pool, "Username": "ann", "DeviceKey": device_key,
               "DeviceRememberedStatus": "remembered"}),
    );
    let challenge = sign_in_on_device();
    let done = prove_device(
        &world,
        &client,
        &challenge,
        &device_key,
        &group_key,
        &device_secret,
        false,
    )
    .unwrap();
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );

    // Forgotten: a stranger again, MFA straight after the password.
    world.ok(
        "AdminForgetDevice",
        json!({"UserPoolId": pool, "Username": "ann", "DeviceKey": device_key}),
    );
    let challenge = sign_in_on_device();
    assert_eq!(
        challenge["ChallengeName"],
        json!("SOFTWARE_TOKEN_MFA"),
        "{challenge}"
    );
}
