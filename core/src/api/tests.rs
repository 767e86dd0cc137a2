//! In-process scenarios on the memory store with a manual clock: the core's own ring of tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use futures_util::FutureExt;
use serde_json::{Value, json};

use super::{Ctx, dispatch};
use crate::config::Config;
use crate::error::ErrorKind;
use crate::http::Request;
use crate::service::Service;
use crate::store::Store;
use crate::testing::TestEnv;

mod activity;
mod devices;
mod phc_import;
mod srp;
mod user_auth;

struct World {
    env: TestEnv,
    config: Config,
}

impl World {
    fn new() -> Self {
        Self {
            env: TestEnv::new(),
            config: Config::new("http://cognate.test", "us-east-1"),
        }
    }
    /// An operation, authorised (admin ops bypass SigV4 here; the wire tests cover it).
    fn call(&self, op: &str, body: Value) -> Result<Value, crate::Error> {
        let ctx = Ctx {
            config: &self.config,
            env: &self.env,
            region: "us-east-1".to_string(),
            origin: Default::default(),
        };
        dispatch(&ctx, op, body)
            .now_or_never()
            .expect("memory ports never pend")
    }
    fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body).unwrap_or_else(|e| panic!("{op}: {e}"))
    }
    fn err(&self, op: &str, body: Value) -> crate::Error {
        match self.call(op, body) {
            Ok(v) => panic!("{op} should fail, got {v}"),
            Err(e) => e,
        }
    }
    fn pool(&self, extra: Value) -> String {
        let mut body = json!({"PoolName": "test", "AutoVerifiedAttributes": ["email"]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        self.ok("CreateUserPool", body)["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn client(&self, pool: &str, extra: Value) -> String {
        let mut body = json!({"UserPoolId": pool, "ClientName": "app",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        self.ok("CreateUserPoolClient", body)["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn sign_up(&self, client: &str, username: &str, email: &str) -> Value {
        self.ok(
            "SignUp",
            json!({"ClientId": client, "Username": username, "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": email}]}),
        )
    }
    fn code_for(&self, username: &str) -> String {
        self.env
            .sender
            .last_code(username)
            .expect("a code was sent")
    }
    fn sign_in(&self, client: &str, username: &str, password: &str) -> Result<Value, crate::Error> {
        self.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": username, "PASSWORD": password}}),
        )
    }
}

/// A user's failed sign-in count.
fn failures(w: &World, username: &str) -> u32 {
    let mut found = 0;
    let page = w
        .env
        .store
        .scan("p/", None, 10_000)
        .now_or_never()
        .unwrap()
        .unwrap();
    for (key, item) in page.items {
        if key.ends_with(&format!("/u/{username}")) {
            let u: crate::user::UserRecord = serde_json::from_slice(&item.value).unwrap();
            found = u.failed_sign_ins;
        }
    }
    found
}

fn claims(token: &str) -> serde_json::Map<String, Value> {
    crate::token::decode_unverified(token).unwrap().claims
}

#[test]
fn sign_up_confirm_sign_in_refresh_get_user() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let out = w.sign_up(&client, "Alice", "alice@example.com");
    assert_eq!(out["UserConfirmed"], json!(false));
    assert_eq!(out["CodeDeliveryDetails"]["DeliveryMedium"], json!("EMAIL"));
    assert_eq!(
        out["CodeDeliveryDetails"]["Destination"],
        json!("a***@e***")
    );
    let sub = out["UserSub"].as_str().unwrap().to_string();

    assert_eq!(
        w.sign_in(&client, "alice", "Passw0rd!").unwrap_err().kind,
        ErrorKind::UserNotConfirmed
    );
    let code = w.code_for("Alice");
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code}),
    );

    let auth = w.sign_in(&client, "ALICE", "Passw0rd!").unwrap();
    let result = &auth["AuthenticationResult"];
    assert_eq!(result["TokenType"], json!("Bearer"));
    assert_eq!(result["ExpiresIn"], json!(3600));
    let id = claims(result["IdToken"].as_str().unwrap());
    assert_eq!(id["sub"], json!(sub));
    assert_eq!(id["cognito:username"], json!("Alice"));
    assert_eq!(id["email_verified"], json!(true));
    assert_eq!(id["aud"], json!(client));
    assert_eq!(id["iss"], json!(format!("http://cognate.test/{pool}")));
    let access = claims(result["AccessToken"].as_str().unwrap());
    assert_eq!(access["client_id"], json!(client));
    assert_eq!(access["scope"], json!("aws.cognito.signin.user.admin"));
    assert_eq!(access["origin_jti"], id["origin_jti"]);

    w.env.clock.advance(60_000);
    let refreshed = w.ok(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": result["RefreshToken"]}}),
    );
    let r = &refreshed["AuthenticationResult"];
    assert!(r.get("RefreshToken").is_none());
    let new_access = claims(r["AccessToken"].as_str().unwrap());
    assert_eq!(new_access["origin_jti"], access["origin_jti"]);
    assert_eq!(new_access["auth_time"], access["auth_time"]);
    assert!(new_access["iat"].as_u64() > access["iat"].as_u64());

    let me = w.ok("GetUser", json!({"AccessToken": r["AccessToken"]}));
    assert_eq!(me["Username"], json!("Alice"));
    let attrs: Vec<(&str, &str)> = me["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["Name"].as_str().unwrap(), a["Value"].as_str().unwrap()))
        .collect();
    assert_eq!(attrs[0], ("sub", sub.as_str()));
    assert!(attrs.contains(&("email_verified", "true")));

    let admin = w.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    );
    assert_eq!(admin["UserStatus"], json!("CONFIRMED"));
    assert_eq!(admin["Enabled"], json!(true));
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "bob", "bob@example.com");
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "bob"}),
    );
    let wrong = w.sign_in(&client, "bob", "Wrong-passw0rd").unwrap_err();
    let unknown = w.sign_in(&client, "nobody", "Wrong-passw0rd").unwrap_err();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.kind, ErrorKind::NotAuthorized);
    assert_eq!(wrong.message, "Incorrect username or password.");
}

#[test]
fn lockout_after_repeated_failures_then_expires() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "carol", "carol@example.com");
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "carol"}),
    );
    for _ in 0..crate::auth::LOCKOUT_THRESHOLD {
        w.sign_in(&client, "carol", "Wrong-passw0rd").unwrap_err();
    }
    let locked = w.sign_in(&client, "carol", "Passw0rd!").unwrap_err();
    assert_eq!(locked.message, "Password attempts exceeded");
    w.env.clock.advance(crate::auth::MAX_LOCKOUT_MILLIS);
    assert!(w.sign_in(&client, "carol", "Passw0rd!").is_ok());
}

#[test]
fn a_resend_refused_by_flood_control_leaves_the_last_code_valid() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "erin", "erin@example.com");
    // The sign-up's message and nine resends fill the destination's window.
    for _ in 1..crate::delivery::RATE_LIMIT_MESSAGES {
        w.ok(
            "ResendConfirmationCode",
            json!({"ClientId": client, "Username": "erin"}),
        );
    }
    let last = w.code_for("erin");
    let e = w.err(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "erin"}),
    );
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    assert_eq!(w.code_for("erin"), last, "nothing was sent");
    // The refused resend did not replace the code that was sent.
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "erin", "ConfirmationCode": last}),
    );
}

#[test]
fn codes_are_single_use_expire_and_have_an_attempt_limit() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "dave", "dave@example.com");
    let first = w.code_for("dave");
    // Resend replaces the code.
    w.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "dave"}),
    );
    let second = w.code_for("dave");
    if first != second {
        let e = w.err(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "dave", "ConfirmationCode": first}),
        );
        assert_eq!(e.kind, ErrorKind::CodeMismatch);
    }
    // Expiry: 24 hours.
    w.env.clock.advance(crate::code::SIGN_UP_CODE_TTL_MILLIS);
    let e = w.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "dave", "ConfirmationCode": second}),
    );
    assert_eq!(e.kind, ErrorKind::ExpiredCode);
    w.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "dave"}),
    );
    let third = w.code_for("dave");
    // Attempt limit: after MAX_ATTEMPTS wrong guesses even the right code fails.
    for _ in 0..crate::code::MAX_ATTEMPTS {
        let e = w.err(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "dave", "ConfirmationCode": "000000-wrong"}),
        );
        assert_eq!(e.kind, ErrorKind::CodeMismatch);
    }
    let e = w.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "dave", "ConfirmationCode": third}),
    );
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    // A fresh code works once.
    w.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "dave"}),
    );
    let fourth = w.code_for("dave");
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "dave", "ConfirmationCode": fourth}),
    );
    let e = w.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "dave", "ConfirmationCode": fourth}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    assert_eq!(
        e.message,
        "User cannot be confirmed. Current status is CONFIRMED"
    );
}

#[test]
fn usernames_are_unique_case_insensitively() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "Erin", "erin@example.com");
    let e = w.err(
        "SignUp",
        json!({"ClientId": client, "Username": "erin", "Password": "Passw0rd!"}),
    );
    assert_eq!(e.kind, ErrorKind::UsernameExists);
    // A case-sensitive pool keeps them apart.
    let cs = w.pool(json!({"UsernameConfiguration": {"CaseSensitive": true}}));
    let cs_client = w.client(&cs, json!({}));
    w.sign_up(&cs_client, "Erin", "erin@example.com");
    w.sign_up(&cs_client, "erin", "erin2@example.com");
}

/// GetUser reads the user under the pool's spelling of the name (one store round trip asks for
/// both spellings; the one whose `sub` is the token's is the user): each of two users whose
/// names differ only in case gets their own record in a case-sensitive pool, and a mixed-case
/// name is found in a case-insensitive one.
#[test]
fn get_user_finds_the_user_under_the_pools_spelling() {
    let w = World::new();
    let cs = w.pool(json!({"UsernameConfiguration": {"CaseSensitive": true}}));
    let cs_client = w.client(&cs, json!({}));
    let upper = w.confirmed(&cs, &cs_client, "Gina");
    let lower = w.confirmed(&cs, &cs_client, "gina");
    for (signed_in, name) in [(&upper, "Gina"), (&lower, "gina")] {
        let me = w
            .get_user(&signed_in["AuthenticationResult"]["AccessToken"])
            .unwrap();
        assert_eq!(me["Username"], json!(name));
        let email = me["UserAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["Name"] == "email")
            .unwrap()["Value"]
            .clone();
        assert_eq!(email, json!(format!("{name}@example.com")));
    }
    let ci = w.pool(json!({}));
    let ci_client = w.client(&ci, json!({}));
    let mixed = w.confirmed(&ci, &ci_client, "HaNk");
    let me = w
        .get_user(&mixed["AuthenticationResult"]["AccessToken"])
        .unwrap();
    assert_eq!(me["Username"], json!("HaNk"));
}

#[test]
fn email_as_username_is_unique_and_signs_in() {
    let w = World::new();
    let pool = w.pool(json!({"UsernameAttributes": ["email"]}));
    let client = w.client(&pool, json!({}));
    let out = w.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "Frank@Example.com", "Password": "Passw0rd!"}),
    );
    let sub = out["UserSub"].as_str().unwrap().to_string();
    let e = w.err(
        "SignUp",
        json!({"ClientId": client, "Username": "frank@example.com", "Password": "Passw0rd!"}),
    );
    assert_eq!(e.kind, ErrorKind::UsernameExists);
    let e = w.err(
        "SignUp",
        json!({"ClientId": client, "Username": "not-an-email", "Password": "Passw0rd!"}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    let code = w.code_for(&sub);
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "frank@example.com", "ConfirmationCode": code}),
    );
    let auth = w
        .sign_in(&client, "FRANK@example.com", "Passw0rd!")
        .unwrap();
    let id = claims(auth["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["cognito:username"], json!(sub));
    assert_eq!(id["email"], json!("Frank@Example.com"));
}

#[test]
fn verified_email_alias_is_unique() {
    let w = World::new();
    let pool = w.pool(json!({"AliasAttributes": ["email"]}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "gina", "shared@example.com");
    w.sign_up(&client, "hank", "shared@example.com");
    let code = w.code_for("gina");
    w.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "gina", "ConfirmationCode": code}),
    );
    assert!(
        w.sign_in(&client, "shared@example.com", "Passw0rd!")
            .is_ok()
    );
    let code = w.code_for("hank");
    let e = w.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "hank", "ConfirmationCode": code}),
    );
    assert_eq!(e.kind, ErrorKind::AliasExists);
    // With ForceAliasCreation the alias moves to hank.
    w.ok("ConfirmSignUp", json!({"ClientId": client, "Username": "hank", "ConfirmationCode": code, "ForceAliasCreation": true}));
    let auth = w
        .sign_in(&client, "shared@example.com", "Passw0rd!")
        .unwrap();
    let id = claims(auth["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["cognito:username"], json!("hank"));
    let gina = w.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "gina"}),
    );
    assert!(
        gina["UserAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "email_verified", "Value": "false"}))
    );
}

#[test]
fn secret_hash_is_required_for_clients_with_a_secret() {
    use hmac::{KeyInit, Mac};
    let w = World::new();
    let pool = w.pool(json!({}));
    let created = w.ok(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "s", "GenerateSecret": true,
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let client = created["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = created["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = |user: &str| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(user.as_bytes());
        mac.update(client.as_bytes());
        crate::token::b64(&mac.finalize().into_bytes())
    };
    let e = w.err(
        "SignUp",
        json!({"ClientId": client, "Username": "ivy", "Password": "Passw0rd!"}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    let e = w.err("SignUp", json!({"ClientId": client, "Username": "ivy", "Password": "Passw0rd!", "SecretHash": hash("other")}));
    assert_eq!(
        e.message,
        format!("Unable to verify secret hash for client {client}")
    );
    w.ok("SignUp", json!({"ClientId": client, "Username": "ivy", "Password": "Passw0rd!", "SecretHash": hash("ivy"),
        "UserAttributes": [{"Name": "email", "Value": "ivy@example.com"}]}));
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "ivy"}),
    );
    let e = w.sign_in(&client, "ivy", "Passw0rd!").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    let auth = w.ok("InitiateAuth", json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "ivy", "PASSWORD": "Passw0rd!", "SECRET_HASH": hash("ivy")}}));
    let refresh = auth["AuthenticationResult"]["RefreshToken"].clone();
    w.err("InitiateAuth", json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}));
    w.ok(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
        "AuthParameters": {"REFRESH_TOKEN": refresh, "SECRET_HASH": hash("ivy")}}),
    );
}

#[test]
fn refresh_tokens_are_bound_to_client_and_pool() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let other_client = w.client(&pool, json!({}));
    w.sign_up(&client, "jack", "jack@example.com");
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "jack"}),
    );
    let auth = w.sign_in(&client, "jack", "Passw0rd!").unwrap();
    let refresh = auth["AuthenticationResult"]["RefreshToken"].clone();
    let e = w.err("InitiateAuth", json!({"ClientId": other_client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}));
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    let pool2 = w.pool(json!({}));
    let client2 = w.client(&pool2, json!({}));
    let e = w.err("InitiateAuth", json!({"ClientId": client2, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}));
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    // Expiry.
    w.env.clock.advance(31 * 86_400 * 1000);
    let e = w.err("InitiateAuth", json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}));
    assert_eq!(e.message, "Refresh Token has expired");
}

#[test]
fn pools_and_clients_round_trip_and_paginate() {
    let w = World::new();
    for i in 0..5 {
        w.ok("CreateUserPool", json!({"PoolName": format!("p{i}")}));
    }
    let mut seen = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut body = json!({"MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = t.clone();
        }
        let page = w.ok("ListUserPools", body);
        for p in page["UserPools"].as_array().unwrap() {
            seen.push(p["Name"].as_str().unwrap().to_string());
        }
        match page.get("NextToken") {
            Some(t) => token = Some(t.clone()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["p0", "p1", "p2", "p3", "p4"]);
    let e = w.err(
        "ListUserPools",
        json!({"MaxResults": 2, "NextToken": "garbage!"}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    let e = w.err("ListUserPools", json!({}));
    assert_eq!(e.kind, ErrorKind::InvalidParameter);

    let pool = w.pool(json!({"Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": false,
        "RequireLowercase": true, "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 3}}}));
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
        json!(12)
    );
    assert!(
        described["UserPool"]["SchemaAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == json!("email"))
    );
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": []}),
    );
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    // Cognito semantics: omitted settings return to defaults.
    assert_eq!(
        described["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
        json!(8)
    );

    let client = w.client(
        &pool,
        json!({"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "hours"}}),
    );
    let d = w.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(d["UserPoolClient"]["AccessTokenValidity"], json!(2));
    assert_eq!(d["UserPoolClient"]["ClientId"].as_str().unwrap().len(), 26);
    w.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client, "ClientName": "renamed"}),
    );
    let list = w.ok("ListUserPoolClients", json!({"UserPoolId": pool}));
    assert_eq!(list["UserPoolClients"][0]["ClientName"], json!("renamed"));
    w.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    let e = w.err(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);

    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "kim", "kim@example.com");
    w.ok("DeleteUserPool", json!({"UserPoolId": pool}));
    let e = w.err("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
    // Nothing of the pool is left behind.
    let left = w
        .env
        .store
        .scan(&format!("p/{pool}/"), None, 10)
        .now_or_never()
        .unwrap()
        .unwrap();
    assert!(left.items.is_empty());
    let e = w.err(
        "SignUp",
        json!({"ClientId": client, "Username": "x", "Password": "Passw0rd!"}),
    );
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
}

/// An access token stops working as soon as its pool's record is gone, while DeleteUserPool is
/// still removing the pool's keys and users (the check reads the pool's record without
/// decoding it).
#[test]
fn a_token_of_a_pool_being_deleted_is_refused() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let signed_in = w.confirmed(&pool, &client, "lena");
    let token = signed_in["AuthenticationResult"]["AccessToken"].clone();
    assert!(w.get_user(&token).is_ok());
    w.env
        .store
        .delete(&crate::store::keys::pool(&pool), crate::store::Expect::Any)
        .now_or_never()
        .unwrap()
        .unwrap();
    let e = w.get_user(&token).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NotAuthorized, "Invalid Access Token")
    );
}

#[test]
fn validation_errors_are_client_errors() {
    let w = World::new();
    let pool = w.pool(
        json!({"Schema": [{"Name": "tier", "AttributeDataType": "String", "Mutable": true}]}),
    );
    let client = w.client(&pool, json!({}));
    let cases = [
        (
            "SignUp",
            json!({"ClientId": client, "Username": "x".repeat(200), "Password": "Passw0rd!"}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": "a b", "Password": "Passw0rd!"}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": "ok", "Password": "short"}),
            ErrorKind::InvalidPassword,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": "ok", "Password": "Passw0rd!", "UserAttributes": [{"Name": "custom:nope", "Value": "1"}]}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": "ok", "Password": "Passw0rd!", "UserAttributes": [{"Name": "email", "Value": "not-an-email"}]}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": "ok", "Password": "Passw0rd!", "UserAttributes": [{"Name": "email_verified", "Value": "true"}]}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": "nosuchclient", "Username": "ok", "Password": "Passw0rd!"}),
            ErrorKind::ResourceNotFound,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Password": "Passw0rd!"}),
            ErrorKind::InvalidParameter,
        ),
        (
            "SignUp",
            json!({"ClientId": client, "Username": 5, "Password": "Passw0rd!"}),
            ErrorKind::Serialization,
        ),
        (
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "NOPE"}),
            ErrorKind::InvalidParameter,
        ),
        (
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {}}),
            ErrorKind::InvalidParameter,
        ),
        (
            "GetUser",
            json!({"AccessToken": "garbage"}),
            ErrorKind::NotAuthorized,
        ),
        (
            "CreateUserPool",
            json!({"PoolName": "bad/name"}),
            ErrorKind::InvalidParameter,
        ),
        (
            "CreateUserPool",
            json!({"PoolName": "x", "AliasAttributes": ["email"], "UsernameAttributes": ["email"]}),
            ErrorKind::InvalidParameter,
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "c", "ExplicitAuthFlows": ["BOGUS"]}),
            ErrorKind::InvalidParameter,
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "c", "AccessTokenValidity": 100, "TokenValidityUnits": {"AccessToken": "days"}}),
            ErrorKind::InvalidParameter,
        ),
        (
            "DescribeUserPool",
            json!({"UserPoolId": "../../etc"}),
            ErrorKind::ResourceNotFound,
        ),
    ];
    for (op, body, kind) in cases {
        let e = w.err(op, body.clone());
        assert_eq!(e.kind, kind, "{op} {body}: {e}");
    }
    // A custom attribute declared in the schema is accepted and lands in the ID token.
    w.ok("SignUp", json!({"ClientId": client, "Username": "lee", "Password": "Passw0rd!",
        "UserAttributes": [{"Name": "custom:tier", "Value": "gold"}, {"Name": "email", "Value": "lee@example.com"}]}));
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "lee"}),
    );
    let auth = w.sign_in(&client, "lee", "Passw0rd!").unwrap();
    let id = claims(auth["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["custom:tier"], json!("gold"));
}

#[test]
fn flows_must_be_enabled_on_the_client() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let e = w.sign_in(&client, "x", "Passw0rd!").unwrap_err();
    assert_eq!(
        e.message,
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
}

/// Pools and clients are kept decoded between requests (`crate::decoded`): a kept record is
/// the one stored, and every change to it is seen by the next request.
#[test]
fn kept_pools_and_clients_follow_every_change() {
    let w = World::new();
    let pool = w.pool(json!({"AliasAttributes": ["email"]}));
    let client = w.client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    w.confirmed(&pool, &client, "max");
    let load = || {
        crate::pool::load_pool_shared(&w.env, &pool)
            .now_or_never()
            .unwrap()
            .unwrap()
    };
    let (first, v1) = load();
    let (again, v2) = load();
    assert_eq!(v1, v2);
    assert!(Arc::ptr_eq(&first, &again), "one version is decoded once");
    let stored: crate::pool::PoolRecord = serde_json::from_slice(
        &w.env
            .store
            .get(&crate::store::keys::pool(&pool))
            .now_or_never()
            .unwrap()
            .unwrap()
            .unwrap()
            .value,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&*first).unwrap(),
        serde_json::to_value(&stored).unwrap()
    );

    // A new attribute is in the next read's schema, and a user may then set it.
    w.ok(
        "AddCustomAttributes",
        json!({"UserPoolId": pool, "CustomAttributes": [{"Name": "tier", "AttributeDataType": "String"}]}),
    );
    let (changed, v3) = load();
    assert!(v3 > v1);
    assert!(changed.schema.iter().any(|a| a.name == "custom:tier"));
    assert!(!first.schema.iter().any(|a| a.name == "custom:tier"));
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "max",
               "UserAttributes": [{"Name": "custom:tier", "Value": "gold"}]}),
    );

    // A sign-in flow the client allowed a moment ago is refused once the client is changed.
    let sign_in = || w.sign_in(&client, "max", "Passw0rd!");
    assert!(sign_in().is_ok());
    w.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client,
               "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let e = sign_in().unwrap_err();
    assert_eq!(
        e.message,
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    assert!(
        w.env.decoded.len() >= 2,
        "the pool and the client were kept"
    );
}

#[test]
fn password_rehashes_when_pool_parameters_change() {
    let w = World::new();
    let small = json!({"MemoryKiB": 64, "Iterations": 1, "Parallelism": 1});
    let pool = w.pool(json!({"CognatePasswordHashing": small}));
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "max", "max@example.com");
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "max"}),
    );
    let stored = || {
        let (p, _) = crate::pool::load_pool(&w.env, &pool)
            .now_or_never()
            .unwrap()
            .unwrap();
        let (u, _) = crate::user::load(&w.env, &p, "max")
            .now_or_never()
            .unwrap()
            .unwrap()
            .unwrap();
        u.password_hash.unwrap()
    };
    assert!(stored().contains("m=64,"));
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"],
        "CognatePasswordHashing": {"MemoryKiB": 128, "Iterations": 1, "Parallelism": 1}}),
    );
    w.sign_in(&client, "max", "Passw0rd!").unwrap();
    assert!(stored().contains("m=128,"), "{}", stored());
    assert!(w.sign_in(&client, "max", "Passw0rd!").is_ok());
    assert!(w.sign_in(&client, "max", "Wrong-passw0rd").is_err());
}

#[test]
fn wire_layer_maps_errors_and_answers_cors() {
    let w = World::new();
    let service = Service::new(w.config.clone());
    let call = |req: Request| service.handle(req, &w.env).now_or_never().unwrap();
    let base =
        || Request::new("POST", "/").with_header("content-type", "application/x-amz-json-1.1");
    let body = |r: &crate::Response| -> Value { serde_json::from_slice(&r.body).unwrap() };

    let r = call(
        base()
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
            .with_body(b"{not json".to_vec()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(body(&r)["__type"], json!("SerializationException"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("SerializationException:")
    );

    let r = call(
        base()
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.Bogus")
            .with_body(b"{}".to_vec()),
    );
    assert_eq!(body(&r)["__type"], json!("UnknownOperationException"));
    let r = call(base().with_body(b"{}".to_vec()));
    assert_eq!(body(&r)["__type"], json!("UnknownOperationException"));
    let r = call(
        Request::new("POST", "/")
            .with_header("content-type", "text/plain")
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
            .with_body(b"{}".to_vec()),
    );
    assert!((400..500).contains(&r.status));
    let r = call(
        base()
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
            .with_body(b"[1]".to_vec()),
    );
    assert_eq!(body(&r)["__type"], json!("SerializationException"));
    // Admin operations need a signature.
    let r = call(
        base()
            .with_header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.ListUserPools",
            )
            .with_body(b"{\"MaxResults\":1}".to_vec()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(body(&r)["__type"], json!("UnrecognizedClientException"));

    let r = call(
        Request::new("OPTIONS", "/")
            .with_header("origin", "http://app.test")
            .with_header(
                "access-control-request-headers",
                "content-type,x-amz-target",
            ),
    );
    assert_eq!(r.status, 204);
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("x-amz-target")
    );
    assert_eq!(call(Request::new("GET", "/nope")).status, 404);

    let pool = w.pool(json!({}));
    let r = call(Request::new(
        "GET",
        &format!("/{pool}/.well-known/jwks.json"),
    ));
    assert_eq!(r.status, 200);
    let jwks = body(&r);
    assert_eq!(jwks["keys"][0]["alg"], json!("RS256"));
    assert_eq!(
        call(Request::new(
            "GET",
            "/us-east-1_nosuchpo/.well-known/jwks.json"
        ))
        .status,
        404
    );
    let r = call(Request::new(
        "GET",
        &format!("/{pool}/.well-known/openid-configuration"),
    ));
    assert_eq!(
        body(&r)["issuer"],
        json!(format!("http://cognate.test/{pool}"))
    );
}

#[test]
fn pool_specs_apply_once() {
    let w = World::new();
    let service = Service::new(w.config.clone());
    let spec = crate::service::PoolSpec {
        id: Some("us-east-1_DemoPool1".into()),
        region: None,
        create: json!({"PoolName": "demo"}),
        clients: alloc::vec![crate::service::ClientSpec {
            id: Some("democlient0000000000000001".into()),
            create: json!({"ClientName": "web"}),
        }],
    };
    let first = service
        .apply_pool_spec(&w.env, &spec)
        .now_or_never()
        .unwrap()
        .unwrap();
    assert!(first.created);
    assert_eq!(first.clients[0].1, "democlient0000000000000001");
    let second = service
        .apply_pool_spec(&w.env, &spec)
        .now_or_never()
        .unwrap()
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.pool_id, "us-east-1_DemoPool1");
    assert_eq!(second.clients.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The directory (issue 3): time-dependent and store-level behaviour the wire tests cannot see.

impl World {
    /// A confirmed user; returns the sign-in result.
    fn confirmed(&self, pool: &str, client: &str, username: &str) -> Value {
        self.sign_up(client, username, &format!("{username}@example.com"));
        self.ok(
            "AdminConfirmSignUp",
            json!({"UserPoolId": pool, "Username": username}),
        );
        self.sign_in(client, username, "Passw0rd!").unwrap()
    }
    fn get_user(&self, access: &Value) -> Result<Value, crate::Error> {
        self.call("GetUser", json!({"AccessToken": access}))
    }
    fn refresh(&self, client: &str, token: &Value) -> Result<Value, crate::Error> {
        self.call(
            "GetTokensFromRefreshToken",
            json!({"ClientId": client, "RefreshToken": token}),
        )
    }
}

#[test]
fn lockout_doubles_and_is_capped() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.confirmed(&pool, &client, "dora");
    for _ in 0..crate::auth::LOCKOUT_THRESHOLD {
        w.sign_in(&client, "dora", "Wrong-passw0rd").unwrap_err();
    }
    // First lock: 1 s.
    assert_eq!(
        w.sign_in(&client, "dora", "Passw0rd!").unwrap_err().message,
        "Password attempts exceeded"
    );
    w.env.clock.advance(1_000);
    // Another failure after the lock: 2 s now.
    w.sign_in(&client, "dora", "Wrong-passw0rd").unwrap_err();
    w.env.clock.advance(1_500);
    assert_eq!(
        w.sign_in(&client, "dora", "Passw0rd!").unwrap_err().message,
        "Password attempts exceeded"
    );
    w.env.clock.advance(600);
    assert!(w.sign_in(&client, "dora", "Passw0rd!").is_ok());
    // Success resets the count: a single failure does not lock.
    w.sign_in(&client, "dora", "Wrong-passw0rd").unwrap_err();
    assert!(w.sign_in(&client, "dora", "Passw0rd!").is_ok());
    // Many failures: the lock never exceeds the cap.
    for _ in 0..40 {
        let _ = w.sign_in(&client, "dora", "Wrong-passw0rd");
        w.env.clock.advance(crate::auth::MAX_LOCKOUT_MILLIS);
    }
    w.sign_in(&client, "dora", "Wrong-passw0rd").unwrap_err();
    w.env.clock.advance(crate::auth::MAX_LOCKOUT_MILLIS);
    assert!(w.sign_in(&client, "dora", "Passw0rd!").is_ok());
}

#[test]
fn temporary_passwords_expire_with_the_pool_policy() {
    let w = World::new();
    let pool = w.pool(json!({"Policies": {"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 2}}}));
    let client = w.client(&pool, json!({}));
    w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "eve", "TemporaryPassword": "Temp-passw0rd",
               "UserAttributes": [{"Name": "email", "Value": "eve@example.com"}], "MessageAction": "SUPPRESS"}),
    );
    let challenge = w.sign_in(&client, "eve", "Temp-passw0rd").unwrap();
    assert_eq!(challenge["ChallengeName"], json!("NEW_PASSWORD_REQUIRED"));
    w.env.clock.advance(2 * 86_400_000);
    let e = w.sign_in(&client, "eve", "Temp-passw0rd").unwrap_err();
    assert_eq!(
        e.message,
        "Temporary password has expired and must be reset by an administrator."
    );
    // The challenge session expires too (3 minutes by default).
    let e = w.err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "eve", "NEW_PASSWORD": "New-passw0rd"}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    // An administrator resets it; a fresh challenge completes once.
    w.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "eve", "Password": "Temp-passw0rd2", "Permanent": false}),
    );
    let challenge = w.sign_in(&client, "eve", "Temp-passw0rd2").unwrap();
    let answer = json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": "eve", "NEW_PASSWORD": "New-passw0rd"}});
    let tokens = w.ok("RespondToAuthChallenge", answer.clone());
    assert!(tokens["AuthenticationResult"]["IdToken"].is_string());
    assert_eq!(
        w.err("RespondToAuthChallenge", answer).kind,
        ErrorKind::NotAuthorized
    );
    assert!(w.sign_in(&client, "eve", "New-passw0rd").is_ok());
}

#[test]
fn rotated_refresh_tokens_have_a_grace_period_then_replay_revokes_the_family() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(
        &pool,
        json!({"RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}}),
    );
    let first = w.confirmed(&pool, &client, "finn")["AuthenticationResult"].clone();
    let r1 = first["RefreshToken"].clone();
    let second = w.refresh(&client, &r1).unwrap()["AuthenticationResult"].clone();
    let r2 = second["RefreshToken"].clone();
    assert!(r2.is_string() && r2 != r1);
    // Within the grace period the old token still works (a retry after a lost response).
    w.env.clock.advance(5_000);
    assert!(w.refresh(&client, &r1).is_ok());
    // After it, a replay is theft: the whole family goes.
    w.env.clock.advance(6_000);
    assert_eq!(
        w.refresh(&client, &r1).unwrap_err().kind,
        ErrorKind::RefreshTokenReuse
    );
    assert_eq!(
        w.refresh(&client, &r2).unwrap_err().message,
        "Refresh Token has been revoked"
    );
    assert_eq!(
        w.get_user(&second["AccessToken"]).unwrap_err().message,
        "Access Token has been revoked"
    );
    // A new sign-in is a new family.
    let fresh = w.sign_in(&client, "finn", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    assert!(w.get_user(&fresh["AccessToken"]).is_ok());
    assert!(w.refresh(&client, &fresh["RefreshToken"]).is_ok());
}

#[test]
fn without_rotation_refresh_returns_no_refresh_token() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let first = w.confirmed(&pool, &client, "gus")["AuthenticationResult"].clone();
    let out = w.refresh(&client, &first["RefreshToken"]).unwrap();
    assert!(out["AuthenticationResult"]["RefreshToken"].is_null());
    assert!(out["AuthenticationResult"]["AccessToken"].is_string());
}

#[test]
fn global_sign_out_revokes_earlier_tokens_only_even_within_the_same_second() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.env.clock.set(1_767_225_600_000);
    let before = w.confirmed(&pool, &client, "hana")["AuthenticationResult"].clone();
    w.env.clock.advance(1);
    w.ok(
        "GlobalSignOut",
        json!({"AccessToken": before["AccessToken"]}),
    );
    w.env.clock.advance(1);
    // The new session starts in the sign-out's very second (iat cannot tell them apart).
    let after = w.sign_in(&client, "hana", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    assert_eq!(
        w.get_user(&before["AccessToken"]).unwrap_err().message,
        "Access Token has been revoked"
    );
    assert_eq!(
        w.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": before["RefreshToken"]}})
        )
        .unwrap_err()
        .message,
        "Refresh Token has been revoked"
    );
    assert!(w.get_user(&after["AccessToken"]).is_ok());
    w.env.clock.advance(2_000);
    assert!(w.get_user(&after["AccessToken"]).is_ok());
    assert!(w.refresh(&client, &after["RefreshToken"]).is_ok());
}

#[test]
fn revoked_sessions_are_forgotten_once_their_tokens_expire() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let a = w.confirmed(&pool, &client, "ivan")["AuthenticationResult"].clone();
    let b = w.sign_in(&client, "ivan", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    w.ok(
        "RevokeToken",
        json!({"ClientId": client, "Token": a["RefreshToken"]}),
    );
    assert!(w.get_user(&a["AccessToken"]).is_err());
    assert!(w.get_user(&b["AccessToken"]).is_ok());
    let stored = |w: &World| -> crate::user::UserRecord {
        let (pool_record, _) = crate::pool::load_pool(&w.env, &pool)
            .now_or_never()
            .unwrap()
            .unwrap();
        crate::user::load(&w.env, &pool_record, "ivan")
            .now_or_never()
            .unwrap()
            .unwrap()
            .unwrap()
            .0
    };
    assert_eq!(stored(&w).revoked_sessions.len(), 1);
    // A day later every token of the first session has expired; the next revocation prunes it.
    w.env.clock.advance(86_400_000 + 1);
    let c = w.sign_in(&client, "ivan", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    w.ok(
        "RevokeToken",
        json!({"ClientId": client, "Token": c["RefreshToken"]}),
    );
    let record = stored(&w);
    assert_eq!(record.revoked_sessions.len(), 1);
    assert!(w.get_user(&c["AccessToken"]).is_err());
    // Revoking an access token is refused; an unknown refresh token is not an error (RFC 7009).
    assert_eq!(
        w.err(
            "RevokeToken",
            json!({"ClientId": client, "Token": c["AccessToken"]})
        )
        .kind,
        ErrorKind::UnsupportedTokenType
    );
    w.ok(
        "RevokeToken",
        json!({"ClientId": client, "Token": "not-a-token"}),
    );
}

#[test]
fn list_users_skips_stale_index_entries_and_pages_through_them() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    for i in 0..5 {
        w.confirmed(&pool, &client, &format!("user{i}"));
    }
    // user1 changes their email: the old value must stop matching.
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "user1",
               "UserAttributes": [{"Name": "email", "Value": "moved@example.org"}, {"Name": "email_verified", "Value": "true"}]}),
    );
    let found = w.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "email = \"user1@example.com\""}),
    );
    assert_eq!(found["Users"], json!([]));
    let found = w.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "email ^= \"moved\""}),
    );
    assert_eq!(found["Users"][0]["Username"], json!("user1"));
    // A dangling entry (as a crash between writes leaves) is skipped, and paging still
    // visits every real match exactly once.
    let key = alloc::format!(
        "{}{}{}",
        crate::user::index::index_prefix(&pool, "email", "user9@example.com"),
        crate::user::index::INDEX_SEPARATOR,
        "user9"
    );
    w.env
        .store
        .put(&key, b"user9", crate::store::Expect::Any)
        .now_or_never()
        .unwrap()
        .unwrap();
    let mut seen = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut body = json!({"UserPoolId": pool, "Filter": "email ^= \"user\"", "Limit": 2});
        if let Some(t) = &token {
            body["PaginationToken"] = t.clone();
        }
        let page = w.ok("ListUsers", body);
        for u in page["Users"].as_array().unwrap() {
            seen.push(u["Username"].as_str().unwrap().to_string());
        }
        match page.get("PaginationToken") {
            Some(t) => token = Some(t.clone()),
            None => break,
        }
    }
    assert_eq!(seen, ["user0", "user2", "user3", "user4"]);
    // Statuses are indexed too.
    w.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "user3"}),
    );
    let disabled = w.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "status = \"Disabled\""}),
    );
    assert_eq!(disabled["Users"].as_array().unwrap().len(), 1);
    assert_eq!(disabled["Users"][0]["Username"], json!("user3"));
    let confirmed = w.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "cognito:user_status = \"confirmed\""}),
    );
    assert_eq!(confirmed["Users"].as_array().unwrap().len(), 5);
}

#[test]
fn groups_order_token_claims_by_precedence() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    w.confirmed(&pool, &client, "jude");
    for (name, precedence, role) in [
        ("readers", 10, Some("arn:aws:iam::123456789012:role/Reader")),
        ("admins", 1, Some("arn:aws:iam::123456789012:role/Admin")),
        ("plain", 5, None),
    ] {
        let mut body = json!({"UserPoolId": pool, "GroupName": name, "Precedence": precedence});
        if let Some(r) = role {
            body["RoleArn"] = json!(r);
        }
        w.ok("CreateGroup", body);
        w.ok(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": "jude", "GroupName": name}),
        );
    }
    let tokens = w.sign_in(&client, "jude", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    let id = claims(tokens["IdToken"].as_str().unwrap());
    let access = claims(tokens["AccessToken"].as_str().unwrap());
    assert_eq!(id["cognito:groups"], json!(["admins", "plain", "readers"]));
    assert_eq!(
        access["cognito:groups"],
        json!(["admins", "plain", "readers"])
    );
    assert_eq!(
        id["cognito:preferred_role"],
        json!("arn:aws:iam::123456789012:role/Admin")
    );
    assert_eq!(
        id["cognito:roles"],
        json!([
            "arn:aws:iam::123456789012:role/Admin",
            "arn:aws:iam::123456789012:role/Reader"
        ])
    );
    assert!(access.get("cognito:roles").is_none());
    // A deleted and re-created group does not inherit the old members.
    w.ok(
        "DeleteGroup",
        json!({"UserPoolId": pool, "GroupName": "admins"}),
    );
    w.ok(
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "admins", "Precedence": 0}),
    );
    let tokens = w.sign_in(&client, "jude", "Passw0rd!").unwrap()["AuthenticationResult"].clone();
    let id = claims(tokens["IdToken"].as_str().unwrap());
    assert_eq!(id["cognito:groups"], json!(["plain", "readers"]));
    assert_eq!(
        id["cognito:preferred_role"],
        json!("arn:aws:iam::123456789012:role/Reader")
    );
    let members = w.ok(
        "ListUsersInGroup",
        json!({"UserPoolId": pool, "GroupName": "admins"}),
    );
    assert_eq!(members["Users"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Drop-in compatibility with real clients (issue 15)

#[test]
fn null_members_are_absent_at_every_depth() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let service = Service::new(w.config.clone());
    let call = |target: &str, body: Value| {
        let r = service
            .handle(
                Request::new("POST", "/")
                    .with_header("content-type", "application/x-amz-json-1.1")
                    .with_header(
                        "x-amz-target",
                        &format!("AWSCognitoIdentityProviderService.{target}"),
                    )
                    .with_body(serde_json::to_vec(&body).unwrap()),
                &w.env,
            )
            .now_or_never()
            .unwrap();
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
    };
    // What amazon-cognito-identity-js sends on signUp.
    let (status, out) = call(
        "SignUp",
        json!({"ClientId": client, "Username": "nora", "Password": "Passw0rd!",
               "UserAttributes": [{"Name": "email", "Value": "nora@example.com"}],
               "ValidationData": null, "ClientMetadata": null, "SecretHash": null,
               "UserContextData": null, "AnalyticsMetadata": {"AnalyticsEndpointId": null}}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["UserConfirmed"], json!(false));
    // A required member sent as null is missing, with AWS's validation wording.
    let (status, out) = call(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "nora", "ConfirmationCode": null}),
    );
    assert_eq!(status, 400);
    assert_eq!(out["__type"], json!("InvalidParameterException"), "{out}");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("'confirmationCode' failed to satisfy constraint: Member must not be null"),
        "{out}"
    );
    // null inside a list is not a member: it is a wrong type.
    let (status, out) = call(
        "SignUp",
        json!({"ClientId": client, "Username": "nina", "Password": "Passw0rd!",
               "UserAttributes": [null]}),
    );
    assert_eq!(status, 400);
    assert_eq!(out["__type"], json!("SerializationException"), "{out}");
}

#[test]
fn admin_create_user_without_delivery_mediums_creates_the_user() {
    let w = World::new();
    let pool = w.pool(json!({}));
    // Only a username: the default medium (SMS) has no phone number to go to.
    let out = w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bare"}),
    );
    assert_eq!(out["User"]["UserStatus"], json!("FORCE_CHANGE_PASSWORD"));
    // Only an email, no DesiredDeliveryMediums: created too.
    w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "mailonly",
               "UserAttributes": [{"Name": "email", "Value": "m@example.com"}]}),
    );
    w.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mailonly"}),
    );
    // Asked explicitly for a medium the user has no attribute for: refused, nothing written.
    let e = w.err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nophone", "DesiredDeliveryMediums": ["SMS"],
               "UserAttributes": [{"Name": "email", "Value": "n@example.com"}]}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    assert_eq!(
        w.err(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "nophone"})
        )
        .kind,
        ErrorKind::UserNotFound
    );
    // One of two asked mediums is enough.
    w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "either", "DesiredDeliveryMediums": ["SMS", "EMAIL"],
               "UserAttributes": [{"Name": "email", "Value": "e@example.com"}]}),
    );
    assert!(w.env.sender.last_code("either").is_some());
}

#[test]
fn boolean_attribute_values_are_case_insensitive_and_stored_lowercase() {
    let w = World::new();
    let pool = w.pool(json!({}));
    w.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "tess", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "t@example.com"},
                                  {"Name": "email_verified", "Value": "True"}]}),
    );
    let user = w.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "tess"}),
    );
    let verified = user["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "email_verified")
        .cloned()
        .unwrap();
    assert_eq!(verified["Value"], json!("true"));
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "tess",
               "UserAttributes": [{"Name": "email_verified", "Value": "FALSE"}]}),
    );
    let e = w.err(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "tess",
               "UserAttributes": [{"Name": "email_verified", "Value": "yes"}]}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
}

#[test]
fn admin_operations_take_the_sub_for_the_username() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let client = w.client(&pool, json!({}));
    let sub = w.sign_up(&client, "ursula", "u@example.com")["UserSub"]
        .as_str()
        .unwrap()
        .to_string();
    let user = w.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": sub}));
    assert_eq!(user["Username"], json!("ursula"));
    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": sub}),
    );
    w.ok(
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    );
    w.ok(
        "AdminAddUserToGroup",
        json!({"UserPoolId": pool, "Username": sub, "GroupName": "staff"}),
    );
    let groups = w.ok(
        "AdminListGroupsForUser",
        json!({"UserPoolId": pool, "Username": "ursula"}),
    );
    assert_eq!(groups["Groups"][0]["GroupName"], json!("staff"));
    w.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": sub}),
    );
    w.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": sub}),
    );
    // The deleted user's sub no longer resolves (its index entry may dangle; the record decides).
    assert_eq!(
        w.err("AdminGetUser", json!({"UserPoolId": pool, "Username": sub}))
            .kind,
        ErrorKind::UserNotFound
    );
    // A sub-shaped name of nobody.
    assert_eq!(
        w.err(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "00000000-0000-4000-8000-000000000000"})
        )
        .kind,
        ErrorKind::UserNotFound
    );
}

#[test]
fn unknown_users_get_the_answer_of_a_known_user_with_a_wrong_secret() {
    let w = World::new();
    let pool = w.pool(json!({}));
    // PreventUserExistenceErrors is ENABLED by default.
    let client = w.client(&pool, json!({}));
    w.sign_up(&client, "kim", "kim@example.com");
    let confirm = |user: &str| {
        w.err(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": user, "ConfirmationCode": "000000"}),
        )
    };
    let (known, unknown) = (confirm("kim"), confirm("nobody"));
    assert_eq!(known.kind, ErrorKind::CodeMismatch);
    assert_eq!(
        (unknown.kind, &unknown.message),
        (known.kind, &known.message)
    );

    w.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "kim"}),
    );
    let reset = |user: &str, password: &str| {
        w.err(
            "ConfirmForgotPassword",
            json!({"ClientId": client, "Username": user, "ConfirmationCode": "000000",
                   "Password": password}),
        )
    };
    let (known, unknown) = (reset("kim", "Passw0rd!2"), reset("nobody", "Passw0rd!2"));
    assert_eq!(
        (unknown.kind, &unknown.message),
        (known.kind, &known.message)
    );
    // A weak password is refused the same way for both.
    let (known, unknown) = (reset("kim", "weak"), reset("nobody", "weak"));
    assert_eq!(known.kind, ErrorKind::InvalidPassword);
    assert_eq!(
        (unknown.kind, &unknown.message),
        (known.kind, &known.message)
    );

    // LEGACY tells.
    let legacy = w.client(&pool, json!({"PreventUserExistenceErrors": "LEGACY"}));
    let e = w.err(
        "ConfirmSignUp",
        json!({"ClientId": legacy, "Username": "nobody", "ConfirmationCode": "000000"}),
    );
    assert_eq!(e.kind, ErrorKind::UserNotFound);
}
