//! AWS Signature Version 4 verification for administrative operations.
//!
//! Checks the `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
//! header the AWS SDKs, the AWS CLI and botocore put on a request, as AWS services do for
//! header-based authentication (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//! Presigned (query-string) URLs, chunked/streaming and unsigned payloads are not accepted: an
//! administrative request's body must be covered by its signature.
//!
//! The canonical request is rebuilt from the request as received. Where AWS's own signers
//! differ on a detail, each variant they produce is tried (at most eight, each one linear pass
//! over the request, all compared in constant time):
//! - the canonical URI: the SDKs for every service but S3 normalise the path (drop empty, `.`
//!   and `..` segments) and URI-encode the path *as sent*, so an escaped `%3A` is signed as
//!   `%253A` ("double encoding"); other signers neither normalise nor re-escape an existing
//!   `%XX`. The normalised and the raw path are each tried encoded both ways.
//! - header values: AWS's documentation and the Rust and Go SDKs collapse runs of spaces only,
//!   botocore and the JavaScript SDK every run of whitespace; both are tried when they differ.
//!
//! Work is linear in the request's size: `SignedHeaders` must be sorted and free of duplicates
//! (as every AWS signer writes it), so each header value is read once per variant.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::{Error, ErrorKind};
use crate::http::Request;
use crate::service::AdminKey;

/// Who signed a request, once the signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub access_key_id: String,
    /// The region of the credential scope.
    pub region: String,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
/// How far the request's time may be from ours, either way (AWS's rule).
const MAX_SKEW_SECS: i64 = 15 * 60;

const MISSING_TOKEN: &str = "Missing Authentication Token";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";

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
    let header = match authorization_header(request) {
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
    let auth = parse_authorization(header)?;
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
    let provided = decode_signature(auth.signature);

    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        credential.date, credential.region, credential.service
    );
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
            let string_to_sign = format!(
                "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
                hex(&hasher.finalize())
            );
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
    let Header::One(value) = authorization_header(request) else {
        return None;
    };
    let fields = parse_fields(value).ok()?;
    let credential = parse_credential(fields.credential?)?;
    Some(credential.region.to_string())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidSignature, message)
}

// ------------------------------------------------------------------ the Authorization header

enum Header<'a> {
    Missing,
    Repeated,
    One(&'a str),
}

fn authorization_header(request: &Request) -> Header<'_> {
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
struct Fields<'a> {
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Splits `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. The parameters
/// may be separated by commas, whitespace or both (none of their values contains either).
fn parse_fields(value: &str) -> Result<Fields<'_>, Error> {
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

struct Credential<'a> {
    access_key_id: &'a str,
    /// `YYYYMMDD`: eight ASCII digits.
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

/// `AKID/YYYYMMDD/region/service/aws4_request`.
fn parse_credential(value: &str) -> Option<Credential<'_>> {
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

struct Authorization<'a> {
    credential: Credential<'a>,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, Error> {
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

/// The provided signature's 32 bytes; anything that is not 64 hex digits becomes all zeros,
/// which no HMAC is expected to equal (and is then reported as a mismatch).
fn decode_signature(signature: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let bytes = signature.as_bytes();
    if bytes.len() != 64 {
        return out;
    }
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        match (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) {
            (Some(high), Some(low)) => *byte = (high << 4) | low,
            _ => return [0u8; 32],
        }
    }
    out
}

// ------------------------------------------------------------------ time

/// The request's time as the `YYYYMMDDTHHMMSSZ` string that goes into the string to sign, and
/// as Unix seconds. From `x-amz-date`, else from `date` (an IMF-fixdate, RFC 9110).
fn request_time(request: &Request) -> Result<(String, i64), Error> {
    if let Some(value) = request.header("x-amz-date") {
        let value = value.trim();
        let secs = parse_amz_date(value).ok_or_else(|| {
            invalid(
                "Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z') in the \
                 'X-Amz-Date' header.",
            )
        })?;
        return Ok((value.to_string(), secs));
    }
    if let Some(value) = request.header("date") {
        let secs = parse_http_date(value.trim()).ok_or_else(|| {
            invalid("The 'Date' header must be an HTTP date, e.g. 'Sun, 30 Aug 2015 12:36:00 GMT'.")
        })?;
        return Ok((format_amz_date(secs), secs));
    }
    Err(invalid(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    ))
}

fn check_clock(timestamp: &str, request_secs: i64, now_millis: u64) -> Result<(), Error> {
    let now = i64::try_from(now_millis / 1000).unwrap_or(i64::MAX);
    let earliest = now.saturating_sub(MAX_SKEW_SECS);
    let latest = now.saturating_add(MAX_SKEW_SECS);
    if request_secs < earliest {
        return Err(invalid(format!(
            "Signature expired: {timestamp} is now earlier than {} ({} - 15 min.)",
            format_amz_date(earliest),
            format_amz_date(now)
        )));
    }
    if request_secs > latest {
        return Err(invalid(format!(
            "Signature not yet current: {timestamp} is still later than {} ({} + 15 min.)",
            format_amz_date(latest),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// The decimal number spelled by `digits` (all ASCII digits, at most 4 of them).
fn number(digits: Option<&[u8]>) -> Option<i64> {
    let digits = digits?;
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    digits.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// `20150830T123600Z`.
fn parse_amz_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    unix_seconds(
        number(b.get(0..4))?,
        number(b.get(4..6))?,
        number(b.get(6..8))?,
        number(b.get(9..11))?,
        number(b.get(11..13))?,
        number(b.get(13..15))?,
    )
}

/// `Sun, 30 Aug 2015 12:36:00 GMT` (the weekday is not checked).
fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = value.as_bytes();
    if b.len() != 29
        || b.get(3..5) != Some(b", ")
        || b.get(7) != Some(&b' ')
        || b.get(11) != Some(&b' ')
        || b.get(16) != Some(&b' ')
        || b.get(19) != Some(&b':')
        || b.get(22) != Some(&b':')
        || b.get(25..29) != Some(b" GMT")
    {
        return None;
    }
    let month_name = b.get(8..11)?;
    let month = MONTHS.iter().position(|name| *name == month_name)?;
    unix_seconds(
        number(b.get(12..16))?,
        i64::try_from(month).ok()? + 1,
        number(b.get(5..7))?,
        number(b.get(17..19))?,
        number(b.get(20..22))?,
        number(b.get(23..25))?,
    )
}

fn unix_seconds(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Unix seconds as `YYYYMMDDTHHMMSSZ`.
fn format_amz_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let time = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

// ------------------------------------------------------------------ the canonical request

/// The payload line: the body's SHA-256, which `x-amz-content-sha256` must repeat if present.
fn payload_hash(request: &Request) -> Result<String, Error> {
    let computed = hex(&Sha256::digest(&request.body));
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
fn canonical_uris(path: &str) -> Vec<String> {
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
fn normalize_path(path: &str) -> String {
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
fn encode_path(path: &str, keep_escapes: bool) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'/' || is_unreserved(b) {
            out.push(char::from(b));
        } else if let (true, b'%', Some(high), Some(low)) = (
            keep_escapes,
            b,
            bytes.get(i + 1).copied().and_then(hex_value),
            bytes.get(i + 2).copied().and_then(hex_value),
        ) {
            push_escape(&mut out, (high << 4) | low);
            i += 3;
            continue;
        } else {
            push_escape(&mut out, b);
        }
        i += 1;
    }
    out
}

/// The query string's parameters, each name and value percent-decoded then strictly
/// URI-encoded, sorted by name then value, joined by `&` (a parameter without `=` gets one).
fn canonical_query(query: &str) -> String {
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

/// Percent-decodes (a `%` not followed by two hex digits stays as is) and encodes strictly.
fn reencode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match (
            b,
            bytes.get(i + 1).copied().and_then(hex_value),
            bytes.get(i + 2).copied().and_then(hex_value),
        ) {
            (b'%', Some(high), Some(low)) => {
                i += 3;
                (high << 4) | low
            }
            _ => {
                i += 1;
                b
            }
        };
        if is_unreserved(decoded) {
            out.push(char::from(decoded));
        } else {
            push_escape(&mut out, decoded);
        }
    }
    out
}

/// The canonical header blocks to try (`name:value\n` for each signed header): with runs of
/// spaces collapsed, and, if it differs, with runs of any whitespace collapsed.
fn canonical_headers(request: &Request, signed_headers: &str) -> Result<Vec<String>, Error> {
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
fn push_trimmed(out: &mut String, value: &str, blank: fn(char) -> bool) {
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

// ------------------------------------------------------------------ signing (outgoing calls)

/// The credentials Cognate signs its own calls to AWS with (SES, SNS): the operator's, never a
/// user's. The secret and the session token redact themselves in `Debug`.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: crate::secret::Secret,
    /// For temporary credentials (`x-amz-security-token`).
    pub session_token: Option<crate::secret::Secret>,
}

/// Signs an outgoing request with SigV4 (header-based), as AWS's SDKs do: adds `x-amz-date`,
/// `x-amz-security-token` when the credentials carry one, then `authorization` over `host`
/// (the URL's authority) and every header already in `request.headers`, whose names must be
/// lower-case. The path is normalised and URI-encoded once (every service but S3).
///
/// The derivation (canonical request, string to sign, signing key) is the one [`verify`] uses,
/// and is checked against AWS's published test suite.
pub fn sign(
    request: &mut crate::ports::DeliveryRequest,
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
        hex(&Sha256::digest(request.body.as_bytes())),
    );
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(
        credentials.secret_access_key.expose(),
        &date,
        region,
        service,
    )?;
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes())?);
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

// ------------------------------------------------------------------ primitives

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_digit(nibble: u8, upper: bool) -> char {
    let digit = char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0');
    if upper {
        digit.to_ascii_uppercase()
    } else {
        digit
    }
}

fn push_escape(out: &mut String, b: u8) {
    out.push('%');
    out.push(hex_digit(b >> 4, true));
    out.push(hex_digit(b, true));
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(hex_digit(b >> 4, false));
        out.push(hex_digit(b, false));
    }
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], Error> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::internal("HMAC-SHA256 refused a key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Result<[u8; 32], Error> {
    let mut secret_key = Vec::with_capacity(secret.len() + 4);
    secret_key.extend_from_slice(b"AWS4");
    secret_key.extend_from_slice(secret.as_bytes());
    let date_key = hmac_sha256(&secret_key, date.as_bytes())?;
    let region_key = hmac_sha256(&date_key, region.as_bytes())?;
    let service_key = hmac_sha256(&region_key, service.as_bytes())?;
    hmac_sha256(&service_key, TERMINATOR.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use crate::secret::Secret;
    use alloc::vec;

    // The credentials, region, service and time of AWS's SigV4 test suite.
    const SUITE_KEY_ID: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    /// 2015-08-30T12:36:00Z.
    const SUITE_NOW_MS: u64 = 1_440_938_160_000;
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn keys() -> Vec<AdminKey> {
        vec![
            AdminKey {
                access_key_id: "AKIDOTHER".to_string(),
                secret_access_key: Secret::new("another secret"),
            },
            AdminKey {
                access_key_id: SUITE_KEY_ID.to_string(),
                secret_access_key: Secret::new(SUITE_SECRET),
            },
        ]
    }

    fn authorization(scope: &str, signed_headers: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/{scope}, \
             SignedHeaders={signed_headers}, Signature={signature}"
        )
    }

    /// A request of the test suite: `target` is the request line's target (path and query),
    /// `host: example.amazonaws.com` and `x-amz-date` are added as the suite's signer does.
    fn suite_request(
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        signed_headers: &str,
        signature: &str,
    ) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut request = Request::new(method, path)
            .with_header("Host", "example.amazonaws.com")
            .with_body(body.to_vec());
        request.query = query.to_string();
        for (name, value) in headers {
            request = request.with_header(name, value);
        }
        request.with_header("X-Amz-Date", SUITE_DATE).with_header(
            "Authorization",
            &authorization(
                "20150830/us-east-1/service/aws4_request",
                signed_headers,
                signature,
            ),
        )
    }

    fn verify_suite(request: &Request) -> Result<SignedBy, Error> {
        verify(request, "service", &keys(), SUITE_NOW_MS)
    }

    fn assert_error(result: Result<SignedBy, Error>, kind: ErrorKind, message: &str) {
        match result {
            Ok(signed_by) => panic!("accepted, signed by {signed_by:?}; wanted {message}"),
            Err(error) => {
                assert_eq!(error.kind, kind, "{error}");
                assert!(
                    error.message.contains(message),
                    "{:?} does not contain {message:?}",
                    error.message
                );
            }
        }
    }

    struct Vector {
        name: &'static str,
        method: &'static str,
        target: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static [u8],
        signed_headers: &'static str,
        signature: &'static str,
    }

    const FORM_SHA256: &str = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
    const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    /// AWS's SigV4 signing test suite, `v4/<name>/` (`request.txt`, `header-signed-request.txt`,
    /// `header-signature.txt`), as published in awslabs/aws-c-auth (tests/aws-signing-test-suite,
    /// v0.9.0) and vendored by the AWS SDK for Rust's `aws-sigv4` crate (1.6.4,
    /// `aws-signing-test-suite/`). Names ending in `-unnormalized` were signed without path
    /// normalisation (as for S3); a name given twice is the same vector with the path or query
    /// as a client would put it on the wire instead of the raw characters of `request.txt`.
    const SUITE: &[Vector] = &[
        Vector {
            name: "get-vanilla",
            method: "GET",
            target: "/",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-vanilla-query-order-key-case",
            method: "GET",
            target: "/?Param2=value2&Param1=value1",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        },
        Vector {
            name: "get-vanilla-query-order-encoded",
            method: "GET",
            target: "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
        },
        Vector {
            name: "get-vanilla-query-unreserved",
            method: "GET",
            target: "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            method: "GET",
            target: "/?\u{1234}=bar",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            method: "GET",
            target: "/?%e1%88%b4=bar",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "get-vanilla-empty-query-key",
            method: "GET",
            target: "/?Param1=value1",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        },
        Vector {
            name: "get-header-key-duplicate",
            method: "GET",
            target: "/",
            headers: &[
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
            ],
            body: b"",
            signed_headers: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        },
        Vector {
            name: "get-header-value-order",
            method: "GET",
            target: "/",
            headers: &[
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ],
            body: b"",
            signed_headers: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
        },
        Vector {
            name: "get-header-value-trim",
            method: "GET",
            target: "/",
            headers: &[
                ("My-Header1", " value1"),
                ("My-Header2", " \"a   b   c\"  "),
            ],
            body: b"",
            signed_headers: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        },
        Vector {
            name: "get-header-value-multiline",
            method: "GET",
            target: "/",
            headers: &[("My-Header1", "value1\n  value2\n     value3")],
            body: b"",
            signed_headers: "host;my-header1;x-amz-date",
            signature: "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
        },
        Vector {
            name: "get-unreserved",
            method: "GET",
            target: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        },
        Vector {
            name: "get-utf8",
            method: "GET",
            target: "/\u{1234}",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        },
        Vector {
            name: "get-utf8",
            method: "GET",
            target: "/%E1%88%B4",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        },
        Vector {
            name: "get-space-normalized",
            method: "GET",
            target: "/example%20space/",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        },
        Vector {
            name: "get-space-unnormalized",
            method: "GET",
            target: "/example space/",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        },
        Vector {
            name: "get-relative-normalized",
            method: "GET",
            target: "/example/..",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-relative-unnormalized",
            method: "GET",
            target: "/example/..",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282",
        },
        Vector {
            name: "get-relative-relative-normalized",
            method: "GET",
            target: "/example1/example2/../..",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-relative-relative-unnormalized",
            method: "GET",
            target: "/example1/example2/../..",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b",
        },
        Vector {
            name: "get-slash-normalized",
            method: "GET",
            target: "//",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slash-unnormalized",
            method: "GET",
            target: "//",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e",
        },
        Vector {
            name: "get-slash-dot-slash-normalized",
            method: "GET",
            target: "/./",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slash-dot-slash-unnormalized",
            method: "GET",
            target: "/./",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145",
        },
        Vector {
            name: "get-slash-pointless-dot-normalized",
            method: "GET",
            target: "/./example",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        },
        Vector {
            name: "get-slash-pointless-dot-unnormalized",
            method: "GET",
            target: "/./example",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff",
        },
        Vector {
            name: "get-slashes-normalized",
            method: "GET",
            target: "//example//",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        },
        Vector {
            name: "get-slashes-unnormalized",
            method: "GET",
            target: "//example//",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5",
        },
        Vector {
            name: "get-vanilla-with-session-token",
            method: "GET",
            target: "/",
            headers: &[(
                "X-Amz-Security-Token",
                "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
            )],
            body: b"",
            signed_headers: "host;x-amz-date;x-amz-security-token",
            signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
        },
        Vector {
            name: "post-vanilla",
            method: "POST",
            target: "/",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        },
        Vector {
            name: "post-vanilla-query",
            method: "POST",
            target: "/?Param1=value1",
            headers: &[],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        },
        Vector {
            name: "post-header-key-sort",
            method: "POST",
            target: "/",
            headers: &[("My-Header1", "value1")],
            body: b"",
            signed_headers: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        },
        Vector {
            name: "post-header-value-case",
            method: "POST",
            target: "/",
            headers: &[("My-Header1", "VALUE1")],
            body: b"",
            signed_headers: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        },
        Vector {
            name: "post-sts-header-after",
            method: "POST",
            target: "/",
            headers: &[("X-Amz-Security-Token", STS_TOKEN)],
            body: b"",
            signed_headers: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        },
        Vector {
            name: "post-sts-header-before",
            method: "POST",
            target: "/",
            headers: &[("X-Amz-Security-Token", STS_TOKEN)],
            body: b"",
            signed_headers: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        },
        Vector {
            name: "post-x-www-form-urlencoded",
            method: "POST",
            target: "/",
            headers: &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", "13"),
                ("x-amz-content-sha256", FORM_SHA256),
            ],
            body: b"Param1=value1",
            signed_headers: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
            signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
        },
        Vector {
            name: "post-x-www-form-urlencoded-parameters",
            method: "POST",
            target: "/",
            headers: &[
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
                ("Content-Length", "13"),
                ("x-amz-content-sha256", FORM_SHA256),
            ],
            body: b"Param1=value1",
            signed_headers: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
            signature: "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
        },
        // The same case in AWS's earlier test suite (aws-sig-v4-test-suite, 2015, from
        // docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html), which signs the
        // body without an x-amz-content-sha256 header.
        Vector {
            name: "post-x-www-form-urlencoded (2015 suite)",
            method: "POST",
            target: "/",
            headers: &[("Content-Type", "application/x-www-form-urlencoded")],
            body: b"Param1=value1",
            signed_headers: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        },
    ];

    fn vector_request(vector: &Vector) -> Request {
        suite_request(
            vector.method,
            vector.target,
            vector.headers,
            vector.body,
            vector.signed_headers,
            vector.signature,
        )
    }

    fn vector(name: &str) -> &'static Vector {
        SUITE
            .iter()
            .find(|vector| vector.name == name)
            .unwrap_or_else(|| panic!("no vector {name}"))
    }

    #[test]
    fn accepts_the_aws_test_suite() {
        for vector in SUITE {
            let result = verify_suite(&vector_request(vector));
            assert_eq!(
                result,
                Ok(SignedBy {
                    access_key_id: SUITE_KEY_ID.to_string(),
                    region: "us-east-1".to_string(),
                }),
                "{} ({})",
                vector.name,
                vector.target
            );
        }
    }

    /// Signing reproduces the suite's signatures: every vector whose signed headers are all of
    /// its headers (a signer signs what it sends). `post-sts-header-after` adds its token after
    /// signing, so it is not one.
    #[test]
    fn signs_as_the_aws_test_suite() {
        let credentials = Credentials {
            access_key_id: SUITE_KEY_ID.to_string(),
            secret_access_key: Secret::new(SUITE_SECRET),
            session_token: None,
        };
        let mut signed = 0;
        for vector in SUITE {
            let mut names: Vec<String> = vector
                .headers
                .iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .chain(["host".to_string(), "x-amz-date".to_string()])
                .collect();
            names.sort();
            // A target already percent-encoded is signed as sent (encoded again), as the SDKs
            // do; the suite lists those for the verifier. Unnormalised vectors are S3's.
            if names.join(";") != vector.signed_headers
                || vector.target.contains([' ', '%'])
                || vector.name.ends_with("-unnormalized")
            {
                continue;
            }
            let mut request = crate::ports::DeliveryRequest {
                method: vector.method.to_string(),
                url: format!("https://example.amazonaws.com{}", vector.target),
                headers: vector
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                    .collect(),
                body: String::from_utf8(vector.body.to_vec()).unwrap(),
            };
            sign(
                &mut request,
                &credentials,
                "us-east-1",
                "service",
                SUITE_NOW_MS,
            )
            .unwrap();
            let authorization = &request.headers["authorization"];
            assert_eq!(
                authorization,
                &authorization_for(vector),
                "{} ({})",
                vector.name,
                vector.target
            );
            assert_eq!(request.headers["x-amz-date"], SUITE_DATE);
            // What it signed, our verifier accepts.
            let mut back = Request::new(vector.method, vector.target.split('?').next().unwrap());
            back.query = vector
                .target
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .to_string();
            back.body = vector.body.to_vec();
            back = back.with_header("host", "example.amazonaws.com");
            for (name, value) in &request.headers {
                back = back.with_header(name, value);
            }
            assert!(verify_suite(&back).is_ok(), "{}", vector.name);
            signed += 1;
        }
        assert!(signed >= 8, "only {signed} vectors were signable");
    }

    fn authorization_for(vector: &Vector) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={}, Signature={}",
            vector.signed_headers, vector.signature
        )
    }

    #[test]
    fn signs_with_a_session_token_and_a_port() {
        let credentials = Credentials {
            access_key_id: SUITE_KEY_ID.to_string(),
            secret_access_key: Secret::new(SUITE_SECRET),
            session_token: Some(Secret::new(
                "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
            )),
        };
        let mut request = crate::ports::DeliveryRequest {
            method: "GET".into(),
            url: "https://example.amazonaws.com:443/".into(),
            headers: Default::default(),
            body: String::new(),
        };
        sign(
            &mut request,
            &credentials,
            "us-east-1",
            "service",
            SUITE_NOW_MS,
        )
        .unwrap();
        // The suite's get-vanilla-with-session-token.
        assert_eq!(
            request.headers["authorization"],
            authorization_for(vector("get-vanilla-with-session-token"))
        );
        // A port that is not the default is part of the signed host.
        let mut other = crate::ports::DeliveryRequest {
            url: "http://127.0.0.1:5000/".into(),
            ..request.clone()
        };
        sign(
            &mut other,
            &credentials,
            "us-east-1",
            "service",
            SUITE_NOW_MS,
        )
        .unwrap();
        let back = Request::new("GET", "/")
            .with_header("host", "127.0.0.1:5000")
            .with_header("x-amz-date", SUITE_DATE)
            .with_header(
                "x-amz-security-token",
                &other.headers["x-amz-security-token"],
            )
            .with_header("authorization", &other.headers["authorization"]);
        assert!(verify_suite(&back).is_ok());
        assert_ne!(
            other.headers["authorization"],
            request.headers["authorization"]
        );
    }

    #[test]
    fn rejects_each_suite_vector_with_another_signature() {
        // The signature of another request never passes.
        let other = vector("post-x-www-form-urlencoded").signature;
        for case in SUITE {
            let signature = if case.signature == other {
                vector("get-vanilla").signature
            } else {
                other
            };
            let request = suite_request(
                case.method,
                case.target,
                case.headers,
                case.body,
                case.signed_headers,
                signature,
            );
            assert_error(
                verify_suite(&request),
                ErrorKind::InvalidSignature,
                MISMATCH,
            );
        }
    }

    /// The suite's `double-url-encode` case (added to the suite by the AWS SDK for Rust's
    /// `aws-sigv4` 1.6.4, `aws-signing-test-suite/v4/double-url-encode/`): a Lambda path whose
    /// escaped `:` is signed as `%253A`, as every SDK signs a non-S3 path.
    #[test]
    fn accepts_a_double_encoded_path() {
        let mut request = Request::new(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
        )
        .with_header("host", "lambda.us-east-2.amazonaws.com")
        .with_header("x-amz-date", "20210511T154045Z");
        request = request.with_header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210511/us-east-2/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804",
        );
        let now = 1_620_747_645_000;
        assert_eq!(
            verify(&request, "lambda", &keys(), now),
            Ok(SignedBy {
                access_key_id: SUITE_KEY_ID.to_string(),
                region: "us-east-2".to_string(),
            })
        );
        // Signed as `%253A`, so a `:` sent unescaped is another request.
        request.path = request.path.replace("%3A", ":");
        assert_error(
            verify(&request, "lambda", &keys(), now),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }

    /// The 2011 edition of AWS's test suite (`aws4_testsuite`, `get-vanilla`), which dates the
    /// request with a `Date` header instead of `x-amz-date`.
    #[test]
    fn falls_back_to_the_date_header() {
        let request = Request::new("GET", "/")
            .with_header("Date", "Mon, 09 Sep 2011 23:36:00 GMT")
            .with_header("Host", "host.foo.com")
            .with_header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, \
                 SignedHeaders=date;host, \
                 Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
            );
        let now = 1_315_611_360_000;
        assert_eq!(
            verify(&request, "host", &keys(), now).map(|signed| signed.region),
            Ok("us-east-1".to_string())
        );
        let mut garbled = request.clone();
        garbled.headers[0].1 = "Mon, 09 Sep 2011 23:36:00 UTC".to_string();
        assert_error(
            verify(&garbled, "host", &keys(), now),
            ErrorKind::InvalidSignature,
            "HTTP date",
        );
    }

    /// A Cognito call signed by the AWS SDK for Rust's signer: `aws-sigv4` 1.6.4's
    /// `http_request::sign` with default settings, given the headers the SDK sends for
    /// `AdminGetUser` to `http://127.0.0.1:9229/` (host and port come from the URI), run once
    /// with the suite's credentials at 2015-08-30T12:36:00Z; the output is pasted here.
    #[test]
    fn accepts_a_cognito_call_signed_by_the_aws_sdk_for_rust() {
        let body = br#"{"UserPoolId":"us-east-1_example","Username":"alice"}"#;
        let request = Request::new("POST", "/")
            .with_header("content-type", "application/x-amz-json-1.1")
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.AdminGetUser")
            .with_header("content-length", "53")
            .with_header("amz-sdk-invocation-id", "00000000-0000-4000-8000-000000000000")
            .with_header("amz-sdk-request", "attempt=1; max=3")
            .with_header(
                "x-amz-user-agent",
                "aws-sdk-rust/1.3.9 api/cognitoidentityprovider/1.96.0 os/linux lang/rust/1.95.0",
            )
            .with_header("user-agent", "aws-sdk-rust/1.3.9 os/linux lang/rust/1.95.0")
            .with_header("host", "127.0.0.1:9229")
            .with_header("x-amz-date", SUITE_DATE)
            .with_header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/cognito-idp/aws4_request, \
                 SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target;x-amz-user-agent, \
                 Signature=e98aaaed97cea280c625a66c2b4ffb8dac606e92df6e580b6985e364e8085103",
            )
            .with_body(body.to_vec());
        let expected = SignedBy {
            access_key_id: SUITE_KEY_ID.to_string(),
            region: "eu-west-1".to_string(),
        };
        assert_eq!(
            verify(&request, "cognito-idp", &keys(), SUITE_NOW_MS),
            Ok(expected)
        );
        assert_eq!(credential_region(&request), Some("eu-west-1".to_string()));

        // Another operation on the same body is another request.
        let mut other = request.clone();
        other.headers[1].1 = "AWSCognitoIdentityProviderService.AdminDeleteUser".to_string();
        assert_error(
            verify(&other, "cognito-idp", &keys(), SUITE_NOW_MS),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
        // The user agent is not signed, so a proxy may rewrite it.
        let mut other = request.clone();
        for header in &mut other.headers {
            if header.0 == "user-agent" {
                header.1 = "proxy".to_string();
            }
        }
        assert!(verify(&other, "cognito-idp", &keys(), SUITE_NOW_MS).is_ok());
    }

    /// The same call signed by botocore (the AWS CLI's and boto3's signer): `SigV4Auth(creds,
    /// "cognito-idp", "eu-west-1").add_auth(...)` from botocore 1.43.11, on a POST to
    /// `http://127.0.0.1:9229/` with the clock fixed at 2015-08-30T12:36:00Z.
    #[test]
    fn accepts_a_cognito_call_signed_by_botocore() {
        let body = br#"{"UserPoolId":"us-east-1_example","Username":"alice"}"#;
        let request = Request::new("POST", "/")
            .with_header("Content-Type", "application/x-amz-json-1.1")
            .with_header("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminGetUser")
            .with_header("Host", "127.0.0.1:9229")
            .with_header("X-Amz-Date", SUITE_DATE)
            .with_header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/cognito-idp/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                 Signature=e17982bfc21419847d4f84336aa851238cd3169d52476f60ec6687daa2d681a3",
            )
            .with_body(body.to_vec());
        assert_eq!(
            verify(&request, "cognito-idp", &keys(), SUITE_NOW_MS).map(|s| s.region),
            Ok("eu-west-1".to_string())
        );
        let mut tampered = request.clone();
        tampered.body = br#"{"UserPoolId":"us-east-1_example","Username":"mallory"}"#.to_vec();
        assert_error(
            verify(&tampered, "cognito-idp", &keys(), SUITE_NOW_MS),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }

    #[test]
    fn tolerates_the_separators_signers_write() {
        let signature = vector("get-vanilla").signature;
        for header in [
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature={signature}"
            ),
            format!(
                "  AWS4-HMAC-SHA256   Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request ,\tSignedHeaders=host;x-amz-date , Signature={signature}  "
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request SignedHeaders=host;x-amz-date Signature={signature}"
            ),
            // Parameters in another order, and one this verifier does not know.
            format!(
                "AWS4-HMAC-SHA256 Signature={signature}, SignedHeaders=host;x-amz-date, Extra=1, Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
            ),
            // Upper-case hex.
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                signature.to_ascii_uppercase()
            ),
        ] {
            let request = Request::new("GET", "/")
                .with_header("host", "example.amazonaws.com")
                .with_header("x-amz-date", SUITE_DATE)
                .with_header("authorization", &header);
            assert!(verify_suite(&request).is_ok(), "{header}");
        }
    }

    /// `vector` with its Authorization header replaced.
    fn with_authorization(vector: &Vector, value: &str) -> Request {
        let mut request = vector_request(vector);
        request.headers.retain(|(name, _)| name != "authorization");
        request.with_header("authorization", value)
    }

    #[test]
    fn rejects_a_tampered_request() {
        // Body, signed without x-amz-content-sha256.
        let form = vector("post-x-www-form-urlencoded (2015 suite)");
        let mut request = vector_request(form);
        request.body = b"Param1=value2".to_vec();
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );

        // Body, signed with x-amz-content-sha256.
        let form = vector("post-x-www-form-urlencoded");
        let mut request = vector_request(form);
        request.body = b"Param1=value2".to_vec();
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            "'x-amz-content-sha256' header does not match",
        );
        // ... also when the declared hash is changed to match the new body.
        let mut request = vector_request(form);
        request.body = b"Param1=value2".to_vec();
        for header in &mut request.headers {
            if header.0 == "x-amz-content-sha256" {
                header.1 = hex(&Sha256::digest(b"Param1=value2"));
            }
        }
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
        // An unsigned payload is refused.
        let mut request = vector_request(form);
        for header in &mut request.headers {
            if header.0 == "x-amz-content-sha256" {
                header.1 = "UNSIGNED-PAYLOAD".to_string();
            }
        }
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            "Unsigned and streaming payloads",
        );

        // Method, path, query, a signed header, the date.
        let order = vector("get-vanilla-query-order-key-case");
        let mut tampered = Vec::new();
        let mut request = vector_request(order);
        request.method = "POST".to_string();
        tampered.push(request);
        let mut request = vector_request(order);
        request.path = "/x".to_string();
        tampered.push(request);
        let mut request = vector_request(order);
        request.query = "Param2=value2&Param1=value2".to_string();
        tampered.push(request);
        let mut request = vector_request(order);
        request.query.push_str("&Param3=value3");
        tampered.push(request);
        let mut request = vector_request(order);
        request.headers[0].1 = "evil.example.com".to_string();
        tampered.push(request);
        let mut request = vector_request(order);
        request.headers[1].1 = "20150830T123601Z".to_string();
        tampered.push(request);
        let mut request = vector_request(vector("get-header-value-order"));
        request.headers.swap(1, 2);
        tampered.push(request);
        for request in tampered {
            assert_error(
                verify_suite(&request),
                ErrorKind::InvalidSignature,
                MISMATCH,
            );
        }
    }

    #[test]
    fn rejects_a_tampered_signature() {
        let vanilla = vector("get-vanilla");
        let mut signature = vanilla.signature.to_string();
        signature.replace_range(63.., "0");
        for bad in [
            signature.as_str(),
            &vanilla.signature[..62],
            "",
            "zz",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3g",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31aa",
        ] {
            let request = with_authorization(
                vanilla,
                &authorization(
                    "20150830/us-east-1/service/aws4_request",
                    "host;x-amz-date",
                    bad,
                ),
            );
            assert_error(
                verify_suite(&request),
                ErrorKind::InvalidSignature,
                MISMATCH,
            );
        }
    }

    #[test]
    fn rejects_an_unknown_key_or_a_wrong_secret() {
        let request = vector_request(vector("get-vanilla"));
        assert_error(
            verify(&request, "service", &keys()[..1], SUITE_NOW_MS),
            ErrorKind::UnrecognizedClient,
            INVALID_TOKEN,
        );
        assert_error(
            verify(&request, "service", &[], SUITE_NOW_MS),
            ErrorKind::UnrecognizedClient,
            INVALID_TOKEN,
        );
        let wrong_secret = [AdminKey {
            access_key_id: SUITE_KEY_ID.to_string(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"),
        }];
        assert_error(
            verify(&request, "service", &wrong_secret, SUITE_NOW_MS),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }

    #[test]
    fn enforces_fifteen_minutes_of_clock_skew() {
        let request = vector_request(vector("get-vanilla"));
        let fifteen_minutes = 15 * 60 * 1000;
        for now in [
            SUITE_NOW_MS - fifteen_minutes,
            SUITE_NOW_MS + fifteen_minutes,
            SUITE_NOW_MS + fifteen_minutes + 999,
        ] {
            assert!(verify(&request, "service", &keys(), now).is_ok(), "{now}");
        }
        assert_error(
            verify(
                &request,
                "service",
                &keys(),
                SUITE_NOW_MS + fifteen_minutes + 1000,
            ),
            ErrorKind::InvalidSignature,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
             (20150830T125101Z - 15 min.)",
        );
        assert_error(
            verify(
                &request,
                "service",
                &keys(),
                SUITE_NOW_MS - fifteen_minutes - 1000,
            ),
            ErrorKind::InvalidSignature,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
             (20150830T122059Z + 15 min.)",
        );
        for now in [0, u64::MAX] {
            assert_error(
                verify(&request, "service", &keys(), now),
                ErrorKind::InvalidSignature,
                "Signature",
            );
        }
    }

    #[test]
    fn checks_the_credential_scope() {
        let vanilla = vector("get-vanilla");
        let request = vector_request(vanilla);
        assert_error(
            verify(&request, "cognito-idp", &keys(), SUITE_NOW_MS),
            ErrorKind::InvalidSignature,
            "Credential should be scoped to correct service: 'cognito-idp'.",
        );
        for (scope, message) in [
            (
                "20150831/us-east-1/service/aws4_request",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
            ),
            (
                "20150830/us-east-1/service/aws5_request",
                "Credential should be scoped with a valid terminator: 'aws4_request'.",
            ),
            (
                "20150830/us-east-1/service",
                "'Credential' parameter is malformed",
            ),
            (
                "20150830/us-east-1/service/aws4_request/x",
                "'Credential' parameter is malformed",
            ),
            (
                "2015083/us-east-1/service/aws4_request",
                "'Credential' parameter is malformed",
            ),
            (
                "20150830//service/aws4_request",
                "'Credential' parameter is malformed",
            ),
            (
                "20150830/us_east/service/aws4_request",
                "'Credential' parameter is malformed",
            ),
        ] {
            let request = with_authorization(
                vanilla,
                &authorization(scope, "host;x-amz-date", vanilla.signature),
            );
            assert_error(verify_suite(&request), ErrorKind::InvalidSignature, message);
        }
    }

    #[test]
    fn checks_the_signed_headers() {
        let vanilla = vector("get-vanilla");
        let scope = "20150830/us-east-1/service/aws4_request";
        for (signed_headers, message) in [
            ("x-amz-date", "'Host' must be a signed header"),
            ("x-amz-date;host", "sorted and without duplicates"),
            ("host;host;x-amz-date", "sorted and without duplicates"),
            ("Host;x-amz-date", "sorted and without duplicates"),
            ("host;;x-amz-date", "sorted and without duplicates"),
            ("", "sorted and without duplicates"),
            (
                "host;x-amz-date;x-missing",
                "'x-missing' is listed in 'SignedHeaders'",
            ),
        ] {
            let request = with_authorization(
                vanilla,
                &authorization(scope, signed_headers, vanilla.signature),
            );
            assert_error(verify_suite(&request), ErrorKind::InvalidSignature, message);
        }
    }

    #[test]
    fn answers_as_aws_for_a_missing_or_malformed_header() {
        let vanilla = vector("get-vanilla");
        let mut request = vector_request(vanilla);
        request.headers.retain(|(name, _)| name != "authorization");
        assert_error(
            verify_suite(&request),
            ErrorKind::UnrecognizedClient,
            MISSING_TOKEN,
        );
        assert_error(
            verify_suite(&request.clone().with_header("authorization", "  ")),
            ErrorKind::UnrecognizedClient,
            MISSING_TOKEN,
        );
        for (value, message) in [
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date",
                "Authorization header requires 'Signature' parameter.",
            ),
            (
                "AWS4-HMAC-SHA256",
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
                 parameter.",
            ),
            ("Bearer abc", "algorithm must be 'AWS4-HMAC-SHA256'"),
            (
                "AWS4-HMAC-SHA1 Credential=x",
                "algorithm must be 'AWS4-HMAC-SHA256'",
            ),
            ("AWS4-HMAC-SHA256 Credential", "'name=value'"),
            (
                "AWS4-HMAC-SHA256 Signature=a, Signature=b, Credential=c, SignedHeaders=host",
                "more than one 'Signature' parameter",
            ),
        ] {
            assert_error(
                verify_suite(&with_authorization(vanilla, value)),
                ErrorKind::InvalidSignature,
                message,
            );
        }
        let twice = vector_request(vanilla).with_header("Authorization", "AWS4-HMAC-SHA256");
        assert_error(
            verify_suite(&twice),
            ErrorKind::InvalidSignature,
            "exactly one 'Authorization' header",
        );

        let mut undated = vector_request(vanilla);
        undated.headers.retain(|(name, _)| name != "x-amz-date");
        assert_error(
            verify_suite(&undated),
            ErrorKind::InvalidSignature,
            "requires existence of either a 'X-Amz-Date' or a 'Date' header",
        );
        for date in [
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20150830T246000Z",
            "20150230T123600Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "",
        ] {
            let mut request = vector_request(vanilla);
            request.headers[1].1 = date.to_string();
            assert_error(
                verify_suite(&request),
                ErrorKind::InvalidSignature,
                "basic format",
            );
        }
    }

    #[test]
    fn reads_the_credential_region() {
        let request = vector_request(vector("get-vanilla"));
        assert_eq!(credential_region(&request), Some("us-east-1".to_string()));
        // Not verified: a bad signature or date does not matter.
        let partial = Request::new("POST", "/").with_header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20200101/ap-southeast-2/cognito-idp/aws4_request",
        );
        assert_eq!(
            credential_region(&partial),
            Some("ap-southeast-2".to_string())
        );
        for value in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKID/20200101/eu west/cognito-idp/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/20200101//cognito-idp/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/20200101/<script>/cognito-idp/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/eu-west-1",
            "Basic dXNlcjpwYXNz",
            "",
        ] {
            let request = Request::new("POST", "/").with_header("authorization", value);
            assert_eq!(credential_region(&request), None, "{value}");
        }
        assert_eq!(credential_region(&Request::new("POST", "/")), None);
    }

    #[test]
    fn canonicalises_as_aws_does() {
        assert_eq!(
            canonical_query("b=2&a=%7e&a=1&c&%41%2b=x y+z&&e=%zz&f=%E1%88%b4"),
            "A%2B=x%20y%2Bz&a=1&a=~&b=2&c=&e=%25zz&f=%E1%88%B4"
        );
        assert_eq!(canonical_query(""), "");
        assert_eq!(normalize_path("/a/./b/../c//d/."), "/a/c/d/");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(normalize_path("x"), "/x");
        assert_eq!(
            canonical_uris("/a b/%3a/%zz"),
            vec![
                "/a%20b/%253a/%25zz".to_string(),
                "/a%20b/%3A/%25zz".to_string()
            ]
        );
        assert_eq!(canonical_uris(""), vec!["/".to_string()]);
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_amz_date("19000229T000000Z"), None);
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(1_440_938_160)
        );
        let mut out = String::new();
        push_trimmed(&mut out, "  a \t  b  ", |c| c == ' ');
        out.push('|');
        push_trimmed(&mut out, "  a \t  b  ", |c| c.is_ascii_whitespace());
        assert_eq!(out, "a \t b|a b");
        assert_eq!(
            hex(&signing_key(SUITE_SECRET, "20150830", "us-east-1", "iam").unwrap_or_default()),
            // AWS's documented example signing key (IAM, 2015-08-30).
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        assert_eq!(hex(&Sha256::digest(b"")), EMPTY_SHA256);
    }

    /// Never panics, whatever the input: truncations of a valid header, non-ASCII, garbage.
    #[test]
    fn survives_garbage() {
        let good = vector_request(vector("post-x-www-form-urlencoded"));
        let authorization = good.header("authorization").unwrap_or_default().to_string();
        let mut values: Vec<String> = authorization
            .char_indices()
            .map(|(i, _)| authorization[..i].to_string())
            .collect();
        values.extend(
            [
                "AWS4-HMAC-SHA256 Credential=é/ü/ß/ñ/ø, SignedHeaders=é;ü, Signature=ééééé",
                "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;;, Signature====",
                "AWS4-HMAC-SHA256 ,,,,,,= = = ,",
                "AWS4-HMAC-SHA256\u{0}Credential=\u{0}",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;\u{1F600}, Signature=00",
                "\u{feff}AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA256\u{a0}Credential=x",
            ]
            .map(str::to_string),
        );
        let dates = [
            SUITE_DATE,
            "",
            "ééééééééééééééé",
            "2015083€T12360",
            "99999999T999999Z",
            "00000000T000000Z",
            "00010101T000000Z",
        ];
        let paths = [
            "/",
            "",
            "%",
            "/%",
            "/%e",
            "/%é",
            "/\u{0}",
            "/../../..",
            "é/é/..",
            "////",
        ];
        let queries = [
            "", "%", "=", "&&&", "a=%", "%=%", "é=é", "a=%E1%88", "==&==",
        ];
        let mut runs = 0;
        for value in &values {
            for (i, date) in dates.iter().enumerate() {
                let path = paths.get(i % paths.len()).copied().unwrap_or("/");
                let query = queries.get(runs % queries.len()).copied().unwrap_or("");
                let mut request = good.clone();
                request.path = path.to_string();
                request.query = query.to_string();
                for header in &mut request.headers {
                    match header.0.as_str() {
                        "authorization" => header.1 = value.clone(),
                        "x-amz-date" => header.1 = (*date).to_string(),
                        _ => {}
                    }
                }
                let result = verify_suite(&request);
                assert!(result.is_err(), "{value:?} {date:?} {path:?} {query:?}");
                let _ = credential_region(&request);
                runs += 1;
            }
        }

        // Pseudo-random byte strings in every field.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "AWS4-HMAC-SHA256 Credential=/;,=%0123456789abcdefTZé\u{0}\t"
            .chars()
            .collect();
        let mut random_string = |len: usize| -> String {
            (0..len)
                .map(|_| {
                    let pick = usize::try_from(next() % alphabet.len() as u64).unwrap_or(0);
                    alphabet.get(pick).copied().unwrap_or('x')
                })
                .collect()
        };
        for round in 0..2000 {
            let request = Request {
                method: random_string(round % 5),
                path: random_string(round % 17),
                query: random_string(round % 13),
                headers: vec![
                    ("host".to_string(), random_string(round % 7)),
                    ("x-amz-date".to_string(), random_string(16)),
                    ("date".to_string(), random_string(29)),
                    ("authorization".to_string(), random_string(round % 120)),
                    ("x-amz-content-sha256".to_string(), random_string(round % 3)),
                ],
                body: random_string(round % 11).into_bytes(),
                remote_addr: None,
            };
            assert!(verify_suite(&request).is_err());
            let _ = credential_region(&request);
        }
    }

    /// Large adversarial inputs stay fast: no step is quadratic.
    #[test]
    fn stays_linear_on_large_inputs() {
        let vanilla = vector("get-vanilla");
        let mut request = vector_request(vanilla);
        request.path = format!("/{}", "%/.././".repeat(1 << 17));
        request.query = "a=%&".repeat(1 << 17);
        request.body = "a".repeat(1 << 20).into_bytes();
        for i in 0..5000 {
            request = request.with_header("my-header", &format!("{i}   \t  {i}"));
        }
        let scope = "20150830/us-east-1/service/aws4_request";
        let set_authorization = |request: &mut Request, signed_headers: &str| {
            for header in &mut request.headers {
                if header.0 == "authorization" {
                    header.1 = authorization(scope, signed_headers, vanilla.signature);
                }
            }
        };
        set_authorization(&mut request, "host;my-header;x-amz-date");
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );

        let mut names: Vec<String> = (0..20_000).map(|i| format!("h{i:05}")).collect();
        names.extend(["host", "my-header", "x-amz-date"].map(str::to_string));
        set_authorization(&mut request, &names.join(";"));
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            "'h00000' is listed",
        );
    }
}
