//! The canonical request's parts: the URI (normalised or not, escapes kept or re-encoded), the
//! query, the signed headers' block and the payload hash. Percent-encoding is the
//! `percent-encoding` crate's, with AWS's `UriEncode` set.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

use super::invalid;
use crate::error::Error;
use crate::http::Request;

/// What AWS's `UriEncode` escapes: every byte but the unreserved `A-Za-z0-9-._~` (RFC 3986),
/// as `%XX` with upper-case hex.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The same, for a path: `/` is kept.
const URI_ENCODE_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

/// The payload line: the body's SHA-256, which `x-amz-content-sha256` must repeat if present.
pub(super) fn payload_hash(request: &Request) -> Result<String, Error> {
    let computed = hex::encode(Sha256::digest(&request.body));
    let Some(declared) = request.header("x-amz-content-sha256").map(str::trim) else {
        return Ok(computed);
    };
    if declared.eq_ignore_ascii_case(&computed) {
        return Ok(declared.to_string());
    }
    if declared == "UNSIGNED-PAYLOAD" || declared.starts_with("STREAMING-") {
        return Err(invalid(
            "Unsigned and streaming payloads are not supported: sign the payload's SHA-256.",
        ));
    }
    Err(invalid(
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ))
}

/// The canonical URIs to try, most common first, without repeats (see the module docs).
pub(super) fn canonical_uris(path: &str) -> Vec<String> {
    let raw = if path.is_empty() { "/" } else { path };
    let normalized = normalize_path(raw);
    let mut uris: Vec<String> = Vec::with_capacity(4);
    for path in [normalized.as_str(), raw] {
        for keep_escapes in [false, true] {
            let uri = encode_path(path, keep_escapes);
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
    }
    uris
}

/// Removes empty, `.` and `..` segments; keeps the leading and any trailing slash.
pub(super) fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// URI-encodes every byte but the unreserved set and `/`. With `keep_escapes`, a well-formed
/// `%XX` is kept (its hex digits upper-cased) rather than re-encoded as `%25XX`.
pub(super) fn encode_path(path: &str, keep_escapes: bool) -> String {
    if !keep_escapes {
        return percent_encode(path.as_bytes(), URI_ENCODE_PATH).to_string();
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        let (before, from_percent) = rest.split_at(at);
        out.extend(percent_encode(before.as_bytes(), URI_ENCODE_PATH));
        match from_percent.get(1..3) {
            Some(digits) if digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.push('%');
                out.push_str(&digits.to_ascii_uppercase());
                rest = from_percent.get(3..).unwrap_or_default();
            }
            _ => {
                out.push_str("%25");
                rest = from_percent.get(1..).unwrap_or_default();
            }
        }
    }
    out.extend(percent_encode(rest.as_bytes(), URI_ENCODE_PATH));
    out
}

/// The query string's parameters, each name and value percent-decoded then strictly
/// URI-encoded, sorted by name then value, joined by `&` (a parameter without `=` gets one).
pub(super) fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|param| !param.is_empty())
        .map(|param| {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            (reencode(name), reencode(value))
        })
        .collect();
    params.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Percent-decodes (a `%` not followed by two hex digits stays as is; `+` is a `+`) and
/// encodes strictly.
fn reencode(component: &str) -> String {
    let decoded: Cow<'_, [u8]> = percent_decode_str(component).into();
    percent_encode(&decoded, URI_ENCODE).to_string()
}

/// The canonical header blocks to try (`name:value\n` for each signed header): with runs of
/// spaces collapsed, and, if it differs, with runs of any whitespace collapsed.
pub(super) fn canonical_headers(
    request: &Request,
    signed_headers: &str,
) -> Result<Vec<String>, Error> {
    let mut index: Vec<(String, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .collect();
    // Stable, so repeated headers keep their order.
    index.sort_by(|a, b| a.0.cmp(&b.0));

    let mut spaces = String::new();
    let mut whitespace = String::new();
    for name in signed_headers.split(';') {
        let start = index.partition_point(|(indexed, _)| indexed.as_str() < name);
        let mut values = index
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|(indexed, _)| indexed == name)
            .peekable();
        if values.peek().is_none() {
            return Err(invalid(format!(
                "The header '{name}' is listed in 'SignedHeaders' but is not in the request."
            )));
        }
        for block in [&mut spaces, &mut whitespace] {
            block.push_str(name);
            block.push(':');
        }
        for (i, (_, value)) in values.enumerate() {
            if i > 0 {
                spaces.push(',');
                whitespace.push(',');
            }
            push_trimmed(&mut spaces, value, |c| c == ' ');
            push_trimmed(&mut whitespace, value, |c| c.is_ascii_whitespace());
        }
        spaces.push('\n');
        whitespace.push('\n');
    }
    Ok(if spaces == whitespace {
        alloc::vec![spaces]
    } else {
        alloc::vec![spaces, whitespace]
    })
}

/// Appends `value` without leading and trailing `blank`s and with each inner run of them
/// replaced by one space.
pub(super) fn push_trimmed(out: &mut String, value: &str, blank: fn(char) -> bool) {
    let mut started = false;
    let mut pending = false;
    for c in value.chars() {
        if blank(c) {
            pending = started;
        } else {
            if pending {
                out.push(' ');
                pending = false;
            }
            started = true;
            out.push(c);
        }
    }
}
