//! SAML 2.0 identity providers against pysaml2's IdP (tests/saml/idp.py, started by
//! scripts/test-saml.sh, `SAML_IDP_URL`) and a host built with `--features saml`: the checks
//! of `MetadataFile`/`MetadataURL` at CreateIdentityProvider and UpdateIdentityProvider. The
//! browser walks are in [`crate::saml_browser`]. (On a runtime without an XML-DSig verifier,
//! SAML providers are refused: `federation::identity_providers_are_managed_with_cognitos_operations`.)

use cognate_tests::cognito::types::IdentityProviderTypeType;
use cognate_tests::form_browser::{no_redirects, query_param};
use cognate_tests::{Target, ok, service_error};
use serde_json::Value;

pub(crate) fn idp_url() -> String {
    std::env::var("SAML_IDP_URL")
        .expect("SAML_IDP_URL: run scripts/test-saml.sh, which starts the IdP")
}

/// Tells the IdP about the pool (its SP metadata from Cognate's `/saml2/metadata`, as an
/// operator uploads it).
pub(crate) async fn register_sp(target: &Target, pool_id: &str) {
    let http = no_redirects();
    let sp = http
        .get(format!(
            "{}/saml2/metadata?user_pool_id={pool_id}",
            target.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(sp.status().as_u16(), 200);
    let sp = sp.text().await.unwrap();
    let registered = http
        .post(format!("{}/sp", idp_url()))
        .body(sp)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status().as_u16(), 204);
}

/// The IdP's metadata XML.
pub(crate) async fn idp_metadata() -> String {
    let r = no_redirects()
        .get(format!("{}/metadata", idp_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

/// How often the IdP served `/metadata?tag=<tag>`.
pub(crate) async fn metadata_fetches(tag: &str) -> u64 {
    let r: Value = no_redirects()
        .get(format!("{}/fetches?tag={tag}", idp_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["fetches"].as_u64().unwrap()
}

/// The IdP's metadata without its `KeyDescriptor`s (no signing certificate).
fn without_certificates(metadata: &str) -> String {
    let mut out = metadata.to_owned();
    while let Some(start) = out.find("<ns0:KeyDescriptor") {
        let end = out[start..].find("</ns0:KeyDescriptor>").unwrap() + start;
        out.replace_range(start..end + "</ns0:KeyDescriptor>".len(), "");
    }
    assert!(!out.contains("X509Certificate"), "{out}");
    out
}

#[tokio::test]
#[ignore = "needs pysaml2's IdP and a host built with --features saml: scripts/test-saml.sh"]
async fn saml_metadata_is_checked_when_a_provider_is_created_or_updated() {
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("saml-md-check").await;
    let genuine = idp_metadata().await;
    let create = |name: &str, key: &str, value: String| {
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name(name)
            .provider_type(IdentityProviderTypeType::Saml)
            .provider_details(key, value)
            .send()
    };
    let refused = |e: &cognate_tests::cognito::operation::create_identity_provider::CreateIdentityProviderError,
                   says: &str| {
        assert!(e.is_invalid_parameter_exception(), "{e:?}");
        let message = e.meta().message().unwrap_or_default();
        assert!(message.contains(says), "{message:?} should say {says:?}");
    };

    // Malformed metadata, metadata that is no IdP's, an IdP without a signing certificate.
    for (xml, says) in [
        ("this is not XML".to_owned(), "Invalid SAML metadata"),
        ("<EntityDescriptor/>".to_owned(), "Invalid SAML metadata"),
        (
            without_certificates(&genuine),
            "Invalid SAML metadata: the IdP descriptor has no signing certificate",
        ),
    ] {
        let e = service_error(
            create("CorpBad", "MetadataFile", xml).await,
            "CreateIdentityProvider",
        );
        refused(&e, says);
    }
    // A MetadataURL that does not answer metadata, or is not on the allowed upstream hosts.
    let e = service_error(
        create(
            "CorpBad",
            "MetadataURL",
            format!("{}/no-such-page", idp_url()),
        )
        .await,
        "CreateIdentityProvider",
    );
    refused(&e, "Could not retrieve the SAML metadata from MetadataURL");
    let e = service_error(
        create(
            "CorpBad",
            "MetadataURL",
            "https://idp.example.com/metadata".into(),
        )
        .await,
        "CreateIdentityProvider",
    );
    refused(&e, "Could not retrieve the SAML metadata from MetadataURL");
    // None of them was stored.
    let listed = ok(
        admin
            .list_identity_providers()
            .user_pool_id(&pool_id)
            .max_results(10)
            .send()
            .await,
        "ListIdentityProviders",
    );
    assert!(listed.providers().is_empty(), "{listed:?}");

    // Genuine metadata by URL; then replaced by a file (the URL goes), then a bad file is
    // refused and the provider keeps its metadata.
    let tag = format!("md-check-{pool_id}");
    let url = format!("{}/metadata?tag={tag}", idp_url());
    ok(
        create("Corp", "MetadataURL", url.clone()).await,
        "CreateIdentityProvider",
    );
    assert_eq!(metadata_fetches(&tag).await, 1);
    let describe = || async {
        ok(
            admin
                .describe_identity_provider()
                .user_pool_id(&pool_id)
                .provider_name("Corp")
                .send()
                .await,
            "DescribeIdentityProvider",
        )
        .identity_provider()
        .unwrap()
        .provider_details()
        .unwrap()
        .clone()
    };
    assert_eq!(describe().await.get("MetadataURL"), Some(&url));
    ok(
        admin
            .update_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("Corp")
            .provider_details("MetadataFile", &genuine)
            .send()
            .await,
        "UpdateIdentityProvider",
    );
    let details = describe().await;
    assert_eq!(details.get("MetadataFile"), Some(&genuine));
    assert_eq!(details.get("MetadataURL"), None);
    let e = service_error(
        admin
            .update_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("Corp")
            .provider_details("MetadataFile", without_certificates(&genuine))
            .send()
            .await,
        "UpdateIdentityProvider",
    );
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    assert_eq!(describe().await.get("MetadataFile"), Some(&genuine));
    // Back to the URL: fetched (and checked) again at the update.
    ok(
        admin
            .update_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("Corp")
            .provider_details("MetadataURL", &url)
            .send()
            .await,
        "UpdateIdentityProvider",
    );
    assert_eq!(metadata_fetches(&tag).await, 2);
    let details = describe().await;
    assert_eq!(details.get("MetadataURL"), Some(&url));
    assert_eq!(details.get("MetadataFile"), None);
}

/// Decodes an HTML attribute value (pysaml2's form escapes `&`, `<`, `>`, `"`).
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// An unsolicited response of the IdP for the pool's SP, for `user`, with `relay_state`: the
/// form fields its auto-submitting page would post to Cognate's ACS.
async fn idp_initiated_form(
    target: &Target,
    pool_id: &str,
    user: &str,
    relay_state: &str,
) -> Vec<(String, String)> {
    let page = no_redirects()
        .get(format!("{}/idp-initiated", idp_url()))
        .query(&[
            ("sp", format!("urn:amazon:cognito:sp:{pool_id}").as_str()),
            ("user", user),
            ("RelayState", relay_state),
        ])
        .send()
        .await
        .unwrap();
    let status = page.status().as_u16();
    let html = page.text().await.unwrap();
    assert_eq!(status, 200, "the IdP's unsolicited response: {html}");
    let action = cognate_tests::form_browser::attribute_after(&html, "<form", "action").unwrap();
    assert_eq!(action, format!("{}/saml2/idpresponse", target.base_url()));
    cognate_tests::form_browser::hidden_fields(&html)
        .into_iter()
        .map(|(k, v)| (k, unescape(&v)))
        .collect()
}

/// Posts a form to Cognate's ACS (no cookies: nothing was started in this browser).
async fn post_acs(target: &Target, form: &[(String, String)]) -> (u16, Option<String>, String) {
    let r = no_redirects()
        .post(format!("{}/saml2/idpresponse", target.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, location, r.text().await.unwrap())
}

/// IdP-initiated sign-in, as Cognito: the provider must have `IDPInit` `true`, `RelayState`
/// carries the app's authorization parameters, the client may support SAML providers only; the
/// response answers no request, and is accepted once.
#[tokio::test]
#[ignore = "needs pysaml2's IdP and a host built with --features saml: scripts/test-saml.sh"]
async fn idp_initiated_sign_in_follows_cognitos_rules() {
    use cognate_tests::cognito::types::OAuthFlowType;
    const CALLBACK: &str = "http://localhost:8977/idp-initiated";
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("saml-idp-init").await;
    register_sp(target, &pool_id).await;
    let metadata = idp_metadata().await;
    for (name, idp_init) in [("Corp", Some("true")), ("CorpNoInit", None)] {
        ok(
            admin
                .create_identity_provider()
                .user_pool_id(&pool_id)
                .provider_name(name)
                .provider_type(IdentityProviderTypeType::Saml)
                .set_provider_details(Some(
                    [("MetadataFile".to_owned(), metadata.clone())]
                        .into_iter()
                        .chain(idp_init.map(|v| ("IDPInit".to_owned(), v.to_owned())))
                        .collect(),
                ))
                .attribute_mapping("email", "urn:oid:1.2.840.113549.1.9.1.1")
                .send()
                .await,
            "CreateIdentityProvider",
        );
    }
    let client = |providers: &'static [&'static str]| {
        target.create_client(&pool_id, move |mut b| {
            b = b
                .generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(CALLBACK);
            for p in providers {
                b = b.supported_identity_providers(*p);
            }
            b
        })
    };
    let saml_only = client(&["Corp", "CorpNoInit"]).await;
    let with_cognito = client(&["COGNITO", "Corp"]).await;
    let relay = |client_id: &str, provider: &str| {
        format!(
            "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid+email&identity_provider={provider}",
            openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
                .collect::<String>()
        )
    };
    let refused =
        |(status, location, body): (u16, Option<String>, String), error: &str, says: &str| {
            assert_eq!(status, 302, "{body}");
            let location = location.unwrap();
            assert!(location.starts_with(CALLBACK), "{location}");
            assert_eq!(
                query_param(&location, "error").as_deref(),
                Some(error),
                "{location}"
            );
            assert!(query_param(&location, "code").is_none(), "{location}");
            let description = query_param(&location, "error_description").unwrap_or_default();
            assert!(
                description.contains(says),
                "{description:?} should say {says:?}"
            );
        };

    // Accepted: the app gets a code for the federated user.
    let form = idp_initiated_form(target, &pool_id, "ivy", &relay(&saml_only.id, "Corp")).await;
    let (status, location, body) = post_acs(target, &form).await;
    assert_eq!(status, 302, "{body}");
    let location = location.unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    let code = query_param(&location, "code").expect("a code");
    let tokens: Value = no_redirects()
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&saml_only.id, saml_only.secret.as_deref())
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
    let claims = target
        .jwks(&pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &saml_only.id)
        .expect("a valid ID token");
    assert_eq!(claims["cognito:username"], "Corp_ivy@example.com");
    assert_eq!(claims["email"], "ivy@example.com");
    assert_eq!(claims["identities"][0]["providerType"], "SAML");

    // The same response again: its assertion id is spent.
    refused(
        post_acs(target, &form).await,
        "invalid_grant",
        "already used",
    );
    // A provider without IDPInit.
    let form =
        idp_initiated_form(target, &pool_id, "ivy", &relay(&saml_only.id, "CorpNoInit")).await;
    refused(
        post_acs(target, &form).await,
        "invalid_request",
        "not enabled",
    );
    // A client that also offers the pool's own sign-in.
    let form = idp_initiated_form(target, &pool_id, "ivy", &relay(&with_cognito.id, "Corp")).await;
    refused(
        post_acs(target, &form).await,
        "invalid_request",
        "not SAML providers",
    );
    // No provider named.
    let no_provider = relay(&saml_only.id, "Corp").replace("&identity_provider=Corp", "");
    let form = idp_initiated_form(target, &pool_id, "ivy", &no_provider).await;
    refused(
        post_acs(target, &form).await,
        "invalid_request",
        "must name its SAML provider",
    );
    // No RelayState at all: an error page, nothing redirected.
    let form = idp_initiated_form(target, &pool_id, "ivy", "").await;
    let form: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| k != "RelayState")
        .collect();
    let (status, location, body) = post_acs(target, &form).await;
    assert_eq!(status, 400, "{body}");
    assert!(location.is_none());
}

/// `EncryptedResponses`: the SP metadata publishes the server's encryption certificate
/// (`[federation] saml_encryption_certificate`; scripts/test-saml.sh generates the pair and
/// passes `COGNATE_SAML_ENCRYPTION_KEY`/`_CERTIFICATE`), the IdP encrypts its assertions to it
/// (XML Encryption, AES-128-CBC and RSA-OAEP), the host decrypts them and verifies the
/// signature inside; a provider that requires encryption refuses assertions in the clear.
#[tokio::test]
#[ignore = "needs pysaml2's IdP and a host built with --features saml: scripts/test-saml.sh"]
async fn encrypted_assertions_are_decrypted_and_required_when_the_provider_says_so() {
    use base64ct::{Base64, Encoding};
    use cognate_tests::cognito::types::OAuthFlowType;
    const CALLBACK: &str = "http://localhost:8978/encrypted";
    let target = Target::shared();
    let admin = target.admin_client();
    let certificate = std::fs::read_to_string(
        std::env::var("COGNATE_SAML_ENCRYPTION_CERTIFICATE")
            .expect("COGNATE_SAML_ENCRYPTION_CERTIFICATE (scripts/test-saml.sh sets it)"),
    )
    .unwrap();
    let certificate: String = certificate
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let metadata = idp_metadata().await;
    let http = no_redirects();

    // Two pools whose provider requires encryption: the IdP encrypts for the first only.
    let mut pools = Vec::new();
    for encrypt in [true, false] {
        let pool_id = target.create_standard_pool("saml-enc").await;
        let sp = http
            .get(format!(
                "{}/saml2/metadata?user_pool_id={pool_id}",
                target.base_url()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            sp.contains(&format!(
                r#"<md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate>"#
            )),
            "{sp}"
        );
        let registered = http
            .post(format!(
                "{}/sp{}",
                idp_url(),
                if encrypt { "?encrypt=1" } else { "" }
            ))
            .body(sp)
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status().as_u16(), 204);
        let bad = service_error(
            admin
                .create_identity_provider()
                .user_pool_id(&pool_id)
                .provider_name("Corp")
                .provider_type(IdentityProviderTypeType::Saml)
                .provider_details("MetadataFile", &metadata)
                .provider_details("EncryptedResponses", "yes")
                .send()
                .await,
            "CreateIdentityProvider",
        );
        assert!(bad.is_invalid_parameter_exception(), "{bad:?}");
        ok(
            admin
                .create_identity_provider()
                .user_pool_id(&pool_id)
                .provider_name("Corp")
                .provider_type(IdentityProviderTypeType::Saml)
                .provider_details("MetadataFile", &metadata)
                .provider_details("EncryptedResponses", "true")
                .provider_details("IDPInit", "true")
                .attribute_mapping("email", "urn:oid:1.2.840.113549.1.9.1.1")
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
                    .supported_identity_providers("Corp")
            })
            .await;
        pools.push((pool_id, app));
    }
    let relay = |client_id: &str| {
        format!(
            "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid+email&identity_provider=Corp",
            openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
                .collect::<String>()
        )
    };
    let response_xml = |form: &[(String, String)]| {
        let b64 = &form.iter().find(|(k, _)| k == "SAMLResponse").unwrap().1;
        String::from_utf8(Base64::decode_vec(b64).unwrap()).unwrap()
    };

    // Encrypted: nothing about the user in the clear; decrypted, verified, signed in.
    let (pool_id, app) = &pools[0];
    let form = idp_initiated_form(target, pool_id, "eve", &relay(&app.id)).await;
    let xml = response_xml(&form);
    assert!(xml.contains("EncryptedAssertion"), "{xml}");
    assert!(!xml.contains("eve@example.com"), "{xml}");
    let (status, location, body) = post_acs(target, &form).await;
    assert_eq!(status, 302, "{body}");
    let location = location.unwrap();
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("{location}"));
    let tokens: Value = http
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&app.id, app.secret.as_deref())
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
    let claims = target
        .jwks(pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &app.id)
        .expect("a valid ID token");
    assert_eq!(claims["cognito:username"], "Corp_eve@example.com");
    assert_eq!(claims["email"], "eve@example.com");

    // In the clear, to a provider that requires encryption: refused.
    let (pool_id, app) = &pools[1];
    let form = idp_initiated_form(target, pool_id, "eve", &relay(&app.id)).await;
    assert!(!response_xml(&form).contains("EncryptedAssertion"));
    let (status, location, body) = post_acs(target, &form).await;
    assert_eq!(status, 302, "{body}");
    let location = location.unwrap();
    assert!(query_param(&location, "code").is_none(), "{location}");
    assert!(
        query_param(&location, "error_description")
            .unwrap_or_default()
            .contains("requires encrypted assertions"),
        "{location}"
    );
}

/// The `name=value` of the `Set-Cookie` named `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Single logout (`IDPSignout`), as Cognito: the SP metadata publishes the server's signing
/// certificate and its `SingleLogoutService` (`/saml2/logout`); `/logout` for a user who signed in
/// through the IdP sends the browser to the IdP's `SingleLogoutService` with a `LogoutRequest`
/// signed for the HTTP-Redirect binding (RSA-SHA256), which pysaml2's IdP verifies against the
/// SP metadata; the IdP's signed `LogoutResponse`, posted to `/saml2/logout`, sends the browser
/// on to the `logout_uri`, once; unsigned or modified responses are refused.
#[tokio::test]
#[ignore = "needs pysaml2's IdP and a host built with --features saml: scripts/test-saml.sh"]
async fn single_logout_signs_the_user_out_at_the_idp() {
    use base64ct::{Base64, Encoding};
    use cognate_tests::cognito::types::OAuthFlowType;
    const CALLBACK: &str = "http://localhost:8979/signed-in";
    const LOGOUT: &str = "http://localhost:8979/signed-out";
    let target = Target::shared();
    let admin = target.admin_client();
    let base = target.base_url();
    let http = no_redirects();
    let pool_id = target.create_standard_pool("saml-slo").await;
    let certificate = std::fs::read_to_string(
        std::env::var("COGNATE_SAML_SIGNING_CERTIFICATE")
            .expect("COGNATE_SAML_SIGNING_CERTIFICATE (scripts/test-saml.sh sets it)"),
    )
    .unwrap();
    let certificate: String = certificate
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let sp = http
        .get(format!("{base}/saml2/metadata?user_pool_id={pool_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sp.contains(&format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate>"#
        )),
        "{sp}"
    );
    assert!(
        sp.contains(&format!(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{base}/saml2/logout"/>"#
        )),
        "{sp}"
    );
    register_sp(target, &pool_id).await;
    let metadata = idp_metadata().await;
    let bad = service_error(
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("Corp")
            .provider_type(IdentityProviderTypeType::Saml)
            .provider_details("MetadataFile", &metadata)
            .provider_details("IDPSignout", "yes")
            .send()
            .await,
        "CreateIdentityProvider",
    );
    assert!(bad.is_invalid_parameter_exception(), "{bad:?}");
    ok(
        admin
            .create_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name("Corp")
            .provider_type(IdentityProviderTypeType::Saml)
            .provider_details("MetadataFile", &metadata)
            .provider_details("IDPSignout", "true")
            .provider_details("IDPInit", "true")
            .attribute_mapping("email", "urn:oid:1.2.840.113549.1.9.1.1")
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
                .logout_urls(LOGOUT)
                .supported_identity_providers("Corp")
        })
        .await;
    let relay = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=openid+email&identity_provider=Corp",
        app.id,
        openidconnect::url::form_urlencoded::byte_serialize(CALLBACK.as_bytes())
            .collect::<String>()
    );

    // Signed in through the IdP: a hosted-UI session.
    let form = idp_initiated_form(target, &pool_id, "lou", &relay).await;
    let signed_in = http
        .post(format!("{base}/saml2/idpresponse"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 302);
    let location = signed_in.headers()["location"].to_str().unwrap().to_owned();
    assert!(query_param(&location, "code").is_some(), "{location}");
    let session = set_cookie(&signed_in, &format!("cognate-session-{pool_id}"))
        .expect("a hosted-UI session cookie");

    // /logout: to the IdP's SingleLogoutService with a signed LogoutRequest; the session ends.
    let logout_url = format!(
        "{base}/logout?client_id={}&logout_uri={}",
        app.id,
        openidconnect::url::form_urlencoded::byte_serialize(LOGOUT.as_bytes()).collect::<String>()
    );
    let out = http
        .get(&logout_url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 302);
    let cleared = set_cookie(&out, &format!("cognate-session-{pool_id}")).unwrap();
    assert_eq!(cleared, format!("cognate-session-{pool_id}="));
    let to_idp = out.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to_idp.starts_with(&format!("{}/slo/redirect?SAMLRequest=", idp_url())),
        "{to_idp}"
    );
    assert_eq!(
        query_param(&to_idp, "SigAlg").as_deref(),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let relay_state = query_param(&to_idp, "RelayState").unwrap();
    assert!(
        relay_state.starts_with(&format!("{pool_id}.")),
        "{relay_state}"
    );

    // The IdP checks the redirect signature: a tampered one is refused there.
    let signature = query_param(&to_idp, "Signature").unwrap();
    let mut forged = Base64::decode_vec(&signature).unwrap();
    forged[0] ^= 1;
    let forged = to_idp.replace(
        &format!(
            "Signature={}",
            openidconnect::url::form_urlencoded::byte_serialize(signature.as_bytes())
                .collect::<String>()
        ),
        &format!(
            "Signature={}",
            openidconnect::url::form_urlencoded::byte_serialize(
                Base64::encode_string(&forged).as_bytes()
            )
            .collect::<String>()
        ),
    );
    assert_ne!(forged, to_idp);
    let refused = http.get(&forged).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("signature is not valid"),
        "the IdP refuses a bad signature"
    );

    // The genuine request: the IdP signs the user out and posts its LogoutResponse back.
    let at_idp = http.get(&to_idp).send().await.unwrap();
    assert_eq!(at_idp.status().as_u16(), 200);
    let html = at_idp.text().await.unwrap();
    let action = cognate_tests::form_browser::attribute_after(&html, "<form", "action").unwrap();
    assert_eq!(action, format!("{base}/saml2/logout"));
    let fields: Vec<(String, String)> = cognate_tests::form_browser::hidden_fields(&html)
        .into_iter()
        .map(|(k, v)| (k, unescape(&v)))
        .collect();
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(field("RelayState"), relay_state);
    let genuine = field("SAMLResponse");
    let xml = String::from_utf8(Base64::decode_vec(&genuine).unwrap()).unwrap();
    assert!(
        xml.contains("LogoutResponse") && xml.contains("Signature"),
        "{xml}"
    );
    let logouts: Value = http
        .get(format!("{}/logouts", idp_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = logouts
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sp"] == format!("urn:amazon:cognito:sp:{pool_id}"))
        .unwrap_or_else(|| panic!("{logouts}"));
    assert_eq!(entry["name_id"], "lou@example.com");
    assert_eq!(entry["session_index"].as_array().unwrap().len(), 1);

    let post_logout = |saml_response: String| {
        let http = http.clone();
        let relay_state = relay_state.clone();
        let url = format!("{base}/saml2/logout");
        async move {
            let r = http
                .post(url)
                .form(&[("SAMLResponse", saml_response), ("RelayState", relay_state)])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, location, r.text().await.unwrap())
        }
    };
    // Unsigned (the signature taken out): refused.
    // (pysaml2 writes the XML-DSig namespace as ns2)
    let from = xml
        .find("<ns2:Signature")
        .unwrap_or_else(|| panic!("{xml}"));
    let to = xml.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    let unsigned = format!("{}{}", &xml[..from], &xml[to..]);
    let (status, location, body) = post_logout(Base64::encode_string(unsigned.as_bytes())).await;
    assert_eq!(status, 400, "{body}");
    assert!(location.is_none());
    assert!(body.contains("signature"), "{body}");
    // Modified after signing (another status): refused.
    let modified = xml.replace(
        "urn:oasis:names:tc:SAML:2.0:status:Success",
        "urn:oasis:names:tc:SAML:2.0:status:Requester",
    );
    assert_ne!(modified, xml);
    let (status, location, body) = post_logout(Base64::encode_string(modified.as_bytes())).await;
    assert_eq!(status, 400, "{body}");
    assert!(location.is_none());
    // The genuine response: on to the logout_uri, once.
    let (status, location, body) = post_logout(genuine.clone()).await;
    assert_eq!(status, 302, "{body}");
    assert_eq!(location.as_deref(), Some(LOGOUT));
    let (status, location, body) = post_logout(genuine).await;
    assert_eq!(status, 400, "{body}");
    assert!(location.is_none());

    // The session is over: /logout now goes straight to the logout_uri.
    let again = http
        .get(&logout_url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 302);
    assert_eq!(again.headers()["location"].to_str().unwrap(), LOGOUT);
}
