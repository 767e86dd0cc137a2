use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use futures_util::FutureExt;

use super::*;
use crate::testing::TestEnv;

const NOW: u64 = 1_767_225_600_000;
const ACS: &str = "http://127.0.0.1:9229/saml2/idpresponse";
const SP: &str = "urn:amazon:cognito:sp:us-east-1_abc";
const IDP: &str = "http://127.0.0.1:8088/idp.xml";

fn expect(in_response_to: Option<&str>) -> Expectations {
    Expectations {
        sp_entity_id: SP.into(),
        acs_url: ACS.into(),
        in_response_to: in_response_to.map(String::from),
        now_millis: NOW,
    }
}

fn signed() -> SignedAssertion {
    SignedAssertion {
        idp_entity_id: IDP.into(),
        id: "_a1".into(),
        issuer: IDP.into(),
        issue_instant_millis: NOW - 1000,
        name_id: Some("alice".into()),
        name_id_format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()),
        confirmations: vec![Confirmation {
            method: BEARER.into(),
            recipient: Some(ACS.into()),
            in_response_to: Some("_r1".into()),
            not_before_millis: None,
            not_on_or_after_millis: Some(NOW + 300_000),
        }],
        not_before_millis: Some(NOW - 1000),
        not_on_or_after_millis: Some(NOW + 600_000),
        audience_restrictions: vec![vec![SP.into()]],
        session_index: Some("s1".into()),
        session_not_on_or_after_millis: None,
        attributes: vec![Attribute {
            name: "email".into(),
            values: vec!["alice@example.com".into()],
        }],
        response_destination: Some(ACS.into()),
        response_in_response_to: Some("_r1".into()),
        encrypted: false,
    }
}

#[test]
fn a_matching_assertion_is_accepted_with_its_subject_and_attributes() {
    let a = check(&signed(), &expect(Some("_r1"))).unwrap();
    assert_eq!(a.name_id, "alice");
    assert_eq!(a.session_index.as_deref(), Some("s1"));
    assert_eq!(
        a.attribute("email"),
        Some(&["alice@example.com".to_string()][..])
    );
    // The earlier of the conditions' and the confirmation's NotOnOrAfter.
    assert_eq!(a.not_on_or_after_millis, NOW + 300_000);
}

#[test]
fn each_expectation_is_enforced() {
    let e = expect(Some("_r1"));
    let mut s = signed();
    s.issuer = "http://evil".into();
    assert!(matches!(check(&s, &e), Err(SamlError::Issuer { .. })));

    let mut s = signed();
    s.audience_restrictions = vec![vec!["urn:amazon:cognito:sp:other".into()]];
    assert!(matches!(check(&s, &e), Err(SamlError::Audience { .. })));
    // Every restriction must name us; none at all is refused too.
    s.audience_restrictions = vec![vec![SP.into()], vec!["other".into()]];
    assert!(matches!(check(&s, &e), Err(SamlError::Audience { .. })));
    s.audience_restrictions = Vec::new();
    assert!(matches!(check(&s, &e), Err(SamlError::Audience { .. })));

    let mut s = signed();
    s.confirmations[0].recipient = Some("http://evil/acs".into());
    assert_eq!(
        check(&s, &e),
        Err(SamlError::Recipient {
            expected: ACS.into(),
            found: Some("http://evil/acs".into())
        })
    );

    let mut s = signed();
    s.response_destination = Some("http://evil/acs".into());
    assert!(matches!(check(&s, &e), Err(SamlError::Destination { .. })));

    // InResponseTo: the request's id, and none for IdP-initiated.
    assert!(matches!(
        check(&signed(), &expect(Some("_r2"))),
        Err(SamlError::InResponseTo { .. })
    ));
    assert!(matches!(
        check(&signed(), &expect(None)),
        Err(SamlError::InResponseTo { .. })
    ));
    let mut s = signed();
    s.response_in_response_to = None;
    s.confirmations[0].in_response_to = None;
    assert!(check(&s, &expect(None)).is_ok());
    assert!(matches!(check(&s, &e), Err(SamlError::InResponseTo { .. })));

    // Only bearer confirmations count.
    let mut s = signed();
    s.confirmations[0].method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key".into();
    assert_eq!(check(&s, &e), Err(SamlError::NoSubject));

    let mut s = signed();
    s.name_id = None;
    assert_eq!(check(&s, &e), Err(SamlError::NoSubject));
}

#[test]
fn time_is_checked_with_the_clock_skew() {
    let mut e = expect(Some("_r1"));
    // Within the skew after NotOnOrAfter: still accepted; at the skew's end: expired.
    e.now_millis = NOW + 300_000 + CLOCK_SKEW_MILLIS - 1;
    assert!(check(&signed(), &e).is_ok());
    e.now_millis = NOW + 300_000 + CLOCK_SKEW_MILLIS;
    assert_eq!(check(&signed(), &e), Err(SamlError::Expired));

    let mut s = signed();
    s.confirmations[0].not_on_or_after_millis = None;
    assert_eq!(check(&s, &expect(Some("_r1"))), Err(SamlError::Expired));

    let mut s = signed();
    s.not_before_millis = Some(NOW + CLOCK_SKEW_MILLIS + 1);
    assert_eq!(check(&s, &expect(Some("_r1"))), Err(SamlError::NotYetValid));
    s.not_before_millis = Some(NOW + CLOCK_SKEW_MILLIS);
    assert!(check(&s, &expect(Some("_r1"))).is_ok());
}

#[test]
fn an_assertion_id_is_accepted_once() {
    let env = TestEnv::new();
    let a = check(&signed(), &expect(Some("_r1"))).unwrap();
    assert_eq!(
        remember(&env, "us-east-1_abc", &a).now_or_never(),
        Some(Ok(()))
    );
    assert_eq!(
        remember(&env, "us-east-1_abc", &a).now_or_never(),
        Some(Err(SamlError::Replayed("_a1".into())))
    );
    // Another pool has its own record.
    assert_eq!(
        remember(&env, "us-east-1_xyz", &a).now_or_never(),
        Some(Ok(()))
    );
}

#[test]
fn runtimes_without_a_verifier_refuse_saml() {
    let env = TestEnv::new();
    let refused = accept(&env, "us-east-1_abc", "<md/>", "PHg+", &expect(None)).now_or_never();
    assert_eq!(refused, Some(Err(SamlError::Unsupported)));
    let error = Error::from(SamlError::Unsupported);
    assert_eq!(error.kind, ErrorKind::UnsupportedOperation);
    assert_eq!(error.message, UNSUPPORTED);
}

#[test]
fn the_authn_request_is_deflated_and_carries_the_relay_state() {
    let env = TestEnv::new();
    let r = request::redirect(
        &*env.random,
        &env.clock,
        "http://127.0.0.1:8088/sso/redirect",
        SP,
        ACS,
        Some("st&ate"),
    )
    .unwrap();
    assert!(r.id.starts_with('_') && r.id.len() == 33);
    let (base, query) = r.url.split_once('?').unwrap();
    assert_eq!(base, "http://127.0.0.1:8088/sso/redirect");
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params[1], ("RelayState".into(), "st&ate".into()));
    assert_eq!(params[0].0, "SAMLRequest");
    let raw = crate::codec::b64_decode(&params[0].1).unwrap();
    let xml = String::from_utf8(miniz_oxide::inflate::decompress_to_vec(&raw).unwrap()).unwrap();
    assert_eq!(xml, r.xml);
    assert!(xml.contains(&alloc::format!(r#"ID="{}""#, r.id)));
    assert!(xml.contains(r#"IssueInstant="2026-01-01T00:00:00Z""#));
    assert!(xml.contains(&alloc::format!("<saml:Issuer>{SP}</saml:Issuer>")));
    assert!(xml.contains(&alloc::format!(r#"AssertionConsumerServiceURL="{ACS}""#)));
    // An SSO URL with a query keeps it; a RelayState over 80 bytes is refused.
    let r = request::redirect(
        &*env.random,
        &env.clock,
        "http://idp/sso?x=1",
        SP,
        ACS,
        None,
    )
    .unwrap();
    assert!(r.url.starts_with("http://idp/sso?x=1&SAMLRequest="));
    assert!(!r.url.contains("RelayState"));
    let long = "x".repeat(81);
    assert!(
        request::redirect(
            &*env.random,
            &env.clock,
            "http://idp/sso",
            SP,
            ACS,
            Some(&long)
        )
        .is_none()
    );
}

#[test]
fn sp_metadata_names_the_pool_and_the_acs() {
    assert_eq!(sp_entity_id("us-east-1_abc"), SP);
    assert_eq!(acs_url("http://127.0.0.1:9229/"), ACS);
    let xml = metadata::sp_metadata_xml(SP, "http://h/saml2/idpresponse?a=1&b=<2>");
    assert!(xml.contains(r#"entityID="urn:amazon:cognito:sp:us-east-1_abc""#));
    assert!(xml.contains(r#"Location="http://h/saml2/idpresponse?a=1&amp;b=&lt;2&gt;""#));
    assert!(xml.contains(HTTP_POST));
}

#[test]
fn the_logout_request_names_the_sign_ins_subject_and_session() {
    let xml = request::logout_request_xml(
        "_l1",
        1_767_225_600_000,
        "http://idp/slo?x=1&y=2",
        SP,
        "eve@example.com",
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
        Some("s<1>"),
    );
    assert_eq!(
        xml,
        alloc::format!(
            concat!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
                r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" "#,
                r#"IssueInstant="2026-01-01T00:00:00Z" Destination="http://idp/slo?x=1&amp;y=2">"#,
                r#"<saml:Issuer>{}</saml:Issuer>"#,
                r#"<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">eve@example.com</saml:NameID>"#,
                r#"<samlp:SessionIndex>s&lt;1&gt;</samlp:SessionIndex>"#,
                r#"</samlp:LogoutRequest>"#
            ),
            SP
        )
    );
    let bare = request::logout_request_xml("_l2", 0, "http://idp/slo", SP, "n", None, None);
    assert!(bare.contains("<saml:NameID>n</saml:NameID></samlp:LogoutRequest>"));
}

#[test]
fn sp_metadata_carries_the_servers_certificates_when_it_has_them() {
    let plain = metadata::sp_metadata_xml(SP, ACS);
    assert!(!plain.contains("KeyDescriptor") && !plain.contains("SingleLogoutService"));
    let xml = metadata::sp_metadata_xml_with(
        SP,
        ACS,
        Some("ENC"),
        Some(("SIG", "http://h/saml2/logout")),
    );
    let signing = xml.find(r#"<md:KeyDescriptor use="signing">"#).unwrap();
    let encryption = xml.find(r#"<md:KeyDescriptor use="encryption">"#).unwrap();
    assert!(signing < encryption);
    assert!(xml.contains("<ds:X509Certificate>SIG</ds:X509Certificate>"));
    assert!(xml.contains("<ds:X509Certificate>ENC</ds:X509Certificate>"));
    assert!(xml.contains(&alloc::format!(
        r#"<md:SingleLogoutService Binding="{HTTP_POST}" Location="http://h/saml2/logout"/>"#
    )));
    // Schema order: KeyDescriptor, SingleLogoutService, NameIDFormat, AssertionConsumerService.
    assert!(xml.find("SingleLogoutService").unwrap() < xml.find("NameIDFormat").unwrap());
}
