//! Unit tests of the pure parts: references, config validation, output parsing, pre token
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! generation, custom message and delivery checks.

use alloc::string::ToString;
use alloc::vec;

use serde_json::{Map, Value, json};

use super::*;
use crate::ports::{DeliveryRequest, Medium, Message};

#[test]
fn references_map_names_hashes_and_arns() {
    assert_eq!(
        plugin_reference("pre-sign-up").as_deref(),
        Some("pre-sign-up")
    );
    let hex = "AB".repeat(32);
    assert_eq!(
        plugin_reference(&alloc::format!("sha256:{hex}")),
        Some(alloc::format!("sha256:{}", hex.to_ascii_lowercase()))
    );
    assert_eq!(plugin_reference("sha256:abc"), None);
    assert_eq!(
        plugin_reference("arn:aws:lambda:us-east-1:123456789012:function:my_fn").as_deref(),
        Some("my_fn")
    );
    assert_eq!(
        plugin_reference("arn:aws:lambda:us-east-1:123456789012:function:my_fn:prod").as_deref(),
        Some("my_fn")
    );
    assert_eq!(plugin_reference("arn:aws:s3:::bucket"), None);
    assert_eq!(plugin_reference("has space"), None);
    assert_eq!(plugin_reference(""), None);
}

#[test]
fn lambda_config_is_validated() {
    assert!(crate::pool::lambda::validate_lambda_config(None).is_ok());
    assert!(
        crate::pool::lambda::validate_lambda_config(Some(
            &json!({"PreSignUp": "x", "KMSKeyID": "k"})
        ))
        .is_ok()
    );
    assert!(
        crate::pool::lambda::validate_lambda_config(Some(&json!({"PreSignUp": "bad name"})))
            .is_err()
    );
    assert!(crate::pool::lambda::validate_lambda_config(Some(&json!({"Nope": "x"}))).is_err());
    assert!(
        crate::pool::lambda::validate_lambda_config(Some(
            &json!({"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": "tok"}})
        ))
        .is_ok()
    );
    assert!(
        crate::pool::lambda::validate_lambda_config(Some(
            &json!({"PreTokenGenerationConfig": {"LambdaVersion": "V9_0", "LambdaArn": "tok"}})
        ))
        .is_err()
    );
}

#[test]
fn outputs_parse_to_responses_or_cognito_errors() {
    let r = parse_output(TriggerKind::PreSignUp, br#"{"autoConfirmUser":true}"#).unwrap();
    assert_eq!(r["autoConfirmUser"], true);
    let r = parse_output(
        TriggerKind::PreSignUp,
        br#"{"triggerSource":"PreSignUp_SignUp","response":{"autoConfirmUser":true}}"#,
    )
    .unwrap();
    assert_eq!(r["autoConfirmUser"], true);
    let e = parse_output(TriggerKind::PreSignUp, br#"{"error":"domain not allowed"}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UserLambdaValidation);
    assert_eq!(e.message, "PreSignUp failed with error domain not allowed.");
    for garbage in [&b"not json"[..], b"[1,2]", b"\"s\"", b""] {
        let e = parse_output(TriggerKind::PreSignUp, garbage).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidLambdaResponse);
        assert_eq!(e.message, "Unrecognizable lambda output");
    }
    let e = invocation_error(TriggerKind::PreSignUp, "p", &InvocationError::Timeout);
    assert_eq!(e.kind, ErrorKind::UnexpectedLambda);
    let e = invocation_error(
        TriggerKind::PreSignUp,
        "p",
        &InvocationError::OutputTooLarge,
    );
    assert_eq!(e.kind, ErrorKind::InvalidLambdaResponse);
}

fn claims(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn pre_token_v2_adds_suppresses_scopes_and_groups() {
    let mut id = claims(json!({"sub": "s", "email": "a@b", "cognito:groups": ["g1"]}));
    let mut access = claims(
        json!({"sub": "s", "scope": "aws.cognito.signin.user.admin", "cognito:groups": ["g1"]}),
    );
    let answer = claims(json!({"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tier": "gold", "sub": "evil", "n": 3}, "claimsToSuppress": ["email"]},
        "accessTokenGeneration": {"claimsToAddOrOverride": {"tier": "gold"}, "scopesToAdd": ["api/read"], "scopesToSuppress": ["aws.cognito.signin.user.admin"]},
        "groupOverrideDetails": {"groupsToOverride": ["admins"]}
    }}));
    tokens::apply_answer(&answer, true, &mut id, &mut access).unwrap();
    assert_eq!(id["tier"], "gold");
    assert_eq!(id["n"], 3);
    assert_eq!(id["sub"], "s", "protected claims stay");
    assert!(id.get("email").is_none());
    assert_eq!(access["tier"], "gold");
    assert_eq!(access["scope"], "api/read");
    assert_eq!(id["cognito:groups"], json!(["admins"]));
    assert_eq!(access["cognito:groups"], json!(["admins"]));
}

#[test]
fn pre_token_v1_changes_the_id_token_only() {
    let mut id = claims(json!({"sub": "s"}));
    let mut access = claims(json!({"sub": "s"}));
    let answer = claims(json!({"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"tier": "gold"},
        "groupOverrideDetails": {"groupsToOverride": []}
    }}));
    tokens::apply_answer(&answer, false, &mut id, &mut access).unwrap();
    assert_eq!(id["tier"], "gold");
    assert!(access.get("tier").is_none());
    let bad = claims(json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"n": 1}}}));
    assert!(tokens::apply_answer(&bad, false, &mut id, &mut access).is_err());
}

fn message(medium: Medium) -> Message {
    Message {
        pool_id: "us-east-1_x".into(),
        username: "ann".into(),
        medium,
        destination: "ann@example.com".into(),
        purpose: "SignUp".into(),
        subject: "s".into(),
        body: "b".into(),
        html: false,
        code: crate::Secret::new("123456"),
        link: None,
        route: crate::delivery::Route::default(),
    }
}

#[test]
fn custom_message_fills_in_code_and_username() {
    let mut m = message(Medium::Email);
    let answer = claims(
        json!({"emailMessage": "Hi {username}, code {####}", "emailSubject": "Welcome", "smsMessage": null}),
    );
    message::apply_custom_message(&answer, &mut m).unwrap();
    assert_eq!(m.body, "Hi ann, code 123456");
    assert_eq!(m.subject, "Welcome");
    let mut m = message(Medium::Email);
    let no_code = claims(json!({"emailMessage": "no code here"}));
    assert_eq!(
        message::apply_custom_message(&no_code, &mut m)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidLambdaResponse
    );
}

#[test]
fn a_custom_message_for_a_confirmation_link_places_the_link() {
    let link =
        "https://auth.example/confirmUser?client_id=c&user_name=ann&confirmation_code=123456";
    let mut m = message(Medium::Email);
    m.link = Some(link.into());
    let answer = claims(json!({"emailMessage": "<p>Hi {username}: {##Click Here##}</p>"}));
    message::apply_custom_message(&answer, &mut m).unwrap();
    assert_eq!(
        m.body,
        "<p>Hi ann: <a href=\"https://auth.example/confirmUser?client_id=c&amp;user_name=ann&amp;confirmation_code=123456\">Click Here</a></p>"
    );
    // Without a link, the link parameter alone does not carry the code to the user.
    let mut m = message(Medium::Email);
    let answer = claims(json!({"emailMessage": "Hi {##Click Here##}"}));
    assert_eq!(
        message::apply_custom_message(&answer, &mut m)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidLambdaResponse
    );
}

#[test]
fn delivery_requests_are_validated_and_checked_against_the_allow_list() {
    assert_eq!(delivery_request(&Map::new()).unwrap(), None);
    let answer = claims(
        json!({"delivery": {"method": "POST", "url": "https://mail.example.com:8443/send?x=1", "headers": {"content-type": "application/json"}, "body": "{}"}}),
    );
    let request: DeliveryRequest = delivery_request(&answer).unwrap().unwrap();
    assert_eq!(
        message::url_host(&request.url).as_deref(),
        Some("mail.example.com")
    );
    assert!(check_delivery(&request, &["mail.example.com".to_string()]).is_ok());
    assert!(check_delivery(&request, &["*.example.com".to_string()]).is_ok());
    assert!(check_delivery(&request, &["example.com".to_string()]).is_err());
    assert!(check_delivery(&request, &[]).is_err());
    let sneaky =
        claims(json!({"delivery": {"method": "POST", "url": "https://allowed.com@evil.com/"}}));
    assert!(delivery_request(&sneaky).is_err());
    let bad_method = claims(json!({"delivery": {"method": "CONNECT", "url": "https://a.com/"}}));
    assert!(delivery_request(&bad_method).is_err());
    let _ = vec![0u8];
}

// ---------------------------------------------------------------------------------------------
// In-process flows on the memory store, with plugins as closures.

mod flows {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use futures_util::FutureExt;
    use serde_json::{Value, json};

    use crate::api::{Ctx, dispatch};
    use crate::config::Config;
    use crate::error::ErrorKind;
    use crate::ports::InvocationError;
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
        fn setup(&self, lambda: Value) -> (String, String) {
            let pool = self.ok(
                "CreateUserPool",
                json!({"PoolName": "t", "AutoVerifiedAttributes": ["email"], "LambdaConfig": lambda}),
            )["UserPool"]["Id"]
                .as_str()
                .unwrap()
                .to_string();
            let client = self.ok(
                "CreateUserPoolClient",
                json!({"UserPoolId": pool, "ClientName": "c",
                       "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"]}),
            )["UserPoolClient"]["ClientId"]
                .as_str()
                .unwrap()
                .to_string();
            (pool, client)
        }
        fn plugin(&self, name: &str, answer: Value) {
            self.env
                .triggers
                .register(name, move |_| Ok(serde_json::to_vec(&answer).unwrap()));
        }
    }

    #[test]
    fn pre_sign_up_auto_confirms_and_post_confirmation_runs() {
        let w = World::new();
        w.plugin(
            "pre",
            json!({"autoConfirmUser": true, "autoVerifyEmail": true}),
        );
        w.plugin("post", json!({}));
        let (pool, client) = w.setup(json!({"PreSignUp": "pre", "PostConfirmation": "post"}));
        let out = w.ok(
            "SignUp",
            json!({"ClientId": client, "Username": "ann", "Password": "Passw0rd!",
                   "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}],
                   "ClientMetadata": {"k": "v"}}),
        );
        assert_eq!(out["UserConfirmed"], true);
        assert!(w.env.sender.last_code("ann").is_none(), "no code sent");
        let pre = w.env.triggers.events_of("pre");
        assert_eq!(pre.len(), 1);
        assert_eq!(pre[0]["triggerSource"], "PreSignUp_SignUp");
        assert_eq!(pre[0]["userPoolId"], pool);
        assert_eq!(pre[0]["callerContext"]["clientId"], client);
        assert_eq!(pre[0]["request"]["clientMetadata"]["k"], "v");
        let post = w.env.triggers.events_of("post");
        assert_eq!(post[0]["triggerSource"], "PostConfirmation_ConfirmSignUp");
        assert_eq!(
            post[0]["request"]["userAttributes"]["email_verified"],
            "true"
        );
        let user = w.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "ann"}),
        );
        assert_eq!(user["UserStatus"], "CONFIRMED");
        w.ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": "Passw0rd!"}}),
        );
    }

    #[test]
    fn plugin_failures_map_to_cognito_errors() {
        let w = World::new();
        w.env
            .triggers
            .register("trap", |_| Err(InvocationError::Trap("unreachable".into())));
        w.env
            .triggers
            .register("garbage", |_| Ok(b"not json".to_vec()));
        w.plugin("refuse", json!({"error": "nope"}));
        for (name, kind) in [
            ("trap", ErrorKind::UnexpectedLambda),
            ("garbage", ErrorKind::InvalidLambdaResponse),
            ("refuse", ErrorKind::UserLambdaValidation),
            ("missing", ErrorKind::UnexpectedLambda),
        ] {
            let (_, client) = w.setup(json!({"PreSignUp": name}));
            let e = w
                .call(
                    "SignUp",
                    json!({"ClientId": client, "Username": "bob", "Password": "Passw0rd!"}),
                )
                .unwrap_err();
            assert_eq!(e.kind, kind, "{name}: {}", e.message);
        }
    }

    #[test]
    fn custom_auth_keeps_history_in_the_session() {
        let w = World::new();
        w.env.triggers.register("define", |event| {
            let session = event["request"]["session"].as_array().unwrap();
            let answer = match session.last() {
                Some(last) if last["challengeResult"] == true => json!({"issueTokens": true}),
                _ if session.len() >= 2 => json!({"failAuthentication": true}),
                _ => json!({"challengeName": "CUSTOM_CHALLENGE"}),
            };
            Ok(serde_json::to_vec(&answer).unwrap())
        });
        w.env.triggers.register("create", |event| {
            let round = event["request"]["session"].as_array().unwrap().len();
            Ok(serde_json::to_vec(&json!({
                "publicChallengeParameters": {"round": round.to_string()},
                "privateChallengeParameters": {"answer": alloc::format!("secret-{round}")},
                "challengeMetadata": alloc::format!("m{round}"),
            }))
            .unwrap())
        });
        w.env.triggers.register("verify", |event| {
            let ok = event["request"]["challengeAnswer"]
                == event["request"]["privateChallengeParameters"]["answer"];
            Ok(serde_json::to_vec(&json!({"answerCorrect": ok})).unwrap())
        });
        let (pool, client) = w.setup(json!({"DefineAuthChallenge": "define",
            "CreateAuthChallenge": "create", "VerifyAuthChallengeResponse": "verify"}));
        w.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": "cy", "MessageAction": "SUPPRESS", "TemporaryPassword": "Passw0rd!"}),
        );
        w.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": "cy", "Password": "Passw0rd!", "Permanent": true}),
        );
        let start = w.ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "cy"}}),
        );
        assert_eq!(start["ChallengeName"], "CUSTOM_CHALLENGE");
        assert_eq!(start["ChallengeParameters"]["round"], "0");
        let respond = |session: &Value, answer: &str| {
            w.call(
                "RespondToAuthChallenge",
                json!({"ClientId": client, "ChallengeName": "CUSTOM_CHALLENGE", "Session": session,
                       "ChallengeResponses": {"USERNAME": "cy", "ANSWER": answer}}),
            )
        };
        let second = respond(&start["Session"], "wrong").unwrap();
        assert_eq!(second["ChallengeParameters"]["round"], "1");
        let done = respond(&second["Session"], "secret-1").unwrap();
        assert!(done["AuthenticationResult"]["IdToken"].is_string());
        let defines = w.env.triggers.events_of("define");
        let last = &defines.last().unwrap()["request"]["session"];
        assert_eq!(
            *last,
            json!([
                {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "m0"},
                {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "m1"}
            ])
        );
        // Used sessions are gone.
        assert_eq!(
            respond(&second["Session"], "secret-1").unwrap_err().kind,
            ErrorKind::NotAuthorized
        );
        let _: Vec<u8> = Vec::new();
    }
}
