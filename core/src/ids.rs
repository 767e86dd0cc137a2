//! Identifiers in Cognito's forms, drawn from the `Random` port.

use alloc::string::{String, ToString};

use crate::ports::Random;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias).
pub fn random_string(random: &dyn Random, alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    // The largest multiple of the alphabet size that fits in a byte.
    let n = alphabet.len().clamp(1, 256);
    let limit = 256 - (256 % n);
    let mut buf = [0u8; 64];
    while out.len() < len {
        random.fill(&mut buf);
        for &b in &buf {
            if usize::from(b) < limit
                && let Some(&c) = alphabet.get(usize::from(b) % n)
            {
                out.push(char::from(c));
                if out.len() == len {
                    break;
                }
            }
        }
    }
    out
}

/// A user pool id: `<region>_<9 alphanumerics>`.
pub fn pool_id(random: &dyn Random, region: &str) -> String {
    alloc::format!("{region}_{}", random_string(random, ALNUM, 9))
}

/// An app client id: 26 lower-case alphanumerics.
pub fn client_id(random: &dyn Random) -> String {
    random_string(random, LOWER_ALNUM, 26)
}

/// An app client secret: 51 lower-case alphanumerics (Cognito's length).
pub fn client_secret(random: &dyn Random) -> String {
    random_string(random, LOWER_ALNUM, 51)
}

/// A random UUID v4, for `sub`, `jti`, `event_id`: 16 bytes from the `Random` port, with the
/// version and variant bits set and formatted (lower-case, hyphenated) by the `uuid` crate.
pub fn uuid_v4(random: &dyn Random) -> String {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Random bytes as unpadded base64url (opaque tokens).
pub fn random_token(random: &dyn Random, bytes: usize) -> String {
    let mut buf = alloc::vec![0u8; bytes];
    random.fill(&mut buf);
    crate::codec::b64url(&buf)
}

/// Whether `id` has the form of a pool id.
pub fn is_pool_id(id: &str) -> bool {
    match id.split_once('_') {
        Some((region, suffix)) => {
            !region.is_empty()
                && region.len() <= 32
                && region
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && (1..=32).contains(&suffix.len())
                && suffix.bytes().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Whether `id` has the form of a client id (Cognito: `[\w+]+`, up to 128).
pub fn is_client_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRandom;

    /// Every byte the same.
    struct FixedRandom(u8);
    impl Random for FixedRandom {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn ids_have_cognito_forms() {
        let r = SeededRandom::new(1);
        let pool = pool_id(&r, "eu-west-1");
        assert!(pool.starts_with("eu-west-1_"));
        assert_eq!(pool.len(), "eu-west-1_".len() + 9);
        assert!(is_pool_id(&pool));
        let client = client_id(&r);
        assert_eq!(client.len(), 26);
        assert!(is_client_id(&client));
        let sub = uuid_v4(&r);
        assert_eq!(sub.len(), 36);
        assert_eq!(sub.as_bytes()[14], b'4');
        assert!(matches!(sub.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert!(!is_pool_id("nounderscore"));
        // The same bytes as before the `uuid` crate formatted them.
        let fixed = FixedRandom(0xa5);
        assert_eq!(uuid_v4(&fixed), "a5a5a5a5-a5a5-45a5-a5a5-a5a5a5a5a5a5");
        let fixed = FixedRandom(0xff);
        assert_eq!(uuid_v4(&fixed), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let fixed = FixedRandom(0);
        assert_eq!(uuid_v4(&fixed), "00000000-0000-4000-8000-000000000000");
        assert!(!is_pool_id("us-east-1_bad/slash"));
    }
}
