//! USER_SRP_AUTH in-process: the client's side from `crate::srp`, the server through the API.

use alloc::string::{String, ToString};

use futures_util::FutureExt;
use serde_json::{Value, json};

use super::World;
use crate::error::ErrorKind;
use crate::srp;

const SRP_FLOWS: [&str; 3] = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// The first call: the challenge.
fn initiate(w: &World, client: &str, login: &str, a: &[u8]) -> Result<Value, crate::Error> {
    w.call(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_SRP_AUTH",
               "AuthParameters": {"USERNAME": login, "SRP_A": srp::client_public(a).unwrap()}}),
    )
}

/// The answer to a PASSWORD_VERIFIER challenge, as pycognito and identity-js compute it.
pub(super) fn answer(w: &World, pool: &str, challenge: &Value, a: &[u8], password: &str) -> Value {
    assert_eq!(challenge["ChallengeName"], json!("PASSWORD_VERIFIER"));
    let p = &challenge["ChallengeParameters"];
    let user_id = p["USER_ID_FOR_SRP"].as_str().unwrap();
    let key = srp::client_key(
        a,
        p["SRP_B"].as_str().unwrap(),
        p["SALT"].as_str().unwrap(),
        srp::pool_name(pool),
        user_id,
        password,
    )
    .unwrap();
    let now = w.env.clock.now_millis() / 1000;
    let timestamp = srp::format_timestamp(now as i64).unwrap();
    let block = crate::codec::b64_decode(p["SECRET_BLOCK"].as_str().unwrap()).unwrap();
    let signature = srp::signature(&key, srp::pool_name(pool), user_id, &block, &timestamp);
    json!({"USERNAME": p["USERNAME"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
           "TIMESTAMP": timestamp, "PASSWORD_CLAIM_SIGNATURE": crate::codec::b64(&signature)})
}

fn respond(w: &World, client: &str, responses: &Value) -> Result<Value, crate::Error> {
    w.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "PASSWORD_VERIFIER",
               "ChallengeResponses": responses}),
    )
}

fn srp_sign_in(
    w: &World,
    pool: &str,
    client: &str,
    login: &str,
    password: &str,
) -> Result<Value, crate::Error> {
    let a = [0x5a; 32];
    let challenge = initiate(w, client, login, &a)?;
    respond(w, client, &answer(w, pool, &challenge, &a, password))
}

fn confirmed_user(w: &World, pool: &str, client: &str, username: &str) {
    w.sign_up(client, username, &alloc::format!("{username}@example.com"));
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": username}),
    );
}

fn user(w: &World, pool: &str, username: &str) -> crate::user::UserRecord {
    let (record, _) = crate::pool::load_pool(&w.env, pool)
        .now_or_never()
        .unwrap()
        .unwrap();
    crate::user::load(&w.env, &record, username)
        .now_or_never()
        .unwrap()
        .unwrap()
        .unwrap()
        .0
}

use crate::ports::Clock as _;

#[test]
fn srp_sign_in_issues_tokens_and_a_secret_block_is_single_use() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "Dana");
    assert!(user(&w, &pool, "dana").srp_verifier.is_some());

    let a = [7u8; 32];
    let challenge = initiate(&w, &client, "dana", &a).unwrap();
    // Cognito's parameters, no Session (the secret block carries the state).
    let params = challenge["ChallengeParameters"].as_object().unwrap();
    let mut names: alloc::vec::Vec<&str> = params.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SALT",
            "SECRET_BLOCK",
            "SRP_B",
            "USERNAME",
            "USER_ID_FOR_SRP"
        ]
    );
    assert_eq!(params["USER_ID_FOR_SRP"], json!("Dana"));
    assert_eq!(params["USERNAME"], json!("Dana"));
    assert!(challenge.get("Session").is_none());

    let responses = answer(&w, &pool, &challenge, &a, "Passw0rd!");
    let out = respond(&w, &client, &responses).unwrap();
    let access = out["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    assert_eq!(super::claims(access)["username"], json!("Dana"));
    // The same secret block again: used up.
    let replay = respond(&w, &client, &responses).unwrap_err();
    assert_eq!(replay.kind, ErrorKind::NotAuthorized);
}

#[test]
fn a_wrong_password_and_an_unknown_user_answer_as_for_a_password() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "erin");
    let wrong = srp_sign_in(&w, &pool, &client, "erin", "Wrong-passw0rd").unwrap_err();
    let unknown = srp_sign_in(&w, &pool, &client, "nobody", "Passw0rd!").unwrap_err();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.kind, ErrorKind::NotAuthorized);
    assert_eq!(wrong.message, "Incorrect username or password.");
    // An unknown user's salt is the same each time, as a real one's is.
    let first = initiate(&w, &client, "nobody", &[1; 32]).unwrap();
    let second = initiate(&w, &client, "nobody", &[2; 32]).unwrap();
    assert_eq!(
        first["ChallengeParameters"]["SALT"],
        second["ChallengeParameters"]["SALT"]
    );
    // Without PreventUserExistenceErrors, Cognito says so at once.
    let legacy = w.client(
        &pool,
        json!({"ExplicitAuthFlows": SRP_FLOWS, "PreventUserExistenceErrors": "LEGACY"}),
    );
    assert_eq!(
        initiate(&w, &legacy, "nobody", &[1; 32]).unwrap_err().kind,
        ErrorKind::UserNotFound
    );
}

#[test]
fn wrong_signatures_count_toward_the_lockout() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "fay");
    for _ in 0..crate::auth::LOCKOUT_THRESHOLD {
        srp_sign_in(&w, &pool, &client, "fay", "Wrong-passw0rd").unwrap_err();
    }
    let locked = w.sign_in(&client, "fay", "Passw0rd!").unwrap_err();
    assert_eq!(locked.message, "Password attempts exceeded");
    let locked = srp_sign_in(&w, &pool, &client, "fay", "Passw0rd!").unwrap_err();
    assert_eq!(locked.message, "Password attempts exceeded");
    w.env.clock.advance(crate::auth::MAX_LOCKOUT_MILLIS);
    assert!(srp_sign_in(&w, &pool, &client, "fay", "Passw0rd!").is_ok());
    assert_eq!(user(&w, &pool, "fay").failed_sign_ins, 0);
}

#[test]
fn bad_a_and_malformed_answers_are_invalid_parameters() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "gus");
    let long = "1".repeat(2000);
    for a in ["0", srp::N_HEX, "12xz", long.as_str()] {
        let e = w.err(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_SRP_AUTH",
                       "AuthParameters": {"USERNAME": "gus", "SRP_A": a}}),
        );
        assert_eq!(e.kind, ErrorKind::InvalidParameter, "{a:.20}");
    }
    let missing = w.err(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "gus"}}),
    );
    assert_eq!(missing.message, "Missing required parameter SRP_A");
    // A zero-padded day (and other spellings) in TIMESTAMP.
    let a = [3u8; 32];
    let challenge = initiate(&w, &client, "gus", &a).unwrap();
    let mut responses = answer(&w, &pool, &challenge, &a, "Passw0rd!");
    let good = responses["TIMESTAMP"].clone();
    for bad in [
        "Tue Feb 01 03:04:05 UTC 2022",
        "1700000000",
        "Tue Feb 1 03:04:05 2022",
    ] {
        responses["TIMESTAMP"] = json!(bad);
        assert_eq!(
            respond(&w, &client, &responses).unwrap_err().kind,
            ErrorKind::InvalidParameter
        );
    }
    // A refused timestamp left the secret block usable.
    responses["TIMESTAMP"] = good;
    assert!(respond(&w, &client, &responses).is_ok());
}

#[test]
fn a_user_without_a_verifier_gets_one_at_the_next_password_sign_in() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "hal");
    // As a user whose password was set before verifiers were stored.
    let (record, _) = crate::pool::load_pool(&w.env, &pool)
        .now_or_never()
        .unwrap()
        .unwrap();
    crate::user::modify(&w.env, &record, "hal", |u| {
        u.srp_verifier = None;
        Ok(crate::user::Step::Save(()))
    })
    .now_or_never()
    .unwrap()
    .unwrap();
    let refused = srp_sign_in(&w, &pool, &client, "hal", "Passw0rd!").unwrap_err();
    assert_eq!(refused.kind, ErrorKind::NotAuthorized);
    assert_eq!(refused.message, "Incorrect username or password.");
    let events = w.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "hal"}),
    );
    let reason = events["AuthEvents"][0]["CognateReason"].as_str().unwrap();
    assert!(reason.contains("no SRP verifier"), "{reason}");
    // Not a wrong password: no lockout count.
    assert_eq!(user(&w, &pool, "hal").failed_sign_ins, 0);
    w.sign_in(&client, "hal", "Passw0rd!").unwrap();
    assert!(user(&w, &pool, "hal").srp_verifier.is_some());
    assert!(srp_sign_in(&w, &pool, &client, "hal", "Passw0rd!").is_ok());
}

#[test]
fn every_password_setter_stores_a_verifier() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    // AdminCreateUser's temporary password: SRP works and leads to NEW_PASSWORD_REQUIRED.
    w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ivy", "TemporaryPassword": "Temp-passw0rd",
               "MessageAction": "SUPPRESS"}),
    );
    let out = srp_sign_in(&w, &pool, &client, "ivy", "Temp-passw0rd").unwrap();
    assert_eq!(out["ChallengeName"], json!("NEW_PASSWORD_REQUIRED"));
    let session = out["Session"].as_str().unwrap();
    let before = user(&w, &pool, "ivy").srp_verifier.unwrap();
    w.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "ivy", "NEW_PASSWORD": "New-passw0rd1"}}),
    );
    let after = user(&w, &pool, "ivy").srp_verifier.unwrap();
    assert_ne!(before, after);
    assert!(srp_sign_in(&w, &pool, &client, "ivy", "New-passw0rd1").is_ok());
    // AdminSetUserPassword.
    w.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "ivy", "Password": "Admin-passw0rd1", "Permanent": true}),
    );
    assert!(srp_sign_in(&w, &pool, &client, "ivy", "New-passw0rd1").is_err());
    let tokens = srp_sign_in(&w, &pool, &client, "ivy", "Admin-passw0rd1").unwrap();
    // ChangePassword.
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    w.ok(
        "ChangePassword",
        json!({"AccessToken": access, "PreviousPassword": "Admin-passw0rd1",
               "ProposedPassword": "Changed-passw0rd1"}),
    );
    assert!(srp_sign_in(&w, &pool, &client, "ivy", "Changed-passw0rd1").is_ok());
    // ForgotPassword / ConfirmForgotPassword.
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "ivy", "UserAttributes": [
            {"Name": "email", "Value": "ivy@example.com"}, {"Name": "email_verified", "Value": "true"}]}),
    );
    w.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "ivy"}),
    );
    let code = w.code_for("ivy");
    w.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "ivy", "ConfirmationCode": code,
               "Password": "Reset-passw0rd1"}),
    );
    assert!(srp_sign_in(&w, &pool, &client, "ivy", "Reset-passw0rd1").is_ok());
}

#[test]
fn email_usernames_sign_in_with_the_internal_user_id() {
    let w = World::new();
    let pool = w.pool(json!({"UsernameAttributes": ["email"]}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    let sub = w.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "jo@example.com", "Password": "Passw0rd!"}),
    )["UserSub"]
        .as_str()
        .unwrap()
        .to_string();
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "jo@example.com"}),
    );
    let a = [9u8; 32];
    let challenge = initiate(&w, &client, "jo@example.com", &a).unwrap();
    let internal = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
        .as_str()
        .unwrap();
    assert_eq!(internal, user(&w, &pool, &sub).username);
    assert_ne!(internal, "jo@example.com");
    let out = respond(&w, &client, &answer(&w, &pool, &challenge, &a, "Passw0rd!")).unwrap();
    assert!(out["AuthenticationResult"]["IdToken"].is_string());
}

#[test]
fn the_pool_switch_stores_no_verifier_and_refuses_srp() {
    let w = World::new();
    let pool = w.pool(json!({"CognateSrp": "DISABLED"}));
    let client = w.client(&pool, json!({"ExplicitAuthFlows": SRP_FLOWS}));
    confirmed_user(&w, &pool, &client, "kim");
    assert!(user(&w, &pool, "kim").srp_verifier.is_none());
    w.sign_in(&client, "kim", "Passw0rd!").unwrap();
    assert!(user(&w, &pool, "kim").srp_verifier.is_none());
    let refused = initiate(&w, &client, "kim", &[4; 32]).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidParameter);
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(described["UserPool"]["CognateSrp"], json!("DISABLED"));
    assert_eq!(
        w.err(
            "CreateUserPool",
            json!({"PoolName": "x", "CognateSrp": "MAYBE"})
        )
        .kind,
        ErrorKind::InvalidParameter
    );
}

#[test]
fn the_client_must_allow_srp() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let e = initiate(&w, &client, "anyone", &[4; 32]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    assert_eq!(e.message, "USER_SRP_AUTH flow not enabled for this client");
}
