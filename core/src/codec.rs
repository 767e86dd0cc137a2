//! The byte encodings the core speaks: base64 (JWTs, random tokens, client credentials) and
//! SHA-256 hex digests (how codes, refresh tokens and sessions are stored).

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

pub fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}
pub fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    Base64::decode_vec(text).ok()
}

/// SHA-256 as lower-case hex over length-prefixed parts (so `("ab","c")` and `("a","bc")` differ):
/// how codes and refresh tokens are stored.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    crate::ids::hex(&h.finalize())
}
