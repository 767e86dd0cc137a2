//! Signing Cognate's own calls to AWS (SES, SNS) with the operator's credentials.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use super::ALGORITHM;
use super::canonical::{canonical_query, encode_path, normalize_path, push_trimmed};
use super::date::format_amz_date;
use super::key::{hmac_sha256, scope, signing_key, string_to_sign};
use crate::error::Error;
use crate::ports::DeliveryRequest;
use crate::secret::Secret;

/// The credentials Cognate signs its own calls to AWS with (SES, SNS): the operator's, never a
/// user's. The secret and the session token redact themselves in `Debug`.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// For temporary credentials (`x-amz-security-token`).
    pub session_token: Option<Secret>,
}

/// Signs an outgoing request with SigV4 (header-based), as AWS's SDKs do: adds `x-amz-date`,
/// `x-amz-security-token` when the credentials carry one, then `authorization` over `host`
/// (the URL's authority) and every header already in `request.headers`, whose names must be
/// lower-case. The path is normalised and URI-encoded once (every service but S3).
///
/// The derivation (canonical request, string to sign, signing key) is the one
/// [`verify`](super::verify) uses, and is checked against AWS's published test suite and
/// against the AWS SDK for Rust's signer.
pub fn sign(
    request: &mut DeliveryRequest,
    credentials: &Credentials,
    region: &str,
    service: &str,
    now_millis: u64,
) -> Result<(), Error> {
    let (host, path, query) = split_url(&request.url)
        .ok_or_else(|| Error::internal("sigv4: the URL to sign is not http(s)://host/path"))?;
    let timestamp = format_amz_date(i64::try_from(now_millis / 1000).unwrap_or(i64::MAX));
    let date = timestamp.get(..8).unwrap_or_default().to_string();
    request.headers.remove("authorization");
    request
        .headers
        .insert("x-amz-date".into(), timestamp.clone());
    if let Some(token) = &credentials.session_token {
        request
            .headers
            .insert("x-amz-security-token".into(), token.expose().to_string());
    }
    // Sorted by name (a BTreeMap, plus `host` in its place).
    let mut signed: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .filter(|(name, _)| *name != "host")
        .collect();
    signed.push(("host", host.as_str()));
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let mut canonical_headers = String::new();
    let mut signed_headers = String::new();
    for (i, (name, value)) in signed.iter().enumerate() {
        if i > 0 {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        push_trimmed(&mut canonical_headers, value, |c| c.is_ascii_whitespace());
        canonical_headers.push('\n');
    }
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        encode_path(
            &normalize_path(if path.is_empty() { "/" } else { &path }),
            false
        ),
        canonical_query(&query),
        hex::encode(Sha256::digest(request.body.as_bytes())),
    );
    let scope = scope(&date, region, service);
    let string_to_sign = string_to_sign(
        &timestamp,
        &scope,
        &Sha256::digest(canonical_request.as_bytes()),
    );
    let key = signing_key(
        credentials.secret_access_key.expose(),
        &date,
        region,
        service,
    )?;
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes())?);
    request.headers.insert(
        "authorization".into(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    );
    Ok(())
}

/// `http(s)://authority/path?query` into the `Host` header value an HTTP client sends (the
/// authority without credentials, lower-cased, the scheme's default port dropped), the path and
/// the query.
fn split_url(url: &str) -> Option<(String, String, String)> {
    let (rest, default_port) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, ":443")
    } else {
        (url.strip_prefix("http://")?, ":80")
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path_query) = match rest.find(['/', '?']) {
        Some(at) => (rest.get(..at)?, rest.get(at..)?),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let host = authority
        .strip_suffix(default_port)
        .unwrap_or(authority)
        .to_ascii_lowercase();
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    Some((host, path.to_string(), query.to_string()))
}
