//! Property test of whole requests (issue 24): the HTTP-level parsers (SigV4 headers, query
//! strings, forms, cookies, the OAuth endpoints and the hosted UI) never answer a 5xx or panic,
//! whatever arrives. The bodies and ids come from `crate::api::properties`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use futures_util::FutureExt as _;
use proptest::prelude::*;
use serde_json::Value;

use crate::api::properties::{
    body, hostile_string, identity_operation, user_pool_operation, world,
};

const PATHS: &[&str] = &[
    "/",
    "/health",
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/userInfo",
    "/oauth2/revoke",
    "/oauth2/idpresponse",
    "/saml2/idpresponse",
    "/saml2/logout",
    "/login",
    "/logout",
    "/signup",
    "/confirm",
    "/forgotPassword",
    "/confirmForgotPassword",
    "/mfa",
    "/confirmUser",
    "/cognito-identity/.well-known/jwks.json",
    "/cognito-identity/.well-known/openid-configuration",
];

const QUERY_KEYS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "identity_provider",
    "idp_identifier",
    "grant_type",
    "refresh_token",
    "code_verifier",
    "username",
    "password",
    "logout_uri",
    "lang",
    "token",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![hostile_string(), "[a-zA-Z0-9_=%&+.-]{0,40}"]
}

fn form(known: Vec<(&'static str, Value)>) -> impl Strategy<Value = String> {
    let client = known
        .iter()
        .find(|(k, _)| *k == "ClientId")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default()
        .to_string();
    prop::collection::vec(
        (
            prop::sample::select(QUERY_KEYS),
            prop_oneof![
                text(),
                Just(client),
                Just("code".to_string()),
                Just("openid".to_string())
            ],
        ),
        0..8,
    )
    .prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| {
                alloc::format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn request() -> impl Strategy<Value = crate::http::Request> {
    let (_, _, known) = world();
    let pool = known
        .iter()
        .find(|(k, _)| *k == "UserPoolId")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or_default()
        .to_string();
    let path = prop_oneof![
        3 => prop::sample::select(PATHS).prop_map(str::to_string),
        1 => Just(alloc::format!("/{pool}/.well-known/jwks.json")),
        1 => Just(alloc::format!("/{pool}/.well-known/openid-configuration")),
        1 => "/[a-zA-Z0-9_./%-]{0,30}",
    ];
    let target = prop_oneof![
        user_pool_operation()
            .prop_map(|op| alloc::format!("AWSCognitoIdentityProviderService.{op}")),
        identity_operation().prop_map(|op| alloc::format!("AWSCognitoIdentityService.{op}")),
        text(),
    ];
    let authorization = prop_oneof![
        Just(None),
        text().prop_map(Some),
        (text(), text()).prop_map(|(scope, sig)| Some(alloc::format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={sig}"
        ))),
    ];
    let content_type = prop_oneof![
        Just("application/x-amz-json-1.1".to_string()),
        Just("application/x-www-form-urlencoded".to_string()),
        Just("application/json".to_string()),
        text(),
    ];
    let body = prop_oneof![
        body().prop_map(|b| serde_json::to_vec(&b).unwrap_or_default()),
        form(known.clone()).prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..200),
    ];
    (
        prop::sample::select(&["GET", "POST", "OPTIONS", "HEAD", "PUT"][..]),
        path,
        form(known),
        (
            target,
            authorization,
            content_type,
            prop::option::of(text()),
        ),
        body,
    )
        .prop_map(
            |(method, path, query, (target, authorization, content_type, cookie), body)| {
                let mut request = crate::http::Request::new(method, &path)
                    .with_header("host", "cognate.test")
                    .with_header("x-amz-target", &target)
                    .with_header("content-type", &content_type)
                    .with_header("x-amz-date", "20260101T000000Z")
                    .with_body(body);
                request.query = query;
                if let Some(a) = authorization {
                    request = request.with_header("authorization", &a);
                }
                if let Some(c) = cookie {
                    request = request.with_header("cookie", &c);
                }
                request
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn any_request_is_answered_without_a_server_error(request in request()) {
        let (env, config, _) = world();
        let service = crate::service::Service::new(config);
        let shown = alloc::format!("{} {}?{}", request.method, request.path, request.query);
        let response = service
            .handle(request, &env)
            .now_or_never()
            .expect("memory ports never pend");
        prop_assert!(response.status < 500, "{shown} answered {}: {}", response.status, String::from_utf8_lossy(&response.body));
    }
}
