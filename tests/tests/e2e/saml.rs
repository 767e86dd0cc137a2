//! SAML 2.0 identity providers against pysaml2's IdP (tests/saml/idp.py, started by
//! scripts/test-saml.sh, `SAML_IDP_URL`) and a host built with `--features saml`: the checks
//! of `MetadataFile`/`MetadataURL` at CreateIdentityProvider and UpdateIdentityProvider. The
//! browser walks are in [`crate::saml_browser`]. (On a runtime without an XML-DSig verifier,
//! SAML providers are refused: `federation::identity_providers_are_managed_with_cognitos_operations`.)

use cognate_tests::cognito::types::IdentityProviderTypeType;
use cognate_tests::form_browser::no_redirects;
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
