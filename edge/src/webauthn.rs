//! The Worker's passkey verifier (the core's `WebAuthnVerifier` port).
//!
//! The host's verifier (webauthn-rs-core) cannot serve here: its registration reads
//! `SystemTime::now`, which panics on wasm32-unknown-unknown, and with its CBOR, ASN.1, X.509
//! and RSA/ECDSA code it would take the Worker over its 1 MB (gzipped) upload. So the Worker
//! verifies the ceremonies (W3C WebAuthn Level 3, §7.1 and §7.2) with the runtime's WebCrypto
//! for the signatures (`crypto.subtle.verify`: ECDSA P-256 with SHA-256 for ES256,
//! RSASSA-PKCS1-v1_5 with SHA-256 for RS256), ciborium for the CBOR attestation object, coset
//! (Google's COSE library) for the credential's COSE key, and `der` for the ECDSA signature's
//! DER form (WebCrypto takes `r || s`). No cryptography is written here.
//!
//! What is checked, as the host's verifier does: the client data's `type`, `challenge` and
//! `origin` (exactly the one the core accepts; `crossOrigin` refused), the RP ID hash, the UP
//! flag (and UV where required), backup flags that agree, the key's algorithm (ES256 or RS256,
//! the ones the core offers), and the attestation statement: `none` (what browsers send for
//! the `attestation: "none"` the core asks for) and `packed`: self attestation, whose signature
//! is checked with the new key, or basic attestation with a certificate chain (`x5c`), whose
//! signature is checked with the first certificate's key (ES256 or RS256) and whose certificate
//! is held to §8.2.1 (read with RustCrypto's `der`; the chain is not taken to a vendor's root,
//! as on the host). ECDAA and the other formats are refused here as unsupported
//! (`WebAuthnCredentialNotSupportedException`); the host accepts them too. The stored key ([`VerifiedPasskey::key`]) is the public key as a JWK,
//! which WebCrypto imports as it is; the host stores its library's own record instead, so a
//! passkey registered on one is not checked by the other.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ciborium::Value;
use cognate_core::ports::{
    AssertionCheck, BoxFuture, RegistrationCheck, VerifiedAssertion, VerifiedPasskey,
    WebAuthnRefusal, WebAuthnVerifier, boxed,
};
use coset::{AsCborValue as _, CoseKey, KeyType, Label, RegisteredLabelWithPrivate, iana};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The verifier (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeWebAuthn;

// Authenticator data flags (WebAuthn L3 §6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// A credential public key, as a JWK (RFC 7517/7518) WebCrypto imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kty")]
pub enum PublicKey {
    /// ES256: a P-256 point.
    #[serde(rename = "EC")]
    Ec2 { crv: String, x: String, y: String },
    /// RS256: modulus and exponent.
    #[serde(rename = "RSA")]
    Rsa { n: String, e: String },
}

/// A signature to check: `signature` by `key` over `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub key: PublicKey,
    pub signature: Vec<u8>,
    pub data: Vec<u8>,
}

/// A registration whose every check but the signatures has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRegistration {
    pub passkey: VerifiedPasskey,
    pub key: PublicKey,
    /// The `packed` self attestation's signature (none for `none`).
    pub attestation: Option<SignatureCheck>,
}

/// An assertion whose every check but the signature has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAssertion {
    pub verified: VerifiedAssertion,
    pub signature: SignatureCheck,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationJson {
    id: String,
    #[serde(rename = "type")]
    type_: String,
    response: AttestationResponseJson,
}

#[derive(Deserialize)]
struct AttestationResponseJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "attestationObject")]
    attestation_object: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionJson {
    id: String,
    #[serde(rename = "type")]
    type_: String,
    response: AssertionResponseJson,
}

#[derive(Deserialize)]
struct AssertionResponseJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "authenticatorData")]
    authenticator_data: String,
    signature: String,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    type_: String,
    challenge: String,
    origin: String,
    #[serde(default, rename = "crossOrigin")]
    cross_origin: bool,
}

fn unsupported(what: &str) -> WebAuthnRefusal {
    WebAuthnRefusal::Unsupported(what.into())
}

fn failed(what: &str) -> WebAuthnRefusal {
    WebAuthnRefusal::Failed(what.into())
}

/// base64url, padded or not (browsers' `toJSON()` leave the padding out).
fn b64url(field: &str, value: &str) -> Result<Vec<u8>, WebAuthnRefusal> {
    Base64UrlUnpadded::decode_vec(value.trim_end_matches('='))
        .map_err(|_| WebAuthnRefusal::Unsupported(format!("{field} is not base64url")))
}

fn b64url_string(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// §7.1 steps 5-11 / §7.2 steps 10-16: the client data, and its hash.
fn client_data(
    encoded: &str,
    ceremony: &str,
    challenge: &[u8],
    origin: &str,
) -> Result<[u8; 32], WebAuthnRefusal> {
    let bytes = b64url("clientDataJSON", encoded)?;
    let data: ClientData = serde_json::from_slice(&bytes)
        .map_err(|_| unsupported("clientDataJSON is not the client data"))?;
    if data.type_ != ceremony {
        return Err(WebAuthnRefusal::Challenge);
    }
    if b64url("challenge", &data.challenge).ok().as_deref() != Some(challenge) {
        return Err(WebAuthnRefusal::Challenge);
    }
    if data.origin != origin || data.cross_origin {
        return Err(WebAuthnRefusal::Origin);
    }
    Ok(Sha256::digest(&bytes).into())
}

/// Authenticator data (§6.1), with its attested credential data where `AT` is set.
struct AuthData {
    flags: u8,
    counter: u32,
    /// The AAGUID, credential id and public key, where `AT` is set.
    attested: Option<([u8; 16], Vec<u8>, CoseKey)>,
}

fn auth_data(
    bytes: &[u8],
    rp_id: &str,
    user_verification_required: bool,
) -> Result<AuthData, WebAuthnRefusal> {
    let short = || unsupported("authenticator data too short");
    let rp_id_hash = bytes.get(..32).ok_or_else(short)?;
    let flags = *bytes.get(32).ok_or_else(short)?;
    let counter = bytes.get(33..37).ok_or_else(short)?;
    let counter = u32::from_be_bytes(counter.try_into().map_err(|_| short())?);
    if rp_id_hash != Sha256::digest(rp_id.as_bytes()).as_slice() {
        return Err(WebAuthnRefusal::RelyingParty);
    }
    if flags & UP == 0 {
        return Err(failed("user not present"));
    }
    if user_verification_required && flags & UV == 0 {
        return Err(failed("user not verified"));
    }
    if flags & BS != 0 && flags & BE == 0 {
        return Err(failed("backed up without being backup eligible"));
    }
    let attested = if flags & AT != 0 {
        // aaguid (16 bytes), credentialIdLength (2), credentialId, credentialPublicKey (COSE).
        let aaguid: [u8; 16] = bytes
            .get(37..53)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?;
        let length = bytes.get(53..55).ok_or_else(short)?;
        let length = usize::from(u16::from_be_bytes(length.try_into().map_err(|_| short())?));
        if length > 1023 {
            return Err(unsupported("credential id longer than 1023 bytes"));
        }
        let id = bytes.get(55..55 + length).ok_or_else(short)?.to_vec();
        let mut rest = bytes.get(55 + length..).ok_or_else(short)?;
        let value: Value =
            ciborium::from_reader(&mut rest).map_err(|_| unsupported("credential public key"))?;
        let key = CoseKey::from_cbor_value(value)
            .map_err(|_| unsupported("credential public key is not a COSE key"))?;
        Some((aaguid, id, key))
    } else {
        None
    };
    Ok(AuthData {
        flags,
        counter,
        attested,
    })
}

fn param(key: &CoseKey, label: i64) -> Option<&Value> {
    key.params
        .iter()
        .find(|(l, _)| *l == Label::Int(label))
        .map(|(_, v)| v)
}

fn bytes_param(key: &CoseKey, label: i64) -> Result<&[u8], WebAuthnRefusal> {
    match param(key, label) {
        Some(Value::Bytes(b)) => Ok(b),
        _ => Err(unsupported("credential public key parameter")),
    }
}

/// The COSE key's algorithm and JWK (ES256 on P-256, RS256: what the core offers).
fn public_key(key: &CoseKey) -> Result<(iana::Algorithm, PublicKey), WebAuthnRefusal> {
    let alg = match key.alg {
        Some(RegisteredLabelWithPrivate::Assigned(alg)) => alg,
        _ => return Err(unsupported("credential public key has no known algorithm")),
    };
    match (&key.kty, alg) {
        (KeyType::Assigned(iana::KeyType::EC2), iana::Algorithm::ES256) => {
            let curve = param(key, iana::Ec2KeyParameter::Crv as i64);
            if curve != Some(&Value::from(iana::EllipticCurve::P_256 as i64)) {
                return Err(unsupported("ES256 key not on P-256"));
            }
            let x = bytes_param(key, iana::Ec2KeyParameter::X as i64)?;
            let y = bytes_param(key, iana::Ec2KeyParameter::Y as i64)?;
            if x.len() != 32 || y.len() != 32 {
                return Err(unsupported("P-256 coordinates of the wrong length"));
            }
            Ok((
                alg,
                PublicKey::Ec2 {
                    crv: "P-256".into(),
                    x: b64url_string(x),
                    y: b64url_string(y),
                },
            ))
        }
        (KeyType::Assigned(iana::KeyType::RSA), iana::Algorithm::RS256) => {
            let n = bytes_param(key, iana::RsaKeyParameter::N as i64)?;
            let e = bytes_param(key, iana::RsaKeyParameter::E as i64)?;
            Ok((
                alg,
                PublicKey::Rsa {
                    n: b64url_string(n),
                    e: b64url_string(e),
                },
            ))
        }
        _ => Err(unsupported(
            "credential algorithm not offered (ES256 and RS256 are)",
        )),
    }
}

fn text_key(map: &[(Value, Value)], name: &str) -> Option<Value> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(name))
        .map(|(_, v)| v.clone())
}

// Object identifiers of the attestation certificate (WebAuthn L3 §8.2.1, RFC 5280, RFC 5480,
// RFC 8017), as the contents octets of their DER encoding (compared as they are, which keeps
// an OID library out of the Worker).
type Oid = &'static [u8];
/// id-fido-gen-ce-aaguid, 1.3.6.1.4.1.45724.1.1.4
const ID_FIDO_GEN_CE_AAGUID: Oid = &[0x2b, 6, 1, 4, 1, 0x82, 0xe5, 0x1c, 1, 1, 4];
/// id-ce-basicConstraints, 2.5.29.19
const ID_CE_BASIC_CONSTRAINTS: Oid = &[0x55, 0x1d, 0x13];
/// id-ecPublicKey, 1.2.840.10045.2.1
const ID_EC_PUBLIC_KEY: Oid = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 2, 1];
/// secp256r1, 1.2.840.10045.3.1.7
const SECP256R1: Oid = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7];
/// rsaEncryption, 1.2.840.113549.1.1.1
const RSA_ENCRYPTION: Oid = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1];
/// id-at-countryName (2.5.4.6), -organizationName (.10), -organizationalUnitName (.11),
/// -commonName (.3)
const ID_AT_COUNTRY_NAME: Oid = &[0x55, 4, 6];
const ID_AT_ORGANIZATION_NAME: Oid = &[0x55, 4, 10];
const ID_AT_ORGANIZATIONAL_UNIT_NAME: Oid = &[0x55, 4, 11];
const ID_AT_COMMON_NAME: Oid = &[0x55, 4, 3];

/// The elements of a constructed DER value (a SEQUENCE's or SET's contents), each as `AnyRef`.
fn elements<'a>(contents: &'a [u8]) -> der::Result<Vec<der::asn1::AnyRef<'a>>> {
    use der::{Decode as _, Reader as _};
    let mut reader = der::SliceReader::new(contents)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(der::asn1::AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

/// A `packed` attestation certificate (DER, the first of `x5c`), held to WebAuthn L3 §8.2.1:
/// version 3; a subject with C, O, CN and OU "Authenticator Attestation"; basic constraints,
/// if present, not a CA; the id-fido-gen-ce-aaguid extension, if present, not critical and
/// equal to the authenticator data's AAGUID. Answers its public key (P-256 or RSA), which
/// signed the statement. The chain is not taken to a root: Cognate keeps no list of
/// authenticator vendors' CAs (it asks for `attestation: "none"`), as the host does not.
///
/// The certificate is read with `der` (RustCrypto's DER library, as in x509-cert), field by
/// field of RFC 5280's TBSCertificate, keeping only what these checks need: x509-cert's full
/// decoding would take the Worker over its 1 MB upload.
fn attestation_certificate(
    der_bytes: &[u8],
    aaguid: &[u8; 16],
) -> Result<PublicKey, WebAuthnRefusal> {
    match read_certificate(der_bytes) {
        Ok(parts) => judge_certificate(&parts, aaguid),
        Err(_) => Err(unsupported("attestation certificate is not X.509 DER")),
    }
}

/// What §8.2.1 looks at in a certificate.
struct CertificateParts<'a> {
    version: u8,
    /// The subject's attributes: (type, value bytes).
    subject: Vec<(&'a [u8], &'a [u8])>,
    /// (id, critical, value).
    extensions: Vec<(&'a [u8], bool, &'a [u8])>,
    key_algorithm: &'a [u8],
    key_parameters: Option<der::asn1::AnyRef<'a>>,
    key_bits: &'a [u8],
}

/// A SEQUENCE's elements.
fn sequence(any: der::asn1::AnyRef<'_>) -> der::Result<Vec<der::asn1::AnyRef<'_>>> {
    use der::Tagged as _;
    any.tag().assert_eq(der::Tag::Sequence)?;
    elements(any.value())
}

/// The `i`th of `list`, or a DER length error.
fn nth<'a>(list: &[der::asn1::AnyRef<'a>], i: usize) -> der::Result<der::asn1::AnyRef<'a>> {
    list.get(i).copied().ok_or_else(|| {
        der::ErrorKind::Length {
            tag: der::Tag::Sequence,
        }
        .into()
    })
}

/// The contents of an element with tag `tag`.
fn contents(any: der::asn1::AnyRef<'_>, tag: der::Tag) -> der::Result<&[u8]> {
    use der::Tagged as _;
    any.tag().assert_eq(tag)?;
    Ok(any.value())
}

/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280).
/// Every value is read with `der`'s `AnyRef` (tag, length, contents) and taken apart by
/// position, which keeps the code small.
fn read_certificate(der_bytes: &[u8]) -> der::Result<CertificateParts<'_>> {
    use der::asn1::AnyRef;
    use der::{Class, Decode as _, Tag, TagNumber, Tagged as _};
    let certificate = sequence(AnyRef::from_der(der_bytes)?)?;
    let fields = sequence(nth(&certificate, 0)?)?;
    let context = |any: &AnyRef<'_>, n: u32| {
        any.tag().class() == Class::ContextSpecific && any.tag().number() == TagNumber(n)
    };
    // version [0] EXPLICIT INTEGER DEFAULT v1(0), then serialNumber, signature, issuer,
    // validity, subject, subjectPublicKeyInfo, and the optional [1], [2], [3] EXPLICIT.
    let (version, at) = match fields.first() {
        Some(v) if context(v, 0) => {
            let number = contents(AnyRef::from_der(v.value())?, Tag::Integer)?;
            (number.last().copied().filter(|_| number.len() == 1), 1)
        }
        _ => (Some(0), 0),
    };
    let mut subject = Vec::new();
    for set in elements(contents(nth(&fields, at + 4)?, Tag::Sequence)?)? {
        for attribute in elements(contents(set, Tag::Set)?)? {
            let pair = sequence(attribute)?;
            subject.push((
                contents(nth(&pair, 0)?, Tag::ObjectIdentifier)?,
                nth(&pair, 1)?.value(),
            ));
        }
    }
    let spki = sequence(nth(&fields, at + 5)?)?;
    let algorithm = sequence(nth(&spki, 0)?)?;
    // A BIT STRING's contents: the number of unused bits (0 for a key), then the bits.
    let key_bits = match contents(nth(&spki, 1)?, Tag::BitString)?.split_first() {
        Some((0, bits)) => bits,
        _ => {
            return Err(der::ErrorKind::Length {
                tag: Tag::BitString,
            }
            .into());
        }
    };
    let mut extensions = Vec::new();
    for field in fields.iter().skip(at + 6).filter(|f| context(f, 3)) {
        for extension in sequence(AnyRef::from_der(field.value())?)? {
            let parts = sequence(extension)?;
            // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
            let critical = parts.len() == 3 && contents(nth(&parts, 1)?, Tag::Boolean)? == [0xff];
            extensions.push((
                contents(nth(&parts, 0)?, Tag::ObjectIdentifier)?,
                critical,
                contents(
                    nth(&parts, parts.len().saturating_sub(1))?,
                    Tag::OctetString,
                )?,
            ));
        }
    }
    Ok(CertificateParts {
        version: version.unwrap_or(u8::MAX),
        subject,
        extensions,
        key_algorithm: contents(nth(&algorithm, 0)?, Tag::ObjectIdentifier)?,
        key_parameters: algorithm.get(1).copied(),
        key_bits,
    })
}

fn judge_certificate(
    parts: &CertificateParts<'_>,
    aaguid: &[u8; 16],
) -> Result<PublicKey, WebAuthnRefusal> {
    use der::Decode as _;
    use der::asn1::AnyRef;
    let requirement = |what: &str| failed(&format!("attestation certificate: {what}"));
    // v3 is encoded as 2.
    if parts.version != 2 {
        return Err(requirement("not version 3"));
    }
    let attribute = |wanted: Oid| {
        parts
            .subject
            .iter()
            .find(|(o, _)| *o == wanted)
            .map(|(_, v)| *v)
    };
    let country = attribute(ID_AT_COUNTRY_NAME).is_some_and(|c| c.len() == 2);
    let filled = |oid| attribute(oid).is_some_and(|v| !v.is_empty());
    if !country
        || !filled(ID_AT_ORGANIZATION_NAME)
        || !filled(ID_AT_COMMON_NAME)
        || attribute(ID_AT_ORGANIZATIONAL_UNIT_NAME)
            != Some(b"Authenticator Attestation".as_slice())
    {
        return Err(requirement(
            "the subject lacks C, O, CN or OU \"Authenticator Attestation\"",
        ));
    }
    for (id, critical, value) in &parts.extensions {
        if *id == ID_CE_BASIC_CONSTRAINTS {
            // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
            let ca = AnyRef::from_der(value)
                .and_then(sequence)
                .map(|c| {
                    c.first()
                        .and_then(|f| contents(*f, der::Tag::Boolean).ok())
                        .is_some_and(|b| b == [0xff])
                })
                .map_err(|_| requirement("unreadable basic constraints"))?;
            if ca {
                return Err(requirement("a CA certificate"));
            }
        } else if *id == ID_FIDO_GEN_CE_AAGUID {
            let stated = AnyRef::from_der(value)
                .and_then(|v| contents(v, der::Tag::OctetString))
                .map_err(|_| requirement("unreadable AAGUID extension"))?;
            if *critical {
                return Err(requirement("a critical AAGUID extension"));
            }
            if stated != aaguid {
                return Err(requirement("its AAGUID is not the authenticator's"));
            }
        }
    }
    let bits = parts.key_bits;
    if parts.key_algorithm == ID_EC_PUBLIC_KEY {
        let curve = parts
            .key_parameters
            .and_then(|p| contents(p, der::Tag::ObjectIdentifier).ok());
        if curve != Some(SECP256R1) {
            return Err(unsupported("attestation key not on P-256"));
        }
        // An uncompressed point: 0x04 || x || y.
        match (bits.first(), bits.get(1..33), bits.get(33..65), bits.len()) {
            (Some(4), Some(x), Some(y), 65) => Ok(PublicKey::Ec2 {
                crv: "P-256".into(),
                x: b64url_string(x),
                y: b64url_string(y),
            }),
            _ => Err(unsupported(
                "attestation key is not an uncompressed P-256 point",
            )),
        }
    } else if parts.key_algorithm == RSA_ENCRYPTION {
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        let bad = || unsupported("attestation key is not an RSA public key");
        let integer = |any| {
            // An INTEGER's contents, without the sign octet of a positive number.
            contents(any, der::Tag::Integer).map(|n| match n {
                [0, rest @ ..] if !rest.is_empty() => rest,
                _ => n,
            })
        };
        let key = AnyRef::from_der(bits)
            .and_then(sequence)
            .map_err(|_| bad())?;
        let (n, e) = (
            integer(nth(&key, 0).map_err(|_| bad())?).map_err(|_| bad())?,
            integer(nth(&key, 1).map_err(|_| bad())?).map_err(|_| bad())?,
        );
        if key.len() != 2 {
            return Err(bad());
        }
        Ok(PublicKey::Rsa {
            n: b64url_string(n),
            e: b64url_string(e),
        })
    } else {
        Err(unsupported("attestation key neither EC nor RSA"))
    }
}

/// §7.1: every check of a registration but the signatures (which need WebCrypto).
pub fn check_registration(
    check: &RegistrationCheck,
) -> Result<CheckedRegistration, WebAuthnRefusal> {
    let response: RegistrationJson = serde_json::from_str(&check.response_json)
        .map_err(|_| unsupported("RegistrationResponseJSON does not parse"))?;
    if response.type_ != "public-key" {
        return Err(unsupported("not a public-key credential"));
    }
    let client_data_hash = client_data(
        &response.response.client_data_json,
        "webauthn.create",
        &check.challenge,
        &check.origin,
    )?;
    let object = b64url("attestationObject", &response.response.attestation_object)?;
    let object: Value = ciborium::from_reader(object.as_slice())
        .map_err(|_| unsupported("attestationObject is not CBOR"))?;
    let object = object
        .as_map()
        .ok_or_else(|| unsupported("attestationObject is not a map"))?;
    let format = text_key(object, "fmt")
        .and_then(|v| v.into_text().ok())
        .ok_or_else(|| unsupported("attestationObject has no fmt"))?;
    let statement = text_key(object, "attStmt")
        .and_then(|v| v.into_map().ok())
        .ok_or_else(|| unsupported("attestationObject has no attStmt"))?;
    let auth_bytes = text_key(object, "authData")
        .and_then(|v| v.into_bytes().ok())
        .ok_or_else(|| unsupported("attestationObject has no authData"))?;
    let auth = auth_data(&auth_bytes, &check.rp_id, check.user_verification_required)?;
    let (aaguid, credential_id, cose_key) = auth
        .attested
        .ok_or_else(|| unsupported("no attested credential data"))?;
    if b64url("id", &response.id)? != credential_id {
        return Err(failed("the credential id is not the attested one"));
    }
    let (alg, key) = public_key(&cose_key)?;
    let attestation = match format.as_str() {
        "none" if statement.is_empty() => None,
        "none" => return Err(unsupported("a `none` attestation with a statement")),
        "packed" => {
            if text_key(&statement, "ecdaaKeyId").is_some() {
                return Err(unsupported("packed ECDAA attestation"));
            }
            let stated = text_key(&statement, "alg")
                .and_then(|v| v.as_integer())
                .and_then(|i| i64::try_from(i).ok());
            let signature = text_key(&statement, "sig")
                .and_then(|v| v.into_bytes().ok())
                .ok_or_else(|| unsupported("packed attestation without sig"))?;
            // §8.2 verification procedure: with x5c, `sig` is by the attestation certificate's
            // key (the first of the chain) with `alg`; without, by the credential's own key
            // (self attestation), whose algorithm `alg` must be.
            let signer = match text_key(&statement, "x5c") {
                Some(chain) => {
                    let leaf = chain
                        .into_array()
                        .ok()
                        .and_then(|chain| chain.into_iter().next())
                        .and_then(|leaf| leaf.into_bytes().ok())
                        .ok_or_else(|| {
                            unsupported("packed attestation's x5c is not certificates")
                        })?;
                    let signer = attestation_certificate(&leaf, &aaguid)?;
                    let expected = match signer {
                        PublicKey::Ec2 { .. } => iana::Algorithm::ES256,
                        PublicKey::Rsa { .. } => iana::Algorithm::RS256,
                    };
                    if stated != Some(expected as i64) {
                        return Err(unsupported(
                            "packed attestation's alg is not its certificate key's (ES256 or RS256)",
                        ));
                    }
                    signer
                }
                None => {
                    if stated != Some(alg as i64) {
                        return Err(unsupported("packed attestation's alg is not the key's"));
                    }
                    key.clone()
                }
            };
            let mut data = auth_bytes.clone();
            data.extend_from_slice(&client_data_hash);
            Some(SignatureCheck {
                key: signer,
                signature,
                data,
            })
        }
        other => {
            return Err(WebAuthnRefusal::Unsupported(format!(
                "attestation format {other} (this server takes none and packed)"
            )));
        }
    };
    let stored = serde_json::to_string(&key).map_err(|_| unsupported("public key"))?;
    Ok(CheckedRegistration {
        passkey: VerifiedPasskey {
            credential_id,
            sign_count: auth.counter,
            user_verified: auth.flags & UV != 0,
            attestation_format: format,
            key: stored,
        },
        key,
        attestation,
    })
}

/// §7.2: every check of an assertion but the signature.
pub fn check_assertion(check: &AssertionCheck) -> Result<CheckedAssertion, WebAuthnRefusal> {
    let response: AssertionJson = serde_json::from_str(&check.response_json)
        .map_err(|_| unsupported("AuthenticationResponseJSON does not parse"))?;
    if response.type_ != "public-key" {
        return Err(unsupported("not a public-key credential"));
    }
    if b64url("id", &response.id)? != check.credential_id {
        return Err(failed("not the expected credential"));
    }
    let key: PublicKey = serde_json::from_str(&check.key).map_err(|_| unsupported("stored key"))?;
    let client_data_hash = client_data(
        &response.response.client_data_json,
        "webauthn.get",
        &check.challenge,
        &check.origin,
    )?;
    let auth_bytes = b64url("authenticatorData", &response.response.authenticator_data)?;
    let auth = auth_data(&auth_bytes, &check.rp_id, check.user_verification_required)?;
    let signature = b64url("signature", &response.response.signature)?;
    let mut data = auth_bytes;
    data.extend_from_slice(&client_data_hash);
    Ok(CheckedAssertion {
        verified: VerifiedAssertion {
            sign_count: auth.counter,
            user_verified: auth.flags & UV != 0,
        },
        signature: SignatureCheck {
            key,
            signature,
            data,
        },
    })
}

/// An ECDSA signature's ASN.1 DER form (`SEQUENCE { r INTEGER, s INTEGER }`, what
/// authenticators send) as the 64 bytes `r || s` WebCrypto verifies.
pub fn p256_signature(der_signature: &[u8]) -> Result<[u8; 64], WebAuthnRefusal> {
    use der::{Decode as _, Reader as _};
    let bad = || failed("the ECDSA signature is not DER");
    let mut reader = der::SliceReader::new(der_signature).map_err(|_| bad())?;
    let (r, s) = reader
        .sequence(|seq| {
            let r = der::asn1::UintRef::decode(seq)?;
            let s = der::asn1::UintRef::decode(seq)?;
            Ok::<_, der::Error>((r, s))
        })
        .map_err(|_| bad())?;
    reader.finish().map_err(|_| bad())?;
    let mut raw = [0u8; 64];
    for (half, n) in raw.chunks_exact_mut(32).zip([r, s]) {
        let n = n.as_bytes();
        let start = 32usize.checked_sub(n.len()).ok_or_else(bad)?;
        half.get_mut(start..).ok_or_else(bad)?.copy_from_slice(n);
    }
    Ok(raw)
}

#[cfg(target_arch = "wasm32")]
mod webcrypto {
    //! `crypto.subtle.importKey("jwk", ...)` and `crypto.subtle.verify`.
    use js_sys::Object;
    use wasm_bindgen::JsCast as _;
    use web_sys::CryptoKey;

    use super::{PublicKey, SignatureCheck, WebAuthnRefusal, p256_signature};
    use crate::platform::{promise, subtle, usages};

    fn object(pairs: &[(&str, &str)]) -> Result<Object, WebAuthnRefusal> {
        crate::platform::params(pairs).map_err(|e| internal(&e))
    }

    fn internal(e: &cognate_core::Error) -> WebAuthnRefusal {
        WebAuthnRefusal::Unsupported(format!("WebCrypto: {e}"))
    }

    /// Whether `check.signature` verifies; an unusable key (not a curve point, say) is
    /// unsupported.
    pub async fn verify(check: &SignatureCheck) -> Result<bool, WebAuthnRefusal> {
        let subtle = subtle().map_err(|e| internal(&e))?;
        let (jwk, import, algorithm) = match &check.key {
            PublicKey::Ec2 { crv, x, y } => (
                object(&[("kty", "EC"), ("crv", crv), ("x", x), ("y", y)])?,
                object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
                object(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
            ),
            PublicKey::Rsa { n, e } => {
                let algorithm = object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")])?;
                (
                    object(&[("kty", "RSA"), ("n", n), ("e", e), ("alg", "RS256")])?,
                    algorithm.clone(),
                    algorithm,
                )
            }
        };
        let key: CryptoKey = promise(
            "importKey",
            subtle.import_key_with_object("jwk", &jwk, &import, false, &usages(&["verify"])),
        )
        .await
        .map_err(|_| {
            WebAuthnRefusal::Unsupported("the credential public key is not usable".into())
        })?
        .dyn_into()
        .map_err(|_| WebAuthnRefusal::Unsupported("importKey: not a CryptoKey".into()))?;
        let signature = match &check.key {
            PublicKey::Ec2 { .. } => match p256_signature(&check.signature) {
                Ok(raw) => raw.to_vec(),
                Err(_) => return Ok(false),
            },
            PublicKey::Rsa { .. } => check.signature.clone(),
        };
        let ok = promise(
            "verify",
            subtle.verify_with_object_and_u8_array_and_u8_array(
                &algorithm,
                &key,
                &signature,
                &check.data,
            ),
        )
        .await
        .map_err(|e| internal(&e))?;
        Ok(ok.as_bool().unwrap_or(false))
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod webcrypto {
    //! Natively (the crate's unit tests) there is no WebCrypto: nothing verifies.
    use super::{SignatureCheck, WebAuthnRefusal};

    pub async fn verify(_check: &SignatureCheck) -> Result<bool, WebAuthnRefusal> {
        Err(WebAuthnRefusal::Unsupported(
            "no WebCrypto outside the Worker".into(),
        ))
    }
}

/// A registration, signatures included.
pub async fn register(check: &RegistrationCheck) -> Result<VerifiedPasskey, WebAuthnRefusal> {
    let checked = check_registration(check)?;
    match &checked.attestation {
        Some(signature) => {
            if !webcrypto::verify(signature).await? {
                return Err(failed("the attestation signature does not verify"));
            }
        }
        None => {
            // Nothing is signed with a `none` attestation: import the key all the same, so a
            // key WebCrypto cannot use (not a point of the curve, say) is refused now rather
            // than at every sign-in.
            let probe = SignatureCheck {
                key: checked.key.clone(),
                signature: Vec::new(),
                data: Vec::new(),
            };
            webcrypto::verify(&probe).await?;
        }
    }
    Ok(checked.passkey)
}

/// An assertion, its signature included.
pub async fn assert(check: &AssertionCheck) -> Result<VerifiedAssertion, WebAuthnRefusal> {
    let checked = check_assertion(check)?;
    if !webcrypto::verify(&checked.signature).await? {
        return Err(failed("signature does not verify"));
    }
    Ok(checked.verified)
}

impl WebAuthnVerifier for EdgeWebAuthn {
    fn verify_registration<'a>(
        &'a self,
        check: &'a RegistrationCheck,
    ) -> BoxFuture<'a, Result<VerifiedPasskey, WebAuthnRefusal>> {
        boxed(worker::send::SendFuture::new(register(check)))
    }
    fn verify_assertion<'a>(
        &'a self,
        check: &'a AssertionCheck,
    ) -> BoxFuture<'a, Result<VerifiedAssertion, WebAuthnRefusal>> {
        boxed(worker::send::SendFuture::new(assert(check)))
    }
}

pub mod known_answers {
    //! Browser responses recorded from real authenticators, as published in webauthn-rs-core
    //! 0.6.2's own tests (the host's verifier checks the same ones): `packed_es256`, Touch ID
    //! in Chrome 77 (`packed` self attestation, ES256); `hello_rs256`, Windows Hello (`none`,
    //! RS256) and an assertion of the same key. The crate's unit tests run every check but the
    //! signatures on them; the test route `POST /__cognate/test/webauthn` (src/testing.rs) runs
    //! them whole, WebCrypto included, inside the runtime.

    use base64ct::{Base64UrlUnpadded, Encoding as _};
    use cognate_core::ports::{AssertionCheck, RegistrationCheck};
    use serde_json::json;

    fn b64(s: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(s).unwrap_or_default()
    }

    pub const PACKED_ID: &str = "ATk_7QKbi_ntSdp16LXeU6RDf9YnRLIDTCqEjJFzc6rKBhbqoSYccxNa";
    /// The packed statement's signature, base64url (a prefix of it, to tamper with).
    pub const PACKED_SIG_PREFIX: &str = "Y2FsZyZjc2lnWEcwRQIgLXPjBtVEhBH3";

    pub fn packed_es256() -> RegistrationCheck {
        let response = json!({
            "id": PACKED_ID, "rawId": PACKED_ID, "type": "public-key",
            "response": {
                "attestationObject": "o2NmbXRmcGFja2VkZ2F0dFN0bXSiY2FsZyZjc2lnWEcwRQIgLXPjBtVEhBH3KdUDFFk3LAd9EtHogllIf48vjX4wgfECIQCXOymmfg12FPMXEdwpSjjtmrvki4K8y0uYxqWN5Bw6DGhhdXRoRGF0YViuSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFXaqejq3OAAI1vMYKZIsLJfHwVQMAKgE5P-0Cm4v57Unadei13lOkQ3_WJ0SyA0wqhIyRc3OqygYW6qEmHHMTWqUBAgMmIAEhWCDNRS_Gw52ow5PNrC9OdFTFNudDmZO6Y3wmM9N8e0tJICJYIC09iIH5_RrT5tbS0PIw3srdAxYDMGao7yWgu0JFIEzT",
                "clientDataJSON": "eyJjaGFsbGVuZ2UiOiJsUDZtV05BdEctX1Z2MTVpTTdsYl9YUmtkV012VlEtbFR5S3dadU9nMVZvIiwiZXh0cmFfa2V5c19tYXlfYmVfYWRkZWRfaGVyZSI6ImRvIG5vdCBjb21wYXJlIGNsaWVudERhdGFKU09OIGFnYWluc3QgYSB0ZW1wbGF0ZS4gU2VlIGh0dHBzOi8vZ29vLmdsL3lhYlBleCIsIm9yaWdpbiI6Imh0dHBzOi8vbG9jYWxob3N0Ojg0NDMiLCJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0"
            }
        });
        RegistrationCheck {
            rp_id: "localhost".into(),
            origin: "https://localhost:8443".into(),
            challenge: b64("lP6mWNAtG-_Vv15iM7lb_XRkdWMvVQ-lTyKwZuOg1Vo"),
            user_verification_required: false,
            response_json: response.to_string(),
        }
    }

    pub const HELLO_ORIGIN: &str = "https://etools-dev.example.com:8080";
    pub const HELLO_ID: &str = "KwlEDOBCBc9P1YU3NWihYLCeY-I9KGMhPap9vwHbVoI";

    pub fn hello_rs256() -> RegistrationCheck {
        let response = json!({
            "id": HELLO_ID, "rawId": HELLO_ID, "type": "public-key",
            "response": {
                "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVkBZ2wpgejnsqySxmYA_6D63eOJKMSO0N1z9i_GRS2layobRQAAAAAAAAAAAAAAAAAAAAAAAAAAACArCUQM4EIFz0_VhTc1aKFgsJ5j4j0oYyE9qn2_AdtWgqQBAwM5AQAgWQEApqOD6WFAiM9vJ1BQ5hMuOwz3l3GnnYzG46if0-hwdNE2lBqcOFg4G3Rm7VhjUUFPhfLAGRwtdIOB_blbI4EjwSxAVleJLBNK70iy8wvDh8LYbT5UrBC2UoyqAf9bUElkAXU9lLNfx6nk9K5FNrkPawUAbpsc83IgsNxdxKyeFgOaEpQUhF6mLRgbCP9sH-bEen3w19t2UOCSXFDbW9NYLRyFh1P01B15hGi9A2IqtAr56DuszG1AzotM9-YoJEdPC4tU05l9bGw3w80FWvhIKl4oiMFZA2ZtHkF1TGeWBCybaM9-XBChr9939ql_SA1TgQykZiqNrWaMNDkrcwzuWSFDAQAB",
                "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiRlFreTBGcW5tVjVLWXFGVTk2RTlhQXBTSVJ0alhpS2NWRlVmOEFtOGlEUSIsIm9yaWdpbiI6Imh0dHBzOi8vZXRvb2xzLWRldi5leGFtcGxlLmNvbTo4MDgwIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ"
            }
        });
        RegistrationCheck {
            rp_id: "etools-dev.example.com".into(),
            origin: HELLO_ORIGIN.into(),
            challenge: b64("FQky0FqnmV5KYqFU96E9aApSIRtjXiKcVFUf8Am8iDQ"),
            user_verification_required: true,
            response_json: response.to_string(),
        }
    }

    pub const YUBIKEY_ID: &str =
        "eKSmfhLUwwmJpuD2IKaTopbbWKFv-qZAE4LXa2FGmTtRpvioMpeFhI8RqdsOGlBoQxJehEQyWyu7ECwPkVL5Hg";
    /// The attestation certificate's AAGUID extension value, base64url within the object
    /// (to replace with another AAGUID).
    pub const YUBIKEY_CERT_AAGUID: &str = "L8BXn4ETR-qxFrtajbkgKj";
    /// The packed statement's signature, base64url (a prefix of it, to tamper with).
    pub const YUBIKEY_SIG_PREFIX: &str = "Y2FsZyZjc2lnWEcwRQIgW2gYNWvU";

    /// A YubiKey 5 (firmware 5.2) registration with `packed` basic attestation: `x5c` holds
    /// Yubico's attestation certificate (C=SE, O=Yubico AB, OU=Authenticator Attestation,
    /// CN=Yubico U2F EE Serial 512722740, with the AAGUID extension), ES256. From
    /// webauthn-rs-core 0.6.2's `test_registration_packed_attestaion_works_with_valid_fido_aaguid_extension`.
    pub fn packed_x5c_es256() -> RegistrationCheck {
        let response = json!({
            "id": YUBIKEY_ID, "rawId": YUBIKEY_ID, "type": "public-key",
            "response": {
                "attestationObject": "o2NmbXRmcGFja2VkZ2F0dFN0bXSjY2FsZyZjc2lnWEcwRQIgW2gYNWvUDgxl8LB7rflbuJw_zvJCT5ddfDZNROTy0JYCIQDxuy3JLSHDIrEFYqDifFA_ZHttNfRqJAPgH4hedttVIWN4NWOBWQLBMIICvTCCAaWgAwIBAgIEHo-HNDANBgkqhkiG9w0BAQsFADAuMSwwKgYDVQQDEyNZdWJpY28gVTJGIFJvb3QgQ0EgU2VyaWFsIDQ1NzIwMDYzMTAgFw0xNDA4MDEwMDAwMDBaGA8yMDUwMDkwNDAwMDAwMFowbjELMAkGA1UEBhMCU0UxEjAQBgNVBAoMCVl1YmljbyBBQjEiMCAGA1UECwwZQXV0aGVudGljYXRvciBBdHRlc3RhdGlvbjEnMCUGA1UEAwweWXViaWNvIFUyRiBFRSBTZXJpYWwgNTEyNzIyNzQwMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqHn4IzjtFJS6wHBLzH_GY9GycXFZdiQxAcdgURXXwVKeKBwcZzItOEtc1V3T6YGNX9hcIq8ybgxk_CCv4z8jZqNsMGowIgYJKwYBBAGCxAoCBBUxLjMuNi4xLjQuMS40MTQ4Mi4xLjcwEwYLKwYBBAGC5RwCAQEEBAMCBDAwIQYLKwYBBAGC5RwBAQQEEgQQL8BXn4ETR-qxFrtajbkgKjAMBgNVHRMBAf8EAjAAMA0GCSqGSIb3DQEBCwUAA4IBAQCGk_9i3w1XedR0jX_I0QInMYqOWA5qOlfBCOlOA8OFaLNmiU_OViS-Sj79fzQRiz2ZN0P3kqGYkWDI_JrgsE49-e4V4-iMBPyCqNy_WBjhCNzCloV3rnn_ZiuUc0497EWXMF1z5uVe4r65zZZ4ygk15TPrY4-OJvq7gXzaRB--mDGDKuX24q2ZL56720xiI4uPjXq0gdbTJjvNv55KV1UDcJiK1YE0QPoDLK22cjyt2PjXuoCfdbQ8_6Clua3RQjLvnZ4UgSY4IzxMpKhzufismOMroZFnYG4VkJ_N20ot_72uRiAkn5pmRqyB5IMtERn-v6pzGogtolp3gn1G0ZAXaGF1dGhEYXRhWMRqubvw35oW-R27M7uxMvr50Xx4LEgmxuxw7O5Y2X71KkUAAAACL8BXn4ETR-qxFrtajbkgKgBAeKSmfhLUwwmJpuD2IKaTopbbWKFv-qZAE4LXa2FGmTtRpvioMpeFhI8RqdsOGlBoQxJehEQyWyu7ECwPkVL5HqUBAgMmIAEhWCBT_WnxT3SKAIGfnEKUi7xtZmnlcZRV-63N21154_r-xyJYIGuwu6BK1zp6D6EQ94VOcK1DuFWr58xI_PbeP5F1Nfe6",
                "clientDataJSON": "eyJjaGFsbGVuZ2UiOiJxYWJTQ1lXX1BQS0tCQVc1X3FFc1BGM1EzcHJRZVlCT1JmRE1BcnNvS2RnIiwiY2xpZW50RXh0ZW5zaW9ucyI6e30sImhhc2hBbGdvcml0aG0iOiJTSEEtMjU2Iiwib3JpZ2luIjoiaHR0cHM6Ly93ZWJhdXRobi5maXJzdHllYXIuaWQuYXUiLCJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0"
            }
        });
        RegistrationCheck {
            rp_id: "webauthn.firstyear.id.au".into(),
            origin: "https://webauthn.firstyear.id.au".into(),
            challenge: b64("qabSCYW_PPKKBAW5_qEsPF3Q3prQeYBORfDMArsoKdg"),
            user_verification_required: true,
            response_json: response.to_string(),
        }
    }

    /// The same registration whose certificate's AAGUID extension names another authenticator
    /// (webauthn-rs-core's `..._fails_with_invalid_fido_aaguid_extension`).
    pub fn packed_x5c_other_aaguid() -> RegistrationCheck {
        let mut check = packed_x5c_es256();
        check.response_json = check
            .response_json
            .replace(YUBIKEY_CERT_AAGUID, "XXXXXXXXXXXXXXXXXXXXXj");
        check
    }

    /// The assertion's signature, base64url (a prefix of it, to tamper with).
    pub const HELLO_SIG_PREFIX: &str = "Tf2YU7";

    pub fn hello_assertion(key: String) -> AssertionCheck {
        let response = json!({
            "id": HELLO_ID, "rawId": HELLO_ID, "type": "public-key",
            "response": {
                "authenticatorData": "bCmB6OeyrJLGZgD_oPrd44koxI7Q3XP2L8ZFLaVrKhsFAAAAAQ",
                "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoidlhSLWEwb2QwclZqc3EzV3B0UjgyeDJwQ1RvYUczajJWNjJwMHZHWmxyMCIsIm9yaWdpbiI6Imh0dHBzOi8vZXRvb2xzLWRldi5leGFtcGxlLmNvbTo4MDgwIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ",
                "signature": "Tf2YU7jGBRBEM7IF5BSUqLYDyTuitWDdQ4jmPfwAJvSPYmQO4t_qOkgJ5r4AvbBlrLCSGd11Tw2wY9DThw889Wrow9clRojGGbqc4k3YVWSLSUmt0vR0VGy0inMPu4zGbtpO7mOD0uXyuIXbsetgu49S81h41rZ2WMad6VPOpbtvU9NEk4mwHK0kQlfh_MNltSx3xjDSury-FE4OMUOQg0xVRl-CiYSoIcRxUzsmLgGna8io8gZqjct7yzJFrQa3dXblvCd4vDA2dd8PmXoEGNo4-62mcfDnrxUc5PgKAUneNDlIMyyDzgTzQmQ9ce3dc7Ylux36Z7JoRZkv1EzI8g",
                "userHandle": "bWNoYW4"
            }
        });
        AssertionCheck {
            rp_id: "etools-dev.example.com".into(),
            origin: HELLO_ORIGIN.into(),
            challenge: b64("vXR-a0od0rVjsq3WptR82x2pCToaG3j2V62p0vGZlr0"),
            user_verification_required: true,
            credential_id: b64(HELLO_ID),
            key,
            response_json: response.to_string(),
        }
    }

    /// `json` with the base64url character right after `prefix` changed (a few bits of the
    /// bytes it encodes).
    pub fn tampered(json: &str, prefix: &str) -> String {
        let Some(at) = json.find(prefix) else {
            return json.to_string();
        };
        let (head, tail) = json.split_at(at + prefix.len());
        let mut chars = tail.chars();
        let changed = if chars.next() == Some('A') { 'B' } else { 'A' };
        format!("{head}{changed}{}", chars.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::known_answers::*;
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(s).unwrap()
    }

    #[test]
    fn packed_self_attestation_is_checked_up_to_its_signature() {
        let checked = check_registration(&packed_es256()).unwrap();
        assert_eq!(checked.passkey.attestation_format, "packed");
        assert_eq!(checked.passkey.credential_id, b64(PACKED_ID));
        assert!(checked.passkey.user_verified);
        assert!(matches!(checked.key, PublicKey::Ec2 { ref crv, .. } if crv == "P-256"));
        let signed = checked.attestation.unwrap();
        assert_eq!(signed.key, checked.key);
        // authenticatorData || SHA-256(clientDataJSON)
        assert_eq!(signed.data.len(), 174 + 32);
        assert_eq!(p256_signature(&signed.signature).unwrap().len(), 64);
        let stored: PublicKey = serde_json::from_str(&checked.passkey.key).unwrap();
        assert_eq!(stored, checked.key);

        let mut other = packed_es256();
        other.challenge[0] ^= 1;
        assert_eq!(check_registration(&other), Err(WebAuthnRefusal::Challenge));
        let mut other = packed_es256();
        other.rp_id = "example.com".into();
        assert_eq!(
            check_registration(&other),
            Err(WebAuthnRefusal::RelyingParty)
        );
        let mut other = packed_es256();
        other.origin = "https://localhost:9443".into();
        assert_eq!(check_registration(&other), Err(WebAuthnRefusal::Origin));
    }

    #[test]
    fn packed_basic_attestation_is_checked_with_its_certificate_key() {
        use p256::ecdsa::signature::Verifier as _;

        let check = packed_x5c_es256();
        let checked = check_registration(&check).unwrap();
        assert_eq!(checked.passkey.attestation_format, "packed");
        assert_eq!(checked.passkey.credential_id, b64(YUBIKEY_ID));
        assert!(checked.passkey.user_verified);
        let signed = checked.attestation.unwrap();
        // The statement is signed by the certificate's key (its SubjectPublicKeyInfo point, as
        // read from the DER with Python), not by the new credential's.
        let certificate_key = PublicKey::Ec2 {
            crv: "P-256".into(),
            x: "qHn4IzjtFJS6wHBLzH_GY9GycXFZdiQxAcdgURXXwVI".into(),
            y: "nigcHGcyLThLXNVd0-mBjV_YXCKvMm4MZPwgr-M_I2Y".into(),
        };
        assert_eq!(signed.key, certificate_key);
        assert_ne!(signed.key, checked.key);
        // The recorded signature verifies (natively here; with WebCrypto in the Worker).
        let PublicKey::Ec2 { x, y, .. } = &signed.key else {
            unreachable!()
        };
        let point = [vec![4u8], b64(x), b64(y)].concat();
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
        let signature = p256::ecdsa::Signature::from_der(&signed.signature).unwrap();
        key.verify(&signed.data, &signature).unwrap();
        let mut data = signed.data.clone();
        data[40] ^= 1;
        assert!(key.verify(&data, &signature).is_err());

        // §8.2.1: the certificate's AAGUID must be the authenticator data's.
        assert_eq!(
            check_registration(&packed_x5c_other_aaguid()),
            Err(WebAuthnRefusal::Failed(
                "attestation certificate: its AAGUID is not the authenticator's".into()
            ))
        );
        // ... its subject's OU "Authenticator Attestation".
        let mut object: Value = ciborium::from_reader(
            b64(serde_json::from_str::<serde_json::Value>(&check.response_json).unwrap()
                ["response"]["attestationObject"]
                .as_str()
                .unwrap())
            .as_slice(),
        )
        .unwrap();
        type Statement = Vec<(Value, Value)>;
        let rewrite = |object: &mut Value, edit: &dyn Fn(&mut Statement)| {
            let statement = object
                .as_map_mut()
                .unwrap()
                .iter_mut()
                .find(|(k, _)| k.as_text() == Some("attStmt"))
                .unwrap();
            edit(statement.1.as_map_mut().unwrap());
        };
        let with = |object: &Value| {
            let mut bytes = Vec::new();
            ciborium::into_writer(object, &mut bytes).unwrap();
            let mut json: serde_json::Value = serde_json::from_str(&check.response_json).unwrap();
            json["response"]["attestationObject"] = b64url_string(&bytes).into();
            RegistrationCheck {
                response_json: json.to_string(),
                ..packed_x5c_es256()
            }
        };
        let mut other_unit = object.clone();
        rewrite(&mut other_unit, &|statement| {
            for (k, v) in statement.iter_mut() {
                if k.as_text() == Some("x5c") {
                    let leaf = &mut v.as_array_mut().unwrap()[0];
                    let der = leaf.as_bytes_mut().unwrap();
                    let at = der
                        .windows(25)
                        .position(|w| w == b"Authenticator Attestation")
                        .unwrap();
                    der[at + 24] = b'm';
                }
            }
        });
        assert_eq!(
            check_registration(&with(&other_unit)),
            Err(WebAuthnRefusal::Failed(
                "attestation certificate: the subject lacks C, O, CN or OU \"Authenticator Attestation\"".into()
            ))
        );
        // ... `alg` the certificate key's (ES256, not RS256).
        rewrite(&mut object, &|statement| {
            for (k, v) in statement.iter_mut() {
                if k.as_text() == Some("alg") {
                    *v = Value::from(-257);
                }
            }
        });
        assert!(matches!(
            check_registration(&with(&object)),
            Err(WebAuthnRefusal::Unsupported(_))
        ));
        // ... and a chain that is not certificates is unsupported, not a panic.
        let mut garbage = object.clone();
        rewrite(&mut garbage, &|statement| {
            for (k, v) in statement.iter_mut() {
                if k.as_text() == Some("alg") {
                    *v = Value::from(-7);
                }
                if k.as_text() == Some("x5c") {
                    *v = Value::Array(vec![Value::Bytes(vec![0x30, 0x03, 0x02, 0x01, 0x01])]);
                }
            }
        });
        assert_eq!(
            check_registration(&with(&garbage)),
            Err(WebAuthnRefusal::Unsupported(
                "attestation certificate is not X.509 DER".into()
            ))
        );
    }

    #[test]
    fn rs256_none_registration_and_its_assertion_are_checked_up_to_the_signature() {
        let checked = check_registration(&hello_rs256()).unwrap();
        assert_eq!(checked.passkey.attestation_format, "none");
        assert!(checked.passkey.user_verified);
        assert_eq!(checked.attestation, None);
        let PublicKey::Rsa { n, e } = &checked.key else {
            panic!("not an RSA key: {:?}", checked.key);
        };
        assert_eq!(b64(n).len(), 256);
        assert_eq!(b64(e), [1, 0, 1]);

        let asserted = check_assertion(&hello_assertion(checked.passkey.key.clone())).unwrap();
        assert_eq!(asserted.verified.sign_count, 1);
        assert!(asserted.verified.user_verified);
        assert_eq!(asserted.signature.signature.len(), 256);
        assert_eq!(asserted.signature.key, checked.key);

        let mut check = hello_assertion(checked.passkey.key.clone());
        check.challenge[3] ^= 1;
        assert_eq!(check_assertion(&check), Err(WebAuthnRefusal::Challenge));
        let mut check = hello_assertion(checked.passkey.key.clone());
        check.credential_id[0] ^= 1;
        assert!(matches!(
            check_assertion(&check),
            Err(WebAuthnRefusal::Failed(_))
        ));
        let mut check = hello_assertion(checked.passkey.key.clone());
        check.rp_id = "example.com".into();
        assert_eq!(check_assertion(&check), Err(WebAuthnRefusal::RelyingParty));
        // A registration's client data is not an assertion's.
        let registration = hello_rs256();
        let mut check = hello_assertion(checked.passkey.key);
        let created: serde_json::Value = serde_json::from_str(&registration.response_json).unwrap();
        let mut response: serde_json::Value = serde_json::from_str(&check.response_json).unwrap();
        response["response"]["clientDataJSON"] = created["response"]["clientDataJSON"].clone();
        check.response_json = response.to_string();
        check.challenge = registration.challenge;
        assert_eq!(check_assertion(&check), Err(WebAuthnRefusal::Challenge));
    }

    /// The assertion with its authenticator data's flags set to `flags`.
    fn with_flags(check: &AssertionCheck, flags: u8) -> AssertionCheck {
        let mut response: serde_json::Value = serde_json::from_str(&check.response_json).unwrap();
        let mut data = b64(response["response"]["authenticatorData"].as_str().unwrap());
        data[32] = flags;
        response["response"]["authenticatorData"] = Base64UrlUnpadded::encode_string(&data).into();
        AssertionCheck {
            response_json: response.to_string(),
            ..check.clone()
        }
    }

    #[test]
    fn presence_verification_and_backup_flags_are_judged() {
        let key = check_registration(&hello_rs256()).unwrap().passkey.key;
        let check = hello_assertion(key);
        // As recorded: UP and UV.
        assert!(check_assertion(&with_flags(&check, UP | UV)).is_ok());
        // UP only: refused where verification is required, unverified otherwise.
        assert_eq!(
            check_assertion(&with_flags(&check, UP)),
            Err(WebAuthnRefusal::Failed("user not verified".into()))
        );
        let lenient = AssertionCheck {
            user_verification_required: false,
            ..check.clone()
        };
        let asserted = check_assertion(&with_flags(&lenient, UP)).unwrap();
        assert!(!asserted.verified.user_verified);
        // No user presence: refused even so.
        assert_eq!(
            check_assertion(&with_flags(&lenient, UV)),
            Err(WebAuthnRefusal::Failed("user not present".into()))
        );
        // Backed up but not backup eligible: refused; eligible and backed up: fine.
        assert!(matches!(
            check_assertion(&with_flags(&check, UP | UV | BS)),
            Err(WebAuthnRefusal::Failed(_))
        ));
        assert!(check_assertion(&with_flags(&check, UP | UV | BE | BS)).is_ok());
    }

    #[test]
    fn tampering_changes_the_signature_only() {
        let registration = packed_es256();
        let mut changed = registration.clone();
        changed.response_json = tampered(&registration.response_json, PACKED_SIG_PREFIX);
        assert_ne!(changed.response_json, registration.response_json);
        let a = check_registration(&registration)
            .unwrap()
            .attestation
            .unwrap();
        let b = check_registration(&changed).unwrap().attestation.unwrap();
        assert_eq!(a.data, b.data);
        assert_ne!(a.signature, b.signature);
    }

    #[test]
    fn der_signatures_become_r_and_s() {
        // SEQUENCE { INTEGER 0x00ff.. (leading zero for the sign), INTEGER 1 }
        let mut der = vec![0x30, 0x26, 0x02, 0x21, 0x00];
        der.extend([0xff; 32]);
        der.extend([0x02, 0x01, 0x01]);
        let raw = p256_signature(&der).unwrap();
        assert_eq!(raw[..32], [0xff; 32]);
        assert_eq!(raw[32..63], [0; 31]);
        assert_eq!(raw[63], 1);
        assert!(p256_signature(&der[..10]).is_err());
        assert!(p256_signature(b"").is_err());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(p256_signature(&trailing).is_err());
    }

    #[test]
    fn garbage_is_unsupported_not_a_panic() {
        let mut check = packed_es256();
        for garbage in [
            "{\"id\": 1}",
            "[]",
            "{\"id\":\"AA\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"e30\",\"attestationObject\":\"oA\"}}",
        ] {
            check.response_json = garbage.into();
            assert!(
                matches!(
                    check_registration(&check),
                    Err(WebAuthnRefusal::Unsupported(_))
                ),
                "{garbage}"
            );
        }
        // Valid client data, attestation objects cut short anywhere.
        let whole: serde_json::Value = serde_json::from_str(&packed_es256().response_json).unwrap();
        let object = b64(whole["response"]["attestationObject"].as_str().unwrap());
        for cut in 0..object.len() {
            let mut response = whole.clone();
            response["response"]["attestationObject"] =
                Base64UrlUnpadded::encode_string(&object[..cut]).into();
            let mut check = packed_es256();
            check.response_json = response.to_string();
            assert!(check_registration(&check).is_err(), "cut at {cut}");
        }
        let mut check = hello_assertion("not json".into());
        assert!(matches!(
            check_assertion(&check),
            Err(WebAuthnRefusal::Unsupported(_))
        ));
        check.key = "{\"kty\":\"oct\"}".into();
        assert!(matches!(
            check_assertion(&check),
            Err(WebAuthnRefusal::Unsupported(_))
        ));
    }
}
