//! Federation (issue 20): a user pool signs users in through an upstream OpenID provider. The
//! upstream here is a second user pool of the same server (its hosted UI and token endpoint),
//! reached over the server's outbound-HTTP port (the harness allows the server's own address as
//! an upstream host). The app's code is exchanged by a real relying-party library
//! (`openidconnect`), as any non-browser OIDC client would.
//!
//! On a target other than the harness's own host, the server must allow its own address as an
//! upstream host (scripts/test-edge.sh passes `COGNATE_UPSTREAM_HOSTS`).

use cognate_tests::cognito::types::{
    IdentityProviderTypeType, OAuthFlowType, ProviderUserIdentifierType,
};
use cognate_tests::form_browser::{Browser, no_redirects, query_param};
use cognate_tests::{
    AppClient, JwtParts, PASSWORD, Target, ok, service_error, unique, unique_email,
};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

const CALLBACK: &str = "http://localhost:8976/callback";
pub(crate) const PROVIDER: &str = "Upstream";

pub(crate) struct Setup {
    pub(crate) upstream_pool: String,
    pub(crate) upstream_users: AppClient,
    pub(crate) pool_id: String,
    pub(crate) app: AppClient,
}

/// The upstream pool (a confidential client whose callback is the downstream server's
/// `/oauth2/idpresponse`), the downstream pool with the upstream as an OIDC provider, and an
/// app client of the downstream pool that supports it.
async fn setup(target: &Target) -> Setup {
    setup_with(target, CALLBACK).await
}

/// [`setup`] with the app's callback URL.
pub(crate) async fn setup_with(target: &Target, callback: &str) -> Setup {
    let admin = target.admin_client();
    let upstream_pool = target.create_standard_pool("fed-up").await;
    let upstream = target
        .create_client(&upstream_pool, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(format!("{}/oauth2/idpresponse", target.base_url()))
                .supported_identity_providers("COGNITO")
        })
        .await;
    let upstream_users = target.create_password_client(&upstream_pool).await;
    let pool_id = target.create_standard_pool("fed-down").await;
    ok(
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name(PROVIDER)
            .provider_type(IdentityProviderTypeType::Oidc)
            .provider_details("client_id", &upstream.id)
            .provider_details("client_secret", upstream.secret.clone().unwrap())
            .provider_details("authorize_scopes", "openid email")
            .provider_details("attributes_request_method", "GET")
            .provider_details("oidc_issuer", target.issuer(&upstream_pool))
            .attribute_mapping("email", "email")
            .idp_identifiers("upstream.example")
            .send()
            .await,
        "CreateIdentityProvider",
    );
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
    Setup {
        upstream_pool,
        upstream_users,
        pool_id,
        app,
    }
}

/// A confirmed user of the upstream pool: (username, email, sub).
pub(crate) async fn upstream_user(target: &Target, s: &Setup) -> (String, String, String) {
    let username = unique("fed");
    let email = unique_email("fed");
    target
        .sign_up_confirmed(&s.upstream_users, &username, PASSWORD, &email)
        .await;
    let user = ok(
        target
            .admin_client()
            .admin_get_user()
            .user_pool_id(&s.upstream_pool)
            .username(&username)
            .send()
            .await,
        "AdminGetUser",
    );
    let sub = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap()
        .to_owned();
    (username, email, sub)
}

/// Signs in through the upstream (`route`: `identity_provider=...` or `idp_identifier=...`) in
/// a fresh browser and exchanges the app's code with a relying-party library: the ID token's
/// claims.
async fn sign_in_through_upstream(
    target: &Target,
    s: &Setup,
    route: &str,
    username: &str,
) -> serde_json::Map<String, Value> {
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(target.issuer(&s.pool_id)).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(s.app.id.clone()),
        Some(ClientSecret::new(s.app.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = Browser::new(target);
    // The app's authorize request, straight to the upstream's authorization endpoint.
    let to_upstream = browser.get(&format!("{auth_url}&{route}")).await;
    assert_eq!(to_upstream.status, 302, "{}", to_upstream.body);
    let upstream_authorize = to_upstream.location.unwrap();
    assert!(
        upstream_authorize.starts_with(&format!("{}/oauth2/authorize?", target.base_url())),
        "{upstream_authorize}"
    );
    assert!(query_param(&upstream_authorize, "client_id").is_some_and(|c| !c.is_empty()));
    assert_eq!(
        query_param(&upstream_authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&upstream_authorize, "nonce").is_some());
    let upstream_state = query_param(&upstream_authorize, "state").unwrap();
    // The upstream's sign-in page, then back to the downstream's idpresponse.
    let hop = browser.get(&upstream_authorize).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let back = browser
        .submit(&login, &[("username", username), ("password", PASSWORD)])
        .await;
    assert_eq!(back.status, 302, "{}", back.body);
    let idp_response = back.location.unwrap();
    assert!(
        idp_response.starts_with(&format!("{}/oauth2/idpresponse?", target.base_url())),
        "{idp_response}"
    );
    assert_eq!(
        query_param(&idp_response, "state").as_deref(),
        Some(upstream_state.as_str())
    );
    let landed = browser.get(&idp_response).await;
    assert_eq!(landed.status, 302, "{}", landed.body);
    let callback = landed.location.unwrap();
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    // The state is single-use: the same response again is refused, and redirects nowhere.
    let replay = browser.get(&idp_response).await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.location.is_none());
    // The code exchange and ID token validation (signature, nonce) by the library.
    let code = query_param(&callback, "code").unwrap();
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
    JwtParts::split(&id_token.to_string()).payload_json()
}

#[tokio::test]
async fn a_user_signs_in_through_an_upstream_oidc_provider() {
    let target = Target::shared();
    let s = setup(target).await;
    let (username, email, sub) = upstream_user(target, &s).await;

    let claims =
        sign_in_through_upstream(target, &s, "identity_provider=Upstream", &username).await;
    let federated = format!("{PROVIDER}_{sub}");
    assert_eq!(claims["cognito:username"], federated.as_str());
    assert_eq!(claims["email"], email.as_str());
    let identities = claims["identities"].as_array().expect("identities");
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["providerName"], PROVIDER);
    assert_eq!(identities[0]["providerType"], "OIDC");
    assert_eq!(identities[0]["userId"], sub.as_str());
    assert_eq!(identities[0]["primary"], "true");
    assert_eq!(
        identities[0]["issuer"],
        target.issuer(&s.upstream_pool).as_str()
    );

    let admin = target.admin_client();
    let user = ok(
        admin
            .admin_get_user()
            .user_pool_id(&s.pool_id)
            .username(&federated)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(user.user_status().unwrap().as_str(), "EXTERNAL_PROVIDER");

    // A second sign-in (by identifier this time) is the same user.
    let again =
        sign_in_through_upstream(target, &s, "idp_identifier=upstream.example", &username).await;
    assert_eq!(again["cognito:username"], federated.as_str());
    assert_eq!(again["sub"], claims["sub"]);
}

#[tokio::test]
async fn a_linked_native_user_signs_in_through_the_provider_until_disabled() {
    let target = Target::shared();
    let s = setup(target).await;
    let (username, _, sub) = upstream_user(target, &s).await;
    let admin = target.admin_client();
    let native = unique("native");
    let password_client = target.create_password_client(&s.pool_id).await;
    target
        .sign_up_confirmed(&password_client, &native, PASSWORD, &unique_email("native"))
        .await;
    let cognito_user = |value: &str| {
        ProviderUserIdentifierType::builder()
            .provider_name("Cognito")
            .provider_attribute_value(value)
            .build()
    };
    let upstream_user = |value: &str| {
        ProviderUserIdentifierType::builder()
            .provider_name(PROVIDER)
            .provider_attribute_name("Cognito_Subject")
            .provider_attribute_value(value)
            .build()
    };
    ok(
        admin
            .admin_link_provider_for_user()
            .user_pool_id(&s.pool_id)
            .destination_user(cognito_user(&native))
            .source_user(upstream_user(&sub))
            .send()
            .await,
        "AdminLinkProviderForUser",
    );
    let claims =
        sign_in_through_upstream(target, &s, "identity_provider=Upstream", &username).await;
    assert_eq!(claims["cognito:username"], native.as_str());
    let identities = claims["identities"].as_array().expect("identities");
    assert_eq!(identities[0]["userId"], sub.as_str());
    assert_eq!(identities[0]["primary"], "false");

    // Linking to a user that does not exist.
    let error = service_error(
        admin
            .admin_link_provider_for_user()
            .user_pool_id(&s.pool_id)
            .destination_user(cognito_user("nobody-here"))
            .source_user(upstream_user("another-sub"))
            .send()
            .await,
        "AdminLinkProviderForUser",
    );
    assert!(error.is_user_not_found_exception(), "{error:?}");

    // Unlinked: the upstream identity signs in as its own federated user.
    ok(
        admin
            .admin_disable_provider_for_user()
            .user_pool_id(&s.pool_id)
            .user(upstream_user(&sub))
            .send()
            .await,
        "AdminDisableProviderForUser",
    );
    let claims =
        sign_in_through_upstream(target, &s, "identity_provider=Upstream", &username).await;
    assert_eq!(
        claims["cognito:username"],
        format!("{PROVIDER}_{sub}").as_str()
    );
}

#[tokio::test]
async fn identity_providers_are_managed_with_cognitos_operations() {
    let target = Target::shared();
    let s = setup(target).await;
    let admin = target.admin_client();

    let described = ok(
        admin
            .describe_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name(PROVIDER)
            .send()
            .await,
        "DescribeIdentityProvider",
    );
    let idp = described.identity_provider().unwrap();
    assert_eq!(idp.provider_type(), Some(&IdentityProviderTypeType::Oidc));
    let details = idp.provider_details().unwrap();
    assert_eq!(details["attributes_url_add_attributes"], "false");
    assert_eq!(details["oidc_issuer"], target.issuer(&s.upstream_pool));
    let mapping = idp.attribute_mapping().unwrap();
    assert_eq!(mapping["email"], "email");
    assert_eq!(mapping["username"], "sub");
    assert_eq!(idp.idp_identifiers(), ["upstream.example"]);

    let by_identifier = ok(
        admin
            .get_identity_provider_by_identifier()
            .user_pool_id(&s.pool_id)
            .idp_identifier("upstream.example")
            .send()
            .await,
        "GetIdentityProviderByIdentifier",
    );
    assert_eq!(
        by_identifier.identity_provider().unwrap().provider_name(),
        Some(PROVIDER)
    );

    let duplicate = service_error(
        admin
            .create_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name(PROVIDER)
            .provider_type(IdentityProviderTypeType::Oidc)
            .provider_details("client_id", "x")
            .provider_details("authorize_scopes", "openid")
            .provider_details("attributes_request_method", "GET")
            .provider_details("oidc_issuer", "https://idp.example.com")
            .send()
            .await,
        "CreateIdentityProvider",
    );
    assert!(duplicate.is_duplicate_provider_exception(), "{duplicate:?}");

    let missing_key = service_error(
        admin
            .create_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name("Other")
            .provider_type(IdentityProviderTypeType::Oidc)
            .provider_details("client_id", "x")
            .provider_details("authorize_scopes", "openid")
            .provider_details("attributes_request_method", "GET")
            .send()
            .await,
        "CreateIdentityProvider",
    );
    assert!(
        missing_key.is_invalid_parameter_exception(),
        "{missing_key:?}"
    );

    // SAML metadata is checked when the provider is created: this one is not an IdP's. A runtime
    // without an XML-DSig verifier (the edge, a host built without `saml`) refuses SAML
    // providers altogether, with its reason.
    let saml = service_error(
        admin
            .create_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name("CorpSaml")
            .provider_type(IdentityProviderTypeType::Saml)
            .provider_details("MetadataFile", "<EntityDescriptor/>")
            .send()
            .await,
        "CreateIdentityProvider SAML",
    );
    assert!(saml.is_invalid_parameter_exception(), "{saml:?}");
    let message = saml.meta().message().unwrap_or_default();
    assert!(
        message == "SAML identity providers are not supported on this runtime"
            || message.starts_with("Invalid SAML metadata: "),
        "{message}"
    );
    ok(
        admin
            .create_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name("Corp")
            .provider_type(IdentityProviderTypeType::Oidc)
            .provider_details("client_id", "corp")
            .provider_details("authorize_scopes", "openid")
            .provider_details("attributes_request_method", "GET")
            .provider_details("oidc_issuer", "https://corp.example.com")
            .send()
            .await,
        "CreateIdentityProvider OIDC",
    );
    let listed = ok(
        admin
            .list_identity_providers()
            .user_pool_id(&s.pool_id)
            .max_results(10)
            .send()
            .await,
        "ListIdentityProviders",
    );
    let names: Vec<&str> = listed
        .providers()
        .iter()
        .filter_map(|p| p.provider_name())
        .collect();
    assert_eq!(names, ["Corp", PROVIDER]);

    // An app client may name existing providers only.
    let unknown = service_error(
        admin
            .update_user_pool_client()
            .user_pool_id(&s.pool_id)
            .client_id(&s.app.id)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .allowed_o_auth_scopes("openid")
            .callback_urls(CALLBACK)
            .supported_identity_providers("NoSuchProvider")
            .send()
            .await,
        "UpdateUserPoolClient",
    );
    assert!(unknown.is_invalid_parameter_exception(), "{unknown:?}");

    ok(
        admin
            .delete_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name("Corp")
            .send()
            .await,
        "DeleteIdentityProvider",
    );
    let gone = service_error(
        admin
            .describe_identity_provider()
            .user_pool_id(&s.pool_id)
            .provider_name("Corp")
            .send()
            .await,
        "DescribeIdentityProvider",
    );
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
}

/// Node `oidc-provider` as the upstream (started by scripts/test-federation.sh, which sets
/// `COGNATE_TEST_OIDC_PROVIDER` to its issuer and allows its address as an upstream host):
/// the test registers Cognate as a relying party (dynamic client registration), signs in
/// through the provider's development login and consent pages, and checks the user and the
/// email that came from the provider's userInfo (its ID token carries only `sub`).
#[tokio::test]
#[ignore = "needs node oidc-provider: scripts/test-federation.sh"]
async fn a_user_signs_in_through_node_oidc_provider() {
    let issuer = std::env::var("COGNATE_TEST_OIDC_PROVIDER")
        .expect("COGNATE_TEST_OIDC_PROVIDER (scripts/test-federation.sh sets it)");
    let target = Target::shared();
    let admin = target.admin_client();
    let http = no_redirects();
    // Cognate registers with the provider as a relying party.
    let registration: Value = http
        .post(format!("{issuer}/reg"))
        .json(&serde_json::json!({
            "redirect_uris": [format!("{}/oauth2/idpresponse", target.base_url())],
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pool_id = target.create_standard_pool("fed-node").await;
    ok(
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("NodeOidc")
            .provider_type(IdentityProviderTypeType::Oidc)
            .provider_details("client_id", registration["client_id"].as_str().unwrap())
            .provider_details(
                "client_secret",
                registration["client_secret"].as_str().unwrap(),
            )
            .provider_details("authorize_scopes", "openid email")
            .provider_details("attributes_request_method", "GET")
            .provider_details("oidc_issuer", &issuer)
            .attribute_mapping("email", "email")
            .send()
            .await,
        "CreateIdentityProvider",
    );
    let app = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(CALLBACK)
                .supported_identity_providers("NodeOidc")
        })
        .await;
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(target.issuer(&pool_id)).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.id.clone()),
        Some(ClientSecret::new(app.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    // A browser across both servers: follows redirects, fills the provider's forms.
    let login = unique("node");
    let mut cookies = std::collections::BTreeMap::<String, String>::new();
    let mut url = format!("{auth_url}&identity_provider=NodeOidc");
    let mut form: Option<Vec<(String, String)>> = None;
    let mut callback = None;
    for _ in 0..20 {
        let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = match form.take() {
            Some(fields) => http.post(&url).form(&fields),
            None => http.get(&url),
        };
        let response = request
            .header("cookie", jar.join("; "))
            .send()
            .await
            .unwrap();
        for cookie in response.headers().get_all("set-cookie") {
            let text = cookie.to_str().unwrap();
            let (k, v) = text.split(';').next().unwrap().split_once('=').unwrap();
            cookies.insert(k.to_owned(), v.to_owned());
        }
        let status = response.status().as_u16();
        let origin = {
            let parsed = reqwest::Url::parse(&url).unwrap();
            format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap())
                + &parsed.port().map(|p| format!(":{p}")).unwrap_or_default()
        };
        if (300..400).contains(&status) {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            if location.starts_with(CALLBACK) {
                callback = Some(location);
                break;
            }
            url = if location.starts_with('/') {
                format!("{origin}{location}")
            } else {
                location
            };
            continue;
        }
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "{url}: {body}");
        let action = cognate_tests::form_browser::attribute_after(&body, "<form", "action")
            .unwrap_or_else(|| panic!("no form at {url}: {body}"));
        let mut fields = cognate_tests::form_browser::hidden_fields(&body);
        if body.contains("name=\"login\"") {
            fields.push(("login".into(), login.clone()));
            fields.push(("password".into(), "any".into()));
        }
        url = if action.starts_with('/') {
            format!("{origin}{action}")
        } else {
            action
        };
        form = Some(fields);
    }
    let callback = callback.expect("back at the app's callback");
    let code = query_param(&callback, "code").expect("a code");
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
    assert_eq!(
        claims["cognito:username"],
        format!("NodeOidc_{login}").as_str()
    );
    // The email came from the provider's userInfo (not in its ID token).
    assert_eq!(
        claims["email"],
        format!("{login}@oidc-provider.example").as_str()
    );
    assert_eq!(claims["identities"][0]["issuer"], issuer.as_str());
}

/// The hosted sign-in page offers the client's providers; the link goes to the provider.
#[tokio::test]
async fn the_sign_in_page_links_to_the_clients_providers() {
    let target = Target::shared();
    let s = setup(target).await;
    let mut browser = Browser::new(target);
    let authorize = format!(
        "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s1",
        s.app.id,
        openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
            .collect::<String>()
    );
    let hop = browser.get(&authorize).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    assert_eq!(login.status, 200);
    // The href of the link whose text names the provider.
    let before = &login.body[..login
        .body
        .find("Continue with Upstream")
        .expect("a provider link")];
    let href = &before[before.rfind("href=\"").unwrap() + 6..];
    let link = cognate_tests::form_browser::unescape(&href[..href.find('"').unwrap()]);
    assert!(link.contains("identity_provider=Upstream"), "{link}");
    let to_upstream = browser.get(&link).await;
    assert_eq!(to_upstream.status, 302, "{}", to_upstream.body);
    assert!(
        to_upstream
            .location
            .as_deref()
            .unwrap()
            .starts_with(&format!("{}/oauth2/authorize?", target.base_url())),
        "{:?}",
        to_upstream.location
    );
    // A provider the client does not support is refused, back at the app.
    let refused = browser
        .get(&format!("{authorize}&identity_provider=Nope"))
        .await;
    let location = refused.location.expect("a redirect to the app");
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
}

/// `GET /saml2/metadata?user_pool_id=<poolId>`: the SP metadata a SAML IdP is given (entity id
/// `urn:amazon:cognito:sp:<poolId>`, the ACS `<base>/saml2/idpresponse` with the HTTP-POST
/// binding); under a domain prefix, for the pool the domain pins and with the prefixed ACS.
/// Served on every target (it needs no XML-DSig verifier).
#[tokio::test]
async fn the_pool_serves_its_saml_sp_metadata() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("saml-md").await;
    let http = no_redirects();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http
                .get(format!("{}{path}", target.base_url()))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let content_type = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, content_type, r.text().await.unwrap())
        }
    };
    let (status, content_type, xml) = get(format!("/saml2/metadata?user_pool_id={pool_id}")).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/samlmetadata+xml")
    );
    assert!(
        xml.contains(&format!(r#"entityID="urn:amazon:cognito:sp:{pool_id}""#)),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            r#"Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{}/saml2/idpresponse""#,
            target.base_url()
        )),
        "{xml}"
    );
    assert!(xml.contains(r#"WantAssertionsSigned="true""#), "{xml}");

    // Under the pool's domain prefix: the pool it pins, the prefixed ACS.
    let domain = unique("samlmd").to_lowercase().replace('_', "-");
    ok(
        target
            .admin_client()
            .create_user_pool_domain()
            .user_pool_id(&pool_id)
            .domain(&domain)
            .send()
            .await,
        "CreateUserPoolDomain",
    );
    let (status, _, xml) = get(format!("/{domain}/saml2/metadata")).await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains(&format!(
            r#"Location="{}/{domain}/saml2/idpresponse""#,
            target.base_url()
        )),
        "{xml}"
    );
    assert!(xml.contains(&format!("urn:amazon:cognito:sp:{pool_id}")));

    // Refusals: no pool named, an unknown pool, another pool through this pool's domain.
    let (status, _, body) = get("/saml2/metadata".into()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "invalid_request"
    );
    let (status, _, body) = get("/saml2/metadata?user_pool_id=us-east-1_NoSuchPool".into()).await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = get(format!(
        "/{domain}/saml2/metadata?user_pool_id=us-east-1_OtherPool"
    ))
    .await;
    assert_eq!(status, 400, "{body}");
}
