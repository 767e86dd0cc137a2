//! `application/x-www-form-urlencoded` (query strings and form bodies) and percent-encoding.
//!
//! RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once", so a
//! repeated parameter is an error, not "the first one wins".

use alloc::string::String;
use alloc::vec::Vec;

/// Decoded parameters of a query string or form body.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// A parameter appeared more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

impl Params {
    /// Parses `a=1&b=2`. Malformed percent escapes decode as themselves (lenient, like browsers).
    pub fn parse(text: &str) -> Self {
        let pairs = text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
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

/// Percent-decodes (and turns `+` into a space).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| core::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(
                char::from_digit(u32::from(b >> 4), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
            out.push(
                char::from_digit(u32::from(b & 0xf), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
        }
    }
    out
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
        assert_eq!(
            cookie(Some("x=1; cognate-csrf=abc; y=2"), "cognate-csrf"),
            Some("abc")
        );
        assert_eq!(
            append_query("https://a/cb?x=1", "code=2"),
            "https://a/cb?x=1&code=2"
        );
    }
}
