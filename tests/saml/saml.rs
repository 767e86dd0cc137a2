//! SAML 2.0 against a real IdP (issue 20): pysaml2's IdP, started by scripts/test-saml.sh
//! (`SAML_IDP_URL`), signs assertions with a key the script generated; the host's verifier
//! (samael over libxmlsec1) and the core's checks accept its genuine responses and refuse
//! forged ones: wrapped signatures, modified, unsigned, signed by another key, for another
//! audience or recipient, expired, replayed, answering another request.
//!
//! Run: scripts/test-saml.sh (builds with `--features saml`, starts the IdP, runs this).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64ct::{Base64, Encoding};
use cognate_core::ports::{Clock, Env, Jws, PasswordHasher, Random, Saml, Sender};
use cognate_core::saml::{self, Expectations, SamlError};
use cognate_core::store::Store;
use cognate_core::testing::TestEnv;
use cognate_host::saml::XmlSecSaml;

const POOL: &str = "us-east-1_SamlTest";
const ACS: &str = "http://127.0.0.1:9229/saml2/idpresponse";

/// The core's in-memory ports with the host's SAML verifier, on the wall clock (the IdP's).
struct SamlEnv {
    inner: TestEnv,
    saml: XmlSecSaml,
}

impl Env for SamlEnv {
    fn store(&self) -> &dyn Store {
        &self.inner.store
    }
    fn clock(&self) -> &dyn Clock {
        &self.inner.clock
    }
    fn random(&self) -> &dyn Random {
        &*self.inner.random
    }
    fn sender(&self) -> &dyn Sender {
        &self.inner.sender
    }
    fn jws(&self) -> &dyn Jws {
        &self.inner.jws
    }
    fn passwords(&self) -> &dyn PasswordHasher {
        &self.inner.passwords
    }
    fn saml(&self) -> &dyn Saml {
        &self.saml
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn env() -> SamlEnv {
    let inner = TestEnv::new();
    inner.clock.set(now_millis());
    SamlEnv {
        inner,
        saml: XmlSecSaml::default(),
    }
}

fn idp_url() -> String {
    std::env::var("SAML_IDP_URL")
        .expect("SAML_IDP_URL: run scripts/test-saml.sh, which starts the IdP")
}

/// The IdP's metadata, with our SP registered at it (as an operator uploads SP metadata).
async fn setup() -> String {
    let http = reqwest::Client::new();
    let sp = saml::metadata::sp_metadata_xml(&saml::sp_entity_id(POOL), ACS);
    let status = http
        .post(format!("{}/sp", idp_url()))
        .body(sp)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let metadata = http
        .get(format!("{}/metadata", idp_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    metadata.text().await.unwrap()
}

/// Decodes an HTML attribute value (pysaml2's form escapes `&`, `<`, `>`, `"`).
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The hidden input `name`'s value in the HTTP-POST binding's form, and the form's action.
fn form_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

fn form_action(html: &str) -> String {
    let start = html.find("action=\"").unwrap() + "action=\"".len();
    let end = html[start..].find('"').unwrap() + start;
    unescape(&html[start..end])
}

/// An SP-initiated sign-in: the core's AuthnRequest through the IdP's HTTP-Redirect endpoint;
/// answers the request id and the `SAMLResponse` (base64) the IdP posts back.
async fn sp_initiated(env: &SamlEnv, metadata: &str, signer: &str) -> (String, String) {
    let idp = saml::idp_metadata(env, metadata).await.unwrap();
    let sso = idp.sso_redirect.unwrap();
    let redirect = saml::request::redirect(
        env.random(),
        env.clock(),
        &sso,
        &saml::sp_entity_id(POOL),
        ACS,
        Some("relay-123"),
    )
    .unwrap();
    // `auto=1`: the IdP's shortcut past its sign-in page (the browser walks fill it in).
    let url = format!("{}&auto=1&signer={signer}", redirect.url);
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(form_action(&html), ACS);
    assert_eq!(
        form_field(&html, "RelayState").as_deref(),
        Some("relay-123")
    );
    (redirect.id, form_field(&html, "SAMLResponse").unwrap())
}

fn expect(env: &SamlEnv, in_response_to: Option<&str>) -> Expectations {
    Expectations {
        sp_entity_id: saml::sp_entity_id(POOL),
        acs_url: ACS.into(),
        in_response_to: in_response_to.map(String::from),
        now_millis: env.clock().now_millis(),
    }
}

fn decode(response: &str) -> String {
    String::from_utf8(Base64::decode_vec(response).unwrap()).unwrap()
}
fn encode(xml: &str) -> String {
    Base64::encode_string(xml.as_bytes())
}

/// The `<ns1:Assertion ...>...</ns1:Assertion>` element of pysaml2's response.
fn assertion_of(xml: &str) -> &str {
    let start = xml.find("<ns1:Assertion ").unwrap();
    let end = xml.find("</ns1:Assertion>").unwrap() + "</ns1:Assertion>".len();
    &xml[start..end]
}

/// `assertion` with its `<ns2:Signature>` removed.
fn without_signature(assertion: &str) -> String {
    let start = assertion.find("<ns2:Signature").unwrap();
    let end = assertion.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    format!("{}{}", &assertion[..start], &assertion[end..])
}

/// An attacker's assertion: the genuine one unsigned, another ID, another subject.
fn evil(assertion: &str) -> String {
    without_signature(assertion)
        .replacen("ID=\"id-", "ID=\"evil-", 1)
        .replace("alice@example.com", "mallory@example.com")
}

async fn accept(
    env: &SamlEnv,
    metadata: &str,
    response: &str,
    expect: &Expectations,
) -> Result<saml::Assertion, SamlError> {
    saml::accept(env, POOL, metadata, response, expect).await
}

fn is_signature(result: &Result<saml::Assertion, SamlError>) -> bool {
    matches!(result, Err(SamlError::Signature(_)))
}

#[tokio::test]
async fn idp_metadata_is_read() {
    let env = env();
    let metadata = setup().await;
    let idp = saml::idp_metadata(&env, &metadata).await.unwrap();
    assert_eq!(idp.entity_id, format!("{}/metadata", idp_url()));
    assert_eq!(
        idp.sso_redirect,
        Some(format!("{}/sso/redirect", idp_url()))
    );
    assert_eq!(idp.sso_post, Some(format!("{}/sso/post", idp_url())));
    assert_eq!(
        idp.slo_redirect,
        Some(format!("{}/slo/redirect", idp_url()))
    );
    assert_eq!(idp.signing_certificates, 1);
    assert!(!idp.want_authn_requests_signed);
    assert!(matches!(
        saml::idp_metadata(&env, "<not-metadata/>").await,
        Err(SamlError::Metadata(_))
    ));
}

#[tokio::test]
async fn a_genuine_sp_initiated_response_verifies_once_with_its_attributes() {
    let env = env();
    let metadata = setup().await;
    let (id, response) = sp_initiated(&env, &metadata, "idp").await;
    let a = accept(&env, &metadata, &response, &expect(&env, Some(&id)))
        .await
        .unwrap();
    assert_eq!(a.name_id, "alice@example.com");
    assert_eq!(
        a.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(a.issuer, format!("{}/metadata", idp_url()));
    assert!(a.session_index.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        a.attribute("urn:oid:1.2.840.113549.1.9.1.1"),
        Some(&["alice@example.com".to_string()][..])
    );
    assert_eq!(a.attribute("given_name"), Some(&["Alice".to_string()][..]));
    assert_eq!(
        a.attribute("groups"),
        Some(&["admins".to_string(), "staff".to_string()][..])
    );
    // The assertion's own NotOnOrAfter (pysaml2 puts the same on Conditions and the bearer
    // confirmation).
    let xml = decode(&response);
    let start = xml.find("NotOnOrAfter=\"").unwrap() + "NotOnOrAfter=\"".len();
    let end = xml[start..].find('"').unwrap() + start;
    let expiry = chrono::DateTime::parse_from_rfc3339(&xml[start..end]).unwrap();
    assert_eq!(a.not_on_or_after_millis, expiry.timestamp_millis() as u64);
    // The same response again: the assertion id is spent.
    let replay = accept(&env, &metadata, &response, &expect(&env, Some(&id))).await;
    assert_eq!(replay, Err(SamlError::Replayed(a.id.clone())));
}

#[tokio::test]
async fn a_signed_response_or_both_signed_verify_too() {
    let env = env();
    let metadata = setup().await;
    for sign in ["response", "both"] {
        let (id, response) = sp_initiated(&env, &metadata, &format!("idp&sign={sign}")).await;
        let xml = decode(&response);
        // One signature on the Response; "both" adds the assertion's.
        let signatures = xml.matches("<ns2:Signature ").count();
        assert_eq!(signatures, if sign == "both" { 2 } else { 1 }, "{sign}");
        let a = accept(&env, &metadata, &response, &expect(&env, Some(&id)))
            .await
            .unwrap();
        assert_eq!(a.name_id, "alice@example.com", "{sign}");
        assert_eq!(a.attribute("given_name"), Some(&["Alice".to_string()][..]));
        // A modified assertion inside a signed Response is refused too.
        let modified = xml.replacen(">Alice<", ">Mallory<", 1);
        let refused = accept(
            &env,
            &metadata,
            &encode(&modified),
            &expect(&env, Some(&id)),
        )
        .await;
        assert!(is_signature(&refused), "{sign}: {refused:?}");
    }
}

#[tokio::test]
async fn idp_initiated_responses_carry_no_request_id() {
    let env = env();
    let metadata = setup().await;
    let sp = saml::sp_entity_id(POOL);
    let html = reqwest::get(format!("{}/idp-initiated?sp={}", idp_url(), sp))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = form_field(&html, "SAMLResponse").unwrap();
    // Not an answer to a request of ours.
    assert_eq!(
        accept(&env, &metadata, &response, &expect(&env, Some("_ours"))).await,
        Err(SamlError::InResponseTo {
            expected: Some("_ours".into()),
            found: None
        })
    );
    let a = accept(&env, &metadata, &response, &expect(&env, None))
        .await
        .unwrap();
    assert_eq!(a.name_id, "alice@example.com");
}

#[tokio::test]
async fn responses_for_another_request_audience_or_recipient_are_refused() {
    let env = env();
    let metadata = setup().await;
    let (id, response) = sp_initiated(&env, &metadata, "idp").await;

    // Another request's id, and no request at all.
    let refused = accept(&env, &metadata, &response, &expect(&env, Some("_another"))).await;
    assert_eq!(
        refused,
        Err(SamlError::InResponseTo {
            expected: Some("_another".into()),
            found: Some(id.clone())
        })
    );
    let refused = accept(&env, &metadata, &response, &expect(&env, None)).await;
    assert_eq!(
        refused,
        Err(SamlError::InResponseTo {
            expected: None,
            found: Some(id.clone())
        })
    );

    // Another SP (its audience).
    let mut other = expect(&env, Some(&id));
    other.sp_entity_id = saml::sp_entity_id("us-east-1_Other");
    assert_eq!(
        accept(&env, &metadata, &response, &other).await,
        Err(SamlError::Audience {
            expected: other.sp_entity_id.clone(),
            found: vec![saml::sp_entity_id(POOL)]
        })
    );

    // Another ACS: the Response's Destination, and with it removed (it is outside the signed
    // assertion), the assertion's Recipient.
    let mut elsewhere = expect(&env, Some(&id));
    elsewhere.acs_url = "http://127.0.0.1:9230/saml2/idpresponse".into();
    assert_eq!(
        accept(&env, &metadata, &response, &elsewhere).await,
        Err(SamlError::Destination {
            expected: elsewhere.acs_url.clone(),
            found: ACS.into()
        })
    );
    let xml = decode(&response).replacen(&format!(" Destination=\"{ACS}\""), "", 1);
    assert_eq!(
        accept(&env, &metadata, &encode(&xml), &elsewhere).await,
        Err(SamlError::Recipient {
            expected: elsewhere.acs_url.clone(),
            found: Some(ACS.into())
        })
    );

    // Past its NotOnOrAfter and the clock skew.
    let mut late = expect(&env, Some(&id));
    late.now_millis += 15 * 60 * 1000 + saml::CLOCK_SKEW_MILLIS + 1000;
    assert_eq!(
        accept(&env, &metadata, &response, &late).await,
        Err(SamlError::Expired)
    );

    // None of these refusals spent the assertion: the right expectations accept it.
    let a = accept(&env, &metadata, &response, &expect(&env, Some(&id)))
        .await
        .unwrap();
    assert_eq!(a.name_id, "alice@example.com");
}

#[tokio::test]
async fn unsigned_modified_and_foreign_signed_responses_are_refused() {
    let env = env();
    let metadata = setup().await;
    let (id, response) = sp_initiated(&env, &metadata, "idp").await;
    let xml = decode(&response);
    let assertion = assertion_of(&xml);
    let e = expect(&env, Some(&id));

    // Unsigned.
    let unsigned = xml.replace(assertion, &without_signature(assertion));
    assert!(is_signature(
        &accept(&env, &metadata, &encode(&unsigned), &e).await
    ));

    // Modified: another subject, another attribute value, a later expiry.
    for (from, to) in [
        (
            "alice@example.com</ns1:NameID>",
            "mallory@example.com</ns1:NameID>",
        ),
        (">Alice<", ">Mallory<"),
        ("NotOnOrAfter=\"20", "NotOnOrAfter=\"21"),
    ] {
        assert!(xml.contains(from), "{from}");
        let modified = xml.replacen(from, to, 1);
        let refused = accept(&env, &metadata, &encode(&modified), &e).await;
        assert!(is_signature(&refused), "{from}: {refused:?}");
    }

    // Signed by another key under the IdP's entity id (the certificate in KeyInfo is the
    // attacker's: only the metadata's counts).
    let (rogue_id, rogue) = sp_initiated(&env, &metadata, "rogue").await;
    let refused = accept(&env, &metadata, &rogue, &expect(&env, Some(&rogue_id))).await;
    assert!(is_signature(&refused), "{refused:?}");

    // Signed with the IdP's key, but with RSA-SHA1 and SHA-1 digests.
    let (sha1_id, sha1) = sp_initiated(&env, &metadata, "idp&alg=sha1").await;
    assert!(decode(&sha1).contains("xmldsig#rsa-sha1"));
    let refused = accept(&env, &metadata, &sha1, &expect(&env, Some(&sha1_id))).await;
    assert!(is_signature(&refused), "{refused:?}");

    // Not base64, not XML, a DOCTYPE.
    assert!(matches!(
        accept(&env, &metadata, "%%%", &e).await,
        Err(SamlError::Malformed(_))
    ));
    assert!(matches!(
        accept(&env, &metadata, &encode("not xml <"), &e).await,
        Err(SamlError::Malformed(_))
    ));
    let doctype = xml.replacen(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x \"y\">]>",
        1,
    );
    assert!(matches!(
        accept(&env, &metadata, &encode(&doctype), &e).await,
        Err(SamlError::Malformed(_))
    ));

    // After all that, the genuine response is still good (and only once).
    assert!(accept(&env, &metadata, &response, &e).await.is_ok());
}

#[tokio::test]
async fn wrapped_signatures_are_refused() {
    let env = env();
    let metadata = setup().await;
    let (id, response) = sp_initiated(&env, &metadata, "idp").await;
    let xml = decode(&response);
    let signed = assertion_of(&xml).to_string();
    let evil = evil(&signed);
    let e = expect(&env, Some(&id));
    let status_end = xml.find("</ns0:Status>").unwrap() + "</ns0:Status>".len();

    let variants = [
        // A second, unsigned assertion before the signed one.
        (
            "evil first",
            xml.replace(&signed, &format!("{evil}{signed}")),
        ),
        // ... and after it.
        (
            "evil after",
            xml.replace(&signed, &format!("{signed}{evil}")),
        ),
        // The signed assertion moved into the Response's Extensions, the evil one in its place.
        (
            "signed in Extensions",
            format!(
                "{}<ns0:Extensions>{signed}</ns0:Extensions>{}",
                &xml[..status_end],
                &xml[status_end..].replace(&signed, &evil)
            ),
        ),
        // The signed assertion inside the evil one (its Advice).
        (
            "signed in Advice",
            xml.replace(
                &signed,
                &evil.replacen(
                    "<ns1:Subject>",
                    &format!("<ns1:Advice>{signed}</ns1:Advice><ns1:Subject>"),
                    1,
                ),
            ),
        ),
        // The signed assertion moved under an unknown wrapper element.
        (
            "signed wrapped",
            xml.replace(&signed, &format!("<ns0:Wrapper>{signed}</ns0:Wrapper>")),
        ),
        // Evil content under the genuine ID, the signed original kept as a sibling (duplicate IDs).
        (
            "duplicate ID",
            xml.replace(
                &signed,
                &format!("{}{signed}", evil.replacen("ID=\"evil-", "ID=\"id-", 1)),
            ),
        ),
    ];
    for (name, forged) in variants {
        assert_ne!(forged, xml, "{name}");
        let refused = accept(&env, &metadata, &encode(&forged), &e).await;
        assert!(is_signature(&refused), "{name}: {refused:?}");
    }
    // The genuine response is unharmed.
    assert_eq!(
        accept(&env, &metadata, &response, &e)
            .await
            .unwrap()
            .name_id,
        "alice@example.com"
    );
}

/// The second line of defence on its own: even without the shape check, samael's reduction
/// (libxmlsec1, then only what the verified references cover) drops an unsigned assertion
/// placed before the signed one: what remains is the genuine, signed subject.
#[tokio::test]
async fn samael_alone_keeps_only_the_signed_assertion() {
    use samael::crypto::{Crypto, CryptoProvider, ReduceMode};
    let env = env();
    let metadata = setup().await;
    let (_, response) = sp_initiated(&env, &metadata, "idp").await;
    let xml = decode(&response);
    let signed = assertion_of(&xml).to_string();
    let forged = xml.replace(&signed, &format!("{}{signed}", evil(&signed)));
    let descriptor: samael::metadata::EntityDescriptor = metadata.parse().unwrap();
    let sp = samael::service_provider::ServiceProvider {
        idp_metadata: descriptor,
        ..Default::default()
    };
    let certificates = sp.idp_signing_certs().unwrap().unwrap();
    let reduced = Crypto::reduce_xml_to_signed(
        &forged,
        &certificates,
        ReduceMode::ValidateAndMarkNoAncestors,
    )
    .unwrap();
    assert!(reduced.contains("alice@example.com"));
    assert!(!reduced.contains("mallory@example.com"));
    assert!(!reduced.contains("evil-"));
    // And with another key's certificate nothing verifies.
    let (_, rogue) = sp_initiated(&env, &metadata, "rogue").await;
    assert!(
        Crypto::reduce_xml_to_signed(
            &decode(&rogue),
            &certificates,
            ReduceMode::ValidateAndMarkNoAncestors
        )
        .is_err()
    );
}

// -- the whole flow through the service: /oauth2/authorize -> the IdP -> /saml2/idpresponse ->
// the app's code -> the pool's tokens ---------------------------------------------------------

const FLOW_POOL: &str = "us-east-1_SamlFlow1";
const FLOW_CLIENT: &str = "samlflowclient000000000001";
const FLOW_BASE: &str = "http://cognate.test";
const APP: &str = "https://app.example.com/cb";
const ADMIN_ID: &str = "AKIASAMLFLOWTEST0001";
const ADMIN_SECRET: &str = "saml-flow-test-secret-0123456789abcdef";

fn request(method: &str, path_and_query: &str) -> cognate_core::Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut r = cognate_core::Request::new(method, path).with_header("host", "cognate.test");
    r.query = query.to_string();
    r
}

/// A SigV4-signed user-pools call with the test admin key.
async fn admin(
    service: &cognate_core::service::Service,
    env: &SamlEnv,
    op: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut outgoing = cognate_core::ports::DeliveryRequest {
        method: "POST".into(),
        url: format!("{FLOW_BASE}/"),
        headers: [
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            (
                "x-amz-target".to_string(),
                format!("AWSCognitoIdentityProviderService.{op}"),
            ),
        ]
        .into_iter()
        .collect(),
        body: body.to_string(),
    };
    cognate_core::sigv4::sign(
        &mut outgoing,
        &cognate_core::sigv4::Credentials {
            access_key_id: ADMIN_ID.into(),
            secret_access_key: cognate_core::secret::Secret::new(ADMIN_SECRET),
            session_token: None,
        },
        "us-east-1",
        "cognito-idp",
        env.clock().now_millis(),
    )
    .unwrap();
    let mut r = request("POST", "/").with_body(outgoing.body.into_bytes());
    for (name, value) in outgoing.headers {
        r = r.with_header(&name, &value);
    }
    let response = service.handle(r, env).await;
    let text = String::from_utf8_lossy(&response.body).to_string();
    assert_eq!(response.status, 200, "{op}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn header(response: &cognate_core::Response, name: &str) -> String {
    response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_user_signs_in_through_the_idp_and_gets_the_pools_tokens() {
    use cognate_core::service::{ClientSpec, PoolSpec, Service};
    let env = env();
    let service = Service::new(
        cognate_core::Config::new(FLOW_BASE, "us-east-1").with_admin_key(ADMIN_ID, ADMIN_SECRET),
    );
    let client_settings = |providers: &[&str]| {
        serde_json::json!({"ClientName": "app", "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid", "email"],
            "CallbackURLs": [APP], "SupportedIdentityProviders": providers})
    };
    service
        .apply_pool_spec(
            &env,
            &PoolSpec {
                id: Some(FLOW_POOL.into()),
                region: None,
                create: serde_json::json!({"PoolName": "saml-flow"}),
                clients: vec![ClientSpec {
                    id: Some(FLOW_CLIENT.into()),
                    create: client_settings(&["COGNITO"]),
                }],
            },
        )
        .await
        .unwrap();
    // The IdP learns the pool's SP metadata (as an operator uploads it), the pool the IdP's.
    let http = reqwest::Client::new();
    let sp =
        saml::metadata::sp_metadata_xml(&saml::sp_entity_id(FLOW_POOL), &saml::acs_url(FLOW_BASE));
    let status = http
        .post(format!("{}/sp", idp_url()))
        .body(sp)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let metadata = http
        .get(format!("{}/metadata", idp_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    admin(
        &service,
        &env,
        "CreateIdentityProvider",
        serde_json::json!({"UserPoolId": FLOW_POOL, "ProviderName": "Corp", "ProviderType": "SAML",
            "ProviderDetails": {"MetadataFile": metadata},
            "AttributeMapping": {"email": "urn:oid:1.2.840.113549.1.9.1.1", "given_name": "given_name"}}),
    )
    .await;
    let mut update = client_settings(&["COGNITO", "Corp"]);
    update["UserPoolId"] = FLOW_POOL.into();
    update["ClientId"] = FLOW_CLIENT.into();
    admin(&service, &env, "UpdateUserPoolClient", update).await;

    // 1. The app sends the browser to Cognate, which sends it to the IdP with an AuthnRequest;
    // 2. the IdP signs the user in and answers with its auto-posting form.
    let verifier = "v".repeat(48);
    let challenge = {
        use sha2::Digest as _;
        base64ct::Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(verifier.as_bytes()))
    };
    let authorize_path = format!(
        "/oauth2/authorize?response_type=code&client_id={FLOW_CLIENT}&redirect_uri={}&scope=openid+email&identity_provider=Corp&state=app-state&code_challenge={challenge}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(APP.as_bytes()).collect::<String>()
    );
    let through_idp = || async {
        let authorize = service.handle(request("GET", &authorize_path), &env).await;
        assert_eq!(
            authorize.status,
            302,
            "{}",
            String::from_utf8_lossy(&authorize.body)
        );
        let to_idp = header(&authorize, "location");
        assert!(
            to_idp.starts_with(&format!("{}/sso/redirect?", idp_url())),
            "{to_idp}"
        );
        let cookie = header(&authorize, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let html = reqwest::get(format!("{to_idp}&auto=1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(form_action(&html), saml::acs_url(FLOW_BASE));
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("SAMLResponse", &form_field(&html, "SAMLResponse").unwrap())
            .append_pair("RelayState", &form_field(&html, "RelayState").unwrap())
            .finish();
        (cookie, form)
    };
    let post = |cookie: Option<&str>, form: &str| {
        let mut r = request("POST", "/saml2/idpresponse")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(form.as_bytes().to_vec());
        if let Some(c) = cookie {
            r = r.with_header("cookie", c);
        }
        r
    };
    let (cookie, form) = through_idp().await;

    // 3. Cognate verifies the response and answers the app with its own code.
    let back = service.handle(post(Some(&cookie), &form), &env).await;
    assert_eq!(back.status, 302, "{}", String::from_utf8_lossy(&back.body));
    let to_app = header(&back, "location");
    assert!(to_app.starts_with(APP), "{to_app}");
    assert_eq!(query_param(&to_app, "state").as_deref(), Some("app-state"));
    let code = query_param(&to_app, "code").expect("a code for the app");

    // 4. The app redeems the code: the pool's tokens for the federated user.
    let token_form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", APP)
        .append_pair("client_id", FLOW_CLIENT)
        .append_pair("code_verifier", &verifier)
        .finish();
    let tokens = service
        .handle(
            request("POST", "/oauth2/token")
                .with_header("content-type", "application/x-www-form-urlencoded")
                .with_body(token_form.into_bytes()),
            &env,
        )
        .await;
    assert_eq!(
        tokens.status,
        200,
        "{}",
        String::from_utf8_lossy(&tokens.body)
    );
    let tokens: serde_json::Value = serde_json::from_slice(&tokens.body).unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64ct::Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
    assert_eq!(claims["cognito:username"], "Corp_alice@example.com");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["identities"][0]["providerName"], "Corp");
    assert_eq!(claims["identities"][0]["providerType"], "SAML");

    // The same response again is refused (its state is spent, and so is its assertion id).
    let replay = service.handle(post(Some(&cookie), &form), &env).await;
    assert_eq!(replay.status, 400);
    // A response posted by another browser (without the binding cookie) is refused.
    let (_, form) = through_idp().await;
    let stranger = service.handle(post(None, &form), &env).await;
    assert_eq!(stranger.status, 400);
    // Without RelayState (IdP-initiated) it is refused too.
    let bare = service
        .handle(
            post(Some(&cookie), "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4="),
            &env,
        )
        .await;
    assert_eq!(bare.status, 400);
}
