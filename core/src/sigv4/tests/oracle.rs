//! The AWS SDK for Rust's signer (`aws-sigv4`) as an oracle: requests of every shape it signs,
//! with each of its settings, the verifier accepts, and refuses once one byte of the method,
//! path, query, a signed header, the body or the signature changes; and Cognate's own signer
//! writes exactly the signature `aws-sigv4` computes for the same call.

extern crate std;

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign as aws_sign,
};
use aws_sigv4::sign::v4;

use super::*;
use crate::ports::DeliveryRequest;

const SECRET: &str = "oracle/secret+key=with/odd+characters";
const KEY_ID: &str = "AKIDORACLE";
/// 2024-02-29T23:59:58Z: a leap day, a second before midnight.
const NOW_MILLIS: u64 = 1_709_251_198_000;

struct Case {
    method: &'static str,
    /// The URL as the client sends it (already percent-encoded where a URI must be).
    url: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    service: &'static str,
    region: &'static str,
    session_token: Option<&'static str>,
}

const JSON: &[u8] = br#"{"UserPoolId":"us-east-1_example","Username":"alice"}"#;

const CASES: &[Case] = &[
    // A Cognito administrative call, as the SDKs send it.
    Case {
        method: "POST",
        url: "https://cognito-idp.us-east-1.amazonaws.com/",
        headers: &[
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "AWSCognitoIdentityProviderService.AdminGetUser",
            ),
            ("content-length", "53"),
        ],
        body: JSON,
        service: "cognito-idp",
        region: "us-east-1",
        session_token: None,
    },
    // The same at Cognate's address, with a port, a session token and unsigned headers.
    Case {
        method: "POST",
        url: "http://127.0.0.1:9229/",
        headers: &[
            ("content-type", "application/x-amz-json-1.1"),
            (
                "x-amz-target",
                "AWSCognitoIdentityProviderService.AdminDeleteUser",
            ),
            ("user-agent", "aws-sdk-rust/1.3.9 os/linux lang/rust/1.95.0"),
            (
                "amz-sdk-invocation-id",
                "6c3f4a4e-2c39-4d2e-9a5f-0d3c1b0a9e71",
            ),
        ],
        body: JSON,
        service: "cognito-idp",
        region: "eu-west-1",
        session_token: Some("FwoGZXIvYXdzEBYaDOracleSessionToken/+=="),
    },
    // Dot segments and empty segments.
    Case {
        method: "GET",
        url: "https://example.amazonaws.com/a/./b/../c//d",
        headers: &[],
        body: b"",
        service: "service",
        region: "us-east-1",
        session_token: None,
    },
    // Escapes in the path: a space, a colon, a UTF-8 character, a literal percent.
    Case {
        method: "GET",
        url: "https://example.amazonaws.com/a%20b/c%3Ad/%E1%88%B4/%25done",
        headers: &[],
        body: b"",
        service: "lambda",
        region: "us-west-2",
        session_token: None,
    },
    // Reserved characters a URI path may carry unescaped.
    Case {
        method: "PUT",
        url: "https://example.amazonaws.com/~user/-._/!$'()*+,;=:@/end",
        headers: &[("content-type", "text/plain")],
        body: b"reserved",
        service: "service",
        region: "ap-southeast-2",
        session_token: None,
    },
    // A Lambda ARN path, double-encoded by the SDKs.
    Case {
        method: "POST",
        url: "https://lambda.us-east-2.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-2%3A123456789012%3Afunction%3Af/invocations",
        headers: &[("x-amz-invocation-type", "RequestResponse")],
        body: br#"{"key":"value"}"#,
        service: "lambda",
        region: "us-east-2",
        session_token: None,
    },
    // Repeated and unsorted query parameters, empty values, a parameter without `=`.
    Case {
        method: "GET",
        url: "https://example.amazonaws.com/list?z=26&b=2&a=1&a=0&A=upper&empty=&flag&b=1",
        headers: &[],
        body: b"",
        service: "service",
        region: "us-east-1",
        session_token: None,
    },
    // Reserved characters escaped in the query, and UTF-8 (a check mark, an emoji).
    Case {
        method: "GET",
        url: "https://example.amazonaws.com/q?path=%2Fa%2Fb%3Fc&amp=%26&eq=%3D&sp=a%20b&plus=%2B&check=%E2%9C%93&emoji=%F0%9F%98%80&tilde=~",
        headers: &[],
        body: b"",
        service: "s3",
        region: "eu-central-1",
        session_token: None,
    },
    // Query escapes in lower-case hex and unescaped sub-delimiters.
    Case {
        method: "DELETE",
        url: "https://example.amazonaws.com/item/42?version=%e1%88%b4&x=!*'()",
        headers: &[],
        body: b"",
        service: "service",
        region: "us-east-1",
        session_token: Some("token-only-in-a-header"),
    },
    // Several headers: repeated names, inner runs of spaces, padding, upper-case names.
    Case {
        method: "POST",
        url: "https://sns.eu-west-2.amazonaws.com/",
        headers: &[
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("X-Custom", "  padded   value  "),
            ("x-custom", "second"),
            ("x-custom", "third   one"),
            ("X-Amz-Meta-Quote", "\"a   b   c\""),
            ("x-amz-meta-empty", ""),
        ],
        body: b"Action=Publish&Message=hello%20world&Version=2010-03-31",
        service: "sns",
        region: "eu-west-2",
        session_token: None,
    },
    // SES v2 JSON, a header with UTF-8 in its value.
    Case {
        method: "POST",
        url: "https://email.ap-south-1.amazonaws.com/v2/email/outbound-emails",
        headers: &[
            ("content-type", "application/json"),
            ("x-amz-meta-name", "Zoë Ørsted"),
        ],
        body: "{\"Content\":{\"Simple\":{\"Subject\":{\"Data\":\"Héllo ✓\"}}}}".as_bytes(),
        service: "ses",
        region: "ap-south-1",
        session_token: Some("IQoJb3JpZ2luX2VjE///////////wEaCXVzLWVhc3QtMSJGMEQCIDg="),
    },
    // A binary, non-UTF-8 body.
    Case {
        method: "POST",
        url: "https://example.amazonaws.com/upload",
        headers: &[("content-type", "application/octet-stream")],
        body: &[0, 159, 146, 150, 255, 254, 10, 13, 0x80],
        service: "service",
        region: "us-gov-west-1",
        session_token: None,
    },
    // A larger body.
    Case {
        method: "POST",
        url: "https://example.amazonaws.com/",
        headers: &[("content-type", "application/x-amz-json-1.1")],
        body: &[b'a'; 70_000],
        service: "cognito-idp",
        region: "cn-north-1",
        session_token: None,
    },
    // No path at all.
    Case {
        method: "GET",
        url: "https://example.amazonaws.com",
        headers: &[],
        body: b"",
        service: "service",
        region: "us-east-1",
        session_token: None,
    },
    // A trailing slash, a default port written out, an upper-case host.
    Case {
        method: "PATCH",
        url: "https://example.amazonaws.com:443/dir/sub/",
        headers: &[("x-amz-meta-n", "1")],
        body: b"{}",
        service: "service",
        region: "me-south-1",
        session_token: None,
    },
];

/// `aws-sigv4`'s settings that change the canonical request: its default (double-encoded,
/// normalised path, no payload header), the payload header, and S3's single encoding and raw
/// path.
fn settings() -> Vec<(&'static str, SigningSettings)> {
    let mut out = Vec::new();
    for (name, checksum, encoding, normalization) in [
        (
            "default",
            PayloadChecksumKind::NoHeader,
            PercentEncodingMode::Double,
            UriPathNormalizationMode::Enabled,
        ),
        (
            "x-amz-content-sha256",
            PayloadChecksumKind::XAmzSha256,
            PercentEncodingMode::Double,
            UriPathNormalizationMode::Enabled,
        ),
        (
            "single encoding",
            PayloadChecksumKind::NoHeader,
            PercentEncodingMode::Single,
            UriPathNormalizationMode::Enabled,
        ),
        (
            "single encoding, raw path (S3)",
            PayloadChecksumKind::XAmzSha256,
            PercentEncodingMode::Single,
            UriPathNormalizationMode::Disabled,
        ),
        (
            "double encoding, raw path",
            PayloadChecksumKind::NoHeader,
            PercentEncodingMode::Double,
            UriPathNormalizationMode::Disabled,
        ),
    ] {
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = checksum;
        settings.percent_encoding_mode = encoding;
        settings.uri_path_normalization_mode = normalization;
        out.push((name, settings));
    }
    out
}

/// `host[:port]` as an HTTP client sends it: the default port dropped.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split(['/', '?']).next().unwrap();
    authority
        .strip_suffix(":443")
        .filter(|_| url.starts_with("https:"))
        .or_else(|| {
            authority
                .strip_suffix(":80")
                .filter(|_| url.starts_with("http:"))
        })
        .unwrap_or(authority)
        .to_string()
}

/// The path and query of a URL, as a server receives them.
fn target_of(url: &str) -> (String, String) {
    let rest = url.split_once("://").unwrap().1;
    let target = rest.find(['/', '?']).map_or("/", |at| &rest[at..]);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = if path.is_empty() { "/" } else { path };
    (path.to_string(), query.to_string())
}

/// Signs `case` with `aws-sigv4` and returns the request as Cognate receives it.
fn signed_by_aws(case: &Case, settings: SigningSettings) -> Request {
    let credentials = AwsCredentials::new(
        KEY_ID,
        SECRET,
        case.session_token.map(str::to_string),
        None,
        "oracle",
    );
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(case.region)
        .name(case.service)
        .time(UNIX_EPOCH + Duration::from_millis(NOW_MILLIS))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let host = host_of(case.url);
    let headers: Vec<(&str, &str)> = case
        .headers
        .iter()
        .copied()
        .chain([("host", host.as_str())])
        .collect();
    let signable = SignableRequest::new(
        case.method,
        case.url,
        headers.iter().copied(),
        SignableBody::Bytes(case.body),
    )
    .unwrap();
    let (instructions, _signature) = aws_sign(signable, &params).unwrap().into_parts();

    let (path, query) = target_of(case.url);
    let mut request = Request::new(case.method, &path).with_body(case.body.to_vec());
    request.query = query;
    for (name, value) in &headers {
        request = request.with_header(name, value);
    }
    for (name, value) in instructions.headers() {
        request = request.with_header(name, value);
    }
    request
}

fn oracle_keys() -> Vec<AdminKey> {
    alloc::vec![
        AdminKey {
            access_key_id: "AKIDOTHER".to_string(),
            secret_access_key: Secret::new(SECRET),
        },
        AdminKey {
            access_key_id: KEY_ID.to_string(),
            secret_access_key: Secret::new(SECRET),
        },
    ]
}

fn check(request: &Request, service: &str) -> Result<SignedBy, Error> {
    verify(request, service, &oracle_keys(), NOW_MILLIS)
}

/// `text` with one byte changed: its last ASCII letter or digit replaced by another (so the
/// change survives decoding, path normalisation and whitespace folding), or `x` appended when
/// it has none.
fn tamper(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    match bytes.iter().rposition(u8::is_ascii_alphanumeric) {
        Some(at) => {
            bytes[at] = match bytes[at] {
                b'a' | b'A' | b'0' => bytes[at] + 1,
                other => other - 1,
            };
        }
        None => bytes.push(b'x'),
    }
    String::from_utf8(bytes).unwrap()
}

/// The header names the request's `Authorization` header lists as signed.
fn signed_headers(request: &Request) -> Vec<String> {
    let authorization = request.header("authorization").unwrap();
    let list = authorization
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split([',', ' '])
        .next()
        .unwrap();
    list.split(';').map(str::to_string).collect()
}

fn assert_refused(request: &Request, service: &str, what: &str) {
    match check(request, service) {
        Ok(signed_by) => panic!("{what}: accepted as {signed_by:?}"),
        Err(error) => assert_eq!(error.kind, ErrorKind::InvalidSignature, "{what}: {error}"),
    }
}

#[test]
fn accepts_what_aws_sigv4_signs_and_refuses_any_tampering() {
    let mut accepted = 0;
    let mut refused = 0;
    let mut skipped = 0;
    for case in CASES {
        for (setting, settings) in settings() {
            let what = format!("{} {} ({setting})", case.method, case.url);
            // In its single-encoding mode (S3's) `aws-sigv4` signs the path as given, trusting
            // the caller to have escaped it (S3's SDK does); a raw `!` or `:` in the path is
            // then signed unescaped, which no AWS service would see and Cognate does not try.
            let (path, _) = target_of(case.url);
            if settings.percent_encoding_mode == PercentEncodingMode::Single
                && !path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b))
            {
                skipped += 1;
                continue;
            }
            let request = signed_by_aws(case, settings);
            assert_eq!(
                check(&request, case.service),
                Ok(SignedBy {
                    access_key_id: KEY_ID.to_string(),
                    region: case.region.to_string(),
                }),
                "{what}"
            );
            accepted += 1;

            let mut tampered = Vec::new();
            let mut method = request.clone();
            method.method = tamper(&method.method);
            tampered.push(("method", method));
            let mut path = request.clone();
            path.path = tamper(&path.path);
            tampered.push(("path", path));
            let mut query = request.clone();
            query.query = tamper(&query.query);
            tampered.push(("query", query));
            let mut body = request.clone();
            match body.body.first_mut() {
                Some(first) => *first ^= 1,
                None => body.body.push(b'x'),
            }
            tampered.push(("body", body));
            let mut signature = request.clone();
            for header in &mut signature.headers {
                if header.0 == "authorization" {
                    header.1 = tamper(&header.1);
                }
            }
            tampered.push(("signature", signature));
            for name in signed_headers(&request) {
                let mut header = request.clone();
                let value = header
                    .headers
                    .iter_mut()
                    .rfind(|(header_name, _)| *header_name == name)
                    .unwrap();
                value.1 = tamper(&value.1);
                tampered.push(("a signed header", header));
            }
            for (part, request) in &tampered {
                assert_refused(request, case.service, &format!("{what}, {part} tampered"));
                refused += 1;
            }

            // Headers it leaves unsigned may change on the way (a proxy's user agent).
            let mut unsigned = request.clone();
            unsigned
                .headers
                .push(("user-agent".into(), "proxy/1.0".into()));
            assert!(check(&unsigned, case.service).is_ok(), "{what}");
        }
    }
    assert_eq!(accepted + skipped, CASES.len() * 5);
    assert!(skipped <= 2, "{skipped}");
    assert!(refused > accepted * 7, "{refused}");
}

/// Cognate's signer (SES, SNS) writes the very `x-amz-date`, `x-amz-security-token` and
/// `authorization` headers `aws-sigv4` computes with its default settings for the same call:
/// every case whose headers a `DeliveryRequest` can carry (one value per name) and whose body is
/// text.
#[test]
fn signs_exactly_as_aws_sigv4() {
    let mut compared = 0;
    for case in CASES {
        let mut names: Vec<String> = case
            .headers
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let Ok(body) = core::str::from_utf8(case.body) else {
            continue;
        };
        if names.len() != case.headers.len() || names.iter().any(|name| name == "user-agent") {
            continue;
        }
        let expected = signed_by_aws(case, SigningSettings::default());
        let mut request = DeliveryRequest {
            method: case.method.to_string(),
            url: case.url.to_string(),
            headers: case
                .headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
                .collect(),
            body: body.to_string(),
        };
        let credentials = Credentials {
            access_key_id: KEY_ID.to_string(),
            secret_access_key: Secret::new(SECRET),
            session_token: case.session_token.map(Secret::new),
        };
        sign(
            &mut request,
            &credentials,
            case.region,
            case.service,
            NOW_MILLIS,
        )
        .unwrap();
        for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
            assert_eq!(
                request.headers.get(name).map(String::as_str),
                expected.header(name),
                "{name} of {} {}",
                case.method,
                case.url
            );
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} cases compared");
}
