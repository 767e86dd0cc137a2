//! The SP metadata a user pool gives its SAML IdPs (as Cognito's
//! `/saml2/metadata`-style document): entity id `urn:amazon:cognito:sp:<poolId>`, the ACS at
//! `<base>/saml2/idpresponse` (HTTP-POST), assertions wanted signed, requests not signed, and
//! the encryption certificate when the server has one (`EncryptedResponses`).

use alloc::format;
use alloc::string::String;

use super::{HTTP_POST, xml_escape};

/// The `EntityDescriptor` of the SP.
pub fn sp_metadata_xml(sp_entity_id: &str, acs_url: &str) -> String {
    sp_metadata_xml_with(sp_entity_id, acs_url, None, None)
}

/// The `KeyDescriptor` of a certificate (base64 DER) for `use`.
fn key_descriptor(usage: &str, cert: &str, methods: &str) -> String {
    format!(
        concat!(
            r#"<md:KeyDescriptor use="{usage}">"#,
            r#"<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>"#,
            r#"<ds:X509Certificate>{cert}</ds:X509Certificate>"#,
            r#"</ds:X509Data></ds:KeyInfo>{methods}</md:KeyDescriptor>"#
        ),
        usage = usage,
        cert = xml_escape(cert),
        methods = methods,
    )
}

/// The `EntityDescriptor` of the SP, with the certificate (base64 DER) IdPs encrypt assertions
/// to (`EncryptedResponses`), when the server has one, and with the signing certificate and the
/// `SingleLogoutService` (`<base>/saml2/logout`, HTTP-POST, where IdPs answer a single logout)
/// when the server has a signing key (`IDPSignout`).
pub fn sp_metadata_xml_with(
    sp_entity_id: &str,
    acs_url: &str,
    encryption_certificate: Option<&str>,
    signing: Option<(&str, &str)>,
) -> String {
    let mut keys = String::new();
    if let Some((cert, _)) = signing {
        keys.push_str(&key_descriptor("signing", cert, ""));
    }
    if let Some(cert) = encryption_certificate {
        keys.push_str(&key_descriptor(
            "encryption",
            cert,
            concat!(
                r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>"#,
                r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>"#,
                r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>"#,
            ),
        ));
    }
    let logout = signing.map_or_else(String::new, |(_, slo)| {
        format!(
            r#"<md:SingleLogoutService Binding="{HTTP_POST}" Location="{}"/>"#,
            xml_escape(slo)
        )
    });
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">"#,
            r#"<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" "#,
            r#"protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
            r#"{keys}{logout}"#,
            r#"<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"#,
            r#"<md:AssertionConsumerService Binding="{binding}" Location="{acs}" index="1" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor>"#,
            r#"</md:EntityDescriptor>"#
        ),
        entity = xml_escape(sp_entity_id),
        keys = keys,
        logout = logout,
        binding = HTTP_POST,
        acs = xml_escape(acs_url),
    )
}
