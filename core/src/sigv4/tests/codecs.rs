//! The canonical request's codecs and the date formats, piece by piece.

use super::*;
use crate::sigv4::canonical::{
    canonical_query, canonical_uris, encode_path, normalize_path, push_trimmed,
};
use crate::sigv4::date::{format_amz_date, parse_amz_date, parse_http_date};
use crate::sigv4::key::signing_key;
use alloc::vec;
use sha2::{Digest, Sha256};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
        hex::encode(signing_key(SUITE_SECRET, "20150830", "us-east-1", "iam").unwrap_or_default()),
        // AWS's documented example signing key (IAM, 2015-08-30).
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
    assert_eq!(hex::encode(Sha256::digest(b"")), EMPTY_SHA256);
}

/// The date formats' edges, as the hand-written parser had them: four unsigned year digits,
/// real calendar days, no leap second, the month's English abbreviation as written.
#[test]
fn parses_dates_strictly() {
    assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199));
    assert_eq!(parse_amz_date("00000101T000000Z"), Some(-62_167_219_200));
    assert_eq!(parse_amz_date("99991231T235959Z"), Some(253_402_300_799));
    for bad in [
        "20230229T000000Z",
        "20150830T235960Z",
        "20150830T240000Z",
        "20150830T126000Z",
        "20151330T000000Z",
        "20150800T000000Z",
        "+2015083T123600Z",
        "-0150830T123600Z",
        "20150830T123600z",
        "20150830t123600Z",
        "20150830T123600Z ",
        "2015083 T123600Z",
        "２0150830T123600Z",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad}");
    }
    // The weekday is not checked (30 August 2015 was a Sunday).
    assert_eq!(
        parse_http_date("Xyz, 30 Aug 2015 12:36:00 GMT"),
        Some(1_440_938_160)
    );
    for bad in [
        "Sun, 30 aug 2015 12:36:00 GMT",
        "Sun, 30 Aug 2015 12:36:00 UTC",
        "Sun, 30 Aug 2015 12:36 GMT",
        "Sun, 3 Aug 2015 12:36:00 GMT",
        "Sun, 31 Sep 2015 12:36:00 GMT",
        "Sun, 30 Aug +015 12:36:00 GMT",
        "Sunday, 30 Aug 2015 12:36:00 GMT",
        "Sun, 30 Aug 2015 12:36:00 GMT ",
    ] {
        assert_eq!(parse_http_date(bad), None, "{bad}");
    }
    assert_eq!(format_amz_date(1_709_251_199), "20240229T235959Z");
    assert_eq!(format_amz_date(-1), "19691231T235959Z");
    // Out of the calendar's range: clamped (only a broken clock gets there).
    assert_eq!(format_amz_date(i64::MAX), "99991231T235959Z");
    assert_eq!(format_amz_date(i64::MIN), "00000101T000000Z");
}

/// The `percent-encoding`-based encoders give, byte for byte, what the hand-written ones they
/// replaced gave (kept here as the reference), over inputs built from the tricky characters.
#[test]
fn encodes_as_the_hand_written_codecs_did() {
    fn unreserved(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    }
    fn hex_value(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    fn escape(out: &mut String, b: u8) {
        out.push_str(&format!("%{b:02X}"));
    }
    fn reference_path(path: &str, keep_escapes: bool) -> String {
        let bytes = path.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'/' || unreserved(b) {
                out.push(char::from(b));
            } else if let (true, b'%', Some(high), Some(low)) = (
                keep_escapes,
                b,
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                escape(&mut out, (high << 4) | low);
                i += 3;
                continue;
            } else {
                escape(&mut out, b);
            }
            i += 1;
        }
        out
    }
    fn reference_reencode(component: &str) -> String {
        let bytes = component.as_bytes();
        let mut out = String::new();
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
            if unreserved(decoded) {
                out.push(char::from(decoded));
            } else {
                escape(&mut out, decoded);
            }
        }
        out
    }
    let alphabet: Vec<char> = "%%%aF0z9/+ -._~=&?#:@*!é\u{1234}\u{1F600}\0\t"
        .chars()
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bits = state;
        let text: String = (0..round % 12)
            .map(|_| {
                let pick = usize::try_from(bits % alphabet.len() as u64).unwrap();
                bits /= alphabet.len() as u64;
                alphabet[pick]
            })
            .collect();
        for keep_escapes in [false, true] {
            assert_eq!(
                encode_path(&text, keep_escapes),
                reference_path(&text, keep_escapes),
                "{text:?}"
            );
        }
        let query = canonical_query(&text);
        let mut params: Vec<(String, String)> = text
            .split('&')
            .filter(|param| !param.is_empty())
            .map(|param| {
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                (reference_reencode(name), reference_reencode(value))
            })
            .collect();
        params.sort_unstable();
        let reference: Vec<String> = params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(query, reference.join("&"), "{text:?}");
        // Form values (OAuth, SNS's AWS Query bodies), as the hand-written encoders gave them.
        assert_eq!(
            crate::codec::url_encode(&text),
            reference_reencode(&text.replace('%', "%25")),
            "{text:?}"
        );
    }
}
