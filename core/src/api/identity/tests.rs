//! In-process scenarios for identity pools: memory store, manual clock, real user-pool tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use futures_util::FutureExt;
use serde_json::{Value, json};

use super::super::Ctx;
use crate::config::Config;
use crate::error::ErrorKind;
use crate::http::Request;
use crate::ports::Env as _;
use crate::service::Service;
use crate::testing::TestEnv;

const BASE: &str = "http://cognate.test";

struct World {
    env: TestEnv,
    config: Config,
}

impl World {
    fn new() -> Self {
        Self {
            env: TestEnv::new(),
            config: Config::new(BASE, "us-east-1"),
        }
    }
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            config: &self.config,
            env: &self.env,
            region: "us-east-1".to_string(),
            origin: Default::default(),
        }
    }
    /// A user-pools operation (authorised).
    fn idp(&self, op: &str, body: Value) -> Value {
        crate::api::dispatch(&self.ctx(), op, body)
            .now_or_never()
            .unwrap()
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    }
    /// An identity-pools operation, model-checked and authorised.
    fn call(&self, op: &str, body: Value) -> Result<Value, crate::Error> {
        crate::api::model::check_identity(op, &body)?;
        super::dispatch(&self.ctx(), op, body)
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
    /// A user pool with a client and a confirmed user; answers (pool, client).
    fn user_pool(&self, users: &[&str]) -> (String, String) {
        let pool = self.idp(
            "CreateUserPool",
            json!({"PoolName": "users",
            "Schema": [{"Name": "tier", "AttributeDataType": "String", "Mutable": true}]}),
        )["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        let client = self.idp(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "app",
                   "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
        for user in users {
            self.idp(
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS",
                       "UserAttributes": [{"Name": "custom:tier", "Value": "gold"}]}),
            );
            self.idp(
                "AdminSetUserPassword",
                json!({"UserPoolId": pool, "Username": user, "Password": "Passw0rd!", "Permanent": true}),
            );
        }
        (pool, client)
    }
    fn id_token(&self, client: &str, user: &str) -> String {
        self.idp(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": user, "PASSWORD": "Passw0rd!"}}),
        )["AuthenticationResult"]["IdToken"]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn identity_pool(&self, extra: Value) -> String {
        let mut body = json!({"IdentityPoolName": "ids", "AllowUnauthenticatedIdentities": true});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        self.ok("CreateIdentityPool", body)["IdentityPoolId"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn provider(pool: &str) -> String {
    format!("cognito-idp.us-east-1.amazonaws.com/{pool}")
}

fn claims(token: &str) -> serde_json::Map<String, Value> {
    crate::token::decode_unverified(token).unwrap().claims
}

#[test]
fn identity_pool_crud_tags_and_validation() {
    let w = World::new();
    let created = w.ok(
        "CreateIdentityPool",
        json!({"IdentityPoolName": "my pool", "AllowUnauthenticatedIdentities": false,
               "DeveloperProviderName": "login.example",
               "IdentityPoolTags": {"team": "a"}}),
    );
    let id = created["IdentityPoolId"].as_str().unwrap().to_string();
    assert!(crate::identity::is_identity_id(&id) && id.starts_with("us-east-1:"));
    assert_eq!(
        created,
        json!({"IdentityPoolId": id, "IdentityPoolName": "my pool",
               "AllowUnauthenticatedIdentities": false,
               "DeveloperProviderName": "login.example", "IdentityPoolTags": {"team": "a"}})
    );
    assert_eq!(
        w.ok("DescribeIdentityPool", json!({"IdentityPoolId": id})),
        created
    );
    let updated = w.ok(
        "UpdateIdentityPool",
        json!({"IdentityPoolId": id, "IdentityPoolName": "renamed",
               "AllowUnauthenticatedIdentities": true, "AllowClassicFlow": true,
               "DeveloperProviderName": "login.example"}),
    );
    assert_eq!(updated["IdentityPoolName"], json!("renamed"));
    assert_eq!(updated["AllowClassicFlow"], json!(true));
    assert_eq!(updated["IdentityPoolTags"], json!({"team": "a"}));
    // The developer provider name cannot change once set.
    let e = w.err(
        "UpdateIdentityPool",
        json!({"IdentityPoolId": id, "IdentityPoolName": "renamed",
               "AllowUnauthenticatedIdentities": true, "DeveloperProviderName": "other"}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);

    let arn = format!("arn:aws:cognito-identity:us-east-1:000000000000:identitypool/{id}");
    w.ok(
        "TagResource",
        json!({"ResourceArn": arn, "Tags": {"env": "test"}}),
    );
    w.ok(
        "UntagResource",
        json!({"ResourceArn": arn, "TagKeys": ["team"]}),
    );
    assert_eq!(
        w.ok("ListTagsForResource", json!({"ResourceArn": arn})),
        json!({"Tags": {"env": "test"}})
    );
    assert_eq!(
        w.err(
            "ListTagsForResource",
            json!({"ResourceArn": "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/us-east-1:00000000-0000-4000-8000-000000000000"})
        )
        .kind,
        ErrorKind::ResourceNotFound
    );

    let second = w.identity_pool(json!({}));
    let page = w.ok("ListIdentityPools", json!({"MaxResults": 1}));
    assert_eq!(page["IdentityPools"].as_array().unwrap().len(), 1);
    let next = w.ok(
        "ListIdentityPools",
        json!({"MaxResults": 60, "NextToken": page["NextToken"]}),
    );
    let mut ids: Vec<&str> = page["IdentityPools"]
        .as_array()
        .unwrap()
        .iter()
        .chain(next["IdentityPools"].as_array().unwrap())
        .map(|p| p["IdentityPoolId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = alloc::vec![id.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(next.get("NextToken").is_none());

    // The model's checks, then Cognito's own.
    let e = w.err("CreateIdentityPool", json!({"IdentityPoolName": "x"}));
    assert_eq!(
        e.message,
        "1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        w.err("ListIdentityPools", json!({"MaxResults": 61})).kind,
        ErrorKind::InvalidParameter
    );
    assert_eq!(
        w.err(
            "CreateIdentityPool",
            json!({"IdentityPoolName": "bad/name", "AllowUnauthenticatedIdentities": true})
        )
        .kind,
        ErrorKind::InvalidParameter
    );
    assert_eq!(
        w.err(
            "CreateIdentityPool",
            json!({"IdentityPoolName": "x", "AllowUnauthenticatedIdentities": true,
                   "SupportedLoginProviders": {"evil.example.com": "app"}})
        )
        .kind,
        ErrorKind::InvalidParameter
    );

    w.ok("DeleteIdentityPool", json!({"IdentityPoolId": id}));
    let e = w.err("DescribeIdentityPool", json!({"IdentityPoolId": id}));
    assert_eq!(e.kind, ErrorKind::ResourceNotFound);
    assert_eq!(e.message, format!("IdentityPool '{id}' not found."));
}

#[test]
fn the_wire_signs_admin_calls_and_leaves_public_ones_open() {
    let w = World::new();
    let service = Service::new(w.config.clone());
    let request = |op: &str, body: &str| {
        Request::new("POST", "/")
            .with_header("x-amz-target", &format!("AWSCognitoIdentityService.{op}"))
            .with_header("content-type", "application/x-amz-json-1.1")
            .with_body(body.as_bytes().to_vec())
    };
    let response = service
        .handle(
            request(
                "CreateIdentityPool",
                r#"{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true}"#,
            ),
            &w.env,
        )
        .now_or_never()
        .unwrap();
    assert_eq!(response.status, 400);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["__type"], json!("UnrecognizedClientException"));
    assert!(
        response
            .header("x-amzn-errortype")
            .is_some_and(|t| t.starts_with("UnrecognizedClientException"))
    );

    let pool = w.identity_pool(json!({}));
    let response = service
        .handle(
            request("GetId", &format!(r#"{{"IdentityPoolId":"{pool}"}}"#)),
            &w.env,
        )
        .now_or_never()
        .unwrap();
    assert_eq!(response.status, 200);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert!(crate::identity::is_identity_id(
        body["IdentityId"].as_str().unwrap()
    ));

    let response = service
        .handle(request("NoSuchThing", "{}"), &w.env)
        .now_or_never()
        .unwrap();
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["__type"], json!("UnknownOperationException"));
}

#[test]
fn guest_becomes_authenticated_and_a_second_login_links() {
    let w = World::new();
    let (up1, client1) = w.user_pool(&["alice"]);
    let (up2, client2) = w.user_pool(&["alice2"]);
    let pool = w.identity_pool(json!({"CognitoIdentityProviders": [
        {"ProviderName": provider(&up1), "ClientId": client1},
        {"ProviderName": format!("{BASE}/{up2}"), "ClientId": client2}]}));

    // A guest.
    let guest = w.ok("GetId", json!({"IdentityPoolId": pool}))["IdentityId"]
        .as_str()
        .unwrap()
        .to_string();
    let token = w.ok("GetOpenIdToken", json!({"IdentityId": guest}))["Token"]
        .as_str()
        .unwrap()
        .to_string();
    let c = claims(&token);
    assert_eq!(c["amr"], json!(["unauthenticated"]));
    assert_eq!(c["sub"], json!(guest));
    assert_eq!(c["aud"], json!(pool));
    assert_eq!(c["iss"], json!(format!("{BASE}/cognito-identity")));
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 600);
    let described = w.ok("DescribeIdentity", json!({"IdentityId": guest}));
    assert!(described.get("Logins").is_none());

    // The guest presents a login: the same identity, now authenticated.
    let t1 = w.id_token(&client1, "alice");
    let out = w.ok(
        "GetOpenIdToken",
        json!({"IdentityId": guest, "Logins": {provider(&up1): t1}}),
    );
    assert_eq!(out["IdentityId"], json!(guest));
    let c = claims(out["Token"].as_str().unwrap());
    let sub = claims(&t1)["sub"].as_str().unwrap().to_string();
    assert_eq!(
        c["amr"],
        json!([
            "authenticated",
            provider(&up1),
            format!("{}:CognitoSignIn:{sub}", provider(&up1))
        ])
    );
    // GetId with that login answers the same identity, every time.
    for _ in 0..3 {
        assert_eq!(
            w.ok(
                "GetId",
                json!({"IdentityPoolId": pool, "Logins": {provider(&up1): t1}})
            )["IdentityId"],
            json!(guest)
        );
    }
    // Without its login, the authenticated identity is refused.
    let e = w.err("GetOpenIdToken", json!({"IdentityId": guest}));
    assert_eq!(e.kind, ErrorKind::NotAuthorized);

    // A second provider's login (named by the pool's issuer URL) links to the same identity.
    let t2 = w.id_token(&client2, "alice2");
    let up2_name = format!("{BASE}/{up2}");
    w.ok(
        "GetOpenIdToken",
        json!({"IdentityId": guest, "Logins": {provider(&up1): t1, up2_name.clone(): t2}}),
    );
    assert_eq!(
        w.ok(
            "GetId",
            json!({"IdentityPoolId": pool, "Logins": {up2_name.clone(): t2}})
        )["IdentityId"],
        json!(guest)
    );
    let described = w.ok("DescribeIdentity", json!({"IdentityId": guest}));
    assert_eq!(described["Logins"], json!([provider(&up1), up2_name]));
    let listed = w.ok(
        "ListIdentities",
        json!({"IdentityPoolId": pool, "MaxResults": 10}),
    );
    assert_eq!(listed["Identities"].as_array().unwrap().len(), 1);

    // A new user of pool 2 on the guest-turned-alice identity's login set conflicts.
    // Unlink the second login: it becomes a new identity next time it is seen.
    w.ok(
        "UnlinkIdentity",
        json!({"IdentityId": guest, "Logins": {provider(&up1): t1}, "LoginsToRemove": [up2_name.clone()]}),
    );
    let fresh = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {up2_name.clone(): t2}}),
    )["IdentityId"]
        .clone();
    assert_ne!(fresh, json!(guest));
    // Two logins of two identities in one call conflict.
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {provider(&up1): t1, up2_name: t2}}),
    );
    assert_eq!(e.kind, ErrorKind::ResourceConflict);

    w.ok("DeleteIdentities", json!({"IdentityIdsToDelete": [guest]}));
    assert_eq!(
        w.err("DescribeIdentity", json!({"IdentityId": guest})).kind,
        ErrorKind::ResourceNotFound
    );
    // The login is free again: a new identity.
    let again = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {provider(&up1): t1}}),
    )["IdentityId"]
        .clone();
    assert_ne!(again, json!(guest));
}

#[test]
fn logins_are_verified_never_trusted() {
    let w = World::new();
    let (up, client) = w.user_pool(&["bob"]);
    let (other_up, other_client) = w.user_pool(&["eve"]);
    let pool = w.identity_pool(json!({"AllowUnauthenticatedIdentities": false,
        "CognitoIdentityProviders": [{"ProviderName": provider(&up), "ClientId": client, "ServerSideTokenCheck": true}]}));
    let get_id = |logins: Value| w.call("GetId", json!({"IdentityPoolId": pool, "Logins": logins}));

    // No guests in this pool.
    let e = w.err("GetId", json!({"IdentityPoolId": pool}));
    assert_eq!(
        e.message,
        "Unauthenticated access is not supported for this identity pool."
    );
    let good = w.id_token(&client, "bob");
    assert!(get_id(json!({provider(&up): good})).is_ok());

    // A forged token: claims changed, signature kept.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut c = claims(&good);
    c.insert("sub".into(), json!("someone-else"));
    parts[1] = crate::codec::b64url(&serde_json::to_vec(&c).unwrap());
    let forged = parts.join(".");
    let e = get_id(json!({provider(&up): forged})).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    assert_eq!(
        e.message,
        "Invalid login token. Not a valid OpenId Connect identity token."
    );
    // Not a token at all.
    assert_eq!(
        get_id(json!({provider(&up): "bob"})).unwrap_err().kind,
        ErrorKind::NotAuthorized
    );
    // Another pool's token under this provider's name.
    let eve = w.id_token(&other_client, "eve");
    let e = get_id(json!({provider(&up): eve})).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid login token. Issuer doesn't match providerName"
    );
    // A provider the identity pool does not list.
    let e = get_id(json!({provider(&other_up): eve})).unwrap_err();
    assert_eq!(
        e.message,
        "Token is not from a supported provider of this identity pool."
    );
    let e = get_id(json!({"accounts.google.com": "x"})).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    // An access token is not an ID token.
    let access = w.idp(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "bob", "PASSWORD": "Passw0rd!"}}),
    )["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get_id(json!({provider(&up): access})).unwrap_err().kind,
        ErrorKind::NotAuthorized
    );

    // Revoked (global sign-out) with ServerSideTokenCheck.
    let before = w.id_token(&client, "bob");
    w.env.clock.advance(2_000);
    w.idp(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": up, "Username": "bob"}),
    );
    let e = get_id(json!({provider(&up): before})).unwrap_err();
    assert_eq!(e.message, "Invalid login token. Token is revoked.");
    w.env.clock.advance(2_000);
    let after = w.id_token(&client, "bob");
    assert!(get_id(json!({provider(&up): after})).is_ok());
    // Expired.
    w.env.clock.advance(3_600_000);
    let e = get_id(json!({provider(&up): after})).unwrap_err();
    assert_eq!(e.message, "Invalid login token. Token expired.");
}

#[test]
fn open_id_tokens_verify_against_the_published_keys() {
    let w = World::new();
    let service = Service::new(w.config.clone());
    let pool = w.identity_pool(json!({}));
    let id = w.ok("GetId", json!({"IdentityPoolId": pool}))["IdentityId"].clone();
    let token = w.ok("GetOpenIdToken", json!({"IdentityId": id}))["Token"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |path: &str| {
        let r = service
            .handle(Request::new("GET", path), &w.env)
            .now_or_never()
            .unwrap();
        assert_eq!(r.status, 200, "{path}");
        serde_json::from_slice::<Value>(&r.body).unwrap()
    };
    let discovery = get("/cognito-identity/.well-known/openid-configuration");
    assert_eq!(
        discovery["issuer"],
        json!(format!("{BASE}/cognito-identity"))
    );
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    let jwks = get(jwks_uri.strip_prefix(BASE).unwrap());
    let jwt = crate::token::decode_unverified(&token).unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == json!(jwt.kid))
        .unwrap();
    assert_eq!(key["alg"], json!("RS256"));
    let n = crate::codec::b64url_decode(key["n"].as_str().unwrap()).unwrap();
    let e = crate::codec::b64url_decode(key["e"].as_str().unwrap()).unwrap();
    assert!(
        jwt.verify_with(&w.env, crate::ports::JwsAlgorithm::RS256, &jwt.kid, &n, &e)
            .now_or_never()
            .unwrap()
            .unwrap()
    );
}

#[test]
fn roles_and_role_mappings() {
    let w = World::new();
    let (up, client) = w.user_pool(&["carol"]);
    let p = provider(&up);
    let pool = w.identity_pool(
        json!({"CognitoIdentityProviders": [{"ProviderName": p, "ClientId": client}]}),
    );
    let roles = json!({"authenticated": "arn:aws:iam::000000000000:role/auth",
                       "unauthenticated": "arn:aws:iam::000000000000:role/guest"});
    let rules = |resolution: &str| {
        json!({"IdentityPoolId": pool, "Roles": roles, "RoleMappings": {p.clone(): {
            "Type": "Rules", "AmbiguousRoleResolution": resolution,
            "RulesConfiguration": {"Rules": [
                {"Claim": "custom:tier", "MatchType": "Equals", "Value": "silver", "RoleARN": "arn:aws:iam::000000000000:role/silver"},
                {"Claim": "custom:tier", "MatchType": "StartsWith", "Value": "go", "RoleARN": "arn:aws:iam::000000000000:role/gold"},
                {"Claim": "custom:tier", "MatchType": "Contains", "Value": "ol", "RoleARN": "arn:aws:iam::000000000000:role/never"}]}}}})
    };
    w.ok("SetIdentityPoolRoles", rules("AuthenticatedRole"));
    let got = w.ok("GetIdentityPoolRoles", json!({"IdentityPoolId": pool}));
    assert_eq!(got["Roles"], roles);
    assert_eq!(
        got["RoleMappings"][&p]["RulesConfiguration"]["Rules"][1]["RoleARN"],
        json!("arn:aws:iam::000000000000:role/gold")
    );

    let (record, _) = crate::identity::pools::load(&w.env, &pool)
        .now_or_never()
        .unwrap()
        .unwrap();
    let token = w.id_token(&client, "carol");
    let c = claims(&token);
    use crate::identity::roles::{RoleChoice, choose};
    // First match wins.
    assert_eq!(
        choose(record.role_config(), Some((&p, &c)), None).unwrap(),
        RoleChoice::Role("arn:aws:iam::000000000000:role/gold".into())
    );
    assert_eq!(
        choose(record.role_config(), None, None).unwrap(),
        RoleChoice::Role("arn:aws:iam::000000000000:role/guest".into())
    );
    // No rule matches: the resolution decides.
    let mut plain = c.clone();
    plain.insert("custom:tier".into(), json!("bronze"));
    assert_eq!(
        choose(record.role_config(), Some((&p, &plain)), None).unwrap(),
        RoleChoice::Role("arn:aws:iam::000000000000:role/auth".into())
    );
    w.ok("SetIdentityPoolRoles", rules("Deny"));
    let (record, _) = crate::identity::pools::load(&w.env, &pool)
        .now_or_never()
        .unwrap()
        .unwrap();
    assert_eq!(
        choose(record.role_config(), Some((&p, &plain)), None).unwrap(),
        RoleChoice::Denied
    );

    // Token-based: cognito:preferred_role, else the only cognito:roles, else ambiguous.
    w.ok(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": pool, "Roles": roles, "RoleMappings": {p.clone(): {
            "Type": "Token", "AmbiguousRoleResolution": "Deny"}}}),
    );
    let (record, _) = crate::identity::pools::load(&w.env, &pool)
        .now_or_never()
        .unwrap()
        .unwrap();
    let mut groups = c.clone();
    groups.insert(
        "cognito:roles".into(),
        json!(["arn:aws:iam::0:role/a", "arn:aws:iam::0:role/b"]),
    );
    assert_eq!(
        choose(record.role_config(), Some((&p, &groups)), None).unwrap(),
        RoleChoice::Denied
    );
    assert_eq!(
        choose(
            record.role_config(),
            Some((&p, &groups)),
            Some("arn:aws:iam::0:role/b")
        )
        .unwrap(),
        RoleChoice::Role("arn:aws:iam::0:role/b".into())
    );
    groups.insert(
        "cognito:preferred_role".into(),
        json!("arn:aws:iam::0:role/a"),
    );
    assert_eq!(
        choose(record.role_config(), Some((&p, &groups)), None).unwrap(),
        RoleChoice::Role("arn:aws:iam::0:role/a".into())
    );

    // Bad configurations.
    let e = w.err(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": pool, "Roles": {"admin": "arn:aws:iam::0:role/x"}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    let e = w.err(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": pool, "Roles": roles, "RoleMappings": {"accounts.google.com": {
            "Type": "Token", "AmbiguousRoleResolution": "Deny"}}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    let too_many: Vec<Value> = (0..26)
        .map(|i| json!({"Claim": "c", "MatchType": "Equals", "Value": format!("{i}"), "RoleARN": "arn:aws:iam::0:role/x"}))
        .collect();
    let e = w.err(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": pool, "Roles": roles, "RoleMappings": {p.clone(): {
            "Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": too_many}}}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
}

#[test]
fn principal_tags_reach_the_open_id_token() {
    let w = World::new();
    let (up, client) = w.user_pool(&["dan"]);
    let p = provider(&up);
    let pool = w.identity_pool(
        json!({"CognitoIdentityProviders": [{"ProviderName": p, "ClientId": client}]}),
    );
    let empty = w.ok(
        "GetPrincipalTagAttributeMap",
        json!({"IdentityPoolId": pool, "IdentityProviderName": p}),
    );
    assert_eq!(empty["UseDefaults"], json!(false));
    let set = w.ok(
        "SetPrincipalTagAttributeMap",
        json!({"IdentityPoolId": pool, "IdentityProviderName": p, "UseDefaults": true,
               "PrincipalTags": {"tier": "custom:tier"}}),
    );
    assert_eq!(
        set,
        json!({"IdentityPoolId": pool, "IdentityProviderName": p, "UseDefaults": true,
               "PrincipalTags": {"tier": "custom:tier"}})
    );
    assert_eq!(
        w.ok(
            "GetPrincipalTagAttributeMap",
            json!({"IdentityPoolId": pool, "IdentityProviderName": p})
        ),
        set
    );
    let t = w.id_token(&client, "dan");
    let id = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {p.clone(): t}}),
    )["IdentityId"]
        .clone();
    let token = w.ok(
        "GetOpenIdToken",
        json!({"IdentityId": id, "Logins": {p.clone(): t}}),
    )["Token"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = claims(&t)["sub"].clone();
    assert_eq!(
        claims(&token)["https://aws.amazon.com/tags"],
        json!({"principal_tags": {"client": [client], "tier": ["gold"], "username": [sub]}})
    );
    assert_eq!(
        w.err(
            "SetPrincipalTagAttributeMap",
            json!({"IdentityPoolId": pool, "IdentityProviderName": "nobody.example"})
        )
        .kind,
        ErrorKind::InvalidParameter
    );
}

#[test]
fn developer_identities() {
    let w = World::new();
    let pool = w.identity_pool(json!({"DeveloperProviderName": "login.example"}));
    let token_for = |user: &str, identity: Option<&Value>| {
        let mut body =
            json!({"IdentityPoolId": pool, "Logins": {"login.example": user}, "TokenDuration": 60});
        if let Some(id) = identity {
            body["IdentityId"] = id.clone();
        }
        w.call("GetOpenIdTokenForDeveloperIdentity", body)
    };
    let a = token_for("user-a", None).unwrap();
    let id_a = a["IdentityId"].clone();
    let c = claims(a["Token"].as_str().unwrap());
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 60);
    assert_eq!(
        c["amr"],
        json!([
            "authenticated",
            "login.example",
            format!("login.example:{pool}:user-a")
        ])
    );
    assert_eq!(token_for("user-a", None).unwrap()["IdentityId"], id_a);
    // The token proves the identity on the public operations.
    let token = a["Token"].as_str().unwrap();
    let out = w.ok(
        "GetOpenIdToken",
        json!({"IdentityId": id_a, "Logins": {"cognito-identity.amazonaws.com": token}}),
    );
    assert_eq!(out["IdentityId"], id_a);
    // ...but not another identity, and a developer login is not accepted unsigned.
    let b = token_for("user-b", None).unwrap();
    let id_b = b["IdentityId"].clone();
    let e = w.err(
        "GetOpenIdToken",
        json!({"IdentityId": id_b, "Logins": {"cognito-identity.amazonaws.com": token}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {"login.example": "user-a"}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    // Linking a user registered elsewhere.
    let e = token_for("user-b", Some(&id_a)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DeveloperUserAlreadyRegistered);

    let found = w.ok(
        "LookupDeveloperIdentity",
        json!({"IdentityPoolId": pool, "DeveloperUserIdentifier": "user-a"}),
    );
    assert_eq!(
        found,
        json!({"IdentityId": id_a, "DeveloperUserIdentifierList": ["user-a"]})
    );
    assert_eq!(
        w.err(
            "LookupDeveloperIdentity",
            json!({"IdentityPoolId": pool, "DeveloperUserIdentifier": "nobody"})
        )
        .kind,
        ErrorKind::ResourceNotFound
    );
    assert_eq!(
        w.err("LookupDeveloperIdentity", json!({"IdentityPoolId": pool}))
            .kind,
        ErrorKind::InvalidParameter
    );

    // Merge b into a: a keeps both users, b's identity is gone.
    let merged = w.ok(
        "MergeDeveloperIdentities",
        json!({"IdentityPoolId": pool, "DeveloperProviderName": "login.example",
               "SourceUserIdentifier": "user-b", "DestinationUserIdentifier": "user-a"}),
    );
    assert_eq!(merged["IdentityId"], id_a);
    let found = w.ok(
        "LookupDeveloperIdentity",
        json!({"IdentityPoolId": pool, "IdentityId": id_a}),
    );
    assert_eq!(
        found["DeveloperUserIdentifierList"],
        json!(["user-a", "user-b"])
    );
    assert_eq!(
        w.err("DescribeIdentity", json!({"IdentityId": id_b})).kind,
        ErrorKind::ResourceNotFound
    );

    w.ok(
        "UnlinkDeveloperIdentity",
        json!({"IdentityPoolId": pool, "IdentityId": id_a, "DeveloperProviderName": "login.example",
               "DeveloperUserIdentifier": "user-b"}),
    );
    // user-b is free again: a new identity.
    assert_ne!(token_for("user-b", None).unwrap()["IdentityId"], id_a);
}

/// A scripted STS: records each form it gets and answers from `answer`.
struct ScriptedSts {
    forms: std::sync::Mutex<Vec<String>>,
    answer: std::sync::Mutex<(u16, String)>,
}

impl crate::ports::Sts for ScriptedSts {
    fn post<'a>(
        &'a self,
        form: &'a str,
    ) -> crate::ports::BoxFuture<'a, Result<crate::ports::StsAnswer, crate::Error>> {
        self.forms.lock().unwrap().push(form.to_string());
        let (status, body) = self.answer.lock().unwrap().clone();
        crate::ports::boxed(async move {
            Ok(crate::ports::StsAnswer {
                status,
                body: body.into_bytes(),
            })
        })
    }
}

/// The test ports with a scripted STS.
struct StsEnv<'a> {
    inner: &'a TestEnv,
    sts: ScriptedSts,
}

impl crate::ports::Env for StsEnv<'_> {
    fn store(&self) -> &dyn crate::store::Store {
        self.inner.store()
    }
    fn clock(&self) -> &dyn crate::ports::Clock {
        self.inner.clock()
    }
    fn random(&self) -> &dyn crate::ports::Random {
        self.inner.random()
    }
    fn sender(&self) -> &dyn crate::ports::Sender {
        self.inner.sender()
    }
    fn jws(&self) -> &dyn crate::ports::Jws {
        self.inner.jws()
    }
    fn passwords(&self) -> &dyn crate::ports::PasswordHasher {
        self.inner.passwords()
    }
    fn sts(&self) -> &dyn crate::ports::Sts {
        &self.sts
    }
}

#[test]
fn credentials_come_from_the_sts_for_the_chosen_role() {
    let w = World::new();
    let (up, client) = w.user_pool(&["erin"]);
    let p = provider(&up);
    let pool = w.identity_pool(
        json!({"CognitoIdentityProviders": [{"ProviderName": p, "ClientId": client}]}),
    );
    // No roles yet.
    let guest = w.ok("GetId", json!({"IdentityPoolId": pool}))["IdentityId"].clone();
    assert_eq!(
        w.err("GetCredentialsForIdentity", json!({"IdentityId": guest}))
            .kind,
        ErrorKind::InvalidIdentityPoolConfiguration
    );
    w.ok(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": pool, "Roles": {"unauthenticated": "arn:aws:iam::000000000000:role/guest",
               "authenticated": "arn:aws:iam::000000000000:role/auth"},
               "RoleMappings": {p.clone(): {"Type": "Rules", "AmbiguousRoleResolution": "Deny",
                 "RulesConfiguration": {"Rules": [{"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold",
                   "RoleARN": "arn:aws:iam::000000000000:role/gold"}]}}}}),
    );
    // Without an STS: ExternalServiceException.
    assert_eq!(
        w.err("GetCredentialsForIdentity", json!({"IdentityId": guest}))
            .kind,
        ErrorKind::ExternalService
    );
    let env = StsEnv {
        inner: &w.env,
        sts: ScriptedSts {
            forms: Default::default(),
            answer: std::sync::Mutex::new((200, "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s3cret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2026-01-01T01:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>".to_string())),
        },
    };
    let ctx = Ctx {
        config: &w.config,
        env: &env,
        region: "us-east-1".to_string(),
        origin: Default::default(),
    };
    let call = |op: &str, body: Value| super::dispatch(&ctx, op, body).now_or_never().unwrap();
    let out = call("GetCredentialsForIdentity", json!({"IdentityId": guest})).unwrap();
    assert_eq!(
        out,
        json!({"IdentityId": guest, "Credentials": {"AccessKeyId": "ASIA1", "SecretKey": "s3cret",
               "SessionToken": "tok", "Expiration": 1_767_229_200}})
    );
    let form = env.sts.forms.lock().unwrap().last().unwrap().clone();
    assert!(form.starts_with("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fguest&RoleSessionName=CognitoIdentityCredentials&WebIdentityToken="), "{form}");
    let token = crate::codec::form_decode(
        form.split("WebIdentityToken=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap(),
    );
    let c = claims(&token);
    assert_eq!(c["sub"], guest);
    assert_eq!(c["aud"], json!(pool));

    // A signed-in user whose claims match the rule gets its role.
    let id_token = {
        let ctx_idp = Ctx {
            config: &w.config,
            env: &env,
            region: "us-east-1".into(),
            origin: Default::default(),
        };
        crate::api::dispatch(
            &ctx_idp,
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "erin", "PASSWORD": "Passw0rd!"}}),
        )
        .now_or_never()
        .unwrap()
        .unwrap()["AuthenticationResult"]["IdToken"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let id = call(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {p.clone(): id_token}}),
    )
    .unwrap()["IdentityId"]
        .clone();
    call(
        "GetCredentialsForIdentity",
        json!({"IdentityId": id, "Logins": {p.clone(): id_token}}),
    )
    .unwrap();
    let form = env.sts.forms.lock().unwrap().last().unwrap().clone();
    assert!(
        form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fgold"),
        "{form}"
    );
    // The STS refuses the role: the pool's configuration.
    *env.sts.answer.lock().unwrap() = (403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>".into());
    let e = call(
        "GetCredentialsForIdentity",
        json!({"IdentityId": id, "Logins": {p.clone(): id_token}}),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidIdentityPoolConfiguration);
    // No rule matches and the mapping says Deny.
    call("SetIdentityPoolRoles", json!({"IdentityPoolId": pool, "Roles": {"authenticated": "arn:aws:iam::000000000000:role/auth"},
        "RoleMappings": {p.clone(): {"Type": "Rules", "AmbiguousRoleResolution": "Deny",
          "RulesConfiguration": {"Rules": [{"Claim": "custom:tier", "MatchType": "Equals", "Value": "silver",
            "RoleARN": "arn:aws:iam::000000000000:role/silver"}]}}}})).unwrap();
    let sent = env.sts.forms.lock().unwrap().len();
    let e = call(
        "GetCredentialsForIdentity",
        json!({"IdentityId": id, "Logins": {p.clone(): id_token}}),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
    assert_eq!(
        e.message,
        "The ambiguous role mapping rules denied this request."
    );
    assert_eq!(
        env.sts.forms.lock().unwrap().len(),
        sent,
        "a denied call reaches no STS"
    );
}

#[test]
fn hide_disabled_leaves_out_identities_no_login_reaches() {
    let w = World::new();
    let (up, client) = w.user_pool(&["alice"]);
    let pool = w.identity_pool(
        json!({"CognitoIdentityProviders": [{"ProviderName": provider(&up), "ClientId": client}]}),
    );
    let token = w.id_token(&client, "alice");
    let alice = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {provider(&up): token.clone()}}),
    )["IdentityId"]
        .clone();
    let guest = w.ok("GetId", json!({"IdentityPoolId": pool}))["IdentityId"].clone();
    // Unlinking alice's only login disables her identity.
    w.ok(
        "UnlinkIdentity",
        json!({"IdentityId": alice, "Logins": {provider(&up): token}, "LoginsToRemove": [provider(&up)]}),
    );
    let ids = |body: Value| -> Vec<Value> {
        w.ok("ListIdentities", body)["Identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["IdentityId"].clone())
            .collect()
    };
    let all = ids(json!({"IdentityPoolId": pool, "MaxResults": 10}));
    assert_eq!(all.len(), 2);
    assert!(all.contains(&alice) && all.contains(&guest));
    assert_eq!(
        ids(json!({"IdentityPoolId": pool, "MaxResults": 10, "HideDisabled": true})),
        [guest]
    );
    assert_eq!(
        ids(json!({"IdentityPoolId": pool, "MaxResults": 10, "HideDisabled": false})).len(),
        2
    );
}

#[test]
fn lookup_developer_identity_pages_the_identifier_list() {
    let w = World::new();
    let pool = w.identity_pool(json!({"DeveloperProviderName": "login.example"}));
    let mut identity = None;
    for user in ["u3", "u1", "u5", "u2", "u4"] {
        let mut body = json!({"IdentityPoolId": pool, "Logins": {"login.example": user}});
        if let Some(id) = &identity {
            body["IdentityId"] = Value::clone(id);
        }
        identity = Some(w.ok("GetOpenIdTokenForDeveloperIdentity", body)["IdentityId"].clone());
    }
    let identity = identity.unwrap();
    let mut seen = Vec::new();
    let mut next: Option<Value> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"IdentityPoolId": pool, "IdentityId": identity, "MaxResults": 2});
        if let Some(token) = &next {
            body["NextToken"] = token.clone();
        }
        let page = w.ok("LookupDeveloperIdentity", body);
        assert_eq!(page["IdentityId"], identity);
        let list = page["DeveloperUserIdentifierList"].as_array().unwrap();
        assert!(list.len() <= 2);
        seen.extend(list.iter().map(|v| v.as_str().unwrap().to_string()));
        pages += 1;
        match page.get("NextToken") {
            Some(token) => next = Some(token.clone()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["u1", "u2", "u3", "u4", "u5"]);
    // Without MaxResults, the whole list and no token.
    let whole = w.ok(
        "LookupDeveloperIdentity",
        json!({"IdentityPoolId": pool, "IdentityId": identity}),
    );
    assert_eq!(
        whole["DeveloperUserIdentifierList"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert!(whole.get("NextToken").is_none());
    // A token of another identity, or garbage, is refused.
    let e = w.err(
        "LookupDeveloperIdentity",
        json!({"IdentityPoolId": pool, "IdentityId": identity, "NextToken": "bm90LWEtdG9rZW4"}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
}

#[test]
fn the_basic_flow_follows_allow_classic_flow_and_role_mappings() {
    let w = World::new();
    // Left unset, as the AWS CLI and SDKs create pools: the basic flow works, and the pool
    // describes no AllowClassicFlow.
    let open = w.identity_pool(json!({}));
    assert!(
        w.ok("DescribeIdentityPool", json!({"IdentityPoolId": open}))
            .get("AllowClassicFlow")
            .is_none()
    );
    let guest = w.ok("GetId", json!({"IdentityPoolId": open}))["IdentityId"].clone();
    w.ok("GetOpenIdToken", json!({"IdentityId": guest}));

    let closed = w.identity_pool(json!({"AllowClassicFlow": false}));
    assert_eq!(
        w.ok("DescribeIdentityPool", json!({"IdentityPoolId": closed}))["AllowClassicFlow"],
        json!(false)
    );
    let guest = w.ok("GetId", json!({"IdentityPoolId": closed}))["IdentityId"].clone();
    let e = w.err("GetOpenIdToken", json!({"IdentityId": guest}));
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    assert!(e.message.contains("not enabled"), "{}", e.message);

    // Role mappings rule out the basic flow whatever AllowClassicFlow says.
    let (up, client) = w.user_pool(&["alice"]);
    let mapped = w.identity_pool(json!({"AllowClassicFlow": true,
        "CognitoIdentityProviders": [{"ProviderName": provider(&up), "ClientId": client}]}));
    w.ok(
        "SetIdentityPoolRoles",
        json!({"IdentityPoolId": mapped,
               "Roles": {"authenticated": "arn:aws:iam::123456789012:role/auth"},
               "RoleMappings": {provider(&up): {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}}}),
    );
    let token = w.id_token(&client, "alice");
    let id = w.ok(
        "GetId",
        json!({"IdentityPoolId": mapped, "Logins": {provider(&up): token.clone()}}),
    )["IdentityId"]
        .clone();
    let e = w.err(
        "GetOpenIdToken",
        json!({"IdentityId": id, "Logins": {provider(&up): token}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    assert!(e.message.contains("RoleMappings"), "{}", e.message);
}

const OIDC_ISSUER: &str = "https://login.example.com/tenant";
const OIDC_KEY: &[u8] = b"oidc-key-oidc-key-oidc-key-oidc!";
const OTHER_KEY: &[u8] = b"other-key-other-key-other-key-ok";

/// A token of the upstream provider at [`OIDC_ISSUER`] (or another issuer), for `aud` and `sub`.
fn upstream_token(w: &World, iss: &str, aud: &str, sub: &str, key: &[u8]) -> String {
    let now = w.env.clock().now_millis() / 1000;
    crate::testing::sign_openid_token(
        "k1",
        key,
        &json!({"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + 600, "email": "o@example.com"}),
    )
}

#[test]
fn open_id_connect_and_google_logins_are_verified_against_the_providers_keys() {
    let mut w = World::new();
    w.config.oidc_providers = alloc::vec![crate::config::OidcProvider {
        url: OIDC_ISSUER.to_string(),
        client_ids: alloc::vec!["app-1".to_string()],
    }];
    w.env
        .http
        .serve_openid_provider(OIDC_ISSUER, &[("k1", OIDC_KEY)]);
    w.env
        .http
        .serve_openid_provider("https://accounts.google.com", &[("k1", OIDC_KEY)]);
    let name = "login.example.com/tenant";
    let pool = w.identity_pool(json!({
        "OpenIdConnectProviderARNs": [format!("arn:aws:iam::123456789012:oidc-provider/{name}")],
        "SupportedLoginProviders": {"accounts.google.com": "google-app.apps.googleusercontent.com"},
    }));
    let token = upstream_token(&w, OIDC_ISSUER, "app-1", "oidc-user", OIDC_KEY);
    let id = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {name: token.clone()}}),
    )["IdentityId"]
        .clone();
    // The same login is the same identity; the OpenID token names the provider.
    assert_eq!(
        w.ok(
            "GetId",
            json!({"IdentityPoolId": pool, "Logins": {name: token.clone()}})
        )["IdentityId"],
        id
    );
    let open_id = w.ok(
        "GetOpenIdToken",
        json!({"IdentityId": id, "Logins": {name: token}}),
    )["Token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        claims(&open_id)["amr"],
        json!(["authenticated", name, format!("{name}:app-1:oidc-user")])
    );

    // Refused: another audience, another key, another issuer, an expired token.
    for (what, bad) in [
        (
            "audience",
            upstream_token(&w, OIDC_ISSUER, "app-2", "oidc-user", OIDC_KEY),
        ),
        (
            "key",
            upstream_token(&w, OIDC_ISSUER, "app-1", "oidc-user", OTHER_KEY),
        ),
        (
            "issuer",
            upstream_token(
                &w,
                "https://evil.example.com",
                "app-1",
                "oidc-user",
                OIDC_KEY,
            ),
        ),
    ] {
        let e = w.err(
            "GetId",
            json!({"IdentityPoolId": pool, "Logins": {name: bad}}),
        );
        assert_eq!(e.kind, ErrorKind::NotAuthorized, "{what}: {e:?}");
    }
    let stale = upstream_token(&w, OIDC_ISSUER, "app-1", "oidc-user", OIDC_KEY);
    w.env.clock.advance(3_600_000);
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {name: stale}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);

    // Google: the pool's app id is the audience.
    let google = upstream_token(
        &w,
        "https://accounts.google.com",
        "google-app.apps.googleusercontent.com",
        "g-1",
        OIDC_KEY,
    );
    let g = w.ok(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {"accounts.google.com": google}}),
    )["IdentityId"]
        .clone();
    assert_ne!(g, id);
    let wrong_app = upstream_token(&w, "https://accounts.google.com", "app-1", "g-1", OIDC_KEY);
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": pool, "Logins": {"accounts.google.com": wrong_app}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);

    // A provider the pool names but the server has not registered: a configuration error.
    let unregistered = w.identity_pool(json!({
        "OpenIdConnectProviderARNs": ["arn:aws:iam::123456789012:oidc-provider/other.example.com"],
    }));
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": unregistered, "Logins": {"other.example.com": "x.y.z"}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidIdentityPoolConfiguration);
    // Facebook's access tokens are never trusted.
    let fb = w.identity_pool(json!({"SupportedLoginProviders": {"graph.facebook.com": "12345"}}));
    let e = w.err(
        "GetId",
        json!({"IdentityPoolId": fb, "Logins": {"graph.facebook.com": "EAAB-access-token"}}),
    );
    assert_eq!(e.kind, ErrorKind::NotAuthorized);
}
