//! The signing key (`kSigning`), the credential scope and the string to sign: shared by the
//! check of received requests and the signing of Cognate's own calls.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{ALGORITHM, TERMINATOR};
use crate::error::Error;

/// `YYYYMMDD/region/service/aws4_request`.
pub(super) fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

/// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex SHA-256 of the canonical request>`.
pub(super) fn string_to_sign(
    timestamp: &str,
    scope: &str,
    canonical_request_hash: &[u8],
) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex::encode(canonical_request_hash)
    )
}

pub(super) fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], Error> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::internal("HMAC-SHA256 refused a key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
pub(super) fn signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Result<[u8; 32], Error> {
    let mut secret_key = Vec::with_capacity(secret.len() + 4);
    secret_key.extend_from_slice(b"AWS4");
    secret_key.extend_from_slice(secret.as_bytes());
    let date_key = hmac_sha256(&secret_key, date.as_bytes())?;
    let region_key = hmac_sha256(&date_key, region.as_bytes())?;
    let service_key = hmac_sha256(&region_key, service.as_bytes())?;
    hmac_sha256(&service_key, TERMINATOR.as_bytes())
}
