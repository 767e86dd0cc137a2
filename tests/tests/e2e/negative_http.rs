//! Raw HTTP that no SDK would send, and tokens that must not be accepted. Every answer is a
//! 4xx with Cognito's error shape (`__type`, `x-amzn-errortype`) that a browser can read
//! (`Access-Control-Allow-Origin`), never a 500.
//!
//! Expired tokens: a server cannot be moved through time from outside and a real token lives an
//! hour, so expiry is covered by the core's unit tests with a fixed clock; here, tokens with an
//! `exp` in the past are forged (signed with a key the server does not have), which the server
//! must refuse whatever their claims say.

use cognate_tests::cognito::types::AuthFlowType;
use cognate_tests::{
    AppClient, JwtParts, PASSWORD, RawResponse, Target, bare_error_name, encode_json_part,
    flip_char, service_error, unique, unique_email,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use serde_json::{Map, Value, json};

const ORIGIN: &str = "http://app.example.com";
const JSON_1_1: &str = "application/x-amz-json-1.1";

fn target_header(operation: &str) -> String {
    format!("AWSCognitoIdentityProviderService.{operation}")
}

/// `POST /` as a browser on another origin would send it.
async fn post(
    target: &Target,
    content_type: Option<&str>,
    amz_target: Option<&str>,
    body: Vec<u8>,
) -> RawResponse {
    let mut headers = vec![("origin", ORIGIN)];
    if let Some(content_type) = content_type {
        headers.push(("content-type", content_type));
    }
    if let Some(amz_target) = amz_target {
        headers.push(("x-amz-target", amz_target));
    }
    target.post_raw(&headers, body).await
}

async fn call(target: &Target, operation: &str, body: &Value) -> RawResponse {
    post(
        target,
        Some(JSON_1_1),
        Some(&target_header(operation)),
        body.to_string().into_bytes(),
    )
    .await
}

/// Any error answer: 4xx, readable cross-origin, never a 500.
fn assert_client_error(response: &RawResponse) {
    assert!(
        (400..500).contains(&response.status),
        "expected a 4xx: {response}"
    );
    assert!(
        response.header("access-control-allow-origin").is_some(),
        "an error without Access-Control-Allow-Origin is a network error to a browser: {response}"
    );
}

/// A Cognito error: `status`, `__type` in the body and `x-amzn-errortype` naming `error_type`.
fn assert_api_error(response: &RawResponse, status: u16, error_type: &str) {
    assert_client_error(response);
    assert_eq!(response.status, status, "{response}");
    let body = response
        .json()
        .unwrap_or_else(|| panic!("the error body is not JSON: {response}"));
    let body_type = body["__type"]
        .as_str()
        .unwrap_or_else(|| panic!("no __type in the error body: {response}"));
    assert_eq!(bare_error_name(body_type), error_type, "{response}");
    let header = response
        .header("x-amzn-errortype")
        .unwrap_or_else(|| panic!("no x-amzn-errortype header: {response}"));
    assert_eq!(bare_error_name(header), error_type, "{response}");
}

/// A 400 whose `__type` is one of `allowed`.
fn assert_api_error_in(response: &RawResponse, allowed: &[&str]) {
    assert_client_error(response);
    assert_eq!(response.status, 400, "{response}");
    let error_type = response.error_type().unwrap_or_default();
    assert!(
        allowed.contains(&error_type.as_str()),
        "{error_type:?} not in {allowed:?}: {response}"
    );
    assert!(response.header("x-amzn-errortype").is_some(), "{response}");
}

#[tokio::test]
async fn malformed_json_is_serialization_exception() {
    let target = Target::shared();
    for body in [
        &b"{\"ClientId\": "[..],
        b"not json at all",
        b"{\"ClientId\":\"a\",}",
        b"\xff\xfe{}",
    ] {
        let response = post(
            target,
            Some(JSON_1_1),
            Some(&target_header("SignUp")),
            body.to_vec(),
        )
        .await;
        assert_api_error(&response, 400, "SerializationException");
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_400() {
    let target = Target::shared();
    let bodies = [
        json!([1, 2, 3]),
        json!("a string"),
        json!({"ClientId": 5, "Username": "u", "Password": PASSWORD}),
        json!({"ClientId": "abc", "Username": ["u"], "Password": PASSWORD}),
        json!({"ClientId": "abc", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": "USERNAME=u"}),
    ];
    for body in &bodies {
        let operation = if body.get("AuthFlow").is_some() {
            "InitiateAuth"
        } else {
            "SignUp"
        };
        let response = call(target, operation, body).await;
        assert_api_error_in(
            &response,
            &["SerializationException", "InvalidParameterException"],
        );
    }
}

#[tokio::test]
async fn an_unknown_target_is_unknown_operation_exception() {
    let target = Target::shared();
    for amz_target in [
        "AWSCognitoIdentityProviderService.NoSuchOperation",
        "AWSCognitoIdentityProviderService.",
        "SomeOtherService.SignUp",
        "SignUp",
    ] {
        let response = post(target, Some(JSON_1_1), Some(amz_target), b"{}".to_vec()).await;
        assert_api_error(&response, 400, "UnknownOperationException");
    }
}

#[tokio::test]
async fn a_missing_target_is_a_400() {
    let target = Target::shared();
    let response = post(target, Some(JSON_1_1), None, b"{}".to_vec()).await;
    assert_client_error(&response);
    assert_eq!(response.status, 400, "{response}");
    assert!(response.error_type().is_some(), "{response}");
    assert!(response.header("x-amzn-errortype").is_some(), "{response}");
}

#[tokio::test]
async fn a_wrong_content_type_is_a_client_error() {
    let target = Target::shared();
    let body = json!({"ClientId": "abc", "Username": "u", "Password": PASSWORD}).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = post(
            target,
            content_type,
            Some(&target_header("SignUp")),
            body.clone().into_bytes(),
        )
        .await;
        assert_client_error(&response);
    }
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let target = Target::shared();
    let big = "a".repeat(2 * 1024 * 1024);
    let body = json!({"ClientId": "abc", "Username": big, "Password": PASSWORD}).to_string();
    let response = post(
        target,
        Some(JSON_1_1),
        Some(&target_header("SignUp")),
        body.into_bytes(),
    )
    .await;
    assert_eq!(response.status, 413, "{response}");
    assert!(
        response.header("access-control-allow-origin").is_some(),
        "{response}"
    );
}

#[tokio::test]
async fn missing_required_fields_are_invalid_parameter() {
    let target = Target::shared();
    let client = target.standard_setup("required").await;
    let cases = [
        (
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "u", "PASSWORD": PASSWORD}}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": client.id, "AuthParameters": {"USERNAME": "u", "PASSWORD": PASSWORD}}),
        ),
        (
            "SignUp",
            json!({"ClientId": client.id, "Password": PASSWORD}),
        ),
        (
            "SignUp",
            json!({"ClientId": client.id, "Username": unique("u")}),
        ),
        (
            "ConfirmSignUp",
            json!({"ClientId": client.id, "Username": "u"}),
        ),
        ("GetUser", json!({})),
    ];
    for (operation, body) in &cases {
        let response = call(target, operation, body).await;
        assert_api_error(&response, 400, "InvalidParameterException");
    }
    // An AuthFlow outside the enum.
    let response = call(
        target,
        "InitiateAuth",
        &json!({"ClientId": client.id, "AuthFlow": "NO_SUCH_FLOW", "AuthParameters": {}}),
    )
    .await;
    assert_api_error(&response, 400, "InvalidParameterException");
}

#[tokio::test]
async fn a_100_kb_username_is_invalid_parameter() {
    let target = Target::shared();
    let client = target.standard_setup("long-username").await;
    let long = "u".repeat(100 * 1024);
    for (operation, body) in [
        (
            "SignUp",
            json!({"ClientId": client.id, "Username": long, "Password": PASSWORD}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": client.id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": long, "PASSWORD": PASSWORD}}),
        ),
        (
            "ConfirmSignUp",
            json!({"ClientId": client.id, "Username": long, "ConfirmationCode": "123456"}),
        ),
    ] {
        let response = call(target, operation, &body).await;
        // SignUp and ConfirmSignUp check the length; InitiateAuth may instead answer as for an
        // unknown user, which never exists with such a name.
        if operation == "InitiateAuth" {
            assert_api_error_in(
                &response,
                &["InvalidParameterException", "NotAuthorizedException"],
            );
        } else {
            assert_api_error(&response, 400, "InvalidParameterException");
        }
    }
}

#[tokio::test]
async fn an_unknown_path_is_404() {
    let target = Target::shared();
    for path in ["/no/such/path", "/us-east-1_Zz9Zz9Zz9/nothing-here"] {
        let response = target
            .http()
            .get(format!("{}{path}", target.base_url()))
            .header("origin", ORIGIN)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 404, "GET {path}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_some(),
            "GET {path}"
        );
    }
}

#[tokio::test]
async fn cors_preflight_allows_the_cognito_headers() {
    let target = Target::shared();
    let response = target
        .http()
        .request(reqwest::Method::OPTIONS, format!("{}/", target.base_url()))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-amz-target,x-amz-user-agent,cache-control",
        )
        .send()
        .await
        .expect("OPTIONS /");
    let status = response.status().as_u16();
    assert!(
        status == 200 || status == 204,
        "preflight answered {status}"
    );
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    let allow_origin = header("access-control-allow-origin");
    assert!(
        allow_origin == "*" || allow_origin == ORIGIN,
        "{allow_origin:?}"
    );
    let allow_headers = header("access-control-allow-headers");
    for wanted in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "cache-control",
    ] {
        assert!(
            allow_headers == "*" || allow_headers.split(',').any(|h| h.trim() == wanted),
            "{wanted} not in Access-Control-Allow-Headers {allow_headers:?}"
        );
    }
    let allow_methods = header("access-control-allow-methods");
    assert!(
        allow_methods == "*" || allow_methods.split(',').any(|m| m.trim() == "post"),
        "POST not in Access-Control-Allow-Methods {allow_methods:?}"
    );
}

#[tokio::test]
async fn successful_responses_are_readable_cross_origin() {
    let target = Target::shared();
    let client = target.standard_setup("cors-ok").await;
    let response = call(
        target,
        "SignUp",
        &json!({
            "ClientId": client.id,
            "Username": unique("cors"),
            "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": unique_email("cors")}],
        }),
    )
    .await;
    assert_eq!(response.status, 200, "{response}");
    assert!(
        response.header("access-control-allow-origin").is_some(),
        "{response}"
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|c| c.starts_with(JSON_1_1)),
        "{response}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// A confirmed user signed in: (client, access token, ID token, refresh token).
async fn signed_in(
    target: &Target,
    prefix: &str,
    username: &str,
    email: &str,
) -> (AppClient, String, String, String) {
    let client = target.standard_setup(prefix).await;
    target
        .sign_up_confirmed(&client, username, PASSWORD, email)
        .await;
    let tokens = target.password_sign_in(&client, username, PASSWORD).await;
    (
        client,
        tokens.access_token().expect("AccessToken").to_owned(),
        tokens.id_token().expect("IdToken").to_owned(),
        tokens.refresh_token().expect("RefreshToken").to_owned(),
    )
}

/// `GetUser` with `token` is refused as Cognito refuses a bad access token.
async fn assert_refused(target: &Target, token: &str, what: &str) {
    let response = call(target, "GetUser", &json!({"AccessToken": token})).await;
    assert!(
        response.status != 200,
        "GetUser accepted {what}: {response}"
    );
    assert_api_error(&response, 400, "NotAuthorizedException");
}

fn forged_rs256(
    key: &rsa::RsaPrivateKey,
    kid: Option<&str>,
    claims: &Map<String, Value>,
) -> String {
    let der = key.to_pkcs1_der().expect("PKCS#1 DER");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).expect("sign")
}

#[tokio::test]
async fn get_user_refuses_tampered_forged_and_misused_tokens() {
    let target = Target::shared();
    let username = unique("tampered");
    let (_client, access, id, _refresh) =
        signed_in(target, "tokens", &username, &unique_email("t")).await;
    // The genuine token works.
    let response = call(target, "GetUser", &json!({"AccessToken": access})).await;
    assert_eq!(response.status, 200, "{response}");

    let parts = JwtParts::split(&access);
    let kid = parts.header_json()["kid"].as_str().expect("kid").to_owned();
    let claims = parts.payload_json();

    // A character of the signature changed.
    let mut p = parts.clone();
    p.signature = flip_char(&p.signature, p.signature.len() / 2);
    assert_refused(target, &p.join(), "a token with a changed signature").await;
    // The signature removed.
    let mut p = parts.clone();
    p.signature = String::new();
    assert_refused(target, &p.join(), "a token without a signature").await;
    // A character of the payload changed.
    let mut p = parts.clone();
    p.payload = flip_char(&p.payload, p.payload.len() / 2);
    assert_refused(target, &p.join(), "a token with a changed payload").await;
    // The payload re-encoded with a later expiry, the original signature kept.
    let mut later = claims.clone();
    let exp = later["exp"].as_u64().expect("exp");
    later.insert("exp".into(), json!(exp + 365 * 24 * 3600));
    let mut p = parts.clone();
    p.payload = encode_json_part(&later);
    assert_refused(target, &p.join(), "a token with an extended exp").await;
    // `alg: none`.
    let mut none_header = parts.header_json();
    none_header.insert("alg".into(), json!("none"));
    let mut p = parts.clone();
    p.header = encode_json_part(&none_header);
    p.signature = String::new();
    assert_refused(target, &p.join(), "an alg:none token").await;
    // HS256 with the key id of the pool's RSA key.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let hs_token =
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(b"guessable")).expect("HS256");
    assert_refused(target, &hs_token, "an HS256 token").await;

    // Signed by another RSA key, with the pool key's kid, an unknown kid and no kid.
    let other_key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    assert_refused(
        target,
        &forged_rs256(&other_key, Some(&kid), &claims),
        "a token signed by another key",
    )
    .await;
    assert_refused(
        target,
        &forged_rs256(&other_key, Some("not-a-key-id"), &claims),
        "a token with an unknown kid",
    )
    .await;
    assert_refused(
        target,
        &forged_rs256(&other_key, None, &claims),
        "a token without kid",
    )
    .await;
    // An expired token (forged: see the file comment).
    let mut expired = claims.clone();
    expired.insert("iat".into(), json!(1_000_000_000));
    expired.insert("auth_time".into(), json!(1_000_000_000));
    expired.insert("exp".into(), json!(1_000_003_600));
    assert_refused(
        target,
        &forged_rs256(&other_key, Some(&kid), &expired),
        "an expired token",
    )
    .await;

    // Not JWTs at all.
    for garbage in ["garbage", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30."] {
        assert_refused(target, garbage, "garbage").await;
    }
    // An ID token is not an access token.
    assert_refused(target, &id, "an ID token").await;

    // The SDK sees the typed error.
    let err = service_error(
        target
            .public_client()
            .get_user()
            .access_token(flip_char(&access, access.len() - 10))
            .send()
            .await,
        "GetUser with a tampered token",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

#[tokio::test]
async fn tokens_from_another_pool_do_not_work_in_this_one() {
    let target = Target::shared();
    // The same username in two pools, with different emails.
    let username = unique("twin");
    let email_a = unique_email("a");
    let email_b = unique_email("b");
    let (client_a, access_a, _id_a, _refresh_a) =
        signed_in(target, "pool-a", &username, &email_a).await;
    let (client_b, access_b, id_b, refresh_b) =
        signed_in(target, "pool-b", &username, &email_b).await;

    // Each pool's tokens verify only against that pool's keys and issuer.
    let jwks_a = target.jwks(&client_a.pool_id).await;
    let jwks_b = target.jwks(&client_b.pool_id).await;
    jwks_b
        .verify_access_token(&access_b, &client_b.id)
        .expect("B's token under B's JWKS");
    assert!(
        jwks_a.verify_access_token(&access_b, &client_b.id).is_err(),
        "B's token verified under A's JWKS"
    );
    assert!(jwks_a.verify_id_token(&id_b, &client_a.id).is_err());
    jwks_a
        .verify_access_token(&access_a, &client_a.id)
        .expect("A's token under A's JWKS");

    // GetUser with B's token reads B's user, never A's namesake.
    let response = call(target, "GetUser", &json!({"AccessToken": access_b})).await;
    assert_eq!(response.status, 200, "{response}");
    let body = response.json().expect("JSON");
    let attributes = body["UserAttributes"].as_array().expect("UserAttributes");
    let email = attributes
        .iter()
        .find(|a| a["Name"] == "email")
        .and_then(|a| a["Value"].as_str());
    assert_eq!(email, Some(email_b.as_str()), "{body}");

    // B's token presented as A's: A's key id in the header, or A's issuer in the payload.
    let kid_a = JwtParts::split(&access_a).header_json()["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    let parts_b = JwtParts::split(&access_b);
    let mut header = parts_b.header_json();
    header.insert("kid".into(), json!(kid_a));
    let mut p = parts_b.clone();
    p.header = encode_json_part(&header);
    assert_refused(target, &p.join(), "B's token with A's kid").await;
    let mut claims = parts_b.payload_json();
    claims.insert("iss".into(), json!(target.issuer(&client_a.pool_id)));
    claims.insert("client_id".into(), json!(client_a.id));
    let mut p = parts_b.clone();
    p.payload = encode_json_part(&claims);
    assert_refused(target, &p.join(), "B's token claiming A's issuer").await;
    let mut p = parts_b.clone();
    p.header = encode_json_part(&header);
    p.payload = encode_json_part(&claims);
    assert_refused(target, &p.join(), "B's token with A's kid and issuer").await;

    // B's refresh token with A's client.
    let err = service_error(
        target
            .public_client()
            .initiate_auth()
            .client_id(&client_a.id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", &refresh_b)
            .send()
            .await,
        "REFRESH_TOKEN_AUTH with another pool's refresh token",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}
