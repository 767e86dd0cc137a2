//! The `Authorization` header: `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
//! Signature=...`, its credential scope and its list of signed headers.

use alloc::format;
use alloc::string::String;

use super::{ALGORITHM, invalid};
use crate::error::Error;
use crate::http::Request;

pub(super) enum Header<'a> {
    Missing,
    Repeated,
    One(&'a str),
}

pub(super) fn header(request: &Request) -> Header<'_> {
    let mut found = Header::Missing;
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        if matches!(found, Header::One(_)) {
            return Header::Repeated;
        }
        found = Header::One(value.as_str());
    }
    match found {
        // An empty header is no credential at all.
        Header::One(value) if value.trim().is_empty() => Header::Missing,
        other => other,
    }
}

/// The three parameters of an `AWS4-HMAC-SHA256` Authorization header, each still unparsed.
#[derive(Default)]
pub(super) struct Fields<'a> {
    pub(super) credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Splits `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. The parameters
/// may be separated by commas, whitespace or both (none of their values contains either).
pub(super) fn parse_fields(value: &str) -> Result<Fields<'_>, Error> {
    let value = value.trim();
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(invalid(format!(
            "Authorization header's algorithm must be '{ALGORITHM}'."
        )));
    }
    let mut fields = Fields::default();
    for part in rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|part| !part.is_empty())
    {
        let Some((name, field_value)) = part.split_once('=') else {
            return Err(invalid(
                "Authorization header is malformed: each parameter must be 'name=value'.",
            ));
        };
        let slot = match name {
            "Credential" => &mut fields.credential,
            "SignedHeaders" => &mut fields.signed_headers,
            "Signature" => &mut fields.signature,
            // Unknown parameters are ignored, as a newer signer might add one.
            _ => continue,
        };
        if slot.is_some() {
            return Err(invalid(format!(
                "Authorization header has more than one '{name}' parameter."
            )));
        }
        *slot = Some(field_value);
    }
    Ok(fields)
}

pub(super) struct Credential<'a> {
    pub(super) access_key_id: &'a str,
    /// `YYYYMMDD`: eight ASCII digits.
    pub(super) date: &'a str,
    pub(super) region: &'a str,
    pub(super) service: &'a str,
    pub(super) terminator: &'a str,
}

/// `AKID/YYYYMMDD/region/service/aws4_request`.
pub(super) fn parse_credential(value: &str) -> Option<Credential<'_>> {
    let mut parts = value.split('/');
    let credential = Credential {
        access_key_id: parts.next()?,
        date: parts.next()?,
        region: parts.next()?,
        service: parts.next()?,
        terminator: parts.next()?,
    };
    let valid = parts.next().is_none()
        && !credential.access_key_id.is_empty()
        && credential.date.len() == 8
        && credential.date.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&credential.region.len())
        && credential
            .region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !credential.service.is_empty()
        && !credential.terminator.is_empty();
    valid.then_some(credential)
}

pub(super) struct Authorization<'a> {
    pub(super) credential: Credential<'a>,
    pub(super) signed_headers: &'a str,
    pub(super) signature: &'a str,
}

pub(super) fn parse(value: &str) -> Result<Authorization<'_>, Error> {
    let fields = parse_fields(value)?;
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (fields.credential, fields.signed_headers, fields.signature)
    else {
        let mut message = String::new();
        for (field, name) in [
            (fields.credential, "Credential"),
            (fields.signature, "Signature"),
            (fields.signed_headers, "SignedHeaders"),
        ] {
            if field.is_none() {
                if !message.is_empty() {
                    message.push(' ');
                }
                message.push_str("Authorization header requires '");
                message.push_str(name);
                message.push_str("' parameter.");
            }
        }
        return Err(invalid(message));
    };
    let credential = parse_credential(credential).ok_or_else(|| {
        invalid(
            "Authorization header's 'Credential' parameter is malformed: expected \
             '<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request'.",
        )
    })?;
    check_signed_headers(signed_headers)?;
    Ok(Authorization {
        credential,
        signed_headers,
        signature,
    })
}

/// `SignedHeaders` must be lower-case header names separated by `;`, sorted, without
/// duplicates, and must include `host`.
fn check_signed_headers(signed_headers: &str) -> Result<(), Error> {
    let mut previous: Option<&str> = None;
    let mut has_host = false;
    for name in signed_headers.split(';') {
        let well_formed = !name.is_empty()
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            })
            && previous.is_none_or(|previous| previous < name);
        if !well_formed {
            return Err(invalid(
                "Authorization header's 'SignedHeaders' parameter must list lower-case header \
                 names separated by ';', sorted and without duplicates.",
            ));
        }
        has_host |= name == "host";
        previous = Some(name);
    }
    if !has_host {
        return Err(invalid(
            "'Host' must be a signed header: list it in the 'SignedHeaders' parameter.",
        ));
    }
    Ok(())
}

/// The provided signature's 32 bytes; anything that is not 64 hex digits (either case) becomes
/// all zeros, which no HMAC is expected to equal (and is then reported as a mismatch).
pub(super) fn decode_signature(signature: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if hex::decode_to_slice(signature, &mut out).is_err() {
        return [0u8; 32];
    }
    out
}
