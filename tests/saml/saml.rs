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
        saml: XmlSecSaml,
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
    let url = format!("{}&signer={signer}", redirect.url);
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
