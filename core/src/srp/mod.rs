//! Secure Remote Password as Amazon Cognito does it (USER_SRP_AUTH, and DEVICE_SRP_AUTH's
//! verifier): a leaf that knows nothing of users or pools, only the math both sides compute.
//!
//! Cognito's variant of SRP-6a, as its clients compute it (amazon-cognito-identity-js
//! `src/AuthenticationHelper.js`, pycognito `aws_srp.py`):
//!
//! - the 3072-bit group of RFC 5054 (appendix A), g = 2, H = SHA-256;
//! - `PAD(n)` is not RFC 5054's fixed-width padding but the clients' `padHex`: the shortest
//!   big-endian encoding of n, with one `00` byte in front when its top bit is set (Java's
//!   `BigInteger.toByteArray()`);
//! - k = H(PAD(N) ‖ PAD(g)), u = H(PAD(A) ‖ PAD(B));
//! - x = H(PAD(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password)), where poolName is the part of
//!   the pool id after `_` (devices: H(deviceGroupKey ‖ deviceKey ‖ ":" ‖ password));
//! - v = g^x, B = k·v + g^b, S = (A·v^u)^b (all mod N);
//! - the key is HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key"), 16 bytes;
//! - the client proves it knows the key with PASSWORD_CLAIM_SIGNATURE =
//!   base64(HMAC-SHA256(key, poolName ‖ userId ‖ secretBlock ‖ timestamp)).
//!
//! Only the composition above is Cognito's; the primitives come from RustCrypto
//! (`crypto-bigint` for constant-time Montgomery arithmetic, `sha2`, `hmac`, `hkdf`).
//!
//! # Security
//! - A verifier (salt, v) lets whoever holds it test password guesses offline at the cost of
//!   two SHA-256 hashes and one modular exponentiation each, far cheaper than an argon2id hash.
//!   It is stored only where the pool allows SRP.
//! - `b` is secret: exponentiations by it are constant-time (its bit length, 256, is public).
//! - The client's A is rejected when A ≡ 0 (mod N), which would make S predictable.

use alloc::string::String;
use alloc::vec::Vec;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{NonZero, Odd, U256, U512, U3072};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// RFC 5054's 3072-bit prime (appendix A), as Cognito's clients spell it.
pub const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

const N: U3072 = U3072::from_be_hex(N_HEX);
const BYTES: usize = 384;
/// The HKDF info Cognito uses.
const INFO: &[u8] = b"Caldera Derived Key";
/// The bit length of the server's secret exponent b (RFC 5054 asks for at least 256).
pub const SECRET_BITS: u32 = 256;
/// The longest hex value accepted for A (a 3072-bit number, with room for leading zeros).
pub const MAX_HEX_LEN: usize = 1024;

/// Why an SRP value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SrpError {
    /// Not hexadecimal, empty, or longer than [`MAX_HEX_LEN`] / 3072 bits.
    Malformed,
    /// A (or B) ≡ 0 (mod N).
    Zero,
}

/// A user's (or a device's) stored verifier: `salt` is PAD(salt) and `v` is PAD(v), both as
/// lowercase hex, the form the client hashes (`salt` is also what the challenge's `SALT` says).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verifier {
    pub salt: String,
    pub v: String,
}

/// N as an odd modulus (checked at compile time).
const N_ODD: Odd<U3072> = Odd::<U3072>::from_be_hex(N_HEX);

/// N − 1, the exponents' modulus.
const N_MINUS_ONE: NonZero<U3072> = NonZero::<U3072>::new_unwrap(N.wrapping_sub(&U3072::ONE));

fn params() -> FixedMontyParams<{ U3072::LIMBS }> {
    FixedMontyParams::new_vartime(N_ODD)
}

/// The group's Montgomery parameters, computed once per operation (R² mod N costs a division).
struct Group(FixedMontyParams<{ U3072::LIMBS }>);

impl Group {
    fn new() -> Self {
        Self(params())
    }
    fn monty(&self, n: &U3072) -> FixedMontyForm<{ U3072::LIMBS }> {
        FixedMontyForm::new(n, &self.0)
    }
    fn g(&self) -> FixedMontyForm<{ U3072::LIMBS }> {
        self.monty(&U3072::from_u8(2))
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// PAD(n): the shortest big-endian bytes of n, with a `00` in front when the top bit is set
/// (the clients' `padHex`; zero is one `00` byte).
pub fn pad(n: &U3072) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let all: &[u8] = bytes.as_ref();
    let first = all.iter().position(|&b| b != 0).unwrap_or(all.len());
    let mut out = Vec::with_capacity(all.len() - first + 1);
    match all.get(first) {
        Some(&b) if b >= 0x80 => out.push(0),
        None => out.push(0),
        _ => {}
    }
    out.extend_from_slice(all.get(first..).unwrap_or_default());
    out
}

/// [`pad`] as lowercase hex.
pub fn pad_hex(n: &U3072) -> String {
    hex::encode(pad(n))
}

/// A big-endian byte string as a number below 2^3072 (leading zeros allowed).
pub fn from_bytes(bytes: &[u8]) -> Result<U3072, SrpError> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let significant = bytes.get(first..).unwrap_or_default();
    if significant.len() > BYTES {
        return Err(SrpError::Malformed);
    }
    let mut buf = [0u8; BYTES];
    buf.get_mut(BYTES - significant.len()..)
        .ok_or(SrpError::Malformed)?
        .copy_from_slice(significant);
    Ok(U3072::from_be_slice(&buf))
}

/// A hex number as the clients send it (any case, odd length allowed: `BigInteger.toString(16)`).
pub fn from_hex(text: &str) -> Result<U3072, SrpError> {
    if text.is_empty() || text.len() > MAX_HEX_LEN || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(SrpError::Malformed);
    }
    let even = if text.len() % 2 == 1 {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('0');
        s.push_str(text);
        s
    } else {
        String::from(text)
    };
    let bytes = hex::decode(even).map_err(|_| SrpError::Malformed)?;
    from_bytes(&bytes)
}

/// k = H(PAD(N) ‖ PAD(g)).
fn k() -> U3072 {
    let g = U3072::from_u8(2);
    let h = sha256(&[&pad(&N), &pad(&g)]);
    U3072::from_be_slice(&left(&h))
}

fn left(h: &[u8; 32]) -> [u8; BYTES] {
    let mut buf = [0u8; BYTES];
    if let Some(tail) = buf.get_mut(BYTES - 32..) {
        tail.copy_from_slice(h);
    }
    buf
}

fn u256(h: &[u8; 32]) -> U256 {
    U256::from_be_slice(h)
}

/// The part of a pool id after `_` (`us-east-1_AbCd` → `AbCd`): what Cognito hashes into x.
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, name)| name)
}

/// x = H(PAD(salt) ‖ H(prefix ‖ userId ‖ ":" ‖ password)): `prefix` is the pool name for users,
/// the device group key for devices (with the device key as `user_id`).
fn x(salt: &U3072, prefix: &str, user_id: &str, password: &str) -> [u8; 32] {
    let inner = sha256(&[
        prefix.as_bytes(),
        user_id.as_bytes(),
        b":",
        password.as_bytes(),
    ]);
    sha256(&[&pad(salt), &inner])
}

/// The salt as the verifier keeps it: 16 random bytes, made canonical (PAD of a non-zero
/// number) so that clients that read `SALT` as text (pycognito) and as a number
/// (amazon-cognito-identity-js) hash the same bytes.
fn salt_number(salt: [u8; 16]) -> U3072 {
    let mut bytes = salt;
    if bytes.iter().all(|&b| b == 0) {
        bytes[15] = 1;
    }
    let mut buf = [0u8; BYTES];
    if let Some(tail) = buf.get_mut(BYTES - 16..) {
        tail.copy_from_slice(&bytes);
    }
    U3072::from_be_slice(&buf)
}

/// A salt as verifiers keep it and `SALT` carries it: PAD hex of 16 random bytes (see
/// [`verifier`]).
pub fn canonical_salt(salt: [u8; 16]) -> String {
    pad_hex(&salt_number(salt))
}

fn make_verifier(salt: [u8; 16], prefix: &str, user_id: &str, password: &str) -> Verifier {
    let salt = salt_number(salt);
    let x = x(&salt, prefix, user_id, password);
    let v = Group::new().g().pow(&u256(&x)).retrieve();
    Verifier {
        salt: pad_hex(&salt),
        v: pad_hex(&v),
    }
}

/// A user's verifier: x from the pool name (see [`pool_name`]), the user id (Cognito's
/// `USER_ID_FOR_SRP`: the username as stored) and the password.
pub fn verifier(pool_name: &str, user_id: &str, password: &str, salt: [u8; 16]) -> Verifier {
    make_verifier(salt, pool_name, user_id, password)
}

/// A remembered device's verifier (what ConfirmDevice's `DeviceSecretVerifierConfig` carries):
/// x from DeviceGroupKey ‖ DeviceKey ‖ ":" ‖ the device's random password, no pool name.
pub fn device_verifier(
    device_group_key: &str,
    device_key: &str,
    password: &str,
    salt: [u8; 16],
) -> Verifier {
    make_verifier(salt, device_group_key, device_key, password)
}

/// The server's half of one exchange: its secret `b` (kept for [`server_key`]) and B, as PAD hex.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ServerHello {
    pub b: [u8; 32],
    pub big_b: String,
}

impl core::fmt::Debug for ServerHello {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerHello")
            .field("b", &"[redacted]")
            .field("big_b", &self.big_b)
            .finish()
    }
}

/// B = k·v + g^b (mod N), for a verifier `v` (hex) and 32 random bytes `b` (callers retry the
/// vanishingly rare b that makes B ≡ 0).
pub fn server_hello(v_hex: &str, b: [u8; 32]) -> Result<ServerHello, SrpError> {
    let v = reduce(from_hex(v_hex)?);
    let group = Group::new();
    let g_b = group.g().pow(&u256(&b));
    let big_b = (group.monty(&k()) * group.monty(&v) + g_b).retrieve();
    if big_b == U3072::ZERO {
        return Err(SrpError::Zero);
    }
    Ok(ServerHello {
        b,
        big_b: pad_hex(&big_b),
    })
}

fn reduce(n: U3072) -> U3072 {
    n.rem(N_ODD.as_nz_ref())
}

/// Checks a client's A: well-formed hex of at most 3072 bits, A mod N ≠ 0.
pub fn check_a(a_hex: &str) -> Result<U3072, SrpError> {
    let a = from_hex(a_hex)?;
    if reduce(a) == U3072::ZERO {
        return Err(SrpError::Zero);
    }
    Ok(a)
}

/// u = H(PAD(A) ‖ PAD(B)).
fn u(a: &U3072, b: &U3072) -> [u8; 32] {
    sha256(&[&pad(a), &pad(b)])
}

/// K = HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key")[..16].
fn derive(s: &U3072, u: &[u8; 32]) -> [u8; 16] {
    let u = U3072::from_be_slice(&left(u));
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&pad(&u)), &pad(s));
    let mut okm = [0u8; 16];
    // 16 bytes never exceed HKDF's limit (255 hash lengths).
    let _ = hk.expand(INFO, &mut okm);
    okm
}

/// The server's key for an exchange: S = (A · v^u)^b, then [`derive`]. `a_hex` was checked by
/// [`check_a`]; `b_hex` is B as sent.
pub fn server_key(a_hex: &str, hello: &ServerHello, v_hex: &str) -> Result<[u8; 16], SrpError> {
    let a = check_a(a_hex)?;
    let big_b = from_hex(&hello.big_b)?;
    let v = reduce(from_hex(v_hex)?);
    let u = u(&a, &big_b);
    let group = Group::new();
    let base = group.monty(&reduce(a)) * group.monty(&v).pow(&u256(&u));
    let s = base.pow(&u256(&hello.b)).retrieve();
    Ok(derive(&s, &u))
}

/// PASSWORD_CLAIM_SIGNATURE's bytes: HMAC-SHA256(key, poolName ‖ userId ‖ secretBlock ‖
/// timestamp) (devices: deviceGroupKey ‖ deviceKey ‖ ...).
pub fn signature(
    key: &[u8; 16],
    prefix: &str,
    user_id: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> [u8; 32] {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return [0; 32],
    };
    mac.update(prefix.as_bytes());
    mac.update(user_id.as_bytes());
    mac.update(secret_block);
    mac.update(timestamp.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Compares a claimed signature (base64 as sent) with the expected one in constant time.
pub fn signature_matches(expected: &[u8; 32], claimed_base64: &str) -> bool {
    use subtle::ConstantTimeEq;
    match crate::codec::b64_decode(claimed_base64) {
        Some(claimed) if claimed.len() == 32 => bool::from(claimed.as_slice().ct_eq(expected)),
        _ => false,
    }
}

/// The client's side (the web SDK and the tests): A = g^a for 32+ random bytes `a`.
pub fn client_public(a: &[u8]) -> Result<String, SrpError> {
    let bits = (a.len() as u32 * 8).min(3072);
    let a = from_bytes(a)?;
    // a's length is the client's public choice.
    let big_a = Group::new().g().pow_bounded_exp(&a, bits).retrieve();
    Ok(pad_hex(&big_a))
}

/// The client's key: S = (B − k·g^x)^(a + u·x), then [`derive`]. `prefix`/`user_id` as in
/// [`verifier`] (devices: as in [`device_verifier`]).
pub fn client_key(
    a: &[u8],
    b_hex: &str,
    salt_hex: &str,
    prefix: &str,
    user_id: &str,
    password: &str,
) -> Result<[u8; 16], SrpError> {
    let small_a = from_bytes(a)?;
    let big_a = from_hex(&client_public(a)?)?;
    let big_b = from_hex(b_hex)?;
    if reduce(big_b) == U3072::ZERO {
        return Err(SrpError::Zero);
    }
    let salt = from_hex(salt_hex)?;
    let u = u(&big_a, &big_b);
    let x = x(&salt, prefix, user_id, password);
    let group = Group::new();
    let base = group.monty(&reduce(big_b)) - group.monty(&k()) * group.g().pow(&u256(&x));
    // The exponent a + u·x (u·x < 2^512): exact in 3072 bits when a has fewer than 384 bytes,
    // with as many bits as a has (its length is the client's public choice); otherwise modulo
    // N − 1 (Fermat: N is prime).
    let ux = u256(&u)
        .concatenating_mul::<{ U256::LIMBS }, { U512::LIMBS }>(&u256(&x))
        .resize::<{ U3072::LIMBS }>();
    let s = if a.len() < BYTES {
        let bits = (a.len() as u32 * 8).max(512) + 1;
        base.pow_bounded_exp(&small_a.wrapping_add(&ux), bits)
    } else {
        base.pow(&small_a.rem(&N_MINUS_ONE).add_mod(&ux, &N_MINUS_ONE))
    }
    .retrieve();
    Ok(derive(&s, &u))
}

/// Cognito's TIMESTAMP, `ddd MMM D HH:mm:ss UTC YYYY` in English with the day not
/// zero-padded (`Tue Feb 1 03:04:05 UTC 2022`), as seconds since the epoch; `None` when it is
/// not exactly in that form (the weekday must match the date).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    use time::macros::format_description;
    let format = format_description!(
        "[weekday repr:short] [month repr:short] [day padding:none] [hour]:[minute]:[second] UTC [year]"
    );
    if text.len() > 40 {
        return None;
    }
    let parsed = time::PrimitiveDateTime::parse(text, format).ok()?;
    let seconds = parsed.assume_utc().unix_timestamp();
    // Exactly the canonical spelling: no zero-padded day, no other case or spacing.
    (format_timestamp(seconds)?.as_str() == text).then_some(seconds)
}

/// Formats a time as Cognito's TIMESTAMP (the client's side).
pub fn format_timestamp(unix_seconds: i64) -> Option<String> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time::OffsetDateTime::from_unix_timestamp(unix_seconds).ok()?;
    let day = DAYS.get(usize::from(t.weekday().number_days_from_monday()))?;
    let month = MONTHS.get(usize::from(u8::from(t.month())) - 1)?;
    Some(alloc::format!(
        "{day} {month} {} {:02}:{:02}:{:02} UTC {}",
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    ))
}

#[cfg(test)]
mod tests;
