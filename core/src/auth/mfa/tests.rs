//! In-process MFA scenarios on the memory store with a manual clock: what the end-to-end
//! scenarios cannot do without waiting (expired sessions, drift at step edges), and the
//! trigger points (custom message source, post authentication after MFA).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use alloc::string::{String, ToString};

use futures_util::FutureExt;
use serde_json::{Value, json};

use crate::api::{Ctx, dispatch};
use crate::config::Config;
use crate::error::ErrorKind;
use crate::ports::Clock;
use crate::testing::TestEnv;

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
    fn call(&self, op: &str, body: Value) -> Result<Value, crate::Error> {
        let ctx = Ctx {
            config: &self.config,
            env: &self.env,
            region: "us-east-1".to_string(),
            origin: Default::default(),
        };
        dispatch(&ctx, op, body).now_or_never().unwrap()
    }
    fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body).unwrap_or_else(|e| panic!("{op}: {e}"))
    }
    /// A pool with these MFA settings (and `extra` pool fields), a client, a confirmed user
    /// `ann` with an email address; returns (pool, client).
    fn setup(&self, mfa: Value, extra: Value) -> (String, String) {
        let mut body = json!({"PoolName": "t", "AutoVerifiedAttributes": ["email"]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let pool = self.ok("CreateUserPool", body)["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut mfa = mfa;
        mfa["UserPoolId"] = json!(pool);
        self.ok("SetUserPoolMfaConfig", mfa);
        let client = self.ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "c",
                   "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
        self.ok(
            "SignUp",
            json!({"ClientId": client, "Username": "ann", "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
        );
        self.ok(
            "AdminConfirmSignUp",
            json!({"UserPoolId": pool, "Username": "ann"}),
        );
        (pool, client)
    }
    fn sign_in(&self, client: &str) -> Value {
        self.ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!"}}),
        )
    }
    fn answer(
        &self,
        client: &str,
        challenge: &str,
        session: &Value,
        name: &str,
        value: &str,
    ) -> Result<Value, crate::Error> {
        self.call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": challenge, "Session": session,
                   "ChallengeResponses": {"USERNAME": "ann", name: value}}),
        )
    }
    fn code_at(&self, secret: &str, offset_steps: i64) -> String {
        let key = crate::totp::decode_secret(secret).unwrap();
        let step = crate::totp::step_of(self.env.clock.now_millis() / 1000);
        crate::totp::code_at(&key, step.checked_add_signed(offset_steps).unwrap()).unwrap()
    }
    /// Sets up and enables a software token for `ann` (signed in without MFA); returns the
    /// secret.
    fn token_for_ann(&self, client: &str) -> String {
        let access = self.sign_in(client)["AuthenticationResult"]["AccessToken"].clone();
        let secret =
            self.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
                .as_str()
                .unwrap()
                .to_string();
        let code = self.code_at(&secret, 0);
        self.ok(
            "VerifySoftwareToken",
            json!({"AccessToken": access, "UserCode": code}),
        );
        self.ok(
            "SetUserMFAPreference",
            json!({"AccessToken": access,
                   "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        );
        // The verification code's step is used: move on to a fresh one.
        self.env.clock.advance(30_000);
        secret
    }
}

const TOTP_OPTIONAL: &str = r#"{"MfaConfiguration": "OPTIONAL",
    "SoftwareTokenMfaConfiguration": {"Enabled": true}}"#;

#[test]
fn an_mfa_session_expires_after_three_minutes() {
    let w = World::new();
    let (_, client) = w.setup(serde_json::from_str(TOTP_OPTIONAL).unwrap(), json!({}));
    let secret = w.token_for_ann(&client);
    let challenge = w.sign_in(&client);
    assert_eq!(challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    w.env.clock.advance(3 * 60_000);
    let code = w.code_at(&secret, 0);
    let expired = w
        .answer(
            &client,
            "SOFTWARE_TOKEN_MFA",
            &challenge["Session"],
            "SOFTWARE_TOKEN_MFA_CODE",
            &code,
        )
        .unwrap_err();
    assert_eq!(expired.kind, ErrorKind::NotAuthorized);
    assert_eq!(
        expired.message,
        "Invalid session for the user, session is expired."
    );
    // Just inside the three minutes, it works.
    let challenge = w.sign_in(&client);
    w.env.clock.advance(3 * 60_000 - 1);
    let code = w.code_at(&secret, 0);
    let done = w
        .answer(
            &client,
            "SOFTWARE_TOKEN_MFA",
            &challenge["Session"],
            "SOFTWARE_TOKEN_MFA_CODE",
            &code,
        )
        .unwrap();
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
}

#[test]
fn totp_accepts_one_step_of_drift_and_records_the_step_used() {
    let w = World::new();
    let (_, client) = w.setup(serde_json::from_str(TOTP_OPTIONAL).unwrap(), json!({}));
    let secret = w.token_for_ann(&client);
    // One more step, so the previous step is not the one the verification used.
    w.env.clock.advance(30_000);
    for (offset, accepted) in [(-2i64, false), (2, false), (-1, true)] {
        let challenge = w.sign_in(&client);
        let code = w.code_at(&secret, offset);
        let result = w.answer(
            &client,
            "SOFTWARE_TOKEN_MFA",
            &challenge["Session"],
            "SOFTWARE_TOKEN_MFA_CODE",
            &code,
        );
        assert_eq!(result.is_ok(), accepted, "offset {offset}");
        if !accepted {
            assert_eq!(result.unwrap_err().kind, ErrorKind::CodeMismatch);
        }
    }
    // The previous step was used: the current step's code still works, then nothing older.
    let challenge = w.sign_in(&client);
    let now = w.code_at(&secret, 0);
    w.answer(
        &client,
        "SOFTWARE_TOKEN_MFA",
        &challenge["Session"],
        "SOFTWARE_TOKEN_MFA_CODE",
        &now,
    )
    .unwrap();
    let challenge = w.sign_in(&client);
    let refused = w
        .answer(
            &client,
            "SOFTWARE_TOKEN_MFA",
            &challenge["Session"],
            "SOFTWARE_TOKEN_MFA_CODE",
            &now,
        )
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::CodeMismatch);
}

#[test]
fn email_codes_go_through_the_custom_message_plugin_and_post_authentication_follows_mfa() {
    let w = World::new();
    w.env.triggers.register("message", |_| {
        Ok(
            serde_json::to_vec(&json!({"emailMessage": "Custom {####}", "emailSubject": "Hi"}))
                .unwrap(),
        )
    });
    w.env
        .triggers
        .register("post", |_| Ok(serde_json::to_vec(&json!({})).unwrap()));
    let (_, client) = w.setup(
        json!({"MfaConfiguration": "ON", "EmailMfaConfiguration": {"Message": "Code {####}"}}),
        json!({"LambdaConfig": {"CustomMessage": "message", "PostAuthentication": "post"}}),
    );
    let challenge = w.sign_in(&client);
    assert_eq!(challenge["ChallengeName"], "EMAIL_OTP");
    assert_eq!(
        challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"],
        "a***@e***"
    );
    let events = w.env.triggers.events_of("message");
    assert_eq!(
        events.last().unwrap()["triggerSource"],
        "CustomMessage_Authentication"
    );
    let message = w
        .env
        .sender
        .messages
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        message.body,
        alloc::format!("Custom {}", message.code.expose())
    );
    assert_eq!(message.subject, "Hi");
    // Not yet signed in: no post authentication event before the second factor.
    assert!(w.env.triggers.events_of("post").is_empty());
    let code = w.env.sender.last_code("ann").unwrap();
    w.answer(
        &client,
        "EMAIL_OTP",
        &challenge["Session"],
        "EMAIL_OTP_CODE",
        &code,
    )
    .unwrap();
    let post = w.env.triggers.events_of("post");
    assert_eq!(post.len(), 1);
    assert_eq!(
        post[0]["triggerSource"],
        "PostAuthentication_Authentication"
    );
}

#[test]
fn pool_mfa_settings_follow_update_user_pool() {
    let w = World::new();
    let (pool, _) = w.setup(
        json!({"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        json!({}),
    );
    // UpdateUserPool without MfaConfiguration turns MFA off (omitted means default), keeping
    // the methods; ON again keeps the software token.
    w.ok("UpdateUserPool", json!({"UserPoolId": pool}));
    let got = w.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got["MfaConfiguration"], "OFF");
    assert_eq!(got["SoftwareTokenMfaConfiguration"]["Enabled"], true);
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON"}),
    );
    // An SmsConfiguration with MFA on enables SMS MFA (Cognito's historical behaviour).
    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sms"}}),
    );
    let got = w.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got["MfaConfiguration"], "OPTIONAL");
    assert_eq!(
        got["SmsMfaConfiguration"]["SmsConfiguration"]["SnsCallerArn"],
        "arn:aws:iam::000000000000:role/sms"
    );
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(described["UserPool"]["MfaConfiguration"], "OPTIONAL");
    assert!(
        described["UserPool"]
            .get("SoftwareTokenMfaConfiguration")
            .is_none()
    );
}

#[test]
fn wrong_codes_add_up_across_sign_ins_until_the_account_locks() {
    let w = World::new();
    let (_, client) = w.setup(serde_json::from_str(TOTP_OPTIONAL).unwrap(), json!({}));
    let secret = w.token_for_ann(&client);
    let wrong = |w: &World| {
        let right = [-1, 0, 1].map(|o| w.code_at(&secret, o));
        (0..1000)
            .map(|n| alloc::format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
            .find(|c| !right.contains(c))
            .unwrap()
    };
    // Two wrong codes per sign-in: the correct password in between does not reset the count
    // the codes add to, so the fifth wrong code locks the account.
    for round in 0..3 {
        let challenge = w.sign_in(&client);
        for attempt in 0..2 {
            let error = w
                .answer(
                    &client,
                    "SOFTWARE_TOKEN_MFA",
                    &challenge["Session"],
                    "SOFTWARE_TOKEN_MFA_CODE",
                    &wrong(&w),
                )
                .unwrap_err();
            if round == 2 && attempt == 1 {
                // The sixth answer: locked since the fifth.
                assert_eq!(error.message, "Password attempts exceeded");
            } else {
                assert_eq!(
                    error.kind,
                    ErrorKind::CodeMismatch,
                    "round {round} attempt {attempt}"
                );
            }
        }
    }
    let locked = w
        .call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!"}}),
        )
        .unwrap_err();
    assert_eq!(locked.message, "Password attempts exceeded");
    // Once the lock is over, the password and the right code sign in and reset the count.
    w.env.clock.advance(crate::auth::MAX_LOCKOUT_MILLIS);
    let challenge = w.sign_in(&client);
    let code = w.code_at(&secret, 0);
    w.answer(
        &client,
        "SOFTWARE_TOKEN_MFA",
        &challenge["Session"],
        "SOFTWARE_TOKEN_MFA_CODE",
        &code,
    )
    .unwrap();
    let challenge = w.sign_in(&client);
    let error = w
        .answer(
            &client,
            "SOFTWARE_TOKEN_MFA",
            &challenge["Session"],
            "SOFTWARE_TOKEN_MFA_CODE",
            &wrong(&w),
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::CodeMismatch);
}
