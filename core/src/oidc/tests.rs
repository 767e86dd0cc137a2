//! In-process OAuth 2.0 / OIDC scenarios: a "browser" with a cookie jar drives the hosted UI
//! through `Service::handle`, a relying party redeems codes, on the memory store with a manual
//! clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::collections::BTreeMap;

use futures_util::FutureExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::http::{Request, Response};
use crate::oidc::form::Params;
use crate::service::Service;
use crate::testing::TestEnv;

const CALLBACK: &str = "https://app.example.com/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "Passw0rd!";

struct World {
    env: TestEnv,
    service: Service,
    pool: String,
    /// A public client (PKCE required).
    public: String,
    /// A confidential client with its secret.
    confidential: (String, String),
    /// A machine-to-machine client with its secret.
    machine: (String, String),
    cookies: BTreeMap<String, String>,
    /// Whether the base URL is https (cookies are then `Secure`).
    https: bool,
}

impl World {
    fn new() -> Self {
        Self::with_base("http://cognate.test")
    }

    fn with_base(base_url: &str) -> Self {
        let env = TestEnv::new();
        let service = Service::new(Config::new(base_url, "us-east-1"));
        let call = |op: &str, body: Value| {
            service
                .call_trusted(&env, op, body)
                .now_or_never()
                .unwrap()
                .unwrap_or_else(|e| panic!("{op}: {e}"))
        };
        let pool = call(
            "CreateUserPool",
            json!({"PoolName": "oidc", "AutoVerifiedAttributes": ["email"]}),
        )["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        call(
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": "api", "Name": "API",
                "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"},
                           {"ScopeName": "write", "ScopeDescription": "Write"}]}),
        );
        let oauth = json!({
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile", "api/read"],
            "CallbackURLs": [CALLBACK, "http://localhost:3000/cb"],
            "LogoutURLs": ["https://app.example.com/bye"],
            "SupportedIdentityProviders": ["COGNITO"],
        });
        let mut public = oauth.clone();
        public["UserPoolId"] = json!(pool);
        public["ClientName"] = json!("spa");
        let public = call("CreateUserPoolClient", public)["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
        let mut confidential = oauth.clone();
        confidential["UserPoolId"] = json!(pool);
        confidential["ClientName"] = json!("web");
        confidential["GenerateSecret"] = json!(true);
        let c = call("CreateUserPoolClient", confidential)["UserPoolClient"].clone();
        let confidential = (
            c["ClientId"].as_str().unwrap().to_string(),
            c["ClientSecret"].as_str().unwrap().to_string(),
        );
        let m = call(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "m2m", "GenerateSecret": true,
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthScopes": ["api/read", "api/write"]}),
        )["UserPoolClient"]
            .clone();
        let machine = (
            m["ClientId"].as_str().unwrap().to_string(),
            m["ClientSecret"].as_str().unwrap().to_string(),
        );
        call(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": "alice", "MessageAction": "SUPPRESS",
                "TemporaryPassword": PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": "alice@example.com"},
                                   {"Name": "email_verified", "Value": "true"}]}),
        );
        call(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": "alice", "Password": PASSWORD, "Permanent": true}),
        );
        Self {
            env,
            service,
            pool,
            public,
            confidential,
            machine,
            cookies: BTreeMap::new(),
            https: base_url.starts_with("https://"),
        }
    }

    fn admin(&self, op: &str, body: Value) -> Result<Value, crate::Error> {
        self.service
            .call_trusted(&self.env, op, body)
            .now_or_never()
            .unwrap()
    }

    fn send(&mut self, mut request: Request) -> Response {
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| alloc::format!("{k}={v}"))
                .collect();
            request = request.with_header("cookie", &jar.join("; "));
        }
        let response = self
            .service
            .handle(request, &self.env)
            .now_or_never()
            .unwrap();
        for (name, value) in &response.headers {
            if name == "set-cookie" {
                let pair = value.split(';').next().unwrap();
                let (k, v) = pair.split_once('=').unwrap();
                assert!(value.contains("HttpOnly"), "{value}");
                // Secure exactly when the base URL is https: over http non-browser clients
                // drop Secure cookies and the sign-in form would fail its CSRF check.
                assert_eq!(value.contains("; Secure"), self.https, "{value}");
                assert!(value.contains("SameSite=Lax"), "{value}");
                if v.is_empty() {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        response
    }

    fn get(&mut self, path_and_query: &str) -> Response {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut r = Request::new("GET", path);
        r.query = query.to_string();
        self.send(r)
    }

    fn post_form(&mut self, path_and_query: &str, pairs: &[(&str, &str)]) -> Response {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut r = Request::new("POST", path)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(super::token::encode_form(pairs));
        r.query = query.to_string();
        self.send(r)
    }

    fn authorize_query(&self, client: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = alloc::vec![
            ("client_id", client),
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email api/read"),
            ("state", "xyz"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        super::token::encode_form(&pairs)
    }

    /// Follows `/oauth2/authorize` to the sign-in page, submits it, returns the callback's
    /// parameters.
    fn sign_in(&mut self, client: &str, extra: &[(&str, &str)], password: &str) -> Params {
        let query = self.authorize_query(client, extra);
        let r = self.get(&alloc::format!("/oauth2/authorize?{query}"));
        let location = r.header("location").unwrap().to_string();
        if location.starts_with(CALLBACK) {
            return callback_params(&location);
        }
        assert!(location.starts_with("/login?"), "{location}");
        let page = self.get(&location);
        assert_eq!(page.status, 200);
        let html = String::from_utf8(page.body.clone()).unwrap();
        let (action, csrf) = form_of(&html);
        let r = self.post_form(
            &action,
            &[
                ("_csrf", &csrf),
                ("username", "alice"),
                ("password", password),
            ],
        );
        assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
        callback_params(r.header("location").unwrap())
    }

    fn token(&mut self, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut r = Request::new("POST", "/oauth2/token")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(super::token::encode_form(pairs));
        if let Some((id, secret)) = basic {
            r = r.with_header(
                "authorization",
                &alloc::format!(
                    "Basic {}",
                    crate::codec::b64(alloc::format!("{id}:{secret}").as_bytes())
                ),
            );
        }
        let response = self.service.handle(r, &self.env).now_or_never().unwrap();
        if response.status == 401 {
            assert!(response.header("www-authenticate").is_some());
        }
        (
            response.status,
            serde_json::from_slice(&response.body).unwrap_or(Value::Null),
        )
    }

    fn redeem(&mut self, client: &str, code: &str) -> (u16, Value) {
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", client),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
    }

    fn userinfo(&mut self, access: &str) -> (u16, Value, Option<String>) {
        let r = Request::new("GET", "/oauth2/userInfo")
            .with_header("authorization", &alloc::format!("Bearer {access}"));
        let response = self.service.handle(r, &self.env).now_or_never().unwrap();
        (
            response.status,
            serde_json::from_slice(&response.body).unwrap_or(Value::Null),
            response.header("www-authenticate").map(ToString::to_string),
        )
    }
}

fn callback_params(location: &str) -> Params {
    let (_, query) = location.split_once('?').unwrap();
    Params::parse(query)
}

/// The form's action and CSRF token, from the page's HTML.
fn form_of(html: &str) -> (String, String) {
    let action = html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    (action, csrf)
}

fn claims(token: &str) -> serde_json::Map<String, Value> {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&crate::codec::b64url_decode(payload).unwrap()).unwrap()
}

#[test]
fn code_flow_with_pkce_userinfo_refresh_revoke_session_and_logout() {
    let mut w = World::new();
    let public = w.public.clone();
    let cb = w.sign_in(&public, &[], PASSWORD);
    assert_eq!(cb.get("state"), Ok(Some("xyz")));
    let code = cb.get("code").unwrap().unwrap().to_string();
    let (status, tokens) = w.redeem(&public, &code);
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id = claims(tokens["id_token"].as_str().unwrap());
    let access_token = tokens["access_token"].as_str().unwrap().to_string();
    let access = claims(&access_token);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["aud"], public.as_str());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["iss"], alloc::format!("http://cognate.test/{}", w.pool));
    // OIDC Core 3.1.3.6: at_hash = left half of SHA-256 of the access token.
    let digest = Sha256::digest(access_token.as_bytes());
    assert_eq!(id["at_hash"], crate::codec::b64url(&digest[..16]));
    assert_eq!(access["scope"], "openid email api/read");
    assert_eq!(access["client_id"], public.as_str());

    let (status, info, _) = w.userinfo(&access_token);
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["username"], "alice");
    assert_eq!(info["sub"], id["sub"]);

    // The Cognito API needs aws.cognito.signin.user.admin, which this token was not granted.
    let get_user = w.service.handle(
        Request::new("POST", "/")
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
            .with_body(serde_json::to_vec(&json!({"AccessToken": access_token})).unwrap()),
        &w.env,
    );
    assert_eq!(get_user.now_or_never().unwrap().status, 400);

    // Refresh keeps the scopes; no nonce on refreshed ID tokens.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let (status, refreshed) = w.token(
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &public),
            ("refresh_token", &refresh),
        ],
        None,
    );
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["scope"],
        "openid email api/read"
    );
    assert!(
        claims(refreshed["id_token"].as_str().unwrap())
            .get("nonce")
            .is_none()
    );

    // The session skips the sign-in page.
    let again = w.sign_in(&public, &[("state", "second")], "not-used");
    assert_eq!(again.get("state"), Ok(Some("second")));
    assert!(again.get("code").unwrap().is_some());

    // Revocation (RFC 7009): the refresh token and its session's access tokens stop working.
    let r = w.post_form(
        "/oauth2/revoke",
        &[("token", &refresh), ("client_id", &public)],
    );
    assert_eq!(r.status, 200);
    let (status, err) = w.token(
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &public),
            ("refresh_token", &refresh),
        ],
        None,
    );
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, www) = w.userinfo(&access_token);
    assert_eq!(status, 401);
    assert!(www.unwrap().contains("invalid_token"));
    // Unknown tokens are not an error.
    let r = w.post_form(
        "/oauth2/revoke",
        &[("token", "no-such-token"), ("client_id", &public)],
    );
    assert_eq!(r.status, 200);

    // Logout: only to a registered sign-out URL; it ends the session.
    let bad = w.get(&alloc::format!(
        "/logout?client_id={public}&logout_uri=https%3A%2F%2Fevil.example%2F"
    ));
    assert_eq!(bad.status, 400);
    assert!(bad.header("location").is_none());
    let out = w.get(&alloc::format!(
        "/logout?client_id={public}&logout_uri=https%3A%2F%2Fapp.example.com%2Fbye"
    ));
    assert_eq!(out.header("location"), Some("https://app.example.com/bye"));
    let none = w.get(&alloc::format!(
        "/oauth2/authorize?{}",
        w.authorize_query(&public, &[("prompt", "none")])
    ));
    let cb = callback_params(none.header("location").unwrap());
    assert_eq!(cb.get("error"), Ok(Some("login_required")));
    assert_eq!(cb.get("state"), Ok(Some("xyz")));
}

#[test]
fn cookies_are_secure_exactly_when_the_base_url_is_https() {
    // `send` asserts every Set-Cookie's attributes against the base URL's scheme.
    for base in ["https://cognate.test", "http://cognate.test"] {
        let mut w = World::with_base(base);
        let public = w.public.clone();
        let cb = w.sign_in(&public, &[], PASSWORD);
        assert!(cb.get("code").unwrap().is_some(), "{base}");
        assert!(
            w.cookies.keys().any(|k| k.starts_with("cognate-session-")),
            "{base}: {:?}",
            w.cookies
        );
    }
}

#[test]
fn confidential_clients_authenticate_and_client_credentials_get_custom_scopes() {
    let mut w = World::new();
    let (id, secret) = w.confidential.clone();
    let cb = w.sign_in(&id, &[], PASSWORD);
    let code = cb.get("code").unwrap().unwrap().to_string();
    // Wrong secret: 401 invalid_client with WWW-Authenticate.
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, err) = w.token(&pairs, Some((&id, "wrong")));
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // No authentication at all.
    let (status, _) = w.token(&pairs, None);
    assert_eq!(status, 401);
    // Two methods at once.
    let mut both = pairs.to_vec();
    both.push(("client_secret", &secret));
    let (status, err) = w.token(&both, Some((&id, &secret)));
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // client_secret_basic works (the code survived the failed attempts).
    let (status, tokens) = w.token(&pairs, Some((&id, &secret)));
    assert_eq!(status, 200, "{tokens}");
    // client_secret_post works for refresh.
    let (status, _) = w.token(
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
        None,
    );
    assert_eq!(status, 200);

    let (mid, msecret) = w.machine.clone();
    let (status, m2m) = w.token(
        &[("grant_type", "client_credentials"), ("scope", "api/write")],
        Some((&mid, &msecret)),
    );
    assert_eq!(status, 200, "{m2m}");
    let c = claims(m2m["access_token"].as_str().unwrap());
    assert_eq!(c["scope"], "api/write");
    assert_eq!(c["sub"], mid.as_str());
    assert_eq!(c["token_use"], "access");
    assert!(m2m.get("refresh_token").is_none() && m2m.get("id_token").is_none());
    let (status, all) = w.token(
        &[("grant_type", "client_credentials")],
        Some((&mid, &msecret)),
    );
    assert_eq!(status, 200);
    assert_eq!(
        claims(all["access_token"].as_str().unwrap())["scope"],
        "api/read api/write"
    );
    let (status, err) = w.token(
        &[("grant_type", "client_credentials"), ("scope", "openid")],
        Some((&mid, &msecret)),
    );
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // A user-facing client may not use client_credentials.
    let (status, err) = w.token(
        &[("grant_type", "client_credentials")],
        Some((&id, &secret)),
    );
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, err) = w.token(&[("grant_type", "password")], Some((&id, &secret)));
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    // A client-credentials token is no user's: userInfo refuses it.
    let (status, _, _) = w.userinfo(m2m["access_token"].as_str().unwrap());
    assert_eq!(status, 401);
}

#[test]
fn redirect_uri_mismatch_and_open_redirects_are_never_followed() {
    let mut w = World::new();
    let public = w.public.clone();
    for uri in [
        "https://evil.example/callback",
        "https://app.example.com/callback/../evil",
        "https://app.example.com/callback.evil.example",
        "https://app.example.com/callback?next=https://evil.example",
        "https://app.example.com/CALLBACK",
        "//evil.example",
        "",
    ] {
        let r = w.get(&alloc::format!(
            "/oauth2/authorize?{}",
            w.authorize_query(&public, &[("redirect_uri", uri)])
        ));
        assert_eq!(r.status, 400, "{uri}");
        assert!(r.header("location").is_none(), "{uri}");
        // The hosted-UI pages validate the same way.
        let r = w.get(&alloc::format!(
            "/login?{}",
            w.authorize_query(&public, &[("redirect_uri", uri)])
        ));
        assert_eq!(r.status, 400, "{uri}");
    }
    // An unknown client: a page, no redirect.
    let r = w.get(&alloc::format!(
        "/oauth2/authorize?{}",
        w.authorize_query("nosuchclient0000000000000", &[])
    ));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    // A repeated redirect_uri is refused outright.
    let q = alloc::format!(
        "{}&redirect_uri={}",
        w.authorize_query(&public, &[]),
        crate::codec::url_encode("https://evil.example/")
    );
    let r = w.get(&alloc::format!("/oauth2/authorize?{q}"));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    // Once the redirect URI is verified, errors go there.
    for (extra, error) in [
        (("code_challenge_method", "plain"), "invalid_request"),
        (("code_challenge", ""), "invalid_request"),
        (("scope", "openid admin/everything"), "invalid_scope"),
        (("response_type", "token"), "unsupported_response_type"),
        (("prompt", "none"), "login_required"),
    ] {
        let mut extras = alloc::vec![extra];
        if extra.0 == "code_challenge" {
            extras.push(("code_challenge_method", ""));
        }
        let r = w.get(&alloc::format!(
            "/oauth2/authorize?{}",
            w.authorize_query(&public, &extras)
        ));
        let location = r.header("location").unwrap();
        assert!(location.starts_with(CALLBACK), "{location}");
        let p = callback_params(location);
        assert_eq!(p.get("error"), Ok(Some(error)), "{extra:?}");
        assert_eq!(p.get("state"), Ok(Some("xyz")));
    }
}

#[test]
fn csrf_is_required_on_every_form() {
    let mut w = World::new();
    let public = w.public.clone();
    let query = w.authorize_query(&public, &[]);
    let page = w.get(&alloc::format!("/login?{query}"));
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("<label for=\"f-username\">"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let (action, csrf) = form_of(&html);
    let creds = [("username", "alice"), ("password", PASSWORD)];
    // Missing token.
    let r = w.post_form(&action, &creds);
    assert_eq!(r.status, 403);
    // Forged token.
    let mut forged = creds.to_vec();
    forged.push(("_csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(w.post_form(&action, &forged).status, 403);
    // A valid token with another browser's cookie.
    let saved = w.cookies.clone();
    w.cookies.insert("cognate-csrf".into(), "x".repeat(43));
    let mut with = creds.to_vec();
    with.push(("_csrf", &csrf));
    assert_eq!(w.post_form(&action, &with).status, 403);
    for path in [
        "/signup",
        "/confirm",
        "/forgotPassword",
        "/confirmForgotPassword",
        "/newPassword",
        "/mfa",
    ] {
        let r = w.post_form(&alloc::format!("{path}?{query}"), &creds);
        assert_eq!(r.status, 403, "{path}");
    }
    w.cookies = saved;
    let r = w.post_form(&action, &with);
    assert_eq!(r.status, 302);
}

#[test]
fn codes_are_single_use_bound_to_client_and_verifier_and_expire() {
    let mut w = World::new();
    let public = w.public.clone();
    let (conf, conf_secret) = w.confidential.clone();

    // Wrong verifier, then no verifier: refused, and the code stays unredeemed.
    let code = w
        .sign_in(&public, &[], PASSWORD)
        .get("code")
        .unwrap()
        .unwrap()
        .to_string();
    let wrong = "A".repeat(43);
    let (status, err) = w.token(
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &public),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &wrong),
        ],
        None,
    );
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = w.token(
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &public),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        None,
    );
    assert_eq!(status, 400);
    // Another client cannot redeem it.
    let (status, err) = w.token(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
        Some((&conf, &conf_secret)),
    );
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Another redirect URI neither.
    let (status, _) = w.token(
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &public),
            ("code", &code),
            ("redirect_uri", "http://localhost:3000/cb"),
            ("code_verifier", VERIFIER),
        ],
        None,
    );
    assert_eq!(status, 400);
    // The right one redeems it once; a replay fails and revokes what was issued.
    let (status, tokens) = w.redeem(&public, &code);
    assert_eq!(status, 200);
    let (status, err) = w.redeem(&public, &code);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = w.userinfo(tokens["access_token"].as_str().unwrap());
    assert_eq!(status, 401, "a reused code revokes the access token");
    let (status, _) = w.token(
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &public),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
        None,
    );
    assert_eq!(status, 400, "a reused code revokes the refresh token");

    // Expired after 5 minutes.
    let code = w
        .sign_in(&public, &[("state", "late")], PASSWORD)
        .get("code")
        .unwrap()
        .unwrap()
        .to_string();
    w.env.clock.advance(5 * 60 * 1000);
    let (status, err) = w.redeem(&public, &code);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Garbage codes.
    let (status, _) = w.redeem(&public, "not a code");
    assert_eq!(status, 400);
}

#[test]
fn forged_tokens_are_refused_by_every_token_endpoint() {
    let mut w = World::new();
    let public = w.public.clone();
    let code = w
        .sign_in(&public, &[], PASSWORD)
        .get("code")
        .unwrap()
        .unwrap()
        .to_string();
    let (_, tokens) = w.redeem(&public, &code);
    let real = tokens["access_token"].as_str().unwrap();
    let mut parts = real.split('.');
    let (_, payload) = (parts.next().unwrap(), parts.next().unwrap());
    let header = |h: Value| crate::codec::b64url(&serde_json::to_vec(&h).unwrap());
    let kid = claims(&alloc::format!("x.{}", real.split('.').next().unwrap()))["kid"].clone();
    let forged = [
        alloc::format!("{}.{payload}.", header(json!({"alg": "none", "kid": kid}))),
        alloc::format!(
            "{}.{payload}.c2ln",
            header(json!({"alg": "HS256", "kid": kid}))
        ),
        alloc::format!(
            "{}.{payload}.c2ln",
            header(json!({"alg": "RS256", "kid": "unknown"}))
        ),
        alloc::format!("{}.{payload}", header(json!({"alg": "none"}))),
    ];
    for token in &forged {
        let (status, _, www) = w.userinfo(token);
        assert_eq!(status, 401, "{token}");
        assert!(www.unwrap().contains("invalid_token"));
        let get_user = w
            .service
            .handle(
                Request::new("POST", "/")
                    .with_header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
                    .with_body(serde_json::to_vec(&json!({"AccessToken": token})).unwrap()),
                &w.env,
            )
            .now_or_never()
            .unwrap();
        assert_eq!(get_user.status, 400);
    }
    // No token at all: 401 with a bare Bearer challenge (RFC 6750 §3.1).
    let r = w
        .service
        .handle(Request::new("GET", "/oauth2/userInfo"), &w.env)
        .now_or_never()
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}

#[test]
fn client_oauth_settings_are_validated() {
    let w = World::new();
    let base =
        json!({"UserPoolId": w.pool, "ClientName": "x", "AllowedOAuthFlowsUserPoolClient": true});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        w.admin("CreateUserPoolClient", b)
    };
    assert!(
        with(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["http://evil.example/cb"]}))
            .is_err()
    );
    assert!(
        with(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://a.example/cb#x"]}))
            .is_err()
    );
    assert!(
        with(
            json!({"AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"]})
        )
        .is_err()
    );
    let e = with(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://a.example/cb"], "AllowedOAuthScopes": ["api/delete"]})).unwrap_err();
    assert_eq!(e.kind.wire().0, "ScopeDoesNotExistException");
    assert!(with(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://a.example/cb"], "AllowedOAuthScopes": ["openid", "api/write"]})).is_ok());

    // Resource servers round-trip; domains map to the pool.
    let rs = w
        .admin(
            "DescribeResourceServer",
            json!({"UserPoolId": w.pool, "Identifier": "api"}),
        )
        .unwrap();
    assert_eq!(rs["ResourceServer"]["Scopes"].as_array().unwrap().len(), 2);
    let list = w
        .admin(
            "ListResourceServers",
            json!({"UserPoolId": w.pool, "MaxResults": 10}),
        )
        .unwrap();
    assert_eq!(list["ResourceServers"].as_array().unwrap().len(), 1);
    assert!(
        w.admin(
            "CreateResourceServer",
            json!({"UserPoolId": w.pool, "Identifier": "api", "Name": "again"})
        )
        .is_err()
    );
    w.admin(
        "CreateUserPoolDomain",
        json!({"UserPoolId": w.pool, "Domain": "my-app"}),
    )
    .unwrap();
    let d = w
        .admin("DescribeUserPoolDomain", json!({"Domain": "my-app"}))
        .unwrap();
    assert_eq!(d["DomainDescription"]["UserPoolId"], w.pool.as_str());
    assert!(
        w.admin(
            "CreateUserPoolDomain",
            json!({"UserPoolId": w.pool, "Domain": "other"})
        )
        .is_err()
    );
    assert!(
        w.admin(
            "CreateUserPoolDomain",
            json!({"UserPoolId": w.pool, "Domain": "Bad_Domain"})
        )
        .is_err()
    );
    let css = ".banner{background:#123456}";
    w.admin(
        "SetUICustomization",
        json!({"UserPoolId": w.pool, "CSS": css}),
    )
    .unwrap();
    let ui = w
        .admin(
            "GetUICustomization",
            json!({"UserPoolId": w.pool, "ClientId": w.public}),
        )
        .unwrap();
    assert_eq!(ui["UICustomization"]["CSS"], css);
    assert!(
        w.admin(
            "SetUICustomization",
            json!({"UserPoolId": w.pool, "CSS": "</style><script>"})
        )
        .is_err()
    );
}

#[test]
fn domain_prefix_paths_serve_the_pool_and_refuse_other_pools_clients() {
    let mut w = World::new();
    w.admin(
        "CreateUserPoolDomain",
        json!({"UserPoolId": w.pool, "Domain": "my-app"}),
    )
    .unwrap();
    let public = w.public.clone();
    let query = w.authorize_query(&public, &[]);
    let r = w.get(&alloc::format!("/my-app/oauth2/authorize?{query}"));
    assert_eq!(r.status, 302);
    assert!(r.header("location").unwrap().starts_with("/my-app/login?"));
    let page = w.get(r.header("location").unwrap().to_string().as_str());
    assert_eq!(page.status, 200);
    // Another pool's domain does not serve this pool's clients.
    let other = w
        .admin("CreateUserPool", json!({"PoolName": "other"}))
        .unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    w.admin(
        "CreateUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "other-app"}),
    )
    .unwrap();
    let r = w.get(&alloc::format!("/other-app/oauth2/authorize?{query}"));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
}

#[test]
fn hosted_ui_sign_up_confirm_and_new_password_required() {
    let mut w = World::new();
    let public = w.public.clone();
    let query = w.authorize_query(&public, &[]);
    let page = w.get(&alloc::format!("/signup?{query}"));
    let html = String::from_utf8(page.body.clone()).unwrap();
    let (action, csrf) = form_of(&html);
    let r = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "bob"),
            ("email", "bob@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(html.contains("Confirm your account"), "{html}");
    let code = w.env.sender.last_code("bob").unwrap();
    let (action, csrf) = form_of(&html);
    let r = w.post_form(
        &action,
        &[("_csrf", &csrf), ("username", "bob"), ("code", &code)],
    );
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(html.contains("Your account is confirmed"), "{html}");
    let (action, csrf) = form_of(&html);
    let r = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "bob"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(r.status, 302);
    assert!(r.header("location").unwrap().starts_with(CALLBACK));

    // A user with a temporary password changes it on the hosted UI, then lands with a code.
    w.admin(
        "AdminCreateUser",
        json!({"UserPoolId": w.pool, "Username": "carol", "MessageAction": "SUPPRESS",
            "TemporaryPassword": "Temp0rary!"}),
    )
    .unwrap();
    w.cookies.clear();
    let page = w.get(&alloc::format!("/login?{query}"));
    let (action, csrf) = form_of(&String::from_utf8(page.body.clone()).unwrap());
    let r = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "carol"),
            ("password", "Temp0rary!"),
        ],
    );
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(html.contains("Change your password"), "{html}");
    let (action, csrf) = form_of(&html);
    let session = html
        .split("name=\"session\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "carol"),
            ("session", &session),
            ("new_password", "N3w-Passw0rd!"),
            ("confirm_password", "N3w-Passw0rd!"),
        ],
    );
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let code = callback_params(r.header("location").unwrap())
        .get("code")
        .unwrap()
        .unwrap()
        .to_string();
    assert_eq!(w.redeem(&public, &code).0, 200);

    // Wrong password: the page says so, no redirect; unknown users look the same.
    w.cookies.clear();
    let page = w.get(&alloc::format!("/login?{query}"));
    let (action, csrf) = form_of(&String::from_utf8(page.body.clone()).unwrap());
    let wrong = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "alice"),
            ("password", "Wrong-pass1"),
        ],
    );
    let unknown = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "nobody"),
            ("password", "Wrong-pass1"),
        ],
    );
    assert_eq!(wrong.status, 400);
    assert!(wrong.header("location").is_none());
    let msg = |r: &Response| {
        let h = String::from_utf8(r.body.clone()).unwrap();
        h.split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(msg(&wrong), msg(&unknown));
}

#[test]
fn discovery_lists_the_endpoints() {
    let mut w = World::new();
    let pool = w.pool.clone();
    let r = w.get(&alloc::format!("/{pool}/.well-known/openid-configuration"));
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc["issuer"], alloc::format!("http://cognate.test/{pool}"));
    assert_eq!(doc["token_endpoint"], "http://cognate.test/oauth2/token");
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert!(
        doc["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("email"))
    );
}

/// A hidden input's value, from a page's HTML.
fn hidden_of(html: &str, name: &str) -> String {
    html.split(&alloc::format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn hosted_ui_mfa_setup_then_totp_code() {
    use crate::ports::Clock;
    let mut w = World::new();
    let public = w.public.clone();
    w.admin(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": w.pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .unwrap();
    let code_at = |w: &World, secret: &str, offset: u64| {
        let key = crate::totp::decode_secret(secret).unwrap();
        let step = crate::totp::step_of(w.env.clock.now_millis() / 1000) + offset;
        crate::totp::code_at(&key, step).unwrap()
    };
    let query = w.authorize_query(&public, &[]);
    let page = w.get(&alloc::format!("/login?{query}"));
    let (action, csrf) = form_of(&String::from_utf8(page.body.clone()).unwrap());
    let setup = w.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(setup.status, 200);
    let html = String::from_utf8(setup.body.clone()).unwrap();
    assert!(html.contains("Set up an authenticator app"), "{html}");
    let secret = hidden_of(&html, "secret");
    assert_eq!(secret.len(), 32);
    assert!(html.contains(&alloc::format!(
        "otpauth://totp/oidc:alice?secret={secret}&amp;issuer=oidc"
    )));
    let (action, csrf) = form_of(&html);
    let session = hidden_of(&html, "session");
    let fields = |code: &str, session: &str, challenge: &str| -> Vec<(String, String)> {
        alloc::vec![
            ("_csrf".into(), csrf.clone()),
            ("username".into(), "alice".into()),
            ("session".into(), session.into()),
            ("challenge".into(), challenge.into()),
            ("secret".into(), secret.clone()),
            ("code".into(), code.into()),
        ]
    };
    let post = |w: &mut World, pairs: &[(String, String)]| {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        w.post_form(&action, &pairs)
    };
    // A wrong code: the same page again, with the same key.
    let right = code_at(&w, &secret, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let again = post(&mut w, &fields(wrong, &session, "MFA_SETUP"));
    assert_eq!(again.status, 400);
    let html = String::from_utf8(again.body.clone()).unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert_eq!(hidden_of(&html, "secret"), secret);
    let done = post(&mut w, &fields(&right, &session, "MFA_SETUP"));
    assert_eq!(done.status, 302, "{}", String::from_utf8_lossy(&done.body));
    let code = callback_params(done.header("location").unwrap())
        .get("code")
        .unwrap()
        .unwrap()
        .to_string();
    assert_eq!(w.redeem(&public, &code).0, 200);

    // The next sign-in asks for the app's code.
    w.cookies.clear();
    w.env.clock.advance(30_000);
    let page = w.get(&alloc::format!("/login?{query}"));
    let (action2, csrf2) = form_of(&String::from_utf8(page.body.clone()).unwrap());
    let challenged = w.post_form(
        &action2,
        &[
            ("_csrf", &csrf2),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(challenged.status, 200);
    let html = String::from_utf8(challenged.body.clone()).unwrap();
    assert!(
        html.contains("Enter the code from your authenticator app."),
        "{html}"
    );
    assert_eq!(hidden_of(&html, "challenge"), "SOFTWARE_TOKEN_MFA");
    let session = hidden_of(&html, "session");
    let (action3, csrf3) = form_of(&html);
    let code = code_at(&w, &secret, 0);
    let signed_in = w.post_form(
        &action3,
        &[
            ("_csrf", &csrf3),
            ("username", "alice"),
            ("session", &session),
            ("challenge", "SOFTWARE_TOKEN_MFA"),
            ("code", &code),
        ],
    );
    assert_eq!(
        signed_in.status,
        302,
        "{}",
        String::from_utf8_lossy(&signed_in.body)
    );
}

/// Sign in with Apple: the authorization request asks for `form_post`, Apple's answer is a form
/// POST to `/oauth2/idpresponse` carrying the user's name (first sign-in only), the token
/// request's client secret is an ES256 JWT with Apple's claims signed with the provider's key,
/// the ID token is verified against Apple's JWKS, and the names reach the pool's attributes.
#[test]
fn sign_in_with_apple_posts_its_answer_and_gets_a_signed_client_secret() {
    use crate::ports::{Env as _, JwsAlgorithm};
    let mut w = World::new();
    // The test Jws is an HMAC double keyed by the "private key" bytes (apple.rs's test).
    let key_bytes = b"0123456789abcdef0123456789abcdef";
    let pem = alloc::format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        crate::codec::b64(key_bytes)
    );
    w.admin(
        "CreateIdentityProvider",
        json!({"UserPoolId": w.pool, "ProviderName": "SignInWithApple",
            "ProviderType": "SignInWithApple",
            "ProviderDetails": {"client_id": "com.example.web", "team_id": "TEAM123456",
                "key_id": "KEY1234567", "private_key": pem, "authorize_scopes": "email name"},
            "AttributeMapping": {"email": "email", "given_name": "firstName",
                "family_name": "lastName", "name": "name"}}),
    )
    .unwrap();
    let client = w
        .admin(
            "CreateUserPoolClient",
            json!({"UserPoolId": w.pool, "ClientName": "apple-web",
                "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid", "email", "profile"],
                "CallbackURLs": [CALLBACK], "SupportedIdentityProviders": ["SignInWithApple"]}),
        )
        .unwrap()["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_string();

    // 1. To Apple, asking for its form POST answer.
    let query = w.authorize_query(
        &client,
        &[
            ("identity_provider", "SignInWithApple"),
            ("scope", "openid email profile"),
        ],
    );
    let r = w.get(&alloc::format!("/oauth2/authorize?{query}"));
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.starts_with("https://appleid.apple.com/auth/authorize?"),
        "{location}"
    );
    let to_apple = callback_params(&location);
    assert_eq!(to_apple.first("response_mode"), Some("form_post"));
    assert_eq!(to_apple.first("client_id"), Some("com.example.web"));
    assert_eq!(to_apple.first("scope"), Some("email name"));
    let state = to_apple.first("state").unwrap().to_string();
    let nonce = to_apple.first("nonce").unwrap().to_string();

    // 2. Apple's token endpoint and keys (its ID token carries no name).
    let now = w.env.clock().now_millis() / 1000;
    let apple_key: &[u8] = b"apple-signing-key-0123456789abcd";
    let id_token = crate::testing::sign_openid_token(
        "apple-k1",
        apple_key,
        &json!({"iss": "https://appleid.apple.com", "aud": "com.example.web",
            "sub": "001234.abcdef", "email": "kim@privaterelay.appleid.com",
            "email_verified": "true", "nonce": nonce, "iat": now, "exp": now + 600}),
    );
    w.env.http.route(
        "https://appleid.apple.com/auth/token",
        200,
        &serde_json::to_vec(
            &json!({"access_token": "apple-access", "token_type": "Bearer",
            "expires_in": 3600, "id_token": id_token}),
        )
        .unwrap(),
    );
    w.env.http.route(
        crate::federation::provider::APPLE_JWKS_URI,
        200,
        &serde_json::to_vec(&json!({"keys": [{"kty": "RSA", "kid": "apple-k1",
            "alg": "RS256", "use": "sig", "n": crate::codec::b64url(apple_key), "e": "AQAB"}]}))
        .unwrap(),
    );

    // 3. Apple's answer: a form POST with the code and, this once, the user's name.
    let user =
        r#"{"name":{"firstName":"Kim","lastName":"Lee"},"email":"kim@privaterelay.appleid.com"}"#;
    let r = w.post_form(
        "/oauth2/idpresponse",
        &[("state", &state), ("code", "apple-code"), ("user", user)],
    );
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let back = callback_params(r.header("location").unwrap());
    assert_eq!(back.first("state"), Some("xyz"));
    let code = back.first("code").unwrap().to_string();

    // The token request's client secret: ES256 with Apple's claims, signed with the key.
    let requests = w.env.http.requests.lock().unwrap().clone();
    let token_request = requests
        .iter()
        .find(|q| q.url == "https://appleid.apple.com/auth/token")
        .unwrap();
    let form = Params::parse(core::str::from_utf8(&token_request.body).unwrap());
    assert_eq!(form.first("code"), Some("apple-code"));
    assert_eq!(form.first("client_id"), Some("com.example.web"));
    let secret = form.first("client_secret").unwrap();
    let parts: Vec<&str> = secret.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value =
        serde_json::from_slice(&crate::codec::b64url_decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
    let secret_claims = claims(secret);
    assert_eq!(secret_claims["iss"], "TEAM123456");
    assert_eq!(secret_claims["sub"], "com.example.web");
    assert_eq!(secret_claims["aud"], "https://appleid.apple.com");
    assert!(secret_claims["exp"].as_u64().unwrap() > now);
    let signed = w
        .env
        .jws()
        .verify(
            JwsAlgorithm::ES256,
            "KEY1234567",
            key_bytes,
            &[],
            alloc::format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &crate::codec::b64url_decode(parts[2]).unwrap(),
        )
        .now_or_never()
        .unwrap()
        .unwrap();
    assert!(
        signed,
        "the client secret is signed with the provider's private key"
    );

    // 4. Cognate's tokens name the Apple identity and carry the names from `user`.
    let (status, tokens) = w.redeem(&client, &code);
    assert_eq!(status, 200, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "SignInWithApple_001234.abcdef");
    assert_eq!(id["given_name"], "Kim");
    assert_eq!(id["family_name"], "Lee");
    assert_eq!(id["name"], "Kim Lee");
    assert_eq!(id["email"], "kim@privaterelay.appleid.com");
    assert_eq!(id["identities"][0]["providerName"], "SignInWithApple");
    assert_eq!(id["identities"][0]["providerType"], "SignInWithApple");
    assert_eq!(id["identities"][0]["userId"], "001234.abcdef");

    // The state was used once: Apple's answer replayed is refused.
    let replay = w.post_form(
        "/oauth2/idpresponse",
        &[("state", &state), ("code", "apple-code")],
    );
    assert_eq!(
        replay.status,
        400,
        "{}",
        String::from_utf8_lossy(&replay.body)
    );
}
