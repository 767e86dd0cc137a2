//! Passwords: the pool's policy and argon2id hashing (PHC strings).

use alloc::format;
use alloc::string::{String, ToString};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, ErrorKind};
use crate::ports::{BoxFuture, HashParams, PasswordCheck, PasswordHasher, boxed};

/// Cognito's password policy. In a request, omitted requirements are off and omitted numbers
/// take Cognito's defaults (8 characters, 7 days), as Cognito reads a partial policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    #[serde(default = "default_minimum_length")]
    pub minimum_length: u32,
    #[serde(default)]
    pub require_uppercase: bool,
    #[serde(default)]
    pub require_lowercase: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_symbols: bool,
    #[serde(default = "default_temporary_days")]
    pub temporary_password_validity_days: u32,
}

fn default_minimum_length() -> u32 {
    8
}
fn default_temporary_days() -> u32 {
    7
}

impl Default for PasswordPolicy {
    /// Cognito's default policy.
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// The symbols Cognito counts as special characters.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

impl PasswordPolicy {
    /// Checks a password, answering Cognito's `InvalidPasswordException` messages.
    pub fn check(&self, password: &str) -> Result<(), Error> {
        let fail = |why: &str| {
            Err(Error::new(
                ErrorKind::InvalidPassword,
                format!("Password did not conform with policy: {why}"),
            ))
        };
        if (password.chars().count() as u64) < u64::from(self.minimum_length) {
            return fail("Password not long enough");
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
            return fail("Password must have uppercase characters");
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
            return fail("Password must have lowercase characters");
        }
        if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            return fail("Password must have numeric characters");
        }
        if self.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
            return fail("Password must have symbol characters");
        }
        Ok(())
    }

    /// Validates the policy itself (CreateUserPool / UpdateUserPool input).
    pub fn validate(&self) -> Result<(), Error> {
        if !(6..=99).contains(&self.minimum_length) {
            return Err(Error::invalid_parameter(
                "PasswordPolicy.MinimumLength must be between 6 and 99.",
            ));
        }
        if self.temporary_password_validity_days > 365 {
            return Err(Error::invalid_parameter(
                "PasswordPolicy.TemporaryPasswordValidityDays must be between 0 and 365.",
            ));
        }
        Ok(())
    }
}

fn argon2(params: HashParams) -> Result<Argon2<'static>, Error> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| Error::invalid_parameter(format!("invalid argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id, returning a PHC string. CPU-bound (tens of milliseconds with
/// the OWASP parameters): servers run it off their request threads.
pub fn hash_argon2id(password: &str, salt: [u8; 16], params: HashParams) -> Result<String, Error> {
    let hasher = argon2(params)?;
    hasher
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::internal(format!("argon2: {e}")))
}

/// Verifies a password against a PHC string, and says whether it should be rehashed because
/// it was hashed with other parameters than `params`. Constant-time in the password.
pub fn verify_argon2id(
    password: &str,
    phc: &str,
    params: HashParams,
) -> Result<PasswordCheck, Error> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| Error::internal(format!("stored hash: {e}")))?;
    let hasher = argon2(params)?;
    if hasher
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Ok(PasswordCheck::Mismatch);
    }
    let current = Params::try_from(&parsed).ok();
    let same = parsed.algorithm.as_str() == "argon2id"
        && current.is_some_and(|p| {
            p.m_cost() == params.memory_kib
                && p.t_cost() == params.iterations
                && p.p_cost() == params.parallelism
        });
    Ok(if same {
        PasswordCheck::Match
    } else {
        PasswordCheck::MatchNeedsRehash
    })
}

/// One 1 KiB block of argon2's working memory.
pub use argon2::Block;

/// argon2's working memory, kept between hashes by whoever owns it (an adapter may place it
/// where the hash runs fastest, as the host does on huge pages).
pub trait WorkingMemory {
    /// At least `count` blocks, their contents unspecified (argon2 overwrites them).
    fn blocks(&mut self, count: usize) -> &mut [Block];
}

/// Reusable argon2 working memory (~`m` KiB). A server thread that keeps one between hashes
/// avoids faulting in fresh pages on every sign-in (measured: ~10% of an OWASP-cost verify).
#[derive(Debug, Default)]
pub struct HashMemory(alloc::vec::Vec<Block>);

impl HashMemory {
    /// Bytes of working memory held (kept between verifications).
    pub fn bytes(&self) -> usize {
        self.0.len() * core::mem::size_of::<Block>()
    }
}

impl WorkingMemory for HashMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        self.0.get_mut(..count).unwrap_or_default()
    }
}

/// [`verify_argon2id`] computed in caller-provided memory: the same PHC parsing, the same
/// library hash (`hash_password_into_with_memory`), a constant-time comparison of the outputs.
pub fn verify_argon2id_in(
    password: &str,
    phc: &str,
    params: HashParams,
    memory: &mut dyn WorkingMemory,
) -> Result<PasswordCheck, Error> {
    use subtle::ConstantTimeEq;
    let parsed =
        PasswordHash::new(phc).map_err(|e| Error::internal(format!("stored hash: {e}")))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str())
        .map_err(|e| Error::internal(format!("stored hash: {e}")))?;
    let version = match parsed.version {
        Some(v) => {
            Version::try_from(v).map_err(|e| Error::internal(format!("stored hash: {e}")))?
        }
        None => Version::V0x10,
    };
    let stored =
        Params::try_from(&parsed).map_err(|e| Error::internal(format!("stored hash: {e}")))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(Error::internal("stored hash lacks salt or output"));
    };
    let hasher = Argon2::new(algorithm, version, stored.clone());
    let mut out = alloc::vec![0u8; expected.len()];
    hasher
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            memory.blocks(stored.block_count()),
        )
        .map_err(|e| Error::internal(format!("argon2: {e}")))?;
    if !bool::from(out.as_slice().ct_eq(expected.as_bytes())) {
        return Ok(PasswordCheck::Mismatch);
    }
    let same = algorithm == Algorithm::Argon2id
        && stored.m_cost() == params.memory_kib
        && stored.t_cost() == params.iterations
        && stored.p_cost() == params.parallelism;
    Ok(if same {
        PasswordCheck::Match
    } else {
        PasswordCheck::MatchNeedsRehash
    })
}

/// The reference [`PasswordHasher`]: argon2id computed inline on the calling thread. Fine for
/// single-threaded runtimes; a server wraps [`hash_argon2id`]/[`verify_argon2id`] to run them on
/// a blocking pool instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Hasher;

impl PasswordHasher for Argon2Hasher {
    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>> {
        boxed(async move { hash_argon2id(password, salt, params) })
    }
    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        boxed(async move { verify_argon2id(password, phc, params) })
    }
}

/// A random temporary password that meets `policy` (AdminCreateUser without one): at least 12
/// characters, with one of each character class the policy could require.
pub fn generate_temporary(random: &dyn crate::ports::Random, policy: &PasswordPolicy) -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"^$*.[]{}()?-!@#%&,><:;|_~";
    let length = (policy.minimum_length as usize).max(12);
    let mut out = String::with_capacity(length);
    for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
        out.push_str(&crate::ids::random_string(random, class, 1));
    }
    let all: alloc::vec::Vec<u8> = [LOWER, UPPER, DIGITS].concat();
    out.push_str(&crate::ids::random_string(random, &all, length - 4));
    out
}

/// Checks that a password is acceptable input at all (Cognito: 1..=256 characters, no control
/// characters other than space).
pub fn check_input(password: &str) -> Result<(), Error> {
    let len = password.chars().count();
    if len == 0 || len > 256 {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length between 1 and 256",
        ));
    }
    Ok(())
}

/// Who an SRP verifier is computed for: the pool name (the part of the pool id after `_`) and
/// the user id (the username as stored, Cognito's `USER_ID_FOR_SRP`). `None` where the pool
/// stores no verifiers (`PoolRecord::srp_user`).
#[derive(Debug, Clone, Copy)]
pub struct SrpUser<'a> {
    pub pool_name: &'a str,
    pub user_id: &'a str,
}

/// What setting a password stores on the user: the argon2id hash and, where the pool allows
/// USER_SRP_AUTH, the SRP verifier (salt, v). Produced only by [`hash_new`] and [`hash`], so no
/// place that sets a password can leave the verifier stale (`UserRecord::set_password`).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub hash: String,
    pub srp: Option<crate::srp::Verifier>,
}

/// A new password a user or administrator chose: acceptable input, within the pool's policy,
/// then hashed (argon2id, fresh salt) with the pool's parameters, with its SRP verifier.
pub async fn hash_new(
    env: &dyn crate::ports::Env,
    policy: &PasswordPolicy,
    params: HashParams,
    srp: Option<SrpUser<'_>>,
    password: &str,
) -> Result<Credentials, Error> {
    check_input(password)?;
    policy.check(password)?;
    check_breached(env, password).await?;
    hash(env, params, srp, password).await
}

/// The answer to a new password found in the operator's breached-password list. Cognito's
/// compromised-credentials check (threat protection) blocks such passwords with
/// `InvalidPasswordException`; this is the message it is reported to use.
pub const BREACHED_MESSAGE: &str = "Provided password cannot be used for security reasons.";

/// Refuses a new password that the [`PasswordHasher`](crate::ports::PasswordHasher) port finds
/// in the breached-password list (sign-up, AdminCreateUser's and AdminSetUserPassword's
/// passwords, ChangePassword, ConfirmForgotPassword, NEW_PASSWORD_REQUIRED).
pub async fn check_breached(env: &dyn crate::ports::Env, password: &str) -> Result<(), Error> {
    if env.passwords().breached(password).await {
        return Err(Error::new(ErrorKind::InvalidPassword, BREACHED_MESSAGE));
    }
    Ok(())
}

/// Hashes a password with a fresh salt (no policy check: temporary and migrated passwords),
/// with its SRP verifier.
pub async fn hash(
    env: &dyn crate::ports::Env,
    params: HashParams,
    srp: Option<SrpUser<'_>>,
    password: &str,
) -> Result<Credentials, Error> {
    let mut salt = [0u8; 16];
    env.random().fill(&mut salt);
    let hash = env.passwords().hash(password, salt, params).await?;
    let srp = match srp {
        Some(who) => Some(verifier(env, who, password).await),
        None => None,
    };
    Ok(Credentials { hash, srp })
}

/// An SRP verifier for a password, with a fresh salt (a user who signs in with a password and
/// has none yet gets one this way).
pub async fn verifier(
    env: &dyn crate::ports::Env,
    who: SrpUser<'_>,
    password: &str,
) -> crate::srp::Verifier {
    let mut salt = [0u8; 16];
    env.random().fill(&mut salt);
    env.srp()
        .verifier(who.pool_name, who.user_id, password, salt)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn policy_messages_follow_cognito() {
        let policy = PasswordPolicy::default();
        let err = |p: &str| policy.check(p).err().map(|e| e.message);
        assert_eq!(
            err("Ab1!"),
            Some("Password did not conform with policy: Password not long enough".into())
        );
        assert_eq!(
            err("abcdefg1!"),
            Some(
                "Password did not conform with policy: Password must have uppercase characters"
                    .into()
            )
        );
        assert_eq!(
            err("ABCDEFG1!"),
            Some(
                "Password did not conform with policy: Password must have lowercase characters"
                    .into()
            )
        );
        assert_eq!(
            err("Abcdefgh!"),
            Some(
                "Password did not conform with policy: Password must have numeric characters"
                    .into()
            )
        );
        assert_eq!(
            err("Abcdefgh1"),
            Some(
                "Password did not conform with policy: Password must have symbol characters".into()
            )
        );
        assert_eq!(err("Abcdefg1!"), None);
    }

    #[test]
    fn hash_verifies_and_detects_parameter_change() {
        let phc = hash_argon2id("Correct-horse1", [7; 16], FAST).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            verify_argon2id("Correct-horse1", &phc, FAST).unwrap(),
            PasswordCheck::Match
        );
        assert_eq!(
            verify_argon2id("wrong", &phc, FAST).unwrap(),
            PasswordCheck::Mismatch
        );
        let stronger = HashParams {
            memory_kib: 128,
            ..FAST
        };
        assert_eq!(
            verify_argon2id("Correct-horse1", &phc, stronger).unwrap(),
            PasswordCheck::MatchNeedsRehash
        );
    }

    #[test]
    fn verify_in_reused_memory_agrees_with_the_library() {
        let mut memory = HashMemory::default();
        let phc = hash_argon2id("Correct-horse1", [9; 16], FAST).unwrap();
        for (password, expected) in [
            ("Correct-horse1", PasswordCheck::Match),
            ("wrong", PasswordCheck::Mismatch),
        ] {
            assert_eq!(
                verify_argon2id_in(password, &phc, FAST, &mut memory).unwrap(),
                expected
            );
            assert_eq!(verify_argon2id(password, &phc, FAST).unwrap(), expected);
        }
        // A larger hash after a smaller one grows the memory.
        let bigger = HashParams {
            memory_kib: 256,
            ..FAST
        };
        let phc2 = hash_argon2id("x-Y-1", [1; 16], bigger).unwrap();
        assert_eq!(
            verify_argon2id_in("x-Y-1", &phc2, FAST, &mut memory).unwrap(),
            PasswordCheck::MatchNeedsRehash
        );
        assert_eq!(
            verify_argon2id_in("x-Y-1", &phc2, bigger, &mut memory).unwrap(),
            PasswordCheck::Match
        );
    }

    #[test]
    fn rejects_garbage_hash() {
        assert!(verify_argon2id("x", "not-a-phc", FAST).is_err());
    }
}
