//! Time-based one-time passwords (RFC 6238) as Cognito's software-token MFA uses them:
//! HMAC-SHA1, 30-second steps, 6 digits, one step of clock drift accepted either side.
//!
//! The secret is 160 bits or more from the `Random` port, shown to the user in base32 (RFC 4648,
//! no padding, as authenticator apps and `otpauth://` URIs take it). A code is accepted once:
//! [`verify`] returns the time step it matched, the caller stores it, and later codes must match
//! a later step ([`verify`]'s `after`), so a code seen over a shoulder cannot be replayed.
//!
//! # Security
//! The secret must stay usable by the server (it computes the same codes), so it cannot be
//! stored as a one-way hash; the caller stores it on the user record (see `crate::user::mfa`).
//! Codes are compared in constant time.

use alloc::string::String;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::ports::Random;

/// The time step, in seconds (RFC 6238's X).
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps of drift accepted either side of the current one.
pub const DRIFT_STEPS: u64 = 1;
/// Secret length in bytes: 160 bits, RFC 4226's recommended size (Cognito's secrets are 160 bits
/// too: 32 base32 characters).
pub const SECRET_BYTES: usize = 20;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// A fresh secret, base32 without padding (32 characters for 160 bits).
pub fn new_secret(random: &dyn Random) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    random.fill(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// Decodes a base32 secret (case-insensitive, padding optional).
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let upper = secret.trim_end_matches('=').to_ascii_uppercase();
    data_encoding::BASE32_NOPAD.decode(upper.as_bytes()).ok()
}

/// The time step of a Unix time in seconds.
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The HOTP value (RFC 4226, section 5.3) of `counter` with `digits` digits, for a SHA-1 key.
fn hotp(key: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // Dynamic truncation: the low 4 bits of the last byte give the offset.
    let offset = usize::from(*hash.last()? & 0x0f);
    let bytes: [u8; 4] = hash.get(offset..offset + 4)?.try_into().ok()?;
    let value = u32::from_be_bytes(bytes) & 0x7fff_ffff;
    Some(value % 10u32.pow(digits))
}

/// The code for time step `step`, zero-padded to [`DIGITS`].
pub fn code_at(key: &[u8], step: u64) -> Option<String> {
    hotp(key, step, DIGITS).map(|v| alloc::format!("{v:06}"))
}

/// Checks `code` at `unix_seconds` with one step of drift either side; only steps strictly
/// after `after` (the last step used, if any) count. Returns the matched step.
pub fn verify(key: &[u8], code: &str, unix_seconds: u64, after: Option<u64>) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    let mut matched = None;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    for step in now.saturating_sub(DRIFT_STEPS)..=now.saturating_add(DRIFT_STEPS) {
        let expected = code_at(key, step)?;
        let equal = bool::from(expected.as_bytes().ct_eq(code.as_bytes()));
        if equal && after.is_none_or(|last| step > last) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRandom;

    /// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; the
    /// table gives 8-digit codes at these Unix times (the 6-digit code is its last 6 digits).
    const SEED: &[u8] = b"12345678901234567890";
    const VECTORS: &[(u64, &str)] = &[
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc6238_appendix_b_sha1() {
        for (time, expected) in VECTORS {
            let eight = hotp(SEED, step_of(*time), 8).unwrap();
            assert_eq!(alloc::format!("{eight:08}"), *expected, "T={time}");
            let six = code_at(SEED, step_of(*time)).unwrap();
            assert_eq!(six, expected[2..], "T={time}");
            assert_eq!(verify(SEED, &six, *time, None), Some(step_of(*time)));
        }
    }

    #[test]
    fn drift_of_one_step_either_side_and_no_more() {
        let t = 1_234_567_890;
        let now = step_of(t);
        for (delta, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let step = now.checked_add_signed(delta).unwrap();
            let code = code_at(SEED, step).unwrap();
            assert_eq!(
                verify(SEED, &code, t, None),
                accepted.then_some(step),
                "delta {delta}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_once() {
        let t = 1_111_111_111;
        let code = code_at(SEED, step_of(t)).unwrap();
        let used = verify(SEED, &code, t, None).unwrap();
        // The same code again (within its window) is refused once its step is recorded.
        assert_eq!(verify(SEED, &code, t + 10, Some(used)), None);
        // The previous step's code is refused too; the next step's is accepted.
        let previous = code_at(SEED, used - 1).unwrap();
        assert_eq!(verify(SEED, &previous, t, Some(used)), None);
        let next = code_at(SEED, used + 1).unwrap();
        assert_eq!(verify(SEED, &next, t + 30, Some(used)), Some(used + 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        for code in ["", "12345", "1234567", "12a456", " 12345"] {
            assert_eq!(verify(SEED, code, 59, None), None, "{code:?}");
        }
    }

    #[test]
    fn secrets_are_160_bits_of_base32() {
        let r = SeededRandom::new(7);
        let a = new_secret(&r);
        let b = new_secret(&r);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(decode_secret(&a).unwrap().len(), SECRET_BYTES);
        assert_eq!(decode_secret(&a.to_ascii_lowercase()), decode_secret(&a));
        assert_eq!(decode_secret("not base32!"), None);
    }
}
