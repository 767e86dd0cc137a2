//! OAuth 2.0 / OpenID Connect against the target, driven by a real relying-party library (the
//! `openidconnect` crate): discovery, authorization code + PKCE through the hosted UI (the test
//! submits the sign-in form over HTTP as a browser would), ID token validation (signature,
//! nonce, `at_hash`), userinfo, refresh, revocation, client credentials with custom scopes; and
//! the negative cases a plain HTTP client sends.

use cognate_tests::cognito::primitives::Blob;
use cognate_tests::cognito::types::{OAuthFlowType, ResourceServerScopeType};
use cognate_tests::form_browser::{Browser, Page, no_redirects, query_param};
use cognate_tests::{
    AppClient, JwtParts, PASSWORD, Target, encode_json_part, ok, unique, unique_email,
};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde_json::{Value, json};

const CALLBACK: &str = "http://localhost:8976/callback";
const SIGN_OUT: &str = "http://localhost:8976/signed-out";

struct Setup {
    pool_id: String,
    web: AppClient,
    machine: AppClient,
    username: String,
    email: String,
}

/// A pool with a resource server, a confidential web client allowed the code flow, a
/// machine-to-machine client, and a confirmed user.
async fn setup(target: &Target) -> Setup {
    let pool_id = target.create_standard_pool("oidc").await;
    let admin = target.admin_client();
    ok(
        admin
            .create_resource_server()
            .user_pool_id(&pool_id)
            .identifier("https://api.example.com")
            .name("API")
            .scopes(
                ResourceServerScopeType::builder()
                    .scope_name("read")
                    .scope_description("Read things")
                    .build()
                    .unwrap(),
            )
            .scopes(
                ResourceServerScopeType::builder()
                    .scope_name("write")
                    .scope_description("Write things")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "CreateResourceServer",
    );
    let web = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .allowed_o_auth_scopes("profile")
                .allowed_o_auth_scopes("https://api.example.com/read")
                .callback_urls(CALLBACK)
                .logout_urls(SIGN_OUT)
                .supported_identity_providers("COGNITO")
        })
        .await;
    let machine = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
                .allowed_o_auth_scopes("https://api.example.com/read")
                .allowed_o_auth_scopes("https://api.example.com/write")
        })
        .await;
    let username = unique("rp");
    let email = unique_email("rp");
    let password_client = target.create_password_client(&pool_id).await;
    target
        .sign_up_confirmed(&password_client, &username, PASSWORD, &email)
        .await;
    Setup {
        pool_id,
        web,
        machine,
        username,
        email,
    }
}

#[tokio::test]
async fn a_relying_party_signs_in_through_the_hosted_ui_with_code_and_pkce() {
    let target = Target::shared();
    let s = setup(target).await;
    let http = no_redirects();

    // Discovery: the library checks the issuer and loads the JWKS.
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(target.issuer(&s.pool_id)).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(s.web.id.clone()),
        Some(ClientSecret::new(s.web.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_owned()).unwrap());

    // The authorization request, with PKCE and a nonce.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("https://api.example.com/read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: authorize → sign-in page → submit the form → back at the callback.
    let mut browser = Browser::new(target);
    let hop = browser.get(auth_url.as_str()).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("<label for=\"f-username\">"),
        "{}",
        login.body
    );
    let landed = browser
        .submit(&login, &[("username", &s.username), ("password", PASSWORD)])
        .await;
    assert_eq!(landed.status, 302, "{}", landed.body);
    let callback = landed.location.unwrap();
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&callback, "code").expect("code");

    // The code exchange (client_secret_basic) and ID token validation.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("ID token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("valid ID token");
    assert_eq!(claims.email().map(|e| e.as_str()), Some(s.email.as_str()));
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual_hash, expected_hash);
    let scopes: Vec<String> = tokens
        .scopes()
        .map(|v| v.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let access = JwtParts::split(tokens.access_token().secret()).payload_json();
    assert_eq!(
        access["scope"], "openid email https://api.example.com/read",
        "{scopes:?}"
    );

    // The same code again: refused, and what it issued is revoked.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await;
    match replay {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &CoreErrorResponseType::InvalidGrant)
        }
        other => panic!("a reused code must be invalid_grant: {other:?}"),
    }
    let revoked: Result<CoreUserInfoClaims, _> = client
        .user_info(tokens.access_token().to_owned(), None)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(revoked.is_err(), "a reused code revokes its access token");

    // A fresh sign-in: the hosted-UI session skips the page this time.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let hop = browser.get(auth_url.as_str()).await;
    let callback = hop.location.unwrap();
    assert!(
        callback.starts_with(CALLBACK),
        "the session skips the sign-in page: {callback}"
    );
    let code = query_param(&callback, "code").expect("code");
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&id_verifier, &nonce)
        .expect("valid ID token")
        .clone();

    // userInfo.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some(s.email.as_str()));
    assert_eq!(info.email_verified(), Some(true));

    // Refresh.
    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    refreshed
        .id_token()
        .expect("refreshed ID token")
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .expect("valid refreshed ID token");

    // Revocation (RFC 7009), then the refresh token is dead. (The library refuses a revocation
    // endpoint over plain HTTP, so this request is sent by hand.)
    let revoked = http
        .post(format!("{}/oauth2/revoke", target.base_url()))
        .basic_auth(&s.web.id, s.web.secret.as_deref())
        .form(&[("token", refresh.secret().as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status().as_u16(), 200);
    let dead = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        matches!(&dead, Err(RequestTokenError::ServerResponse(e)) if e.error() == &CoreErrorResponseType::InvalidGrant),
        "{dead:?}"
    );

    // Logout to a registered URL ends the session: prompt=none now reports login_required.
    let out = browser
        .get(&format!(
            "/logout?client_id={}&logout_uri={}",
            s.web.id,
            openidconnect::url::form_urlencoded::byte_serialize(SIGN_OUT.as_bytes())
                .collect::<String>()
        ))
        .await;
    assert_eq!(out.location.as_deref(), Some(SIGN_OUT));
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .url();
    let hop = browser.get(auth_url.as_str()).await;
    let location = hop.location.unwrap();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required"),
        "{location}"
    );
}

#[tokio::test]
async fn client_credentials_get_resource_server_scopes() {
    let target = Target::shared();
    let s = setup(target).await;
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(target.issuer(&s.pool_id)).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(s.machine.id.clone()),
        Some(ClientSecret::new(s.machine.secret.clone().unwrap())),
    );
    let tokens = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("https://api.example.com/write".into()))
        .request_async(&http)
        .await
        .expect("client credentials");
    let token = tokens.access_token().secret();
    // Verified with the pool's JWKS like any resource server would.
    let claims = target
        .jwks(&s.pool_id)
        .await
        .verify_access_token(token, &s.machine.id)
        .expect("valid access token");
    assert_eq!(claims["scope"], "https://api.example.com/write");
    assert_eq!(claims["client_id"], s.machine.id.as_str());
    assert!(tokens.refresh_token().is_none());

    // A scope the client was not given.
    let refused = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("openid".into()))
        .request_async(&http)
        .await;
    assert!(
        matches!(&refused, Err(RequestTokenError::ServerResponse(e)) if e.error() == &CoreErrorResponseType::InvalidScope),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let target = Target::shared();
    let s = setup(target).await;
    let http = no_redirects();
    let url = format!("{}/oauth2/token", target.base_url());
    // Wrong secret: 401 invalid_client with WWW-Authenticate.
    let r = http
        .post(&url)
        .basic_auth(&s.machine.id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // Unknown grant type.
    let r = http
        .post(&url)
        .basic_auth(&s.machine.id, s.machine.secret.as_deref())
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    // A code flow client may not use client_credentials.
    let r = http
        .post(&url)
        .basic_auth(&s.web.id, s.web.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    // Not a form.
    let r = http
        .post(&url)
        .basic_auth(&s.web.id, s.web.secret.as_deref())
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn authorization_errors_never_redirect_to_unregistered_uris_and_forms_need_csrf() {
    let target = Target::shared();
    let s = setup(target).await;
    let mut browser = Browser::new(target);
    let authorize = |redirect: &str| {
        format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s1",
            s.web.id,
            openidconnect::url::form_urlencoded::byte_serialize(redirect.as_bytes())
                .collect::<String>()
        )
    };
    for evil in [
        "https://evil.example/callback",
        "http://localhost:8976/callback/../../evil",
        "http://localhost:8976/callback.evil.example",
        "http://localhost:8976/callbackx",
    ] {
        let page = browser.get(&authorize(evil)).await;
        assert_eq!(page.status, 400, "{evil}");
        assert!(page.location.is_none(), "redirected to {evil}");
    }
    // PKCE plain is refused, back at the registered URI.
    let page = browser
        .get(&format!(
            "{}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
            authorize(CALLBACK)
        ))
        .await;
    let location = page.location.unwrap();
    assert!(location.starts_with(CALLBACK));
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("s1"));

    // The sign-in form without its CSRF token, or with another browser's cookie: refused.
    let hop = browser.get(&authorize(CALLBACK)).await;
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    let mut stripped = Page {
        status: login.status,
        location: None,
        body: login.body.replace("name=\"_csrf\"", "name=\"_gone\""),
    };
    let refused = browser
        .submit(
            &stripped,
            &[("username", &s.username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 403);
    let mut other = Browser::new(target);
    other.get(hop.location.as_deref().unwrap()).await;
    stripped.body = login.body.clone();
    let refused = other
        .submit(
            &stripped,
            &[("username", &s.username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        refused.status, 403,
        "a CSRF token is bound to its browser's cookie"
    );
    let fine = browser
        .submit(&login, &[("username", &s.username), ("password", PASSWORD)])
        .await;
    assert_eq!(fine.status, 302);
}

#[tokio::test]
async fn forged_tokens_are_refused_by_every_endpoint_that_takes_a_token() {
    let target = Target::shared();
    let s = setup(target).await;
    // A genuine OAuth access token to start from.
    let mut browser = Browser::new(target);
    let hop = browser
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid",
            s.web.id,
            openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
                .collect::<String>()
        ))
        .await;
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    let landed = browser
        .submit(&login, &[("username", &s.username), ("password", PASSWORD)])
        .await;
    let code = query_param(&landed.location.unwrap(), "code").unwrap();
    let http = no_redirects();
    let tokens: Value = http
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&s.web.id, s.web.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = |token: String| {
        let http = http.clone();
        let url = format!("{}/oauth2/userInfo", target.base_url());
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            (
                r.status().as_u16(),
                r.headers()
                    .get("www-authenticate")
                    .map(|h| h.to_str().unwrap().to_owned()),
            )
        }
    };
    assert_eq!(userinfo(access.clone()).await.0, 200);

    let parts = JwtParts::split(&access);
    let kid = parts.header_json()["kid"].as_str().unwrap().to_owned();
    let claims = parts.payload_json();
    // alg=none.
    let mut none = parts.header_json();
    none.insert("alg".into(), json!("none"));
    let mut p = parts.clone();
    p.header = encode_json_part(&none);
    p.signature = String::new();
    // HS256 keyed with the pool's public key (the classic RS/HS confusion).
    let jwks: Value = http
        .get(format!(
            "{}/.well-known/jwks.json",
            target.issuer(&s.pool_id)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public_n = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let hs_token = jsonwebtoken::encode(
        &hs,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public_n.as_bytes()),
    )
    .unwrap();
    // An unknown kid.
    let mut unknown = parts.header_json();
    unknown.insert("kid".into(), json!("no-such-key"));
    let mut u = parts.clone();
    u.header = encode_json_part(&unknown);
    for (token, what) in [
        (p.join(), "alg=none"),
        (hs_token, "HS256 with the public key"),
        (u.join(), "unknown kid"),
    ] {
        let (status, www) = userinfo(token.clone()).await;
        assert_eq!(status, 401, "{what}");
        assert!(www.unwrap().contains("invalid_token"), "{what}");
        // The Cognito API's token-taking operations refuse it too.
        let get_user = target
            .public_client()
            .get_user()
            .access_token(&token)
            .send()
            .await;
        let e = get_user.expect_err(what).into_service_error();
        assert_eq!(
            cognate_tests::cognito::error::ProvideErrorMetadata::code(&e),
            Some("NotAuthorizedException"),
            "GetUser, {what}"
        );
        let sign_out = target
            .public_client()
            .global_sign_out()
            .access_token(&token)
            .send()
            .await;
        let e = sign_out.expect_err(what).into_service_error();
        assert_eq!(
            cognate_tests::cognito::error::ProvideErrorMetadata::code(&e),
            Some("NotAuthorizedException"),
            "GlobalSignOut, {what}"
        );
    }
    // No token: a bare challenge.
    let r = http
        .get(format!("{}/oauth2/userInfo", target.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn domains_resource_servers_and_ui_customization_through_the_sdk() {
    let target = Target::shared();
    let s = setup(target).await;
    let admin = target.admin_client();
    let domain = unique("dom").to_lowercase().replace('_', "-");
    ok(
        admin
            .create_user_pool_domain()
            .user_pool_id(&s.pool_id)
            .domain(&domain)
            .send()
            .await,
        "CreateUserPoolDomain",
    );
    let described = ok(
        admin
            .describe_user_pool_domain()
            .domain(&domain)
            .send()
            .await,
        "DescribeUserPoolDomain",
    );
    assert_eq!(
        described
            .domain_description()
            .and_then(|d| d.user_pool_id()),
        Some(s.pool_id.as_str())
    );
    // DescribeUserPool names the pool's domain, as Cognito's does.
    let pool = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&s.pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    assert_eq!(
        pool.user_pool().and_then(|p| p.domain()),
        Some(domain.as_str())
    );
    assert_eq!(pool.user_pool().and_then(|p| p.custom_domain()), None);
    // The hosted UI under the domain's path prefix.
    let mut browser = Browser::new(target);
    let hop = browser
        .get(&format!(
            "/{domain}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid",
            s.web.id,
            openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
                .collect::<String>()
        ))
        .await;
    assert!(
        hop.location
            .as_deref()
            .unwrap()
            .starts_with(&format!("/{domain}/login?")),
        "{:?}",
        hop.location
    );

    let servers = ok(
        admin
            .list_resource_servers()
            .user_pool_id(&s.pool_id)
            .max_results(10)
            .send()
            .await,
        "ListResourceServers",
    );
    assert_eq!(servers.resource_servers().len(), 1);

    // Branding: CSS and a logo, shown on the sign-in page.
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82".to_vec();
    ok(
        admin
            .set_ui_customization()
            .user_pool_id(&s.pool_id)
            .client_id(&s.web.id)
            .css(".banner{background-color:#0b3d91}")
            .image_file(Blob::new(png))
            .send()
            .await,
        "SetUICustomization",
    );
    let got = ok(
        admin
            .get_ui_customization()
            .user_pool_id(&s.pool_id)
            .client_id(&s.web.id)
            .send()
            .await,
        "GetUICustomization",
    );
    let ui = got.ui_customization().unwrap();
    assert_eq!(ui.css(), Some(".banner{background-color:#0b3d91}"));
    assert!(
        ui.image_url()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    assert!(login.body.contains("#0b3d91"));
    assert!(
        login
            .body
            .contains("<img class=\"logo\" src=\"data:image/png;base64,")
    );
}
