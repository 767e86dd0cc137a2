//! SAML 2.0 sign-in through the hosted UI in headless Chromium (issue 20): pysaml2's IdP
//! (tests/saml/idp.py, started by scripts/test-saml.sh, `SAML_IDP_URL`), a host built with
//! `--features saml` (`COGNATE_BIN`), and tests/browser/saml.cjs driving Chromium:
//! 1. the app's `/oauth2/authorize?...&identity_provider=<SAML provider>` goes to the IdP with an
//!    `AuthnRequest` (HTTP-Redirect); the person signs in on the IdP's page; the IdP's
//!    auto-submitting form posts the signed response to `/saml2/idpresponse` (HTTP-POST);
//!    Cognate answers the app's redirect URI with a code;
//! 2. the same from the hosted sign-in page's "Continue with <provider>" button;
//! 3. the web SDK's `signInWithRedirect({ provider: { custom: <provider> } })` on its example
//!    page (served by web-sdk/tests/helper.mjs, `COGNATE_WEB_TEST_HELPER`) ends signed in;
//! 4. IdP-initiated: from the IdP's unsolicited response (its auto-submitting form, `RelayState`
//!    naming the app's request) straight to the app (the provider has `IDPInit`).
//!
//! The codes of 1 and 2 are exchanged by a relying-party library (`openidconnect`), as an app's
//! back end would, and the ID tokens verified. Screenshots `saml-*.png` go to
//! `target/browser/hosted-ui/`.

use std::process::{Command, Stdio};

use cognate_tests::cognito::types::{IdentityProviderTypeType, OAuthFlowType};
use cognate_tests::form_browser::{no_redirects, query_param};
use cognate_tests::{JwtParts, Target, ok, unique};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

use crate::hosted_ui_browser::{FakeApp, browser_env, repo_root, screenshot_dir};
use crate::saml::{idp_url, metadata_fetches, register_sp};

const PROVIDER: &str = "CorpSaml";
/// tests/saml/idp.py's password for every user.
const IDP_PASSWORD: &str = "Idp-Password-1";
/// The IdP's attribute names (pysaml2 sends URI names: `email` is PKCS #9's emailAddress).
const EMAIL_ATTRIBUTE: &str = "urn:oid:1.2.840.113549.1.9.1.1";

/// A pool with the IdP as the SAML provider `PROVIDER` (by `MetadataURL`), the IdP told about
/// the pool (its SP metadata, as an operator uploads it), and the app clients: a confidential
/// one for `callback`, and (with `sdk_page`) a public one for the web SDK's example page.
async fn setup(target: &Target, callback: &str, sdk_page: Option<&str>) -> (String, Vec<Clients>) {
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("saml-ui").await;
    register_sp(target, &pool_id).await;
    ok(
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name(PROVIDER)
            .provider_type(IdentityProviderTypeType::Saml)
            // Tagged: the IdP counts the fetches of this URL.
            .provider_details(
                "MetadataURL",
                format!("{}/metadata?tag={pool_id}", idp_url()),
            )
            .provider_details("IDPInit", "true")
            .attribute_mapping("email", EMAIL_ATTRIBUTE)
            .attribute_mapping("given_name", "given_name")
            .send()
            .await,
        "CreateIdentityProvider SAML",
    );
    let mut clients = Vec::new();
    let app = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(callback)
                .supported_identity_providers("COGNITO")
                .supported_identity_providers(PROVIDER)
        })
        .await;
    clients.push(Clients::App(app));
    if let Some(page) = sdk_page {
        let sdk = target
            .create_client(&pool_id, |b| {
                b.allowed_o_auth_flows_user_pool_client(true)
                    .allowed_o_auth_flows(OAuthFlowType::Code)
                    .allowed_o_auth_scopes("openid")
                    .allowed_o_auth_scopes("email")
                    .allowed_o_auth_scopes("profile")
                    .allowed_o_auth_scopes("aws.cognito.signin.user.admin")
                    .callback_urls(page)
                    .supported_identity_providers(PROVIDER)
            })
            .await;
        clients.push(Clients::Sdk(sdk.id));
    }
    // IdP-initiated sign-in: a client with SAML providers only (Cognito's rule).
    let saml_only = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(callback)
                .supported_identity_providers(PROVIDER)
        })
        .await;
    clients.push(Clients::App(saml_only));
    (pool_id, clients)
}

enum Clients {
    App(cognate_tests::AppClient),
    Sdk(String),
}

#[tokio::test]
#[ignore = "needs pysaml2's IdP and a host built with --features saml: scripts/test-saml.sh"]
async fn a_person_signs_in_through_a_saml_idp_in_chromium() {
    let target = Target::shared();
    let app = FakeApp::start();
    let callback = format!("{}/app/callback", app.base_url);
    let helper = std::env::var("COGNATE_WEB_TEST_HELPER")
        .expect("COGNATE_WEB_TEST_HELPER: scripts/test-saml.sh serves the web SDK's example page");
    let sdk_page = format!("{helper}/examples/index.html");
    let (pool_id, clients) = setup(target, &callback, Some(&sdk_page)).await;
    let Some(Clients::App(web)) = clients.first() else {
        panic!("no app client");
    };
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(target.issuer(&pool_id)).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(web.id.clone()),
        Some(ClientSecret::new(web.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(callback.clone()).unwrap());
    // The app's authorization requests, made by the relying-party library: (URL, state,
    // nonce, PKCE verifier).
    let authorize_url = || {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        (url.to_string(), state, nonce, verifier)
    };
    let direct = authorize_url();
    let button = authorize_url();
    let user = unique("saml").replace(['-', '_'], "");
    let sdk_user = unique("samlsdk").replace(['-', '_'], "");

    let shots = screenshot_dir();
    let mut script = Command::new("node");
    script
        .arg(repo_root().join("tests/browser/saml.cjs"))
        .envs(browser_env())
        .env("PROVIDER", PROVIDER)
        .env(
            "DIRECT_URL",
            format!("{}&identity_provider={PROVIDER}", direct.0),
        )
        .env("BUTTON_URL", &button.0)
        .env("CALLBACK", &callback)
        .env("IDP_ORIGIN", idp_url())
        .env("IDP_USER", &user)
        .env("IDP_PASSWORD", IDP_PASSWORD)
        .env("WEB_SDK_USER", &sdk_user)
        .env("SCREENSHOTS", &shots)
        .stderr(Stdio::inherit());
    let Some(Clients::Sdk(sdk_client)) = clients.get(1) else {
        panic!("no web SDK client");
    };
    script.env(
        "WEB_SDK_PAGE",
        format!(
            "{sdk_page}#endpoint={}&pool={pool_id}&client={sdk_client}",
            target.base_url()
        ),
    );
    let Some(Clients::App(saml_only)) = clients.get(2) else {
        panic!("no SAML-only client");
    };
    let relay = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=openid+email&identity_provider={PROVIDER}",
        saml_only.id,
        openidconnect::url::form_urlencoded::byte_serialize(callback.as_bytes())
            .collect::<String>()
    );
    let idp_user = unique("samlidp").replace(['-', '_'], "");
    script.env(
        "IDP_INITIATED_URL",
        reqwest::Url::parse_with_params(
            &format!("{}/idp-initiated", idp_url()),
            &[
                ("sp", format!("urn:amazon:cognito:sp:{pool_id}")),
                ("user", idp_user.clone()),
                ("RelayState", relay),
            ],
        )
        .unwrap()
        .to_string(),
    );
    let output = script.output().expect("node (run scripts/setup.sh)");
    let said = String::from_utf8(output.stdout).unwrap();
    let result: Value = serde_json::from_str(said.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("browser script said: {said:?}"));
    assert!(output.status.success(), "browser script failed: {result}");

    let federated = format!("{PROVIDER}_{user}@example.com");
    for (walk, (_, state, nonce, verifier)) in [("direct", direct), ("button", button)] {
        let r = &result[walk];
        // Cognate sent the browser to the IdP's sign-on endpoint with an AuthnRequest and a
        // RelayState (HTTP-Redirect binding).
        let at_idp = r["atIdp"].as_str().unwrap();
        assert!(
            at_idp.starts_with(&format!("{}/sso/redirect?", idp_url())),
            "{at_idp}"
        );
        assert!(query_param(at_idp, "SAMLRequest").is_some(), "{at_idp}");
        assert!(query_param(at_idp, "RelayState").is_some(), "{at_idp}");
        // The IdP's page posted SAMLResponse and RelayState to Cognate's ACS, once.
        let posts = r["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 1, "{r}");
        assert_eq!(
            posts[0]["url"],
            format!("{}/saml2/idpresponse", target.base_url()).as_str()
        );
        assert_eq!(
            posts[0]["fields"],
            serde_json::json!(["SAMLResponse", "RelayState"])
        );
        let titles: Vec<&str> = r["titles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let expected: &[&str] = if walk == "button" {
            &["Sign in", "Test IdP sign-in", "App"]
        } else {
            &["Test IdP sign-in", "App"]
        };
        assert_eq!(titles.len(), expected.len(), "{titles:?}");
        for (title, want) in titles.iter().zip(expected) {
            assert!(title.starts_with(want), "{walk}: {titles:?}");
        }
        let landed = r["url"].as_str().unwrap();
        assert!(landed.starts_with(&callback), "{landed}");
        assert_eq!(
            query_param(landed, "state").as_deref(),
            Some(state.secret().as_str())
        );
        // The app's back end redeems the code with the relying-party library, which verifies
        // the ID token (signature by the pool's JWKS, issuer, audience, nonce).
        let code = query_param(landed, "code").expect("an authorization code");
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("token exchange");
        let id_token = tokens.id_token().expect("ID token");
        id_token
            .claims(&client.id_token_verifier(), &nonce)
            .expect("a valid ID token");
        let claims = JwtParts::split(&id_token.to_string()).payload_json();
        assert_eq!(claims["cognito:username"], federated.as_str(), "{walk}");
        assert_eq!(claims["email"], format!("{user}@example.com").as_str());
        let identities = claims["identities"].as_array().expect("identities");
        assert_eq!(identities.len(), 1, "{identities:?}");
        assert_eq!(identities[0]["providerName"], PROVIDER);
        assert_eq!(identities[0]["providerType"], "SAML");
        assert_eq!(
            identities[0]["userId"],
            format!("{user}@example.com").as_str()
        );
    }
    for name in [
        "saml-direct-idp-sign-in",
        "saml-direct-signed-in",
        "saml-button-hosted-sign-in",
        "saml-button-idp-sign-in",
        "saml-button-signed-in",
    ] {
        let shot = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_else(|_| panic!("no {}", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            shot.display()
        );
    }
    // IdP-initiated: Chromium went from the IdP to the app with a code for that user.
    let landed = result["idpInitiated"]["url"].as_str().unwrap();
    assert!(landed.starts_with(&callback), "{landed}");
    assert_eq!(result["idpInitiated"]["title"], "App");
    let code = query_param(landed, "code").expect("an authorization code");
    let tokens: Value = http
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&saml_only.id, saml_only.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = target
        .jwks(&pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &saml_only.id)
        .expect("a valid ID token");
    assert_eq!(
        claims["cognito:username"],
        format!("{PROVIDER}_{idp_user}@example.com").as_str()
    );
    assert!(
        std::fs::read(shots.join("saml-idp-initiated-signed-in.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );

    // The IdP's metadata was fetched once, when the provider was created: the sign-ins (each
    // an AuthnRequest and a response to verify) used the cached copy.
    assert_eq!(metadata_fetches(&pool_id).await, 1);
    let user_record = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&federated)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(
        user_record.user_status().unwrap().as_str(),
        "EXTERNAL_PROVIDER"
    );

    // The web SDK's signInWithRedirect({ provider: { custom } }) ended signed in on its page.
    {
        let sdk = &result["sdk"];
        assert_eq!(sdk["signedIn"], true, "{sdk}");
        assert_eq!(
            sdk["who"],
            format!("{PROVIDER}_{sdk_user}@example.com").as_str(),
            "{sdk}"
        );
        assert_eq!(sdk["how"], "hosted UI", "{sdk}");
        assert!(
            sdk["attributes"]
                .as_str()
                .unwrap()
                .contains(&format!("{sdk_user}@example.com")),
            "{sdk}"
        );
        assert_eq!(
            sdk["search"], "",
            "code and state removed from the address bar"
        );
        assert_eq!(sdk["problems"], serde_json::json!([]), "{sdk}");
        let at_idp = sdk["atIdp"].as_str().unwrap();
        assert!(
            at_idp.starts_with(&format!("{}/sso/redirect?", idp_url())),
            "{at_idp}"
        );
        assert_eq!(sdk["posts"].as_array().unwrap().len(), 1, "{sdk}");
        let shot = shots.join("saml-web-sdk-signed-in.png");
        assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"));
    }
}
