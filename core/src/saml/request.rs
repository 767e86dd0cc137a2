//! The SP-initiated `AuthnRequest`, sent with the HTTP-Redirect binding (SAML 2.0 bindings
//! §3.4): raw DEFLATE, base64, percent-encoded as `SAMLRequest`, with `RelayState`. Requests
//! are not signed (Cognito signs them only when the provider asks, `RequestSigningAlgorithm`).

use alloc::format;
use alloc::string::String;

use crate::ports::{Clock, Random};

use super::{HTTP_POST, xml_escape, xml_time};

/// The longest `RelayState` the binding allows (80 bytes).
pub const MAX_RELAY_STATE: usize = 80;

/// Where to send the browser, and the request id to keep for the response's `InResponseTo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The request's `ID`.
    pub id: String,
    /// The IdP's SSO URL with `SAMLRequest` and `RelayState`.
    pub url: String,
    /// The request XML, before encoding.
    pub xml: String,
}

/// A new request id: `_` and 32 hex digits (an NCName, 128 random bits).
pub fn new_id(random: &dyn Random) -> String {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    format!("_{}", hex::encode(bytes))
}

/// The `AuthnRequest` XML.
pub fn authn_request_xml(
    id: &str,
    issue_instant_millis: u64,
    destination: &str,
    sp_entity_id: &str,
    acs_url: &str,
) -> String {
    format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" "#,
            r#"IssueInstant="{instant}" Destination="{destination}" "#,
            r#"AssertionConsumerServiceURL="{acs}" ProtocolBinding="{binding}">"#,
            r#"<saml:Issuer>{issuer}</saml:Issuer>"#,
            r#"<samlp:NameIDPolicy AllowCreate="true"/>"#,
            r#"</samlp:AuthnRequest>"#
        ),
        id = xml_escape(id),
        instant = xml_time(issue_instant_millis),
        destination = xml_escape(destination),
        acs = xml_escape(acs_url),
        binding = HTTP_POST,
        issuer = xml_escape(sp_entity_id),
    )
}

/// A `LogoutRequest` (single logout, `IDPSignout`) for the `NameID` and `SessionIndex` of the
/// assertion that signed the user in.
pub fn logout_request_xml(
    id: &str,
    issue_instant_millis: u64,
    destination: &str,
    sp_entity_id: &str,
    name_id: &str,
    name_id_format: Option<&str>,
    session_index: Option<&str>,
) -> String {
    let format_attribute =
        name_id_format.map_or_else(String::new, |f| format!(r#" Format="{}""#, xml_escape(f)));
    let session = session_index.map_or_else(String::new, |s| {
        format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", xml_escape(s))
    });
    format!(
        concat!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" "#,
            r#"IssueInstant="{instant}" Destination="{destination}">"#,
            r#"<saml:Issuer>{issuer}</saml:Issuer>"#,
            r#"<saml:NameID{format}>{name_id}</saml:NameID>{session}"#,
            r#"</samlp:LogoutRequest>"#
        ),
        id = xml_escape(id),
        instant = xml_time(issue_instant_millis),
        destination = xml_escape(destination),
        issuer = xml_escape(sp_entity_id),
        format = format_attribute,
        name_id = xml_escape(name_id),
        session = session,
    )
}

/// `SAMLRequest`'s value: raw DEFLATE (RFC 1951) of the XML, base64.
pub fn encode(xml: &str) -> String {
    crate::codec::b64(&miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 8))
}

/// The redirect for an SP-initiated sign-in at the IdP's HTTP-Redirect SSO endpoint.
/// `relay_state` (the caller's opaque, unguessable state handle) must be at most
/// [`MAX_RELAY_STATE`] bytes; `None` when it is longer.
pub fn redirect(
    random: &dyn Random,
    clock: &dyn Clock,
    idp_sso_url: &str,
    sp_entity_id: &str,
    acs_url: &str,
    relay_state: Option<&str>,
) -> Option<Redirect> {
    if relay_state.is_some_and(|r| r.len() > MAX_RELAY_STATE) {
        return None;
    }
    let id = new_id(random);
    let xml = authn_request_xml(&id, clock.now_millis(), idp_sso_url, sp_entity_id, acs_url);
    let separator = if idp_sso_url.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{idp_sso_url}{separator}SAMLRequest={}",
        crate::codec::url_encode(&encode(&xml))
    );
    if let Some(state) = relay_state {
        url.push_str("&RelayState=");
        url.push_str(&crate::codec::url_encode(state));
    }
    Some(Redirect { id, url, xml })
}
