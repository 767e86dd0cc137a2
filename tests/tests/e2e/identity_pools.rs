//! Identity pools (`AWSCognitoIdentityService.*`, issue 19) against the shared target: guests
//! and signed-in users get identities and OpenID tokens; logins are verified (forged, revoked
//! refused); one login is one identity under 50 concurrent GetId; role mappings refuse with
//! Deny before any STS is asked; developer identities end to end. The credentials themselves
//! (an STS behind GetCredentialsForIdentity) are scripts/test-identity.sh's: moto's STS and the
//! ecosystem's clients.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use serde_json::{Map, Value, json};

use cognate_tests::scenarios::confirmed_user;
use cognate_tests::{AppClient, Jwks, JwtParts, PASSWORD, REGION, Target};

fn provider(client: &AppClient) -> String {
    format!("cognito-idp.{REGION}.amazonaws.com/{}", client.pool_id)
}

/// An identity pool trusting `clients`' ID tokens (with ServerSideTokenCheck).
async fn identity_pool(target: &Target, clients: &[&AppClient], extra: Value) -> String {
    let providers: Vec<Value> = clients
        .iter()
        .map(|c| json!({"ProviderName": provider(c), "ClientId": c.id, "ServerSideTokenCheck": true}))
        .collect();
    let mut body = json!({"IdentityPoolName": "e2e", "AllowUnauthenticatedIdentities": true,
        "CognitoIdentityProviders": providers});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let created = target.identity_admin("CreateIdentityPool", &body).await;
    created["IdentityPoolId"]
        .as_str()
        .expect("IdentityPoolId")
        .to_owned()
}

async fn id_token(target: &Target, client: &AppClient, username: &str) -> String {
    target
        .password_sign_in(client, username, PASSWORD)
        .await
        .id_token
        .expect("an ID token")
}

/// Verifies an OpenID token against the identity service's published keys; its claims.
fn verify_open_id(jwks: &Jwks, token: &str, pool: &str) -> Map<String, Value> {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let key = DecodingKey::from_jwk(jwks.keys.find(&kid).expect("the token's key in the JWKS"))
        .expect("an RSA key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&jwks.issuer]);
    validation.set_audience(&[pool]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("the OpenID token does not verify: {e}"))
        .claims
}

fn assert_error(response: &cognate_tests::RawResponse, name: &str) {
    assert_eq!(response.status, 400, "{response}");
    assert_eq!(response.error_type().as_deref(), Some(name), "{response}");
}

#[tokio::test]
async fn a_guest_signs_in_and_a_second_login_links_to_the_same_identity() {
    let target = Target::shared();
    let first = target.standard_setup("ip-guest").await;
    let second = target.standard_setup("ip-second").await;
    let alice = confirmed_user(target, &first, "ip-alice").await;
    let alice_too = confirmed_user(target, &second, "ip-alice2").await;
    let pool = identity_pool(target, &[&first, &second], json!({})).await;
    let jwks = target.identity_jwks().await;
    assert_eq!(
        jwks.issuer,
        format!("{}/cognito-identity", target.base_url())
    );

    let guest = target
        .identity_public("GetId", &json!({"IdentityPoolId": pool}))
        .await["IdentityId"]
        .as_str()
        .expect("IdentityId")
        .to_owned();
    assert!(guest.starts_with(&format!("{REGION}:")), "{guest}");
    let token = target
        .identity_public("GetOpenIdToken", &json!({"IdentityId": guest}))
        .await["Token"]
        .as_str()
        .expect("Token")
        .to_owned();
    let claims = verify_open_id(&jwks, &token, &pool);
    assert_eq!(claims["sub"], json!(guest));
    assert_eq!(claims["amr"], json!(["unauthenticated"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );

    // The guest signs in: the same identity, authenticated.
    let t1 = id_token(target, &first, &alice).await;
    let out = target
        .identity_public(
            "GetOpenIdToken",
            &json!({"IdentityId": guest, "Logins": {provider(&first): t1}}),
        )
        .await;
    assert_eq!(out["IdentityId"], json!(guest));
    let claims = verify_open_id(&jwks, out["Token"].as_str().unwrap(), &pool);
    assert_eq!(claims["amr"][0], json!("authenticated"));
    assert_eq!(claims["amr"][1], json!(provider(&first)));
    let again = target
        .identity_public(
            "GetId",
            &json!({"IdentityPoolId": pool, "Logins": {provider(&first): t1}}),
        )
        .await;
    assert_eq!(again["IdentityId"], json!(guest));
    // An authenticated identity without its login is refused.
    let refused = target
        .identity_call("GetOpenIdToken", &json!({"IdentityId": guest}), false)
        .await;
    assert_error(&refused, "NotAuthorizedException");

    // A second provider's login links to it.
    let t2 = id_token(target, &second, &alice_too).await;
    target
        .identity_public(
            "GetOpenIdToken",
            &json!({"IdentityId": guest, "Logins": {provider(&first): t1, provider(&second): t2}}),
        )
        .await;
    let described = target
        .identity_admin("DescribeIdentity", &json!({"IdentityId": guest}))
        .await;
    assert_eq!(
        described["Logins"],
        json!([provider(&first), provider(&second)])
    );
    let by_second = target
        .identity_public(
            "GetId",
            &json!({"IdentityPoolId": pool, "Logins": {provider(&second): t2}}),
        )
        .await;
    assert_eq!(by_second["IdentityId"], json!(guest));
}

#[tokio::test]
async fn forged_and_revoked_user_pool_tokens_are_refused() {
    let target = Target::shared();
    let client = target.standard_setup("ip-forge").await;
    let user = confirmed_user(target, &client, "ip-bob").await;
    let pool = identity_pool(target, &[&client], json!({})).await;
    let genuine = id_token(target, &client, &user).await;
    let get_id = |token: String| {
        let pool = pool.clone();
        let name = provider(&client);
        async move {
            target
                .identity_call(
                    "GetId",
                    &json!({"IdentityPoolId": pool, "Logins": {name: token}}),
                    false,
                )
                .await
        }
    };
    assert_eq!(get_id(genuine.clone()).await.status, 200);

    // Signed by another key, with the pool key's kid.
    let parts = JwtParts::split(&genuine);
    let kid = parts.header_json()["kid"].as_str().expect("kid").to_owned();
    let mut claims = parts.payload_json();
    claims.insert("sub".into(), json!("00000000-0000-4000-8000-000000000000"));
    let other = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid);
    let der = other.to_pkcs1_der().expect("DER");
    let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(der.as_bytes()))
        .expect("sign");
    let response = get_id(forged).await;
    assert_error(&response, "NotAuthorizedException");
    // A login under a provider the pool does not list.
    let response = target
        .identity_call(
            "GetId",
            &json!({"IdentityPoolId": pool, "Logins": {"accounts.google.com": genuine}}),
            false,
        )
        .await;
    assert_error(&response, "NotAuthorizedException");

    // Revoked by a global sign-out: ServerSideTokenCheck refuses it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    cognate_tests::ok(
        target
            .admin_client()
            .admin_user_global_sign_out()
            .user_pool_id(&client.pool_id)
            .username(&user)
            .send()
            .await,
        "AdminUserGlobalSignOut",
    );
    let response = get_id(genuine).await;
    assert_error(&response, "NotAuthorizedException");
    assert_eq!(
        response.message().as_deref(),
        Some("Invalid login token. Token is revoked.")
    );
}

#[tokio::test]
async fn fifty_concurrent_get_id_for_one_login_make_one_identity() {
    let target = Target::shared();
    let client = target.standard_setup("ip-race").await;
    let user = confirmed_user(target, &client, "ip-racer").await;
    let pool = identity_pool(target, &[&client], json!({})).await;
    let token = id_token(target, &client, &user).await;
    let body = json!({"IdentityPoolId": pool, "Logins": {provider(&client): token}});
    // The shared target lives for the whole process: 50 tasks, all at once.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let body = body.clone();
        calls.spawn(async move { Target::shared().identity_public("GetId", &body).await });
    }
    let mut ids = HashSet::new();
    while let Some(answer) = calls.join_next().await {
        let answer = answer.expect("a GetId task");
        ids.insert(
            answer["IdentityId"]
                .as_str()
                .expect("IdentityId")
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let listed = target
        .identity_admin(
            "ListIdentities",
            &json!({"IdentityPoolId": pool, "MaxResults": 60}),
        )
        .await;
    assert_eq!(listed["Identities"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_deny_mapping_refuses_before_any_sts_is_asked() {
    let target = Target::shared();
    let client = target.standard_setup("ip-deny").await;
    let user = confirmed_user(target, &client, "ip-denied").await;
    let pool = identity_pool(target, &[&client], json!({})).await;
    let rule = |value: &str| {
        json!({"Claim": "email_verified", "MatchType": "Equals", "Value": value,
               "RoleARN": "arn:aws:iam::123456789012:role/verified"})
    };
    target
        .identity_admin(
            "SetIdentityPoolRoles",
            &json!({"IdentityPoolId": pool,
                "Roles": {"authenticated": "arn:aws:iam::123456789012:role/auth"},
                "RoleMappings": {provider(&client): {"Type": "Rules", "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": [rule("nope")]}}}}),
        )
        .await;
    let roles = target
        .identity_admin("GetIdentityPoolRoles", &json!({"IdentityPoolId": pool}))
        .await;
    assert_eq!(
        roles["RoleMappings"][provider(&client)]["AmbiguousRoleResolution"],
        json!("Deny")
    );
    let token = id_token(target, &client, &user).await;
    let id = target
        .identity_public(
            "GetId",
            &json!({"IdentityPoolId": pool, "Logins": {provider(&client): token}}),
        )
        .await["IdentityId"]
        .clone();
    let response = target
        .identity_call(
            "GetCredentialsForIdentity",
            &json!({"IdentityId": id, "Logins": {provider(&client): token}}),
            false,
        )
        .await;
    assert_error(&response, "NotAuthorizedException");
    // 26 rules are one too many.
    let rules: Vec<Value> = (0..26).map(|i| rule(&i.to_string())).collect();
    let response = target
        .identity_call(
            "SetIdentityPoolRoles",
            &json!({"IdentityPoolId": pool, "Roles": {},
                "RoleMappings": {provider(&client): {"Type": "Rules", "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": rules}}}}),
            true,
        )
        .await;
    assert_error(&response, "InvalidParameterException");
}

#[tokio::test]
async fn developer_identities_end_to_end() {
    let target = Target::shared();
    let pool = identity_pool(
        target,
        &[],
        json!({"DeveloperProviderName": "login.e2e.example"}),
    )
    .await;
    let jwks = target.identity_jwks().await;
    let token_for = |user: &str| json!({"IdentityPoolId": pool, "Logins": {"login.e2e.example": user}, "TokenDuration": 300});
    let one = target
        .identity_admin("GetOpenIdTokenForDeveloperIdentity", &token_for("dev-1"))
        .await;
    let id = one["IdentityId"].clone();
    let claims = verify_open_id(&jwks, one["Token"].as_str().unwrap(), &pool);
    assert_eq!(claims["sub"], id);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    // Unsigned, the developer operation is refused; a developer login on GetId too.
    let response = target
        .identity_call(
            "GetOpenIdTokenForDeveloperIdentity",
            &token_for("dev-1"),
            false,
        )
        .await;
    assert_error(&response, "UnrecognizedClientException");
    let response = target
        .identity_call(
            "GetId",
            &json!({"IdentityPoolId": pool, "Logins": {"login.e2e.example": "dev-1"}}),
            false,
        )
        .await;
    assert_error(&response, "NotAuthorizedException");
    // The identity service's token proves the identity on the public operations.
    let out = target
        .identity_public(
            "GetOpenIdToken",
            &json!({"IdentityId": id, "Logins": {"cognito-identity.amazonaws.com": one["Token"]}}),
        )
        .await;
    assert_eq!(out["IdentityId"], id);

    let two = target
        .identity_admin("GetOpenIdTokenForDeveloperIdentity", &token_for("dev-2"))
        .await["IdentityId"]
        .clone();
    let mut link = token_for("dev-2");
    link["IdentityId"] = id.clone();
    let response = target
        .identity_call("GetOpenIdTokenForDeveloperIdentity", &link, true)
        .await;
    assert_error(&response, "DeveloperUserAlreadyRegisteredException");
    let merged = target
        .identity_admin(
            "MergeDeveloperIdentities",
            &json!({"IdentityPoolId": pool, "DeveloperProviderName": "login.e2e.example",
                "SourceUserIdentifier": "dev-2", "DestinationUserIdentifier": "dev-1"}),
        )
        .await;
    assert_eq!(merged["IdentityId"], id);
    let found = target
        .identity_admin(
            "LookupDeveloperIdentity",
            &json!({"IdentityPoolId": pool, "IdentityId": id}),
        )
        .await;
    assert_eq!(
        found["DeveloperUserIdentifierList"],
        json!(["dev-1", "dev-2"])
    );
    let response = target
        .identity_call("DescribeIdentity", &json!({"IdentityId": two}), true)
        .await;
    assert_error(&response, "ResourceNotFoundException");
    target
        .identity_admin(
            "UnlinkDeveloperIdentity",
            &json!({"IdentityPoolId": pool, "IdentityId": id, "DeveloperProviderName": "login.e2e.example",
                "DeveloperUserIdentifier": "dev-2"}),
        )
        .await;
    let fresh = target
        .identity_admin("GetOpenIdTokenForDeveloperIdentity", &token_for("dev-2"))
        .await;
    assert_ne!(fresh["IdentityId"], id);
}
