//! The host's [`Saml`] port (issue 20, feature `saml`): XML signatures of SAML 2.0 responses
//! verified by samael over libxmlsec1 (Debian's `libxmlsec1`), never by hand-written XML-DSig.
//!
//! Defences against XML signature wrapping, in this order:
//! 1. Before any signature work, the original document's shape is checked with a
//!    namespace-aware reader: its root is a SAML protocol `Response`, it has no DOCTYPE, and it
//!    holds exactly one `saml:Assertion`, a direct child of the root (and no
//!    `EncryptedAssertion` unless it is the only one and the port has the SP's encryption key:
//!    it is then decrypted and put in its place first). A second assertion anywhere, or the
//!    assertion moved under another element, is refused.
//! 2. samael has libxmlsec1 verify every `Signature` in the document against the IdP metadata's
//!    signing certificates only (not a certificate the response carries), with SHA-2 algorithms
//!    only, after registering `ID` attributes (duplicate IDs are refused), and then reduces the
//!    document to the elements the verified references cover
//!    ([`ReduceMode::ValidateAndMarkNoAncestors`]): nothing unsigned survives.
//! 3. The signed element must be that one assertion (by its unique `ID`) or the root
//!    `Response` that contains it. Only the reduced, signed XML is parsed for the answer.
//!
//! Everything else (issuer, audience, recipient, `InResponseTo`, time, replay) is decided by
//! `cognate_core::saml`.

use base64ct::{Base64, Encoding};
use cognate_core::ports::{BoxFuture, Saml, boxed};
use cognate_core::saml::{
    Attribute, Confirmation, IdpMetadata, LogoutResponse, STATUS_SUCCESS, SamlError,
    SignedAssertion,
};
use openssl::pkey::{PKey, Private};
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use samael::crypto::{AllowedSignatureAlgorithm, Crypto, CryptoProvider, ReduceMode};
use samael::metadata::EntityDescriptor;
use samael::schema::{Assertion, CipherValue, Response};
use samael::service_provider::ServiceProvider;
use std::fmt;

/// The largest `SAMLResponse` accepted (base64 text), and the largest metadata document.
pub const MAX_RESPONSE: usize = 512 * 1024;
pub const MAX_METADATA: usize = 1024 * 1024;

const PROTOCOL_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:assertion";
const XENC_NS: &[u8] = b"http://www.w3.org/2001/04/xmlenc#";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// SignatureMethods accepted (SHA-1 and unknown methods are refused by xmlsec's checks).
const ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// The SAML verifier of the host.
#[derive(Clone, Default)]
pub struct XmlSecSaml {
    /// The SP's SAML encryption key (`EncryptedResponses`): IdPs encrypt assertions to its
    /// certificate, which the SP metadata publishes.
    decryption_key: Option<PKey<Private>>,
    /// The SP's SAML signing key (`IDPSignout`): signs `LogoutRequest`s for the HTTP-Redirect
    /// binding; the SP metadata publishes its certificate.
    signing_key: Option<PKey<Private>>,
}

/// An RSA private key from PEM (PKCS#8 or PKCS#1).
fn rsa_key(key_pem: &[u8], what: &str) -> Result<PKey<Private>, String> {
    let key = PKey::private_key_from_pem(key_pem)
        .map_err(|e| format!("the SAML {what} key is not a PEM private key: {e}"))?;
    if key.rsa().is_err() {
        return Err(format!("the SAML {what} key must be an RSA key"));
    }
    Ok(key)
}

impl XmlSecSaml {
    /// A verifier that also decrypts `EncryptedAssertion`s with `key_pem` (an RSA private key,
    /// PKCS#8 or PKCS#1 PEM).
    pub fn with_decryption_key(mut self, key_pem: &[u8]) -> Result<Self, String> {
        self.decryption_key = Some(rsa_key(key_pem, "encryption")?);
        Ok(self)
    }

    /// A verifier that also signs single-logout requests with `key_pem` (an RSA private key,
    /// PKCS#8 or PKCS#1 PEM).
    pub fn with_signing_key(mut self, key_pem: &[u8]) -> Result<Self, String> {
        self.signing_key = Some(rsa_key(key_pem, "signing")?);
        Ok(self)
    }
}

impl fmt::Debug for XmlSecSaml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XmlSecSaml")
            .field(
                "decryption_key",
                &self.decryption_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Saml for XmlSecSaml {
    fn metadata<'a>(
        &'a self,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<IdpMetadata, SamlError>> {
        boxed(async move { read_metadata(metadata_xml) })
    }
    fn verify<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SignedAssertion, SamlError>> {
        boxed(async move { verify_with(saml_response, metadata_xml, self.decryption_key.as_ref()) })
    }
    fn sign_redirect<'a>(
        &'a self,
        signed_query: &'a str,
    ) -> BoxFuture<'a, Result<String, SamlError>> {
        boxed(async move {
            let key = self.signing_key.as_ref().ok_or(SamlError::Unsupported)?;
            sign_redirect(signed_query, key)
        })
    }
    fn verify_logout_response<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<LogoutResponse, SamlError>> {
        boxed(async move { verify_logout_response(saml_response, metadata_xml) })
    }
}

fn parse_metadata(metadata_xml: &str) -> Result<EntityDescriptor, SamlError> {
    if metadata_xml.len() > MAX_METADATA {
        return Err(SamlError::Metadata("the metadata is too large".into()));
    }
    if has_doctype(metadata_xml) {
        return Err(SamlError::Metadata("the metadata has a DOCTYPE".into()));
    }
    metadata_xml
        .parse::<EntityDescriptor>()
        .map_err(|e| SamlError::Metadata(format!("not an EntityDescriptor: {e}")))
}

/// Reads an IdP's metadata: entity id, SSO and SLO endpoints, signing certificates.
pub fn read_metadata(metadata_xml: &str) -> Result<IdpMetadata, SamlError> {
    let descriptor = parse_metadata(metadata_xml)?;
    let certificates = signing_certificates(&descriptor)?;
    let idps = descriptor.idp_sso_descriptors.clone().unwrap_or_default();
    if idps.is_empty() {
        return Err(SamlError::Metadata(
            "the metadata has no IDPSSODescriptor".into(),
        ));
    }
    let sso = |binding: &str| {
        idps.iter()
            .flat_map(|d| d.single_sign_on_services.iter())
            .find(|e| e.binding == binding)
            .map(|e| e.location.clone())
    };
    let slo_redirect = idps
        .iter()
        .flat_map(|d| d.single_logout_services.iter())
        .find(|e| e.binding == HTTP_REDIRECT)
        .map(|e| e.location.clone());
    Ok(IdpMetadata {
        entity_id: descriptor.entity_id.clone().unwrap_or_default(),
        sso_redirect: sso(HTTP_REDIRECT),
        sso_post: sso(HTTP_POST),
        slo_redirect,
        want_authn_requests_signed: idps
            .iter()
            .any(|d| d.want_authn_requests_signed == Some(true)),
        signing_certificates: certificates.len(),
    })
}

/// A message posted by the IdP (`SAMLResponse`, HTTP-POST binding): base64 of UTF-8 XML, line
/// breaks allowed, at most [`MAX_RESPONSE`] bytes.
fn decode_posted(saml_response: &str) -> Result<String, SamlError> {
    if saml_response.len() > MAX_RESPONSE {
        return Err(SamlError::Malformed("the response is too large".into()));
    }
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = Base64::decode_vec(&compact)
        .map_err(|_| SamlError::Malformed("SAMLResponse is not base64".into()))?;
    String::from_utf8(bytes).map_err(|_| SamlError::Malformed("SAMLResponse is not UTF-8".into()))
}

/// The IdP's signing certificates, at least one: a message from an IdP without one could
/// never verify.
fn required_signing_certificates(
    descriptor: &EntityDescriptor,
) -> Result<Vec<samael::crypto::CertificateDer>, SamlError> {
    let certificates = signing_certificates(descriptor)?;
    if certificates.is_empty() {
        return Err(SamlError::Metadata(
            "the IdP descriptor has no signing certificate".into(),
        ));
    }
    Ok(certificates)
}

/// What of `xml` a valid signature by one of `certificates` covers (libxmlsec1, SHA-2 only),
/// every unsigned part removed.
fn signed_parts(
    xml: &str,
    certificates: &[samael::crypto::CertificateDer],
) -> Result<String, SamlError> {
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        certificates,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(&ALGORITHMS),
    )
    .map_err(|e| SamlError::Signature(format!("no valid signature by the IdP's certificate ({e})")))
}

fn signing_certificates(
    descriptor: &EntityDescriptor,
) -> Result<Vec<samael::crypto::CertificateDer>, SamlError> {
    let sp = ServiceProvider {
        idp_metadata: descriptor.clone(),
        ..ServiceProvider::default()
    };
    sp.idp_signing_certs()
        .map_err(|e| SamlError::Metadata(format!("unreadable signing certificate: {e}")))
        .map(Option::unwrap_or_default)
}

/// The original document's shape (step 1).
#[derive(Debug, Default)]
struct Shape {
    root_id: Option<String>,
    destination: Option<String>,
    in_response_to: Option<String>,
    status: Option<String>,
    /// IDs of every `saml:Assertion`, and whether each is a direct child of the root.
    assertions: Vec<(Option<String>, bool)>,
    encrypted: usize,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Result<Option<String>, SamlError> {
    for a in e.attributes() {
        let a = a.map_err(|e| SamlError::Malformed(format!("bad attribute: {e}")))?;
        if a.key.as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| SamlError::Malformed(format!("bad attribute value: {e}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn is(ns: &ResolveResult<'_>, want: &[u8]) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == want)
}

fn has_doctype(xml: &str) -> bool {
    xml.contains("<!DOCTYPE") || xml.contains("<!doctype")
}

fn shape(xml: &str) -> Result<Shape, SamlError> {
    if has_doctype(xml) {
        return Err(SamlError::Malformed("a DOCTYPE is not allowed".into()));
    }
    let mut reader = NsReader::from_str(xml);
    let mut shape = Shape::default();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut status_depth: Option<usize> = None;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?;
        let (start, empty) = match &event {
            Event::Start(s) => (Some(s), false),
            Event::Empty(s) => (Some(s), true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if status_depth.is_some_and(|d| depth < d) {
                    status_depth = None;
                }
                continue;
            }
            Event::Eof => break,
            Event::DocType(_) => {
                return Err(SamlError::Malformed("a DOCTYPE is not allowed".into()));
            }
            _ => continue,
        };
        let Some(s) = start else { continue };
        let local = s.local_name();
        let local = local.as_ref();
        if !root_seen {
            if !(is(&ns, PROTOCOL_NS) && local == b"Response") {
                return Err(SamlError::Malformed(
                    "the root element is not a SAML Response".into(),
                ));
            }
            root_seen = true;
            shape.root_id = attr(s, b"ID")?;
            shape.destination = attr(s, b"Destination")?;
            shape.in_response_to = attr(s, b"InResponseTo")?;
        } else if is(&ns, ASSERTION_NS) && local == b"Assertion" {
            shape.assertions.push((attr(s, b"ID")?, depth == 1));
        } else if is(&ns, ASSERTION_NS) && local == b"EncryptedAssertion" {
            shape.encrypted += 1;
        } else if is(&ns, PROTOCOL_NS) && local == b"Status" && depth == 1 {
            status_depth = Some(depth + 1);
        } else if is(&ns, PROTOCOL_NS)
            && local == b"StatusCode"
            && status_depth == Some(depth)
            && shape.status.is_none()
        {
            shape.status = attr(s, b"Value")?;
        }
        if !empty {
            depth += 1;
        }
    }
    if !root_seen {
        return Err(SamlError::Malformed("empty document".into()));
    }
    Ok(shape)
}

/// What the reduced (signed-only) document's root is.
enum Root {
    Response,
    Assertion,
    Other,
}

fn root_element(xml: &str) -> Result<Root, SamlError> {
    let mut reader = NsReader::from_str(xml);
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| SamlError::Malformed(format!("the signed XML: {e}")))?;
        match event {
            Event::Start(s) | Event::Empty(s) => {
                let local = s.local_name();
                return Ok(if is(&ns, PROTOCOL_NS) && local.as_ref() == b"Response" {
                    Root::Response
                } else if is(&ns, ASSERTION_NS) && local.as_ref() == b"Assertion" {
                    Root::Assertion
                } else {
                    Root::Other
                });
            }
            Event::Eof => return Ok(Root::Other),
            _ => {}
        }
    }
}

fn millis(t: &chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

/// Verifies a base64 `SAMLResponse` against the IdP's metadata (see the module's comment).
pub fn verify(saml_response: &str, metadata_xml: &str) -> Result<SignedAssertion, SamlError> {
    verify_with(saml_response, metadata_xml, None)
}

/// The byte range of the one `EncryptedAssertion` element, a direct child of the root.
fn encrypted_assertion_span(xml: &str) -> Result<(usize, usize), SamlError> {
    let mut reader = NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut start: Option<(usize, usize)> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        enum Step {
            Open(bool),
            Close,
            End,
            Other,
        }
        let step = {
            let (ns, event) = reader
                .read_resolved_event()
                .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?;
            match &event {
                Event::Start(s) => Step::Open(
                    is(&ns, ASSERTION_NS) && s.local_name().as_ref() == b"EncryptedAssertion",
                ),
                Event::End(_) => Step::Close,
                Event::Eof => Step::End,
                _ => Step::Other,
            }
        };
        match step {
            Step::Open(encrypted) => {
                if start.is_none() && depth == 1 && encrypted {
                    start = Some((before, depth));
                }
                depth += 1;
            }
            Step::Close => {
                depth = depth.saturating_sub(1);
                if let Some((from, at)) = start
                    && depth == at
                {
                    let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                    return Ok((from, after));
                }
            }
            Step::End => break,
            Step::Other => {}
        }
    }
    Err(SamlError::Malformed(
        "the EncryptedAssertion is not a child of the Response".into(),
    ))
}

/// What an `EncryptedAssertion` holds: its `EncryptedData`'s method and cipher value, and the
/// one `EncryptedKey`'s (inside the data's `KeyInfo`, or beside the data).
struct EncryptionParts {
    data_method: String,
    data_value: String,
    key_method: String,
    key_value: String,
}

/// Reads the parts of an `EncryptedAssertion` element (namespace-aware: exactly one
/// `xenc:EncryptedData` and one `xenc:EncryptedKey`, each with one `EncryptionMethod` and one
/// `CipherData/CipherValue`).
fn encryption_parts(element: &str) -> Result<EncryptionParts, SamlError> {
    let malformed = |m: &str| SamlError::Malformed(format!("cannot decrypt the assertion: {m}"));
    let mut reader = NsReader::from_str(element);
    // The (namespace is XML Encryption, local name) of the open elements.
    let mut path: Vec<(bool, Vec<u8>)> = Vec::new();
    let (mut data_method, mut data_value, mut key_method, mut key_value) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let parent = |path: &[(bool, Vec<u8>)], back: usize| -> Option<Vec<u8>> {
        path.len()
            .checked_sub(back)
            .and_then(|i| path.get(i))
            .and_then(|(xenc, name)| xenc.then(|| name.clone()))
    };
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?;
        let xenc = is(&ns, XENC_NS);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_vec();
                if xenc && local == b"EncryptionMethod" {
                    let algorithm = attr(e, b"Algorithm")?
                        .ok_or_else(|| malformed("an EncryptionMethod without Algorithm"))?;
                    match parent(&path, 1).as_deref() {
                        Some(b"EncryptedData") => data_method.push(algorithm),
                        Some(b"EncryptedKey") => key_method.push(algorithm),
                        _ => {}
                    }
                }
                if matches!(event, Event::Start(_)) {
                    path.push((xenc, local));
                }
            }
            Event::Text(t) => {
                if let Some((true, name)) = path.last()
                    && name.as_slice() == b"CipherValue"
                    && parent(&path, 2).as_deref() == Some(b"CipherData")
                {
                    let text = t
                        .decode()
                        .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?
                        .into_owned();
                    match parent(&path, 3).as_deref() {
                        Some(b"EncryptedData") => data_value.push(text),
                        Some(b"EncryptedKey") => key_value.push(text),
                        _ => {}
                    }
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let one = |mut v: Vec<String>| if v.len() == 1 { v.pop() } else { None };
    let (dm, dv, km, kv) = (
        one(data_method),
        one(data_value),
        one(key_method),
        one(key_value),
    );
    match (dm, dv, km, kv) {
        (Some(data_method), Some(data_value), Some(key_method), Some(key_value)) => {
            Ok(EncryptionParts {
                data_method,
                data_value,
                key_method,
                key_value,
            })
        }
        _ => Err(malformed(
            "it must hold one EncryptedData and one EncryptedKey, each with one EncryptionMethod and one CipherValue",
        )),
    }
}

/// Decrypts the response's one `EncryptedAssertion` (XML Encryption: the key by RSA-OAEP or
/// RSA 1.5, the data by AES-128-CBC or AES-128-GCM, samael's decryption over OpenSSL) and puts
/// the plaintext assertion in its place, as an XML Encryption processor does; the signature
/// inside it is then verified like any other.
fn decrypt_in_place(xml: &str, key: &PKey<Private>) -> Result<String, SamlError> {
    let undecryptable =
        |e: &dyn fmt::Display| SamlError::Malformed(format!("cannot decrypt the assertion: {e}"));
    let (from, to) = encrypted_assertion_span(xml)?;
    let parts = encryption_parts(xml.get(from..to).unwrap_or_default())?;
    let cipher_key = CipherValue {
        value: parts.key_value,
    };
    let data_key = Crypto::decrypt_assertion_key_info(&cipher_key, &parts.key_method, key)
        .map_err(|e| undecryptable(&e))?;
    let cipher_value = CipherValue {
        value: parts.data_value,
    };
    let value_method = &parts.data_method;
    // samael slices the value as IV, data (and GCM tag) without checking its length: a value
    // shorter than an IV and one block (or IV and tag) is refused here instead.
    let value_bytes =
        openssl::base64::decode_block(&cipher_value.value.lines().collect::<String>())
            .map_err(|e| undecryptable(&e))?;
    if value_bytes.len() < 32 {
        return Err(undecryptable(&"the encrypted value is too short"));
    }
    let plaintext = Crypto::decrypt_assertion_value_info(&cipher_value, value_method, &data_key)
        .map_err(|e| undecryptable(&e))?;
    // CBC's padding is not removed by the decryption (XML Encryption pads with random bytes
    // and a length): the element is what lies between the first '<' and the last '>'.
    let valid = match std::str::from_utf8(&plaintext) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(plaintext.get(..e.valid_up_to()).unwrap_or_default())
            .unwrap_or_default(),
    };
    let element = match (valid.find('<'), valid.rfind('>')) {
        (Some(from), Some(to)) if from < to => valid.get(from..=to).unwrap_or_default(),
        _ => return Err(undecryptable(&"the plaintext is not XML")),
    };
    let (head, tail) = (
        xml.get(..from).unwrap_or_default(),
        xml.get(to..).unwrap_or_default(),
    );
    Ok(format!("{head}{element}{tail}"))
}

/// [`verify`], decrypting an `EncryptedAssertion` with `decryption_key` first (without a key,
/// an encrypted assertion is refused).
pub fn verify_with(
    saml_response: &str,
    metadata_xml: &str,
    decryption_key: Option<&PKey<Private>>,
) -> Result<SignedAssertion, SamlError> {
    let xml = decode_posted(saml_response)?;

    let descriptor = parse_metadata(metadata_xml)?;
    let idp_entity_id = descriptor
        .entity_id
        .clone()
        .ok_or_else(|| SamlError::Metadata("the metadata names no entityID".into()))?;
    let certificates = required_signing_certificates(&descriptor)?;

    // 1. Shape (after decrypting the one EncryptedAssertion in its place, if that is what the
    // response carries; the decrypted document must then have the shape of a plain one).
    let mut shape = shape(&xml)?;
    let mut xml = xml;
    let encrypted = shape.encrypted > 0;
    if encrypted {
        let key = decryption_key.ok_or(SamlError::Encrypted)?;
        if shape.encrypted != 1 || !shape.assertions.is_empty() {
            return Err(SamlError::Signature(
                "the response must carry exactly one assertion, a child of the Response".into(),
            ));
        }
        xml = decrypt_in_place(&xml, key)?;
        shape = self::shape(&xml)?;
    }
    match shape.status.as_deref() {
        Some(STATUS_SUCCESS) => {}
        Some(other) => return Err(SamlError::Status(other.to_string())),
        None => {
            return Err(SamlError::Malformed(
                "the response has no StatusCode".into(),
            ));
        }
    }
    if shape.encrypted > 0 {
        return Err(SamlError::Encrypted);
    }
    let assertion_id = match shape.assertions.as_slice() {
        [(Some(id), true)] => id.clone(),
        [] => {
            return Err(SamlError::Malformed(
                "the response carries no assertion".into(),
            ));
        }
        _ => {
            return Err(SamlError::Signature(
                "the response must carry exactly one assertion, a child of the Response".into(),
            ));
        }
    };

    // 2. Signatures, and only what they cover.
    let reduced = signed_parts(&xml, &certificates)?;

    // 3. The signed element is the assertion, or the Response around it.
    let (assertion, signed_response) = match root_element(&reduced)? {
        Root::Response => {
            let response = reduced
                .parse::<Response>()
                .map_err(|e| SamlError::Malformed(format!("the signed Response: {e}")))?;
            if Some(&response.id) != shape.root_id.as_ref() {
                return Err(SamlError::Signature(
                    "the signed Response is not the document".into(),
                ));
            }
            let assertion = response.assertion.clone().ok_or_else(|| {
                SamlError::Signature("the signed Response holds no assertion".into())
            })?;
            (assertion, Some(response))
        }
        Root::Assertion => {
            let assertion = reduced
                .parse::<Assertion>()
                .map_err(|e| SamlError::Malformed(format!("the signed assertion: {e}")))?;
            (assertion, None)
        }
        Root::Other => {
            return Err(SamlError::Signature(
                "the signed element is neither the Response nor its assertion".into(),
            ));
        }
    };
    if assertion.id != assertion_id {
        return Err(SamlError::Signature(
            "the signed assertion is not the response's assertion".into(),
        ));
    }
    let mut answer = answer(idp_entity_id, assertion, signed_response.as_ref(), &shape);
    answer.encrypted = encrypted;
    Ok(answer)
}

fn answer(
    idp_entity_id: String,
    a: Assertion,
    response: Option<&Response>,
    shape: &Shape,
) -> SignedAssertion {
    let subject = a.subject.as_ref();
    let name_id = subject.and_then(|s| s.name_id.as_ref());
    let confirmations = subject
        .and_then(|s| s.subject_confirmations.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let data = c.subject_confirmation_data;
            Confirmation {
                method: c.method.unwrap_or_default(),
                recipient: data.as_ref().and_then(|d| d.recipient.clone()),
                in_response_to: data.as_ref().and_then(|d| d.in_response_to.clone()),
                not_before_millis: data
                    .as_ref()
                    .and_then(|d| d.not_before.as_ref())
                    .map(millis),
                not_on_or_after_millis: data
                    .as_ref()
                    .and_then(|d| d.not_on_or_after.as_ref())
                    .map(millis),
            }
        })
        .collect();
    let conditions = a.conditions.as_ref();
    let authn = a.authn_statements.as_ref().and_then(|s| s.first());
    let attributes = a
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .map(|at| Attribute {
            name: at.name.clone().unwrap_or_default(),
            values: at.values.iter().filter_map(|v| v.value.clone()).collect(),
        })
        .collect();
    SignedAssertion {
        idp_entity_id,
        id: a.id.clone(),
        issuer: a.issuer.value.clone().unwrap_or_default(),
        issue_instant_millis: millis(&a.issue_instant),
        name_id: name_id.map(|n| n.value.clone()),
        name_id_format: name_id.and_then(|n| n.format.clone()),
        confirmations,
        not_before_millis: conditions.and_then(|c| c.not_before.as_ref()).map(millis),
        not_on_or_after_millis: conditions
            .and_then(|c| c.not_on_or_after.as_ref())
            .map(millis),
        audience_restrictions: conditions
            .and_then(|c| c.audience_restrictions.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.audience)
            .collect(),
        session_index: authn.and_then(|s| s.session_index.clone()),
        session_not_on_or_after_millis: authn
            .and_then(|s| s.session_not_on_or_after.as_ref())
            .map(millis),
        attributes,
        // Signed when the Response is; otherwise the document's own (checked all the same).
        response_destination: response
            .map(|r| r.destination.clone())
            .unwrap_or_else(|| shape.destination.clone()),
        response_in_response_to: response
            .map(|r| r.in_response_to.clone())
            .unwrap_or_else(|| shape.in_response_to.clone()),
        encrypted: false,
    }
}

/// The RSA-SHA256 signature (PKCS#1 v1.5, base64) of an HTTP-Redirect binding message's
/// `SAMLRequest=…&RelayState=…&SigAlg=…`, with OpenSSL.
pub fn sign_redirect(signed_query: &str, key: &PKey<Private>) -> Result<String, SamlError> {
    let failed = |e: openssl::error::ErrorStack| SamlError::Malformed(format!("cannot sign: {e}"));
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key).map_err(failed)?;
    signer.update(signed_query.as_bytes()).map_err(failed)?;
    let signature = signer.sign_to_vec().map_err(failed)?;
    Ok(Base64::encode_string(&signature))
}

/// The fields of a `LogoutResponse` document: its root's namespace-checked name and `ID`,
/// `InResponseTo`, `Destination`, the `Issuer` (a child of the root) and the top-level
/// `StatusCode`.
#[derive(Default)]
struct LogoutFields {
    is_logout_response: bool,
    id: Option<String>,
    answer: LogoutResponse,
}

fn logout_fields(xml: &str) -> Result<LogoutFields, SamlError> {
    let mut reader = NsReader::from_str(xml);
    let mut fields = LogoutFields::default();
    let mut depth = 0usize;
    let mut in_issuer = false;
    let mut in_status = false;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let local = s.local_name();
                let local = local.as_ref();
                if depth == 0 {
                    fields.is_logout_response = is(&ns, PROTOCOL_NS) && local == b"LogoutResponse";
                    fields.id = attr(s, b"ID")?;
                    fields.answer.in_response_to = attr(s, b"InResponseTo")?;
                    fields.answer.destination = attr(s, b"Destination")?;
                } else if depth == 1 && is(&ns, ASSERTION_NS) && local == b"Issuer" {
                    in_issuer = matches!(event, Event::Start(_));
                } else if depth == 1 && is(&ns, PROTOCOL_NS) && local == b"Status" {
                    in_status = true;
                } else if depth == 2
                    && in_status
                    && is(&ns, PROTOCOL_NS)
                    && local == b"StatusCode"
                    && fields.answer.status.is_none()
                {
                    fields.answer.status = attr(s, b"Value")?;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::Text(t) if in_issuer => {
                let text = t
                    .decode()
                    .map_err(|e| SamlError::Malformed(format!("not XML: {e}")))?;
                fields
                    .answer
                    .issuer
                    .get_or_insert_with(String::new)
                    .push_str(text.trim());
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    in_issuer = false;
                    in_status = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(fields)
}

/// Verifies a base64 `LogoutResponse` (HTTP-POST binding) against the IdP's metadata: the
/// document is a `LogoutResponse` without DOCTYPE, libxmlsec1 verifies its signatures against
/// the metadata's signing certificates (SHA-2 only), and the signed element must be the root
/// itself (the same `ID`); the fields are read from what the signature covers.
pub fn verify_logout_response(
    saml_response: &str,
    metadata_xml: &str,
) -> Result<LogoutResponse, SamlError> {
    let xml = decode_posted(saml_response)?;
    if has_doctype(&xml) {
        return Err(SamlError::Malformed("a DOCTYPE is not allowed".into()));
    }
    let document = logout_fields(&xml)?;
    if !document.is_logout_response || document.id.is_none() {
        return Err(SamlError::Malformed(
            "the document is not a LogoutResponse with an ID".into(),
        ));
    }
    let descriptor = parse_metadata(metadata_xml)?;
    let certificates = required_signing_certificates(&descriptor)?;
    let reduced = signed_parts(&xml, &certificates)?;
    let signed = logout_fields(&reduced)?;
    if !signed.is_logout_response || signed.id != document.id {
        return Err(SamlError::Signature(
            "the signed element is not the LogoutResponse".into(),
        ));
    }
    Ok(signed.answer)
}
