//! The audit stream's events (issue 24): which requests are security-relevant and the one JSON
//! line each gets. The runtimes write the lines: the host to a file or stdout (`--audit-log`),
//! the Worker to its log (`console.log`, read with `wrangler tail` or Workers Logs).
//!
//! Events: sign-ins (each step, success or failure), MFA changes, password changes and resets,
//! token revocations and sign-outs, account sign-ups, confirmations and deletions, plugin
//! registrations, and every call signed with an admin key (with the key's id). A line:
//!
//! ```json
//! {"time":"2026-12-06T08:00:00.123Z","time_millis":1796544000123,"event":"sign_in",
//!  "operation":"InitiateAuth","outcome":"failure","error":"NotAuthorizedException",
//!  "pool_id":"us-east-1_Abc","client_id":"...","username":"alice","flow":"USER_PASSWORD_AUTH",
//!  "source_ip":"127.0.0.1","user_agent":"..."}
//! ```
//!
//! Members are picked one by one from the request (ids, user names, flow and challenge names;
//! a user name from an access token's payload once the core accepted the token): passwords,
//! codes, secrets, tokens and attribute values are never read into a line.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

/// What the runtime saw of one request and its answer.
#[derive(Debug)]
pub struct Seen<'a> {
    /// `X-Amz-Target` as sent (empty for the OAuth and hosted-UI endpoints).
    pub target: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub authorization: Option<&'a str>,
    pub request_body: &'a [u8],
    pub status: u16,
    pub error_type: Option<&'a str>,
    pub response_body: &'a [u8],
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now_millis: u64,
}

/// What an audit line needs of a request, copied before the request is handled (the service
/// takes it); [`RequestSnapshot::event`] then makes the line with the answer.
#[derive(Debug, Clone)]
pub struct RequestSnapshot {
    target: String,
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    user_agent: Option<String>,
    source_ip: Option<String>,
    body: Vec<u8>,
}

impl RequestSnapshot {
    pub fn of(request: &crate::http::Request) -> Self {
        let header = |name: &str| request.header(name).map(ToString::to_string);
        Self {
            target: header("x-amz-target").unwrap_or_default(),
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            authorization: header("authorization"),
            user_agent: header("user-agent"),
            source_ip: request.remote_addr.clone(),
            body: request.body.clone(),
        }
    }

    /// The audit line for this request and its answer, if it is security-relevant.
    pub fn event(&self, response: &crate::http::Response, now_millis: u64) -> Option<Value> {
        event_of(&Seen {
            target: &self.target,
            method: &self.method,
            path: &self.path,
            query: &self.query,
            authorization: self.authorization.as_deref(),
            request_body: &self.body,
            status: response.status,
            error_type: response.header("x-amzn-errortype"),
            response_body: &response.body,
            source_ip: self.source_ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            now_millis,
        })
    }
}

const SIGN_IN: &[&str] = &[
    "InitiateAuth",
    "AdminInitiateAuth",
    "RespondToAuthChallenge",
    "AdminRespondToAuthChallenge",
];
const MFA: &[&str] = &[
    "SetUserMFAPreference",
    "AdminSetUserMFAPreference",
    "AssociateSoftwareToken",
    "VerifySoftwareToken",
    "SetUserSettings",
    "AdminSetUserSettings",
    "SetUserPoolMfaConfig",
    "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration",
    "DeleteWebAuthnCredential",
];
const PASSWORD: &[&str] = &[
    "ChangePassword",
    "AdminSetUserPassword",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "AdminResetUserPassword",
];
const REVOCATION: &[&str] = &["RevokeToken", "GlobalSignOut", "AdminUserGlobalSignOut"];
const ACCOUNT: &[&str] = &[
    "SignUp",
    "ConfirmSignUp",
    "AdminConfirmSignUp",
    "AdminCreateUser",
    "DeleteUser",
    "AdminDeleteUser",
    "AdminDisableUser",
    "AdminEnableUser",
];
const PLUGINS: &str = "CognatePlugins.";

/// The operation an `X-Amz-Target` names (`Service.Operation`).
fn target_operation(target: &str) -> Option<&str> {
    target
        .rsplit_once('.')
        .map(|(_, op)| op)
        .filter(|op| !op.is_empty())
}

/// The event category of a request, if it is security-relevant.
fn category(seen: &Seen<'_>, operation: &str) -> Option<&'static str> {
    let signed = seen.authorization.is_some();
    match target_operation(seen.target) {
        Some(op) => {
            if seen.target.starts_with(PLUGINS) {
                Some("plugin_registration")
            } else if SIGN_IN.contains(&op) {
                Some("sign_in")
            } else if MFA.contains(&op) {
                Some("mfa_change")
            } else if PASSWORD.contains(&op) {
                Some("password_change")
            } else if REVOCATION.contains(&op) {
                Some("token_revocation")
            } else if ACCOUNT.contains(&op) {
                Some("account")
            } else if signed {
                Some("admin_action")
            } else {
                None
            }
        }
        None => match operation {
            "POST /oauth2/token" => Some("sign_in"),
            "POST /oauth2/revoke" | "GET /logout" => Some("token_revocation"),
            "POST /login" => Some("sign_in"),
            _ => None,
        },
    }
}

fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

/// A short, printable value (ids and names); anything else is left out.
fn clean(value: &str) -> Option<String> {
    (!value.is_empty() && value.len() <= 256 && value.chars().all(|c| !c.is_control()))
        .then(|| value.to_string())
}

/// The `username` claim of a JWT's payload (the signature is the core's business: this is read
/// only from requests the core accepted).
fn token_username(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::codec::b64url_decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    str_at(&claims, &["username"])
        .or_else(|| str_at(&claims, &["cognito:username"]))
        .and_then(clean)
}

/// The access key id a SigV4 `Authorization` header names.
fn key_id(authorization: &str) -> Option<String> {
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next().and_then(clean)
}

fn iso_time(millis: u64) -> String {
    let secs = i64::try_from(millis / 1000).unwrap_or(i64::MAX);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    )
}

/// The audit line for a request, if it is security-relevant.
pub fn event_of(seen: &Seen<'_>) -> Option<Value> {
    let operation = match target_operation(seen.target) {
        Some(op) => op.to_string(),
        None => format!("{} {}", seen.method, seen.path),
    };
    let event = category(seen, &operation)?;
    let success = seen.status < 400;
    let mut line = Map::new();
    line.insert("time".into(), json!(iso_time(seen.now_millis)));
    line.insert("time_millis".into(), json!(seen.now_millis));
    line.insert("event".into(), json!(event));
    line.insert("operation".into(), json!(operation));
    line.insert(
        "outcome".into(),
        json!(if success { "success" } else { "failure" }),
    );
    if !success {
        let error = seen
            .error_type
            .map(|t| t.split(':').next().unwrap_or_default().to_string())
            .filter(|t| !t.is_empty())
            .or_else(|| {
                let body: Value = serde_json::from_slice(seen.response_body).ok()?;
                str_at(&body, &["error"]).and_then(clean)
            })
            .unwrap_or_else(|| format!("http_{}", seen.status));
        line.insert("error".into(), json!(error));
    }
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            line.insert(name.into(), json!(value));
        }
    };
    if let Some(authorization) = seen.authorization {
        put("admin_key_id", key_id(authorization));
    }
    if seen.target.is_empty() {
        // OAuth endpoints: form members (never the code, secret or token).
        let form: Vec<(String, String)> = form_urlencoded::parse(seen.request_body)
            .chain(form_urlencoded::parse(seen.query.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| clean(v))
        };
        put("client_id", field("client_id"));
        put("flow", field("grant_type"));
        put("username", field("username"));
    } else {
        let body: Value = serde_json::from_slice(seen.request_body).unwrap_or(Value::Null);
        let get = |path: &[&str]| str_at(&body, path).and_then(clean);
        put("pool_id", get(&["UserPoolId"]));
        put("client_id", get(&["ClientId"]));
        put(
            "username",
            get(&["Username"])
                .or_else(|| get(&["AuthParameters", "USERNAME"]))
                .or_else(|| get(&["ChallengeResponses", "USERNAME"]))
                .or_else(|| {
                    // The core accepted the access token: its user is the one who acted.
                    success
                        .then(|| str_at(&body, &["AccessToken"]).and_then(token_username))
                        .flatten()
                }),
        );
        put("flow", get(&["AuthFlow"]));
        put("challenge", get(&["ChallengeName"]));
        put("group", get(&["GroupName"]));
        if event == "plugin_registration" {
            put("plugin", get(&["Name"]).or_else(|| get(&["Reference"])));
        }
        if let Ok(answer) = serde_json::from_slice::<Value>(seen.response_body)
            && success
        {
            put(
                "next_challenge",
                str_at(&answer, &["ChallengeName"]).and_then(clean),
            );
        }
    }
    put("source_ip", seen.source_ip.and_then(clean));
    put("user_agent", seen.user_agent.and_then(clean));
    Some(Value::Object(line))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    fn seen<'a>(target: &'a str, body: &'a [u8]) -> Seen<'a> {
        Seen {
            target,
            method: "POST",
            path: "/",
            query: "",
            authorization: None,
            request_body: body,
            status: 200,
            error_type: None,
            response_body: b"{}",
            source_ip: Some("127.0.0.1"),
            user_agent: None,
            now_millis: 1_796_544_000_123,
        }
    }

    #[test]
    fn times_are_iso_8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_time(1_796_544_000_123), "2026-12-06T08:00:00.123Z");
    }

    #[test]
    fn a_sign_in_line_has_ids_and_never_the_password() {
        let body = br#"{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"alice","PASSWORD":"hunter2!","SECRET_HASH":"abc"}}"#;
        let mut s = seen("AWSCognitoIdentityProviderService.InitiateAuth", body);
        s.status = 400;
        s.error_type = Some("NotAuthorizedException:");
        let line = event_of(&s).unwrap();
        assert_eq!(line["event"], "sign_in");
        assert_eq!(line["outcome"], "failure");
        assert_eq!(line["error"], "NotAuthorizedException");
        assert_eq!(line["username"], "alice");
        assert_eq!(line["client_id"], "c1");
        let text = line.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("abc\""),
            "{text}"
        );
    }

    #[test]
    fn reads_are_not_audited_unless_signed() {
        assert!(event_of(&seen("AWSCognitoIdentityProviderService.GetUser", b"{}")).is_none());
        let mut s = seen("AWSCognitoIdentityProviderService.ListUsers", b"{}");
        s.authorization = Some(
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00",
        );
        let line = event_of(&s).unwrap();
        assert_eq!(line["event"], "admin_action");
        assert_eq!(line["admin_key_id"], "AKIAEXAMPLE");
    }

    #[test]
    fn oauth_endpoints_are_named_by_method_and_path_without_their_secrets() {
        let mut s = seen(
            "",
            b"grant_type=authorization_code&client_id=c1&code=the-code&client_secret=s3cret",
        );
        s.path = "/oauth2/token";
        s.status = 400;
        s.response_body = br#"{"error":"invalid_grant"}"#;
        let line = event_of(&s).unwrap();
        assert_eq!(line["event"], "sign_in");
        assert_eq!(line["operation"], "POST /oauth2/token");
        assert_eq!(line["error"], "invalid_grant");
        assert_eq!(line["flow"], "authorization_code");
        let text = line.to_string();
        assert!(
            !text.contains("the-code") && !text.contains("s3cret"),
            "{text}"
        );
        s.path = "/oauth2/authorize";
        assert!(event_of(&s).is_none());
    }
}
