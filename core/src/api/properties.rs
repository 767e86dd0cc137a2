//! Property tests of the Cognito JSON layer (issue 24): whatever body reaches whichever
//! operation, of either service, the answer is a result or a Cognito error of the client's kind
//! (4xx), never a panic or a server error. Bodies are arbitrary JSON built from the members
//! Cognito's operations take (so they reach past the model check into the handlers), plus
//! values of every JSON type and a few hostile strings. `PROPTEST_CASES` sets how many run
//! (CI: the default below; longer on demand); a failing case is shrunk and kept under
//! `core/proptest-regressions/` to run again first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use futures_util::FutureExt as _;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::config::Config;
use crate::testing::TestEnv;

/// Member names the operations read, so random bodies reach the handlers.
const MEMBERS: &[&str] = &[
    "UserPoolId",
    "ClientId",
    "Username",
    "Password",
    "AccessToken",
    "RefreshToken",
    "Session",
    "AuthFlow",
    "AuthParameters",
    "ChallengeName",
    "ChallengeResponses",
    "UserAttributes",
    "ConfirmationCode",
    "GroupName",
    "PoolName",
    "ClientName",
    "ExplicitAuthFlows",
    "Filter",
    "Limit",
    "MaxResults",
    "NextToken",
    "PaginationToken",
    "AttributesToGet",
    "DeviceKey",
    "IdentityPoolId",
    "IdentityId",
    "Logins",
    "IdentityPoolName",
    "AllowUnauthenticatedIdentities",
    "Roles",
    "RoleMappings",
    "DeveloperProviderName",
    "DeveloperUserIdentifier",
    "Token",
    "ProviderName",
    "ProviderType",
    "ProviderDetails",
    "AttributeMapping",
    "Domain",
    "Identifier",
    "Scopes",
    "CallbackURLs",
    "AllowedOAuthFlows",
    "MfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "ClientMetadata",
    "ValidationData",
    "Schema",
    "Policies",
    "LambdaConfig",
    "TokenDuration",
    "SecretHash",
    "USERNAME",
    "PASSWORD",
    "SRP_A",
    "REFRESH_TOKEN",
    "DEVICE_KEY",
    "ANSWER",
];

/// Strings that have broken parsers elsewhere: empty, huge, control characters, JSON-looking,
/// id-looking, JWT-looking.
pub(crate) fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}".to_string()),
        Just("a".repeat(70_000)),
        Just("us-east-1_AAAAAAAAA".to_string()),
        Just("us-east-1:00000000-0000-4000-8000-000000000000".to_string()),
        Just("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln".to_string()),
        Just("{\"a\":1}".to_string()),
        Just("%ZZ%00../../".to_string()),
        "\\PC{0,40}",
        any::<String>(),
    ]
}

pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(MEMBERS).prop_map(str::to_string),
                        "\\PC{0,12}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A body: mostly an object of real member names, whose ids often name the world's pool, client,
/// user and identity pool (so the handlers get past their lookups).
pub(crate) fn body() -> impl Strategy<Value = Value> {
    let (_, _, known) = world();
    let real: Vec<(&'static str, Value)> = known;
    let member = prop_oneof![
        3 => (prop::sample::select(MEMBERS), json_value()).prop_map(|(k, v)| (k.to_string(), v)),
        2 => prop::sample::select(real).prop_map(|(k, v)| (k.to_string(), v)),
    ];
    prop_oneof![
        4 => prop::collection::vec(member, 0..10)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        1 => json_value(),
    ]
}

pub(crate) fn user_pool_operation() -> impl Strategy<Value = &'static str> {
    let all: Vec<&'static str> = super::ADMIN_OPERATIONS
        .iter()
        .chain(super::PUBLIC_OPERATIONS)
        .copied()
        .collect();
    prop::sample::select(all)
}

pub(crate) fn identity_operation() -> impl Strategy<Value = &'static str> {
    let all: Vec<&'static str> = super::identity::ADMIN_OPERATIONS
        .iter()
        .chain(super::identity::PUBLIC_OPERATIONS)
        .copied()
        .collect();
    prop::sample::select(all)
}

/// A fresh world: a pool with a client and a confirmed user, and an identity pool. The test
/// ports are deterministic, so every world has the same ids; the members that name them come
/// back as the third element.
pub(crate) fn world() -> (TestEnv, Config, Vec<(&'static str, Value)>) {
    let env = TestEnv::new();
    let config = Config::new("http://cognate.test", "us-east-1");
    let call = |op: &str, body: Value| {
        super::dispatch(&ctx(&env, &config), op, body)
            .now_or_never()
            .expect("memory ports never pend")
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    };
    let pool = call("CreateUserPool", json!({"PoolName": "p"}))["UserPool"]["Id"].clone();
    let client = call(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "c",
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"]}),
    )["UserPoolClient"]["ClientId"]
        .clone();
    call(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "alice", "MessageAction": "SUPPRESS"}),
    );
    call(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!", "Permanent": true}),
    );
    let identity_pool = super::identity::dispatch(
        &ctx(&env, &config),
        "CreateIdentityPool",
        json!({"IdentityPoolName": "ids", "AllowUnauthenticatedIdentities": true}),
    )
    .now_or_never()
    .expect("memory ports never pend")
    .unwrap()["IdentityPoolId"]
        .clone();
    let known = alloc::vec![
        ("UserPoolId", pool),
        ("ClientId", client),
        ("Username", json!("alice")),
        ("USERNAME", json!("alice")),
        ("Password", json!("Passw0rd!")),
        ("PASSWORD", json!("Passw0rd!")),
        ("AuthFlow", json!("USER_PASSWORD_AUTH")),
        ("AuthFlow", json!("USER_SRP_AUTH")),
        ("AuthFlow", json!("REFRESH_TOKEN_AUTH")),
        ("IdentityPoolId", identity_pool),
    ];
    (env, config, known)
}

pub(crate) fn ctx<'a>(env: &'a TestEnv, config: &'a Config) -> Ctx<'a> {
    Ctx {
        config,
        env,
        region: "us-east-1".to_string(),
        origin: Default::default(),
    }
}

fn assert_client_error(
    operation: &str,
    body: &Value,
    result: Result<Value, crate::Error>,
) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let (name, status) = e.kind.wire();
        prop_assert!(
            (400..500).contains(&status),
            "{operation} answered {status} {name}: {} for {body}",
            e.message
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn any_body_to_any_user_pool_operation_is_answered_without_a_server_error(
        operation in user_pool_operation(),
        body in body(),
    ) {
        let (env, config, _) = world();
        let ctx = ctx(&env, &config);
        let result = match super::model::check(operation, &body) {
            Err(e) => Err(e),
            Ok(()) => super::dispatch(&ctx, operation, body.clone())
                .now_or_never()
                .expect("memory ports never pend"),
        };
        assert_client_error(operation, &body, result)?;
    }

    #[test]
    fn any_body_to_any_identity_operation_is_answered_without_a_server_error(
        operation in identity_operation(),
        body in body(),
    ) {
        let (env, config, _) = world();
        let ctx = ctx(&env, &config);
        let result = match super::model::check_identity(operation, &body) {
            Err(e) => Err(e),
            Ok(()) => super::identity::dispatch(&ctx, operation, body.clone())
                .now_or_never()
                .expect("memory ports never pend"),
        };
        assert_client_error(operation, &body, result)?;
    }
}
