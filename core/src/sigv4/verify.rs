//! The check of a received request: its `Authorization` header, time and credential scope,
//! then the signature, recomputed for each canonical request AWS's signers may have built.

use alloc::format;
use alloc::string::{String, ToString};

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use super::authorization::{self, Header};
use super::canonical::{canonical_headers, canonical_query, canonical_uris, payload_hash};
use super::date::{check_clock, request_time};
use super::key::{hmac_sha256, scope, signing_key, string_to_sign};
use super::{AdminKey, INVALID_TOKEN, MISMATCH, MISSING_TOKEN, SignedBy, TERMINATOR, invalid};
use crate::error::{Error, ErrorKind};
use crate::http::Request;

/// Verifies the request's SigV4 `Authorization` header against the configured keys.
///
/// `service` is the service name the credential scope must carry (`cognito-idp`); any region is
/// accepted and reported back. `now_millis` is the current Unix time in milliseconds.
pub fn verify(
    request: &Request,
    service: &str,
    keys: &[AdminKey],
    now_millis: u64,
) -> Result<SignedBy, Error> {
    let header = match authorization::header(request) {
        Header::Missing => {
            return Err(Error::new(ErrorKind::UnrecognizedClient, MISSING_TOKEN));
        }
        Header::Repeated => {
            return Err(invalid(
                "The request must carry exactly one 'Authorization' header.",
            ));
        }
        Header::One(value) => value,
    };
    let auth = authorization::parse(header)?;
    let credential = &auth.credential;

    let (timestamp, request_secs) = request_time(request)?;
    let timestamp_date = timestamp.get(..8).unwrap_or_default();
    if credential.date != timestamp_date {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{timestamp_date}', from '{timestamp}'.",
            credential.date
        )));
    }
    if credential.service != service {
        return Err(invalid(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    if credential.terminator != TERMINATOR {
        return Err(invalid(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }
    check_clock(&timestamp, request_secs, now_millis)?;

    let key = keys
        .iter()
        .find(|key| key.access_key_id == credential.access_key_id)
        .ok_or_else(|| Error::new(ErrorKind::UnrecognizedClient, INVALID_TOKEN))?;

    let payload_hash = payload_hash(request)?;
    let uris = canonical_uris(&request.path);
    let query = canonical_query(&request.query);
    let header_blocks = canonical_headers(request, auth.signed_headers)?;
    let provided = authorization::decode_signature(auth.signature);

    let scope = scope(credential.date, credential.region, credential.service);
    let signing_key = signing_key(
        key.secret_access_key.expose(),
        credential.date,
        credential.region,
        credential.service,
    )?;

    let mut matched = Choice::from(0u8);
    for uri in &uris {
        for headers in &header_blocks {
            let mut hasher = Sha256::new();
            for part in [
                request.method.as_str(),
                "\n",
                uri,
                "\n",
                &query,
                "\n",
                headers,
                "\n",
                auth.signed_headers,
                "\n",
                &payload_hash,
            ] {
                hasher.update(part.as_bytes());
            }
            let string_to_sign = string_to_sign(&timestamp, &scope, &hasher.finalize());
            let signature = hmac_sha256(&signing_key, string_to_sign.as_bytes())?;
            matched |= signature.ct_eq(&provided);
        }
    }
    if bool::from(matched) {
        Ok(SignedBy {
            access_key_id: credential.access_key_id.to_string(),
            region: credential.region.to_string(),
        })
    } else {
        Err(invalid(MISMATCH))
    }
}

/// The region named in the request's SigV4 credential scope, if it carries one (unverified:
/// used only to pick the region of a public request).
///
/// The region is returned only if it looks like one: 1 to 64 ASCII letters, digits and `-`.
pub fn credential_region(request: &Request) -> Option<String> {
    let Header::One(value) = authorization::header(request) else {
        return None;
    };
    let fields = authorization::parse_fields(value).ok()?;
    let credential = authorization::parse_credential(fields.credential?)?;
    Some(credential.region.to_string())
}
