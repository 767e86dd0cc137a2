//! The SP metadata a user pool gives its SAML IdPs (as Cognito's
//! `/saml2/metadata`-style document): entity id `urn:amazon:cognito:sp:<poolId>`, the ACS at
//! `<base>/saml2/idpresponse` (HTTP-POST), assertions wanted signed, requests not signed.

use alloc::format;
use alloc::string::String;

use super::{HTTP_POST, xml_escape};

/// The `EntityDescriptor` of the SP.
pub fn sp_metadata_xml(sp_entity_id: &str, acs_url: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">"#,
            r#"<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" "#,
            r#"protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
            r#"<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"#,
            r#"<md:AssertionConsumerService Binding="{binding}" Location="{acs}" index="1" isDefault="true"/>"#,
            r#"</md:SPSSODescriptor>"#,
            r#"</md:EntityDescriptor>"#
        ),
        entity = xml_escape(sp_entity_id),
        binding = HTTP_POST,
        acs = xml_escape(acs_url),
    )
}
