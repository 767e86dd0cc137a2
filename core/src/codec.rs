//! The byte encodings the core speaks: base64 (JWTs, random tokens, client credentials),
//! SHA-256 hex digests (how codes, refresh tokens and sessions are stored) and percent-encoding
//! (URLs, form bodies: OAuth 2.0, SNS).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

pub fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}
/// Constant-time (base64ct): for secrets.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}
/// [`b64url_decode`] for what is public or came from the caller (a JWT's segments, an RSA
/// public key): not constant-time, several times faster, which every token check pays for
/// (issue 23). Equally strict: no padding, no stray bits.
pub fn b64url_decode_public(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}
/// Appends base64url (unpadded) of what is public (a JWT's segments) to `out`: the fast
/// encoder, not constant-time, as [`b64url_decode_public`] decodes.
pub fn b64url_public_into(bytes: &[u8], out: &mut String) {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, out);
}
pub fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    Base64::decode_vec(text).ok()
}

/// Plain SHA-256 of `bytes` as lower-case hex: a plugin module's `sha256:<hex>` reference.
pub fn sha256_hex_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 as lower-case hex over length-prefixed parts (so `("ab","c")` and `("a","bc")` differ):
/// how codes and refresh tokens are stored.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// What [`url_encode`] escapes: everything but RFC 3986's unreserved `A-Za-z0-9-._~`.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-decodes (and turns `+` into a space), as a form value is decoded.
pub fn form_decode(text: &str) -> String {
    let plus_as_space = text.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

/// `#[serde(with = "bytes")]`: a `Vec<u8>` as one byte string, not a list of numbers (one
/// copy in postcard instead of a call per byte; JSON still sees an array of numbers).
pub mod bytes {
    use alloc::vec::Vec;
    use core::fmt;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

/// The host of an `http://` or `https://` URL (lower-cased, without port or credentials).
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let host = if authority.starts_with('[') {
        authority.split(']').next()?.trim_start_matches('[')
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast encoder writes what the constant-time one writes, at every length's remainder,
    /// after what the buffer held; the fast decoder reads it back.
    #[test]
    fn public_base64url_is_base64url() {
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..80 {
            let part = &bytes[len * 3..len * 3 + len];
            let mut out = String::from("x.");
            b64url_public_into(part, &mut out);
            assert_eq!(out, alloc::format!("x.{}", b64url(part)));
            assert_eq!(b64url_decode_public(&out[2..]).as_deref(), Some(part));
        }
    }
}
