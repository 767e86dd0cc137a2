#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

//! The upstream ID-token verifier against a provider served from the scripted HTTP port. The
//! test JWS double "signs" with HMAC keyed by the JWK's `n` (see `crate::testing`), so a token
//! signed with another key's bytes fails exactly as a wrong RSA key would.

use alloc::string::String;
use alloc::vec::Vec;

use futures_util::FutureExt;
use serde_json::{Value, json};

use super::upstream::{JWKS_REFETCH_MIN_MILLIS, discovery_url, verify_id_token};
use crate::codec::b64url;
use crate::error::ErrorKind;
use crate::ports::Env;
use crate::testing::TestEnv;

const ISSUER: &str = "https://idp.example.com";
const JWKS: &str = "https://idp.example.com/jwks";
const CLIENT: &str = "client-1";

fn run<T>(f: impl core::future::Future<Output = T>) -> T {
    f.now_or_never().expect("the test env never waits")
}

fn sign(kid: &str, key: &[u8], claims: &Value, alg: &str) -> String {
    let header =
        b64url(&serde_json::to_vec(&json!({"alg": alg, "kid": kid, "typ": "JWT"})).unwrap());
    let payload = b64url(&serde_json::to_vec(claims).unwrap());
    let input = alloc::format!("{header}.{payload}");
    let env = TestEnv::new();
    let signature = run(env.jws().sign(
        crate::ports::JwsAlgorithm::RS256,
        kid,
        &crate::secret::Secret::new(crate::codec::b64(key)),
        input.as_bytes(),
    ))
    .unwrap();
    alloc::format!("{input}.{}", b64url(&signature))
}

fn claims(env: &TestEnv) -> Value {
    let now = env.clock().now_millis() / 1000;
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "u-1", "exp": now + 300, "iat": now, "nonce": "n-1", "email": "a@example.com"})
}

fn verify(
    env: &TestEnv,
    token: &str,
    nonce: Option<&str>,
) -> Result<serde_json::Map<String, Value>, crate::error::Error> {
    run(verify_id_token(env, ISSUER, &[CLIENT], token, nonce))
}

fn refused(env: &TestEnv, token: &str, nonce: Option<&str>, why: &str) {
    let error = verify(env, token, nonce).unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotAuthorized, "{error:?}");
    assert!(error.message.contains(why), "{} lacks {why}", error.message);
}

const KEY_1: &[u8] = b"key-one-key-one-key-one-key-one!";
const KEY_2: &[u8] = b"key-two-key-two-key-two-key-two!";

#[test]
fn a_valid_token_verifies_and_its_claims_come_back() {
    let env = TestEnv::new();
    env.http.serve_openid_provider(ISSUER, &[("k1", KEY_1)]);
    let token = sign("k1", KEY_1, &claims(&env), "RS256");
    let out = verify(&env, &token, Some("n-1")).unwrap();
    assert_eq!(out["sub"], "u-1");
    assert_eq!(out["email"], "a@example.com");
    // Without a nonce to compare, the nonce is not checked.
    verify(&env, &token, None).unwrap();
    // The documents were fetched once and then served from the store.
    verify(&env, &token, None).unwrap();
    assert_eq!(env.http.count(&discovery_url(ISSUER)), 1);
    assert_eq!(env.http.count(JWKS), 1);
}

#[test]
fn the_wrong_issuer_audience_nonce_and_expired_tokens_are_refused() {
    let env = TestEnv::new();
    env.http.serve_openid_provider(ISSUER, &[("k1", KEY_1)]);
    let mut c = claims(&env);
    c["iss"] = json!("https://other.example.com");
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        None,
        "the issuer does not match",
    );
    let mut c = claims(&env);
    c["aud"] = json!(["someone-else"]);
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        None,
        "the audience does not match",
    );
    let mut c = claims(&env);
    c["aud"] = json!([CLIENT, "x"]);
    c["azp"] = json!("x");
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        None,
        "the authorized party does not match",
    );
    let token = sign("k1", KEY_1, &claims(&env), "RS256");
    refused(&env, &token, Some("n-2"), "the nonce does not match");
    let mut c = claims(&env);
    c.as_object_mut().unwrap().remove("nonce");
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        Some("n-1"),
        "the nonce does not match",
    );
    // Expired beyond the allowed skew.
    let now = env.clock().now_millis() / 1000;
    let mut c = claims(&env);
    c["exp"] = json!(now - 61);
    c["iat"] = json!(now - 400);
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        None,
        "the token has expired",
    );
    // Within the skew it still passes.
    c["exp"] = json!(now - 30);
    verify(&env, &sign("k1", KEY_1, &c, "RS256"), None).unwrap();
    let mut c = claims(&env);
    c["iat"] = json!(now + 3600);
    refused(
        &env,
        &sign("k1", KEY_1, &c, "RS256"),
        None,
        "issued in the future",
    );
}

#[test]
fn a_bad_signature_or_algorithm_is_refused() {
    let env = TestEnv::new();
    env.http.serve_openid_provider(ISSUER, &[("k1", KEY_1)]);
    // Signed with another key under the known kid.
    refused(
        &env,
        &sign("k1", KEY_2, &claims(&env), "RS256"),
        None,
        "the signature does not verify",
    );
    // A modified payload under a valid signature.
    let token = sign("k1", KEY_1, &claims(&env), "RS256");
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims(&env);
    c["sub"] = json!("someone-else");
    let forged = alloc::format!(
        "{}.{}.{}",
        parts[0],
        b64url(&serde_json::to_vec(&c).unwrap()),
        parts[2]
    );
    refused(&env, &forged, None, "the signature does not verify");
    // alg none / HS256 are never accepted.
    refused(
        &env,
        &sign("k1", KEY_1, &claims(&env), "HS256"),
        None,
        "the algorithm is not RS256",
    );
    let unsigned = alloc::format!("{}.{}.", b64url(br#"{"alg":"none"}"#), parts[1]);
    refused(&env, &unsigned, None, "the algorithm is not RS256");
    refused(&env, "not-a-jwt", None, "not a signed JWT");
}

#[test]
fn an_unknown_kid_refetches_the_jwks_once() {
    let env = TestEnv::new();
    env.http.serve_openid_provider(ISSUER, &[("k1", KEY_1)]);
    verify(&env, &sign("k1", KEY_1, &claims(&env), "RS256"), None).unwrap();
    assert_eq!(env.http.count(JWKS), 1);
    // The provider rotates its key; a token with the new kid refetches the JWKS (once the
    // cached copy is older than the minimum refetch interval) and verifies.
    env.http.serve_openid_provider(ISSUER, &[("k2", KEY_2)]);
    env.clock.advance(JWKS_REFETCH_MIN_MILLIS + 1);
    verify(&env, &sign("k2", KEY_2, &claims(&env), "RS256"), None).unwrap();
    assert_eq!(env.http.count(JWKS), 2);
    // A kid the provider never had: refused, and the JWKS just fetched is not fetched again.
    refused(
        &env,
        &sign("k9", KEY_2, &claims(&env), "RS256"),
        None,
        "no key of the issuer matches the kid",
    );
    assert_eq!(env.http.count(JWKS), 2);
    // Later, an unknown kid refetches once more, and only once per verification.
    env.clock.advance(JWKS_REFETCH_MIN_MILLIS + 1);
    refused(
        &env,
        &sign("k9", KEY_2, &claims(&env), "RS256"),
        None,
        "no key of the issuer matches the kid",
    );
    assert_eq!(env.http.count(JWKS), 3);
}

#[test]
fn an_unreachable_or_lying_provider_is_an_external_service_error() {
    let env = TestEnv::new();
    // Nothing routed: the port refuses, as a host off the allow-list is refused.
    let token = sign("k1", KEY_1, &claims(&env), "RS256");
    assert_eq!(
        verify(&env, &token, None).unwrap_err().kind,
        ErrorKind::ExternalService
    );
    // A discovery document for another issuer.
    env.http.route(
        &discovery_url(ISSUER),
        200,
        &serde_json::to_vec(&json!({"issuer": "https://evil.example.com", "authorization_endpoint": "x", "jwks_uri": JWKS})).unwrap(),
    );
    let error = verify(&env, &token, None).unwrap_err();
    assert_eq!(error.kind, ErrorKind::ExternalService);
    assert!(
        error.message.contains("names another issuer"),
        "{}",
        error.message
    );
}

/// Federated users: created on first sign-in with the federated trigger sources, attributes
/// mapped on every sign-in, a refusing pre sign-up trigger refuses the sign-in.
mod federated_users {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use serde_json::{Map, Value, json};

    use super::run;
    use crate::api::{Ctx, dispatch};
    use crate::config::Config;
    use crate::error::ErrorKind;
    use crate::federation::{federated, provider};
    use crate::testing::TestEnv;
    use crate::user::UserStatus;

    fn call(env: &TestEnv, op: &str, body: Value) -> Value {
        let config = Config::new("http://cognate.test", "us-east-1");
        let ctx = Ctx {
            config: &config,
            env,
            region: "us-east-1".to_string(),
            origin: Default::default(),
        };
        run(dispatch(&ctx, op, body)).unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    fn claims(email: &str) -> Map<String, Value> {
        json!({"sub": "u-1", "email": email, "iss": "https://idp.example.com"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_first_sign_in_creates_the_user_with_the_federated_trigger_sources() {
        let env = TestEnv::new();
        let answer = |_: &Value| Ok(serde_json::to_vec(&json!({})).unwrap());
        env.triggers.register("pre", answer);
        env.triggers.register("conf", answer);
        env.triggers.register("post", answer);
        let pool_id = call(
            &env,
            "CreateUserPool",
            json!({"PoolName": "fed", "LambdaConfig": {"PreSignUp": "pre", "PostConfirmation": "conf", "PostAuthentication": "post"}}),
        )["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        call(
            &env,
            "CreateIdentityProvider",
            json!({"UserPoolId": pool_id, "ProviderName": "Upstream", "ProviderType": "OIDC",
                   "ProviderDetails": {"client_id": "c", "authorize_scopes": "openid email",
                                       "attributes_request_method": "GET", "oidc_issuer": "https://idp.example.com"},
                   "AttributeMapping": {"email": "email"}}),
        );
        let (pool, _) = run(crate::pool::load_pool(&env, &pool_id)).unwrap();
        let (idp, _) = run(provider::load(&env, &pool_id, "Upstream"))
            .unwrap()
            .unwrap();

        let user = run(federated::sign_in(
            &env,
            &pool,
            &idp,
            &claims("a@example.com"),
            "client",
        ))
        .unwrap();
        assert_eq!(user.username, "Upstream_u-1");
        assert_eq!(user.status, UserStatus::ExternalProvider);
        assert_eq!(user.attributes["email"], "a@example.com");
        let identities: Vec<Value> = serde_json::from_str(&user.attributes["identities"]).unwrap();
        assert_eq!(identities[0]["userId"], "u-1");
        assert_eq!(identities[0]["providerType"], "OIDC");
        let pre = env.triggers.events_of("pre");
        assert_eq!(pre.len(), 1);
        assert_eq!(pre[0]["triggerSource"], "PreSignUp_ExternalProvider");
        assert_eq!(pre[0]["userName"], "Upstream_u-1");
        assert_eq!(
            pre[0]["request"]["userAttributes"]["email"],
            "a@example.com"
        );
        assert_eq!(
            env.triggers.events_of("conf")[0]["triggerSource"],
            "PostConfirmation_ConfirmSignUp"
        );
        assert_eq!(
            env.triggers.events_of("post")[0]["triggerSource"],
            "PostAuthentication_Authentication"
        );

        // The next sign-in maps the attributes again; no new sign-up.
        let again = run(federated::sign_in(
            &env,
            &pool,
            &idp,
            &claims("b@example.com"),
            "client",
        ))
        .unwrap();
        assert_eq!(again.sub, user.sub);
        assert_eq!(again.attributes["email"], "b@example.com");
        assert_eq!(env.triggers.events_of("pre").len(), 1);
        assert_eq!(env.triggers.events_of("post").len(), 2);

        // A pre sign-up trigger that refuses: no user.
        env.triggers.register("pre", |_| {
            Ok(serde_json::to_vec(&json!({"error": "no federated users"})).unwrap())
        });
        let mut other = claims("c@example.com");
        other.insert("sub".into(), json!("u-2"));
        let error = run(federated::sign_in(&env, &pool, &idp, &other, "client")).unwrap_err();
        assert_eq!(error.kind, ErrorKind::UserLambdaValidation, "{error:?}");
        assert!(
            run(crate::user::load(&env, &pool, "Upstream_u-2"))
                .unwrap()
                .is_none()
        );
    }
}

/// The provider operations' validation, as far as the e2e scenarios do not reach it.
mod operations {
    use alloc::string::{String, ToString};

    use serde_json::{Value, json};

    use super::run;
    use crate::api::{Ctx, dispatch};
    use crate::config::Config;
    use crate::error::ErrorKind;
    use crate::testing::TestEnv;

    fn call(env: &TestEnv, op: &str, body: Value) -> Result<Value, crate::Error> {
        let config = Config::new("http://cognate.test", "us-east-1");
        let ctx = Ctx {
            config: &config,
            env,
            region: "us-east-1".to_string(),
            origin: Default::default(),
        };
        run(dispatch(&ctx, op, body))
    }

    fn pool(env: &TestEnv) -> String {
        call(env, "CreateUserPool", json!({"PoolName": "p"})).unwrap()["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn create(
        env: &TestEnv,
        pool: &str,
        name: &str,
        kind: &str,
        details: Value,
    ) -> Result<Value, crate::Error> {
        call(
            env,
            "CreateIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": name, "ProviderType": kind, "ProviderDetails": details}),
        )
    }

    fn refused(result: Result<Value, crate::Error>, kind: ErrorKind, why: &str) {
        let error = result.unwrap_err();
        assert_eq!(error.kind, kind, "{error:?}");
        assert!(error.message.contains(why), "{} lacks {why}", error.message);
    }

    #[test]
    fn provider_details_are_checked_per_type() {
        let env = TestEnv::new();
        let p = pool(&env);
        let google =
            json!({"client_id": "c", "client_secret": "s", "authorize_scopes": "openid email"});
        // Social providers are named after their type.
        refused(
            create(&env, &p, "MyGoogle", "Google", google.clone()),
            ErrorKind::InvalidParameter,
            "must be Google",
        );
        let out = create(&env, &p, "Google", "Google", google).unwrap();
        // Cognito fills in the endpoints it describes, and maps username to the subject.
        let idp = &out["IdentityProvider"];
        assert_eq!(
            idp["ProviderDetails"]["oidc_issuer"],
            "https://accounts.google.com"
        );
        assert_eq!(
            idp["ProviderDetails"]["authorize_url"],
            "https://accounts.google.com/o/oauth2/v2/auth"
        );
        assert_eq!(idp["AttributeMapping"]["username"], "sub");
        refused(
            create(
                &env,
                &p,
                "Facebook",
                "Facebook",
                json!({"client_id": "c", "authorize_scopes": "email"}),
            ),
            ErrorKind::InvalidParameter,
            "client_secret is required",
        );
        let oidc = json!({"client_id": "c", "authorize_scopes": "email", "attributes_request_method": "GET", "oidc_issuer": "https://idp.example.com"});
        refused(
            create(&env, &p, "Corp", "OIDC", oidc),
            ErrorKind::InvalidParameter,
            "must include openid",
        );
        let oidc = json!({"client_id": "c", "authorize_scopes": "openid", "attributes_request_method": "PUT", "oidc_issuer": "https://idp.example.com"});
        refused(
            create(&env, &p, "Corp", "OIDC", oidc),
            ErrorKind::InvalidParameter,
            "must be GET or POST",
        );
        let oidc = json!({"client_id": "c", "authorize_scopes": "openid", "attributes_request_method": "GET", "oidc_issuer": "https://idp.example.com", "colour": "blue"});
        refused(
            create(&env, &p, "Corp", "OIDC", oidc),
            ErrorKind::InvalidParameter,
            "colour is not valid",
        );
        refused(
            create(
                &env,
                &p,
                "Corp",
                "SAML",
                json!({"MetadataURL": "https://idp.example.com/md", "MetadataFile": "<x/>"}),
            ),
            ErrorKind::InvalidParameter,
            "exactly one",
        );
        refused(
            create(&env, &p, "_Corp", "SAML", json!({"MetadataFile": "<x/>"})),
            ErrorKind::InvalidParameter,
            "providerName",
        );
        refused(
            create(&env, &p, "Cognito", "SAML", json!({"MetadataFile": "<x/>"})),
            ErrorKind::InvalidParameter,
            "reserved",
        );
        let corp = json!({"client_id": "c", "authorize_scopes": "openid", "attributes_request_method": "GET", "oidc_issuer": "https://idp.example.com"});
        create(&env, &p, "Corp", "OIDC", corp).unwrap();
        // Update merges ProviderDetails; identifiers are unique in the pool.
        let updated = call(
            &env,
            "UpdateIdentityProvider",
            json!({"UserPoolId": p, "ProviderName": "Google", "ProviderDetails": {"authorize_scopes": "openid"}, "IdpIdentifiers": ["g"]}),
        )
        .unwrap();
        assert_eq!(
            updated["IdentityProvider"]["ProviderDetails"]["client_secret"],
            "s"
        );
        assert_eq!(
            updated["IdentityProvider"]["ProviderDetails"]["authorize_scopes"],
            "openid"
        );
        refused(
            call(
                &env,
                "UpdateIdentityProvider",
                json!({"UserPoolId": p, "ProviderName": "Corp", "IdpIdentifiers": ["G"]}),
            ),
            ErrorKind::DuplicateProvider,
            "already used",
        );
        refused(
            call(
                &env,
                "DeleteIdentityProvider",
                json!({"UserPoolId": p, "ProviderName": "Nope"}),
            ),
            ErrorKind::ResourceNotFound,
            "does not exist",
        );
        refused(
            call(
                &env,
                "UpdateIdentityProvider",
                json!({"UserPoolId": p, "ProviderName": "COGNITO"}),
            ),
            ErrorKind::UnsupportedIdentityProvider,
            "Cognito",
        );
    }

    #[test]
    fn a_runtime_without_a_verifier_refuses_saml_providers() {
        // The edge's case (and a host built without `saml`): the metadata cannot be read, so the
        // provider is refused when it is created, with the runtime's reason.
        let env = TestEnv::new();
        let p = pool(&env);
        let error = create(&env, &p, "Corp", "SAML", json!({"MetadataFile": "<x/>"})).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidParameter);
        assert_eq!(error.message, crate::ports::UNSUPPORTED);
        assert!(
            run(crate::federation::provider::load(&env, &p, "Corp"))
                .unwrap()
                .is_none()
        );
    }
}
