//! The SDK in headless Chromium against a running Cognate host (`web-sdk/test.sh` starts it and
//! bakes its address into this build): sign-up to sign-out, challenges, the one-refresh rule,
//! storage adapters and ID token verification.
//!
//! The host declares one pool and app client (fixed ids, below) from the config file the script
//! writes; the CUSTOM_AUTH trigger is the example plugin `custom-auth`. Codes are read from the
//! host's outbox through the script's loopback helper (`GET /outbox`).
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::rc::Rc;

use cognate_web::Auth;
use hmac::{KeyInit as _, Mac as _};
use js_sys::{Array, Function, Object, Promise, Reflect};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ENDPOINT: &str = match option_env!("COGNATE_WEB_TEST_ENDPOINT") {
    Some(url) => url,
    None => "http://127.0.0.1:9229",
};
const HELPER: &str = match option_env!("COGNATE_WEB_TEST_HELPER") {
    Some(url) => url,
    None => "http://127.0.0.1:9230",
};
/// Declared in the host's config file by web-sdk/test.sh.
const POOL_ID: &str = "us-east-1_WebSdkT01";
const CLIENT_ID: &str = "websdktestclient0000000001";
const ADMIN_KEY_ID: &str = "AKIAWEBSDKTESTADMIN1";
const ADMIN_SECRET: &str = "web-sdk-test-secret-key-0123456789abcdef";
const PASSWORD: &str = "Correct-Horse-9-Battery";

// -- helpers ------------------------------------------------------------------------------------

fn unique(prefix: &str) -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!(
        "{prefix}{}{random:x}",
        js_sys::Date::now() as u64 % 1_000_000
    )
}

fn js(value: Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

fn rust(value: &JsValue) -> Value {
    if value.is_undefined() {
        return Value::Null;
    }
    serde_json::from_str(&js_sys::JSON::stringify(value).unwrap().as_string().unwrap()).unwrap()
}

/// `String(value)`: a JWT object's `toString()` gives the compact token.
fn text(value: &JsValue) -> String {
    String::from(value.unchecked_ref::<Object>().to_string())
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

/// `new Function(args..., body)`: the few JS shims these tests need (fetch wrappers, storages).
fn js_function(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

fn config(storage: JsValue, extra: Value) -> JsValue {
    let mut base = json!({
        "endpoint": ENDPOINT,
        "userPoolId": POOL_ID,
        "userPoolClientId": CLIENT_ID,
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        base[k] = v;
    }
    let config = js(base);
    Reflect::set(&config, &"storage".into(), &storage).unwrap();
    config
}

fn memory_auth() -> Rc<Auth> {
    Auth::configure(&config("memory".into(), json!({}))).unwrap()
}

/// The rejection of a failed call, as the JS `Error` it is.
fn error_name(error: &JsValue) -> String {
    let error: &js_sys::Error = error.dyn_ref().expect("errors are JS Error objects");
    String::from(error.name())
}

async fn expect_error(result: Result<JsValue, cognate_web::AuthError>, name: &str) -> String {
    let error = JsValue::from(result.expect_err(&format!("expected {name}")));
    assert_eq!(error_name(&error), name);
    String::from(error.dyn_ref::<js_sys::Error>().unwrap().message())
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = get(&js_sys::global(), "setTimeout").unchecked_into();
        set_timeout
            .call2(&JsValue::UNDEFINED, &resolve, &ms.into())
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

async fn fetch_text(url: &str, init: &JsValue) -> (u16, String) {
    let fetch: Function = get(&js_sys::global(), "fetch").unchecked_into();
    let response: web_sys::Response = JsFuture::from(
        fetch
            .call2(&JsValue::UNDEFINED, &url.into(), init)
            .unwrap()
            .unchecked_into::<Promise>(),
    )
    .await
    .unwrap()
    .unchecked_into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    (response.status(), text.as_string().unwrap())
}

/// The codes the host sent `username`, oldest first.
async fn codes(username: &str) -> Vec<String> {
    let (_, text) = fetch_text(&format!("{HELPER}/outbox"), &JsValue::UNDEFINED).await;
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["pool_id"] == POOL_ID && m["username"] == username)
        .filter_map(|m| m["code"].as_str().map(str::to_owned))
        .collect()
}

/// The newest code for `username` once more than `seen` exist (polled, bounded).
async fn code_after(username: &str, seen: usize) -> String {
    for _ in 0..100 {
        let found = codes(username).await;
        if found.len() > seen {
            return found.last().unwrap().clone();
        }
        sleep(50).await;
    }
    panic!("no code for {username} in the outbox");
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// An administrative call, SigV4-signed with the test admin key (as the AWS SDKs sign it).
async fn admin(operation: &str, body: Value) -> Value {
    signed(
        "AWSCognitoIdentityProviderService",
        "cognito-idp",
        operation,
        body,
    )
    .await
}

/// An identity-pools administrative call (`AWSCognitoIdentityService`, service `cognito-identity`).
async fn identity_admin(operation: &str, body: Value) -> Value {
    signed(
        "AWSCognitoIdentityService",
        "cognito-identity",
        operation,
        body,
    )
    .await
}

async fn signed(prefix: &str, service: &str, operation: &str, body: Value) -> Value {
    let body = body.to_string();
    let now = js_sys::Date::new_0();
    let amz_date = String::from(now.to_iso_string())
        .replace(['-', ':'], "")
        .split('.')
        .next()
        .unwrap()
        .to_owned()
        + "Z";
    let date = &amz_date[..8];
    let host = ENDPOINT.trim_start_matches("http://");
    let target = format!("{prefix}.{operation}");
    let content_type = "application/x-amz-json-1.1";
    let signed_headers = "content-type;host;x-amz-date;x-amz-target";
    let canonical = format!(
        "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/us-east-1/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{ADMIN_SECRET}").as_bytes(), date);
    for part in ["us-east-1", service, "aws4_request"] {
        key = hmac(&key, part);
    }
    let signature = hex::encode(hmac(&key, &to_sign));
    let init = js(json!({
        "method": "POST",
        "headers": {
            "content-type": content_type,
            "x-amz-date": amz_date,
            "x-amz-target": target,
            "authorization": format!("AWS4-HMAC-SHA256 Credential={ADMIN_KEY_ID}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"),
        },
        "body": body,
    }));
    let (status, text) = fetch_text(&format!("{ENDPOINT}/"), &init).await;
    assert_eq!(status, 200, "{operation}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// An unsigned Cognito call straight to the host (to look behind the SDK's back).
async fn public_call(operation: &str, body: Value) -> (u16, Value) {
    let init = js(json!({
        "method": "POST",
        "headers": {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": format!("AWSCognitoIdentityProviderService.{operation}"),
        },
        "body": body.to_string(),
    }));
    let (status, text) = fetch_text(&format!("{ENDPOINT}/"), &init).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A confirmed user made through the SDK's own sign-up path.
async fn confirmed_user(auth: &Rc<Auth>, prefix: &str) -> (String, String) {
    let username = unique(prefix);
    let email = format!("{username}@example.com");
    auth.sign_up(&js(json!({
        "username": username,
        "password": PASSWORD,
        "options": {"userAttributes": {"email": email}},
    })))
    .await
    .unwrap();
    let code = code_after(&username, 0).await;
    auth.confirm_sign_up(&js(json!({"username": username, "confirmationCode": code})))
        .await
        .unwrap();
    (username, email)
}

async fn sign_in(auth: &Rc<Auth>, username: &str, password: &str) -> Value {
    rust(
        &auth
            .sign_in(&js(json!({"username": username, "password": password})))
            .await
            .unwrap(),
    )
}

/// A `fetch` that counts the calls whose X-Amz-Target ends with `operation`, and passes every
/// call on to the real fetch. Returns the function and a reader of the count.
fn counting_fetch(operation: &str) -> (Function, Function) {
    let make = js_function(
        "operation",
        "let count = 0;
         const fetch = (url, init) => {
           const target = (init && init.headers && init.headers['x-amz-target']) || '';
           if (target.endsWith('.' + operation)) count += 1;
           return globalThis.fetch(url, init);
         };
         return [fetch, () => count];",
    );
    let pair: Array = make
        .call1(&JsValue::UNDEFINED, &operation.into())
        .unwrap()
        .unchecked_into();
    (pair.get(0).unchecked_into(), pair.get(1).unchecked_into())
}

fn count(reader: &Function) -> u32 {
    reader.call0(&JsValue::UNDEFINED).unwrap().as_f64().unwrap() as u32
}

// -- tests --------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn sign_up_confirm_sign_in_refresh_attributes_sign_out() {
    let (fetch, refreshes) = counting_fetch("GetTokensFromRefreshToken");
    let extra = config("memory".into(), json!({}));
    Reflect::set(&extra, &"fetch".into(), &fetch).unwrap();
    let auth = Auth::configure(&extra).unwrap();
    let username = unique("flow");
    let email = format!("{username}@example.com");

    let out = rust(
        &auth
            .sign_up(&js(json!({
                "username": username,
                "password": PASSWORD,
                "options": {"userAttributes": {"email": email}},
            })))
            .await
            .unwrap(),
    );
    assert_eq!(out["isSignUpComplete"], false);
    assert_eq!(out["nextStep"]["signUpStep"], "CONFIRM_SIGN_UP");
    assert_eq!(
        out["nextStep"]["codeDeliveryDetails"]["deliveryMedium"],
        "EMAIL"
    );
    assert_eq!(
        out["nextStep"]["codeDeliveryDetails"]["attributeName"],
        "email"
    );
    assert!(out["userId"].as_str().is_some_and(|s| !s.is_empty()));

    // Typed errors carry Cognito's exception names.
    expect_error(
        auth.sign_up(&js(json!({"username": username, "password": PASSWORD})))
            .await,
        "UsernameExistsException",
    )
    .await;
    expect_error(
        auth.sign_in(&js(json!({"username": username, "password": PASSWORD})))
            .await,
        "UserNotConfirmedException",
    )
    .await;
    let first = code_after(&username, 0).await;
    let resent = rust(
        &auth
            .resend_sign_up_code(&js(json!({"username": username})))
            .await
            .unwrap(),
    );
    assert_eq!(resent["deliveryMedium"], "EMAIL");
    let code = code_after(&username, 1).await;
    let wrong = if first == "000000" || code == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_error(
        auth.confirm_sign_up(&js(
            json!({"username": username, "confirmationCode": wrong}),
        ))
        .await,
        "CodeMismatchException",
    )
    .await;
    let out = rust(
        &auth
            .confirm_sign_up(&js(json!({"username": username, "confirmationCode": code})))
            .await
            .unwrap(),
    );
    assert_eq!(out["isSignUpComplete"], true);

    expect_error(
        auth.sign_in(&js(
            json!({"username": username, "password": "Wrong-Password-1"}),
        ))
        .await,
        "NotAuthorizedException",
    )
    .await;
    let out = sign_in(&auth, &username, PASSWORD).await;
    assert_eq!(
        out,
        json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}})
    );
    let user = rust(&auth.get_current_user().await.unwrap());
    assert_eq!(user["username"], username.as_str());

    let session = auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap();
    let tokens = get(&session, "tokens");
    let id = rust(&get(&get(&tokens, "idToken"), "payload"));
    assert_eq!(id["email"], email.as_str());
    assert_eq!(id["token_use"], "id");
    let access_before = get(&tokens, "accessToken").as_string();
    assert!(access_before.is_none(), "a JWT object, not a string");
    assert_eq!(text(&get(&tokens, "accessToken")).split('.').count(), 3);
    // Fresh tokens: no refresh. Forced: exactly one.
    assert_eq!(count(&refreshes), 0);
    auth.fetch_auth_session(&js(json!({"forceRefresh": true})))
        .await
        .unwrap();
    assert_eq!(count(&refreshes), 1);

    // Attributes.
    let attributes = rust(&auth.fetch_user_attributes().await.unwrap());
    assert_eq!(attributes["email"], email.as_str());
    assert_eq!(attributes["email_verified"], "true");
    let out = rust(
        &auth
            .update_user_attributes(&js(json!({"userAttributes": {"given_name": "Ada"}})))
            .await
            .unwrap(),
    );
    assert_eq!(out["given_name"]["isUpdated"], true);
    let new_email = format!("new-{email}");
    let seen = codes(&username).await.len();
    let out = rust(
        &auth
            .update_user_attributes(&js(json!({"userAttributes": {"email": new_email}})))
            .await
            .unwrap(),
    );
    assert_eq!(
        out["email"]["nextStep"]["updateAttributeStep"],
        "CONFIRM_ATTRIBUTE_WITH_CODE"
    );
    let code = code_after(&username, seen).await;
    auth.confirm_user_attribute(&js(
        json!({"userAttributeKey": "email", "confirmationCode": code}),
    ))
    .await
    .unwrap();
    let attributes = rust(&auth.fetch_user_attributes().await.unwrap());
    assert_eq!(attributes["given_name"], "Ada");
    assert_eq!(attributes["email"], new_email.as_str());

    // Password change, sign-out, sign-in with the new password.
    let new_password = "Another-Horse-7-Battery";
    expect_error(
        auth.update_password(&js(
            json!({"oldPassword": "Wrong-Password-1", "newPassword": new_password}),
        ))
        .await,
        "NotAuthorizedException",
    )
    .await;
    auth.update_password(&js(
        json!({"oldPassword": PASSWORD, "newPassword": new_password}),
    ))
    .await
    .unwrap();
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;
    expect_error(
        auth.fetch_user_attributes().await,
        "UserUnAuthenticatedException",
    )
    .await;
    let empty = rust(&auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap());
    assert_eq!(empty, json!({}));
    sign_in(&auth, &username, new_password).await;

    // Global sign-out revokes the access token on the server too.
    let access = text(&get(
        &get(
            &auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap(),
            "tokens",
        ),
        "accessToken",
    ));
    let (status, _) = public_call("GetUser", json!({"AccessToken": access})).await;
    assert_eq!(status, 200);
    auth.sign_out(&js(json!({"global": true}))).await.unwrap();
    let (status, body) = public_call("GetUser", json!({"AccessToken": access})).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "NotAuthorizedException");

    // Forgotten password, then delete the account.
    let seen = codes(&username).await.len();
    let out = rust(
        &auth
            .reset_password(&js(json!({"username": username})))
            .await
            .unwrap(),
    );
    assert_eq!(
        out["nextStep"]["resetPasswordStep"],
        "CONFIRM_RESET_PASSWORD_WITH_CODE"
    );
    let code = code_after(&username, seen).await;
    auth.confirm_reset_password(&js(json!({
        "username": username, "confirmationCode": code, "newPassword": PASSWORD,
    })))
    .await
    .unwrap();
    sign_in(&auth, &username, PASSWORD).await;
    auth.delete_user().await.unwrap();
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;
    expect_error(
        auth.sign_in(&js(json!({"username": username, "password": PASSWORD})))
            .await,
        "NotAuthorizedException",
    )
    .await;
}

#[wasm_bindgen_test]
async fn sign_in_defaults_to_srp_and_takes_user_password_auth() {
    let (fetch, answers) = counting_fetch("RespondToAuthChallenge");
    let extra = config("memory".into(), json!({}));
    Reflect::set(&extra, &"fetch".into(), &fetch).unwrap();
    let auth = Auth::configure(&extra).unwrap();
    let (username, _) = confirmed_user(&auth, "srp").await;
    // The default flow (as Amplify v6's): USER_SRP_AUTH, so one PASSWORD_VERIFIER answer.
    expect_error(
        auth.sign_in(&js(
            json!({"username": username, "password": "Wrong-Password-1"}),
        ))
        .await,
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(count(&answers), 1);
    let done = json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}});
    assert_eq!(sign_in(&auth, &username, PASSWORD).await, done);
    assert_eq!(count(&answers), 2);
    let session = auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap();
    let tokens = get(&session, "tokens");
    let id = rust(&get(&get(&tokens, "idToken"), "payload"));
    assert_eq!(id["cognito:username"], username.as_str());
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    // USER_PASSWORD_AUTH on request: no challenge answered.
    let out = rust(
        &auth
            .sign_in(&js(json!({"username": username, "password": PASSWORD,
                "options": {"authFlowType": "USER_PASSWORD_AUTH"}})))
            .await
            .unwrap(),
    );
    assert_eq!(out, done);
    assert_eq!(count(&answers), 2);
}

#[wasm_bindgen_test]
async fn concurrent_fetch_auth_session_calls_cause_one_refresh() {
    let setup = memory_auth();
    let (username, _) = confirmed_user(&setup, "conc").await;

    // A margin longer than the tokens live: every token counts as about to expire.
    let (fetch, refreshes) = counting_fetch("GetTokensFromRefreshToken");
    let cfg = config("memory".into(), json!({"tokenRefreshMarginSeconds": 1e9}));
    Reflect::set(&cfg, &"fetch".into(), &fetch).unwrap();
    let auth = Auth::configure(&cfg).unwrap();
    sign_in(&auth, &username, PASSWORD).await;
    let none = JsValue::UNDEFINED;
    let sessions =
        futures_util::future::join_all((0..8).map(|_| auth.fetch_auth_session(&none))).await;
    assert_eq!(
        count(&refreshes),
        1,
        "eight concurrent callers, one refresh"
    );
    let access: Vec<String> = sessions
        .iter()
        .map(|s| text(&get(&get(s.as_ref().unwrap(), "tokens"), "accessToken")))
        .collect();
    assert!(
        access.windows(2).all(|w| w[0] == w[1]),
        "all got the refreshed tokens"
    );
    // Later calls refresh again (the margin still says so), one at a time.
    auth.fetch_auth_session(&none).await.unwrap();
    assert_eq!(count(&refreshes), 2);

    // Revoked on the server (global sign-out elsewhere): every waiting caller gets the refresh's
    // NotAuthorizedException, and the session is over.
    let (status, _) = public_call("GlobalSignOut", json!({"AccessToken": access[0]})).await;
    assert_eq!(status, 200);
    let failed =
        futures_util::future::join_all((0..3).map(|_| auth.fetch_auth_session(&none))).await;
    assert_eq!(count(&refreshes), 3);
    for outcome in failed {
        expect_error(outcome, "NotAuthorizedException").await;
    }
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;

    // With the default margin, fresh tokens are used as they are.
    let (fetch, refreshes) = counting_fetch("GetTokensFromRefreshToken");
    let cfg = config("memory".into(), json!({}));
    Reflect::set(&cfg, &"fetch".into(), &fetch).unwrap();
    let auth = Auth::configure(&cfg).unwrap();
    sign_in(&auth, &username, PASSWORD).await;
    futures_util::future::join_all((0..8).map(|_| auth.fetch_auth_session(&none))).await;
    assert_eq!(count(&refreshes), 0);
}

#[wasm_bindgen_test]
async fn new_password_required_challenge() {
    let auth = memory_auth();
    expect_error(
        auth.confirm_sign_in(&js(json!({"challengeResponse": "x"})))
            .await,
        "SignInException",
    )
    .await;
    let username = unique("npr");
    admin(
        "AdminCreateUser",
        json!({
            "UserPoolId": POOL_ID,
            "Username": username,
            "TemporaryPassword": "Temporary-Pass-1",
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": format!("{username}@example.com")}],
        }),
    )
    .await;
    let out = sign_in(&auth, &username, "Temporary-Pass-1").await;
    assert_eq!(out["isSignedIn"], false);
    assert_eq!(
        out["nextStep"]["signInStep"],
        "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED"
    );
    assert!(out["nextStep"]["missingAttributes"].is_array());
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;
    // A password the policy refuses: the challenge stays open for another answer.
    expect_error(
        auth.confirm_sign_in(&js(json!({"challengeResponse": "short"})))
            .await,
        "InvalidPasswordException",
    )
    .await;
    let out = rust(
        &auth
            .confirm_sign_in(&js(json!({"challengeResponse": PASSWORD})))
            .await
            .unwrap(),
    );
    assert_eq!(
        out,
        json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}})
    );
    assert_eq!(
        rust(&auth.get_current_user().await.unwrap())["username"],
        username.as_str()
    );
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    sign_in(&auth, &username, PASSWORD).await;
}

/// The example plugin's code for `username` in round `round` (plugins/examples/custom-auth).
fn custom_auth_code(username: &str, round: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("cognate-example-otp-secret:{username}:{round}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:06}", hash % 1_000_000)
}

#[wasm_bindgen_test]
async fn custom_challenge() {
    let auth = memory_auth();
    let (username, _) = confirmed_user(&auth, "custom").await;
    let out = rust(
        &auth
            .sign_in(&js(json!({
                "username": username,
                "options": {"authFlowType": "CUSTOM_WITHOUT_SRP"},
            })))
            .await
            .unwrap(),
    );
    assert_eq!(out["isSignedIn"], false);
    assert_eq!(
        out["nextStep"]["signInStep"],
        "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE"
    );
    assert_eq!(out["nextStep"]["additionalInfo"]["round"], "0");
    // A wrong answer: the plugin asks again (round 1).
    let wrong = if custom_auth_code(&username, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let out = rust(
        &auth
            .confirm_sign_in(&js(json!({"challengeResponse": wrong})))
            .await
            .unwrap(),
    );
    assert_eq!(
        out["nextStep"]["signInStep"],
        "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE"
    );
    assert_eq!(out["nextStep"]["additionalInfo"]["round"], "1");
    let out = rust(
        &auth
            .confirm_sign_in(&js(
                json!({"challengeResponse": custom_auth_code(&username, 1)}),
            ))
            .await
            .unwrap(),
    );
    assert_eq!(out["isSignedIn"], true);
    assert_eq!(
        rust(&auth.get_current_user().await.unwrap())["username"],
        username.as_str()
    );
}

fn web_storage(name: &str) -> web_sys::Storage {
    get(&js_sys::global(), name).unchecked_into()
}

/// The client's keys in `storage`, but the hosted-UI test's pending sign-in (`.oauth`, its own
/// sessionStorage entry; the tests run concurrently in one page).
fn storage_keys(storage: &web_sys::Storage) -> Vec<String> {
    (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with(&format!("cognate.{CLIENT_ID}.")) && !k.ends_with(".oauth"))
        .collect()
}

#[wasm_bindgen_test]
async fn storage_adapters_keep_only_issued_tokens_under_the_client_id() {
    let setup = memory_auth();
    let (username, _) = confirmed_user(&setup, "store").await;
    let issued = |prefix: &str| -> Vec<String> {
        ["accessToken", "idToken", "refreshToken"]
            .iter()
            .map(|n| format!("{prefix}{n}"))
            .collect()
    };
    let prefix = format!("cognate.{CLIENT_ID}.");

    // localStorage (the default: no storage option) and sessionStorage persist across
    // instances, as across page loads.
    for (name, option) in [
        ("localStorage", JsValue::UNDEFINED),
        ("sessionStorage", "sessionStorage".into()),
    ] {
        let storage = web_storage(name);
        for key in storage_keys(&storage) {
            storage.remove_item(&key).unwrap();
        }
        let auth = Auth::configure(&config(option.clone(), json!({}))).unwrap();
        sign_in(&auth, &username, PASSWORD).await;
        let mut keys = storage_keys(&storage);
        keys.sort();
        assert_eq!(keys, issued(&prefix), "{name}");
        let again = Auth::configure(&config(option, json!({}))).unwrap();
        assert_eq!(
            rust(&again.get_current_user().await.unwrap())["username"],
            username.as_str(),
            "{name}"
        );
        again.sign_out(&JsValue::UNDEFINED).await.unwrap();
        assert!(storage_keys(&storage).is_empty(), "{name}: sign-out clears");
    }

    // Memory: nothing reaches the browser's storages, and nothing outlives the instance.
    let local = web_storage("localStorage");
    let session = web_storage("sessionStorage");
    let auth = memory_auth();
    sign_in(&auth, &username, PASSWORD).await;
    assert!(storage_keys(&local).is_empty() && storage_keys(&session).is_empty());
    expect_error(
        memory_auth().get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;

    // The app's own object, async like Amplify's KeyValueStorageInterface.
    let make = js_function(
        "",
        "const map = new Map();
         return {
           map,
           getItem: async (k) => (map.has(k) ? map.get(k) : null),
           setItem: async (k, v) => { map.set(k, String(v)); },
           removeItem: async (k) => { map.delete(k); },
         };",
    );
    let custom = make.call0(&JsValue::UNDEFINED).unwrap();
    let auth = Auth::configure(&config(custom.clone(), json!({}))).unwrap();
    sign_in(&auth, &username, PASSWORD).await;
    let keys: Vec<String> = Array::from(&js_sys::Map::from(get(&custom, "map")).keys())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, issued(&prefix));
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    assert_eq!(js_sys::Map::from(get(&custom, "map")).size(), 0);

    // An unknown storage name is a configuration error.
    let error = JsValue::from(
        Auth::configure(&config("cookies".into(), json!({}))).expect_err("unknown storage"),
    );
    assert_eq!(error_name(&error), "AuthUserPoolException");
}

#[wasm_bindgen_test]
async fn id_tokens_are_verified_before_anything_is_stored() {
    let setup = memory_auth();
    let (username, _) = confirmed_user(&setup, "verify").await;

    // Another issuer than the pool's: refused, nothing stored.
    let auth = Auth::configure(&config(
        "memory".into(),
        json!({"issuer": "https://issuer.invalid/us-east-1_WebSdkT01"}),
    ))
    .unwrap();
    let message = expect_error(
        auth.sign_in(&js(json!({"username": username, "password": PASSWORD})))
            .await,
        "InvalidIdTokenException",
    )
    .await;
    assert!(message.contains("iss"), "{message}");
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;

    // A token whose payload was altered in transit: the signature no longer matches.
    let tamper = js_function(
        "",
        "return async (url, init) => {
           const response = await globalThis.fetch(url, init);
           const target = (init && init.headers && init.headers['x-amz-target']) || '';
           // The tokens come with InitiateAuth (USER_PASSWORD_AUTH) or, after SRP's
           // PASSWORD_VERIFIER, with RespondToAuthChallenge.
           if (!target.endsWith('.InitiateAuth') && !target.endsWith('.RespondToAuthChallenge')) return response;
           const body = await response.json();
           if (!body.AuthenticationResult) return new Response(JSON.stringify(body), {status: response.status});
           const [h, p, s] = body.AuthenticationResult.IdToken.split('.');
           const b64 = (t) => t.replace(/-/g, '+').replace(/_/g, '/');
           const claims = JSON.parse(atob(b64(p)));
           claims.email = 'mallory@example.com';
           const forged = btoa(JSON.stringify(claims)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
           body.AuthenticationResult.IdToken = [h, forged, s].join('.');
           return new Response(JSON.stringify(body), {status: 200});
         };",
    );
    let cfg = config("memory".into(), json!({}));
    Reflect::set(
        &cfg,
        &"fetch".into(),
        &tamper.call0(&JsValue::UNDEFINED).unwrap(),
    )
    .unwrap();
    let auth = Auth::configure(&cfg).unwrap();
    let message = expect_error(
        auth.sign_in(&js(json!({"username": username, "password": PASSWORD})))
            .await,
        "InvalidIdTokenException",
    )
    .await;
    assert!(message.contains("signature"), "{message}");
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;

    // Untouched, the same sign-in passes.
    sign_in(&memory_auth(), &username, PASSWORD).await;
}

#[wasm_bindgen_test]
async fn sign_in_with_redirect_sends_pkce_state_and_nonce_and_checks_state_on_return() {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    let redirect = format!("{HELPER}/examples/index.html");
    // Capture the authorize URL instead of navigating away from the test page.
    let make = js_function(
        "",
        "const opened = []; return [(url) => { opened.push(url); }, opened];",
    );
    let pair: Array = make.call0(&JsValue::UNDEFINED).unwrap().unchecked_into();
    let cfg = config(
        "memory".into(),
        json!({"oauth": {"redirectSignIn": [redirect], "scopes": ["openid", "email"]}}),
    );
    Reflect::set(&get(&cfg, "oauth"), &"urlOpener".into(), &pair.get(0)).unwrap();
    let auth = Auth::configure(&cfg).unwrap();
    let session = web_storage("sessionStorage");
    let pending_key = format!("cognate.{CLIENT_ID}.oauth");

    // Not a redirect: nothing happens.
    let out = rust(&auth.handle_redirect(Some(redirect.clone())).await.unwrap());
    assert_eq!(out, json!({"isSignedIn": false}));

    auth.sign_in_with_redirect(&JsValue::UNDEFINED)
        .await
        .unwrap();
    let opened: Array = pair.get(1).unchecked_into();
    assert_eq!(opened.length(), 1);
    let url = web_sys::Url::new(&opened.get(0).as_string().unwrap()).unwrap();
    assert_eq!(url.origin(), ENDPOINT);
    assert_eq!(url.pathname(), "/oauth2/authorize");
    let query = url.search_params();
    assert_eq!(query.get("response_type").as_deref(), Some("code"));
    assert_eq!(query.get("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(query.get("redirect_uri"), Some(redirect.clone()));
    assert_eq!(query.get("scope").as_deref(), Some("openid email"));
    assert_eq!(query.get("code_challenge_method").as_deref(), Some("S256"));
    // The challenge is SHA-256 of the verifier kept for the return trip (checked here with
    // RustCrypto, the SDK used WebCrypto).
    let pending: Value =
        serde_json::from_str(&session.get_item(&pending_key).unwrap().unwrap()).unwrap();
    let verifier = pending["verifier"].as_str().unwrap();
    assert!(verifier.len() >= 43, "RFC 7636: 43 to 128 characters");
    assert_eq!(
        query.get("code_challenge").unwrap(),
        Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
    );
    assert_eq!(query.get("state").as_deref(), pending["state"].as_str());
    assert_eq!(query.get("nonce").as_deref(), pending["nonce"].as_str());

    // Amplify's `provider` option goes straight to the pool's identity provider.
    for (provider, expected) in [
        (json!({"provider": "Google"}), "Google"),
        (json!({"provider": "Apple"}), "SignInWithApple"),
        (json!({"provider": {"custom": "Corp"}}), "Corp"),
    ] {
        auth.sign_in_with_redirect(&js(provider)).await.unwrap();
        let last = opened.get(opened.length() - 1).as_string().unwrap();
        let query = web_sys::Url::new(&last).unwrap().search_params();
        assert_eq!(query.get("identity_provider").as_deref(), Some(expected));
    }
    assert!(query.get("identity_provider").is_none());
    auth.sign_in_with_redirect(&JsValue::UNDEFINED)
        .await
        .unwrap();
    let pending: Value =
        serde_json::from_str(&session.get_item(&pending_key).unwrap().unwrap()).unwrap();

    // A return whose state is not ours is refused, and the pending sign-in is spent.
    let message = expect_error(
        auth.handle_redirect(Some(format!("{redirect}?code=abc&state=forged")))
            .await,
        "OAuthSignInException",
    )
    .await;
    assert!(message.contains("state"), "{message}");
    assert!(session.get_item(&pending_key).unwrap().is_none());
    // The genuine state, replayed after that, finds nothing pending.
    let state = pending["state"].as_str().unwrap();
    expect_error(
        auth.handle_redirect(Some(format!("{redirect}?code=abc&state={state}")))
            .await,
        "OAuthSignInException",
    )
    .await;

    // The right state with a code the server never issued: the token endpoint refuses it.
    auth.sign_in_with_redirect(&JsValue::UNDEFINED)
        .await
        .unwrap();
    let pending: Value =
        serde_json::from_str(&session.get_item(&pending_key).unwrap().unwrap()).unwrap();
    let state = pending["state"].as_str().unwrap();
    let message = expect_error(
        auth.handle_redirect(Some(format!(
            "{redirect}?code=not-a-real-code&state={state}"
        )))
        .await,
        "OAuthSignInException",
    )
    .await;
    assert!(message.starts_with("invalid_grant"), "{message}");
    // An error from the hosted UI is surfaced with its description.
    let message = expect_error(
        auth.handle_redirect(Some(format!(
            "{redirect}?error=access_denied&error_description=User+cancelled"
        )))
        .await,
        "OAuthSignInException",
    )
    .await;
    assert!(message.contains("access_denied"), "{message}");
    expect_error(
        auth.get_current_user().await,
        "UserUnAuthenticatedException",
    )
    .await;
}

/// The RFC 6238 code (HMAC-SHA1, 6 digits) of a base32 secret at `step` steps from now.
fn totp(secret: &str, offset: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    let step = (js_sys::Date::now() / 30_000.0) as i64 + offset;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&(step as u64).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let value = u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

#[wasm_bindgen_test]
async fn totp_mfa_set_up_during_sign_in_and_preferences() {
    // A pool of its own with MFA ON (software tokens), so the shared pool's tests are unaffected.
    let pool = admin(
        "CreateUserPool",
        json!({"PoolName": unique("web-mfa"), "AutoVerifiedAttributes": ["email"]}),
    )
    .await["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    let client = admin(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "web-mfa",
               "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let username = unique("mfa");
    admin(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": username, "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": format!("{username}@example.com")}]}),
    )
    .await;
    admin(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": username, "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    let auth = Auth::configure(&config(
        "memory".into(),
        json!({"userPoolId": pool, "userPoolClientId": client}),
    ))
    .unwrap();

    // MFA_SETUP: the SDK associates the token and shows the key.
    let out = sign_in(&auth, &username, PASSWORD).await;
    assert_eq!(out["isSignedIn"], false);
    assert_eq!(
        out["nextStep"]["signInStep"],
        "CONTINUE_SIGN_IN_WITH_TOTP_SETUP"
    );
    let secret = out["nextStep"]["totpSetupDetails"]["sharedSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 32);
    let right = totp(&secret, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_error(
        auth.confirm_sign_in(&js(json!({"challengeResponse": wrong})))
            .await,
        "EnableSoftwareTokenMFAException",
    )
    .await;
    let out = rust(
        &auth
            .confirm_sign_in(&js(json!({"challengeResponse": right})))
            .await
            .unwrap(),
    );
    assert_eq!(
        out,
        json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}})
    );
    assert_eq!(
        rust(&auth.fetch_mfa_preference().await.unwrap()),
        json!({"enabled": ["TOTP"], "preferred": "TOTP"})
    );

    // The next sign-in asks for the code; the set-up code (already used) is refused.
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    let out = sign_in(&auth, &username, PASSWORD).await;
    assert_eq!(
        out["nextStep"]["signInStep"],
        "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
    );
    expect_error(
        auth.confirm_sign_in(&js(json!({"challengeResponse": right})))
            .await,
        "CodeMismatchException",
    )
    .await;
    let out = rust(
        &auth
            .confirm_sign_in(&js(json!({"challengeResponse": totp(&secret, 1)})))
            .await
            .unwrap(),
    );
    assert_eq!(out["nextStep"]["signInStep"], "DONE");

    // A new key after sign-in (setUpTOTP, verifyTOTPSetup), and preferences.
    let fresh = rust(&auth.set_up_totp().await.unwrap())["sharedSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, secret);
    auth.verify_totp_setup(&js(
        json!({"code": totp(&fresh, 0), "options": {"friendlyDeviceName": "browser"}}),
    ))
    .await
    .unwrap();
    auth.update_mfa_preference(&js(json!({"totp": "NOT_PREFERRED"})))
        .await
        .unwrap();
    assert_eq!(
        rust(&auth.fetch_mfa_preference().await.unwrap()),
        json!({"enabled": ["TOTP"]})
    );
    expect_error(
        auth.update_mfa_preference(&js(json!({"sms": "PREFERRED"})))
            .await,
        "InvalidParameterException",
    )
    .await;
}

/// The access token's `device_key` claim.
async fn device_claim(auth: &Rc<Auth>) -> Option<String> {
    let session = auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap();
    let payload = get(&get(&get(&session, "tokens"), "accessToken"), "payload");
    rust(&payload)["device_key"].as_str().map(str::to_owned)
}

#[wasm_bindgen_test]
async fn remembered_devices_confirm_prove_list_and_forget() {
    // A pool of its own that tracks devices (remembered on the user's word).
    let pool = admin(
        "CreateUserPool",
        json!({"PoolName": unique("web-dev"),
               "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": true,
                                       "DeviceOnlyRememberedOnUserPrompt": true}}),
    )
    .await["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = admin(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "web-dev",
               "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let username = unique("dev");
    admin(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": username, "MessageAction": "SUPPRESS"}),
    )
    .await;
    admin(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": username, "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    let auth = Auth::configure(&config(
        "memory".into(),
        json!({"userPoolId": pool, "userPoolClientId": client}),
    ))
    .unwrap();

    // The first sign-in: the pool offers a device key, the SDK confirms it by itself.
    let out = sign_in(&auth, &username, PASSWORD).await;
    assert_eq!(out["isSignedIn"], true);
    let device_key = device_claim(&auth)
        .await
        .expect("the access token names a device");
    let devices = auth.fetch_devices().await.unwrap();
    let devices = rust(&devices);
    assert_eq!(devices.as_array().unwrap().len(), 1, "{devices}");
    assert_eq!(devices[0]["id"], json!(device_key));
    assert_eq!(devices[0]["name"], json!("cognate-web"));
    assert_eq!(
        devices[0]["attributes"]["dev:device_remembered_status"],
        json!("not_remembered")
    );
    auth.remember_device().await.unwrap();
    let devices = rust(&auth.fetch_devices().await.unwrap());
    assert_eq!(
        devices[0]["attributes"]["dev:device_remembered_status"],
        json!("remembered")
    );

    // The next sign-in proves the device (DEVICE_SRP_AUTH): no new device, the same key.
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    let out = sign_in(&auth, &username, PASSWORD).await;
    assert_eq!(out["isSignedIn"], true);
    assert_eq!(device_claim(&auth).await, Some(device_key.clone()));
    assert_eq!(
        rust(&auth.fetch_devices().await.unwrap())
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Forgotten: the server and the browser both let it go; the next sign-in gets a new key.
    auth.forget_device(&JsValue::UNDEFINED).await.unwrap();
    assert_eq!(rust(&auth.fetch_devices().await.unwrap()), json!([]));
    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    sign_in(&auth, &username, PASSWORD).await;
    let fresh = device_claim(&auth).await.expect("a new device key");
    assert_ne!(fresh, device_key);
}

/// With an identity pool configured, fetchAuthSession answers Amplify's `identityId` and
/// `credentials`: a guest's (kept in storage), the same identity once the guest signs in (the
/// login links to it), and a new guest after sign-out. The host's STS is moto (web-sdk/test.sh).
#[wasm_bindgen_test]
async fn identity_pool_credentials_for_a_guest_who_signs_in_and_out() {
    let provider = format!("cognito-idp.us-east-1.amazonaws.com/{POOL_ID}");
    let identity_pool = identity_admin(
        "CreateIdentityPool",
        json!({"IdentityPoolName": unique("web"), "AllowUnauthenticatedIdentities": true,
               "CognitoIdentityProviders": [{"ProviderName": provider, "ClientId": CLIENT_ID}]}),
    )
    .await["IdentityPoolId"]
        .as_str()
        .unwrap()
        .to_owned();
    identity_admin(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": identity_pool,
               "Roles": {"authenticated": "arn:aws:iam::123456789012:role/web-auth",
                         "unauthenticated": "arn:aws:iam::123456789012:role/web-guest"}}),
    )
    .await;
    let auth = Auth::configure(&config(
        "memory".into(),
        json!({"identityPoolId": identity_pool, "allowGuestAccess": true}),
    ))
    .unwrap();
    let session = |value: JsValue| {
        let credentials = get(&value, "credentials");
        let expiration: js_sys::Date = get(&credentials, "expiration").unchecked_into();
        assert!(
            expiration.get_time() > js_sys::Date::now(),
            "credentials expire in the future"
        );
        for key in ["accessKeyId", "secretAccessKey", "sessionToken"] {
            assert!(
                !get(&credentials, key).as_string().unwrap().is_empty(),
                "{key}"
            );
        }
        get(&value, "identityId").as_string().unwrap()
    };

    let guest = session(auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap());
    assert!(guest.starts_with("us-east-1:"), "{guest}");
    let described = identity_admin("DescribeIdentity", json!({"IdentityId": guest})).await;
    assert!(
        described.get("Logins").is_none(),
        "a guest has no logins: {described}"
    );
    // Cached: the same answer without a new identity.
    assert_eq!(
        session(auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap()),
        guest
    );

    let (username, _) = confirmed_user(&auth, "ip").await;
    sign_in(&auth, &username, PASSWORD).await;
    let signed_in = auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap();
    assert!(!get(&signed_in, "tokens").is_undefined());
    assert_eq!(session(signed_in), guest, "the guest's identity, upgraded");
    let described = identity_admin("DescribeIdentity", json!({"IdentityId": guest})).await;
    assert_eq!(
        described["Logins"].as_array().map(Vec::len),
        Some(1),
        "{described}"
    );

    auth.sign_out(&JsValue::UNDEFINED).await.unwrap();
    let next = session(auth.fetch_auth_session(&JsValue::UNDEFINED).await.unwrap());
    assert_ne!(next, guest, "after sign-out, a new guest");

    // Without allowGuestAccess, a visitor gets no AWS session (and no error).
    let no_guests = Auth::configure(&config(
        "memory".into(),
        json!({"identityPoolId": identity_pool}),
    ))
    .unwrap();
    let out = no_guests
        .fetch_auth_session(&JsValue::UNDEFINED)
        .await
        .unwrap();
    assert!(get(&out, "identityId").is_undefined() && get(&out, "credentials").is_undefined());
}
