//! `application/x-www-form-urlencoded` (query strings and form bodies) and percent-encoding,
//! with the `form_urlencoded` and `percent-encoding` crates.
//!
//! RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once", so a
//! repeated parameter is an error, not "the first one wins".

use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::url_encode as encode;

/// Decoded parameters of a query string or form body.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// A parameter appeared more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

impl Params {
    /// Parses `a=1&b=2`: `+` is a space, malformed percent escapes decode as themselves
    /// (lenient, like browsers), invalid UTF-8 is replaced.
    pub fn parse(text: &str) -> Self {
        let pairs = form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect();
        Self { pairs }
    }
    /// Parses a body as UTF-8 form data (invalid UTF-8 is replaced).
    pub fn parse_body(body: &[u8]) -> Self {
        Self::parse(&String::from_utf8_lossy(body))
    }
    /// The one value of `name`; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name {
                if found.is_some() {
                    return Err(Repeated(String::from(name)));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }
    /// The first value, ignoring repeats (hosted-UI form fields, where repeats are harmless).
    pub fn first(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Builds `a=1&b=2` from pairs, skipping `None` values.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&encode(k));
            out.push('=');
            out.push_str(&encode(v));
        }
    }
    out
}

/// Appends query parameters to a URI that may already have a query (RFC 6749 §3.1.2: the
/// registered URI's own query is kept).
pub fn append_query(uri: &str, query: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    alloc::format!("{uri}{sep}{query}")
}

/// The value of a cookie in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::form_decode as decode;

    #[test]
    fn round_trips_and_refuses_repeats() {
        let p = Params::parse("a=1&b=x+y%20z&c=&d=%2F%3F%26&e=%zz");
        assert_eq!(p.get("a"), Ok(Some("1")));
        assert_eq!(p.get("b"), Ok(Some("x y z")));
        assert_eq!(p.get("c"), Ok(None));
        assert_eq!(p.get("d"), Ok(Some("/?&")));
        assert_eq!(p.get("e"), Ok(Some("%zz")));
        assert_eq!(Params::parse("a=1&a=2").get("a"), Err(Repeated("a".into())));
        assert_eq!(encode("a b/&é"), "a%20b%2F%26%C3%A9");
        assert_eq!(decode(&encode("a b/&é+")), "a b/&é+");
        // Malformed escapes stay as written; `+` is a space, `%2B` a plus; bad UTF-8 replaced.
        let p = Params::parse("a=%&b=%2&c=%g1&d=1+1%2B1&e=%FF&f&=g&h==i&&");
        assert_eq!(p.get("a"), Ok(Some("%")));
        assert_eq!(p.get("b"), Ok(Some("%2")));
        assert_eq!(p.get("c"), Ok(Some("%g1")));
        assert_eq!(p.get("d"), Ok(Some("1 1+1")));
        assert_eq!(p.get("e"), Ok(Some("\u{FFFD}")));
        assert_eq!(p.get("f"), Ok(None));
        assert_eq!(p.get(""), Ok(Some("g")));
        assert_eq!(p.get("h"), Ok(Some("=i")));
        assert_eq!(p.iter().count(), 8);
        assert_eq!(decode("x+%zz%41%e2%9c%93"), "x %zzA\u{2713}");
        assert_eq!(
            encode("-._~AZaz09 +*'()!"),
            "-._~AZaz09%20%2B%2A%27%28%29%21"
        );
        assert_eq!(
            cookie(Some("x=1; cognate-csrf=abc; y=2"), "cognate-csrf"),
            Some("abc")
        );
        assert_eq!(
            append_query("https://a/cb?x=1", "code=2"),
            "https://a/cb?x=1&code=2"
        );
    }

    /// The crates decode as the hand-written decoder did (kept here as the reference), but for
    /// one quirk it had: `u8::from_str_radix` took `%+1` for the byte 1; it is now `% 1`.
    #[test]
    fn decodes_as_the_hand_written_decoder_did() {
        fn reference(text: &str) -> String {
            let bytes = text.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'+' => out.push(b' '),
                    b'%' => match bytes.get(i + 1..i + 3) {
                        Some(&[high, low])
                            if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() =>
                        {
                            let digits = [high, low];
                            let hex = core::str::from_utf8(&digits).unwrap_or("00");
                            out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    },
                    other => out.push(other),
                }
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        let alphabet: Vec<char> = "%%%+=&aF09z \u{e9}\u{1F600}".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bits = state;
            let text: String = (0..round % 14)
                .map(|_| {
                    let n = alphabet.len() as u64;
                    let pick = usize::try_from(bits % n).unwrap_or(0);
                    bits /= n;
                    alphabet.get(pick).copied().unwrap_or('a')
                })
                .collect();
            assert_eq!(decode(&text), reference(&text), "{text:?}");
            let pairs: Vec<(String, String)> = text
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (reference(k), reference(v))
                })
                .collect();
            let parsed: Vec<(String, String)> = Params::parse(&text)
                .iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            assert_eq!(parsed, pairs, "{text:?}");
        }
        assert_eq!(decode("%+1"), "% 1");
    }
}
