//! Password hashes imported from other systems (issue 24, `CognateUsers.ImportUser`): bcrypt,
//! scrypt and PBKDF2, verified here behind the `PasswordHasher` port. A match answers
//! `MatchNeedsRehash`, so the core replaces the hash with argon2id at that first sign-in.

use cognate_core::Error;
use cognate_core::ports::PasswordCheck;

/// The largest scrypt cost accepted (log2 N): 2^20 x r=8 is 1 GiB, already more than any
/// sensible setting; a larger one in an imported hash is refused rather than run.
const MAX_SCRYPT_LOG_N: u32 = 20;
/// The most PBKDF2 rounds accepted (OWASP asks for 600,000 with SHA-256).
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// `None` for a hash that is not foreign (argon2, for the core); else whether `password`
/// matches it. Runs on a blocking thread (these are slow by design).
pub fn verify(password: &str, hash: &str) -> Option<Result<PasswordCheck, Error>> {
    let matched =
        if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
            bcrypt::verify(password, hash).map_err(|e| Error::internal(format!("bcrypt: {e}")))
        } else if hash.starts_with("$scrypt$") {
            verify_scrypt(password, hash)
        } else if hash.starts_with("$pbkdf2-sha256$") || hash.starts_with("$pbkdf2-sha512$") {
            verify_pbkdf2(password, hash)
        } else {
            return None;
        };
    Some(matched.map(|ok| {
        if ok {
            PasswordCheck::MatchNeedsRehash
        } else {
            PasswordCheck::Mismatch
        }
    }))
}

/// A PHC parameter's value (`ln=15`), from the string as stored.
fn param(hash: &str, name: &str) -> Option<u32> {
    hash.split('$')
        .nth(2)?
        .split(',')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))?
        .parse()
        .ok()
}

fn verify_scrypt(password: &str, hash: &str) -> Result<bool, Error> {
    use scrypt::password_hash::PasswordVerifier as _;
    if param(hash, "ln").is_none_or(|ln| ln > MAX_SCRYPT_LOG_N) {
        return Err(Error::internal(
            "scrypt hash with a missing or too large cost",
        ));
    }
    let parsed = scrypt::password_hash::phc::PasswordHash::new(hash)
        .map_err(|e| Error::internal(format!("scrypt hash: {e}")))?;
    Ok(scrypt::Scrypt::new()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

fn verify_pbkdf2(password: &str, hash: &str) -> Result<bool, Error> {
    use pbkdf2::password_hash::PasswordVerifier as _;
    if param(hash, "i").is_none_or(|i| i > MAX_PBKDF2_ROUNDS) {
        return Err(Error::internal(
            "PBKDF2 hash with missing or too many rounds",
        ));
    }
    let parsed = pbkdf2::password_hash::phc::PasswordHash::new(hash)
        .map_err(|e| Error::internal(format!("PBKDF2 hash: {e}")))?;
    Ok(pbkdf2::Pbkdf2::SHA256
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
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

    #[test]
    fn bcrypt_scrypt_and_pbkdf2_hashes_verify_and_ask_for_a_rehash() {
        let bcrypt_hash = bcrypt::hash("Passw0rd!", 4).unwrap();
        // Computed independently with Python's hashlib (pbkdf2_hmac, scrypt), salt
        // "saltsaltsaltsalt", written as PHC strings.
        let pbkdf2_hash = "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA";
        let scrypt_hash = "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$BVMRKqdiVYikKAaPR1wucsKUKvw4TuPLkdEYtoSHas4";
        let cases = [
            ("Passw0rd!", bcrypt_hash.as_str()),
            ("password", pbkdf2_hash),
            ("password", scrypt_hash),
        ];
        for (password, hash) in cases {
            assert_eq!(
                verify(password, hash).unwrap().unwrap(),
                PasswordCheck::MatchNeedsRehash,
                "{hash}"
            );
            assert_eq!(
                verify("wrong", hash).unwrap().unwrap(),
                PasswordCheck::Mismatch,
                "{hash}"
            );
        }
        assert!(verify("x", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_none());
        // An absurd scrypt cost is refused, not run.
        assert!(
            verify("x", "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$aGFzaA")
                .unwrap()
                .is_err()
        );
    }
}
