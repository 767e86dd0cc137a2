//! Lockout: failed sign-ins are counted on the user record, and after [`LOCKOUT_THRESHOLD`] of
//! them the account is locked for a time that doubles with each further failure.

use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::{self, Step, UserRecord};

/// Failed sign-ins tolerated before the account is temporarily locked.
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// The longest lockout.
pub const MAX_LOCKOUT_MILLIS: u64 = 15 * 60 * 1000;

/// Whether the user is locked out at `now`.
pub fn is_locked(user: &UserRecord, now: u64) -> bool {
    user.locked_until_millis > now
}

/// Counts a failed sign-in with compare-and-set (so racing failures all count) and locks the
/// account after [`LOCKOUT_THRESHOLD`] of them: 1 s, doubling up to [`MAX_LOCKOUT_MILLIS`].
pub async fn record_failure(env: &dyn Env, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    record_failure_after(env, pool, username, 0).await
}

/// [`record_failure`], counting from at least `earlier` failures: a second factor's wrong code
/// adds to the failures from before the correct password reset the count, so answering the
/// password again does not buy an attacker new guesses at the code.
pub async fn record_failure_after(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    earlier: u32,
) -> Result<(), Error> {
    let now = env.clock().now_millis();
    let outcome = user::modify(env, pool, username, |u| {
        u.failed_sign_ins = u.failed_sign_ins.max(earlier).saturating_add(1);
        if u.failed_sign_ins >= LOCKOUT_THRESHOLD {
            let exponent = (u.failed_sign_ins - LOCKOUT_THRESHOLD).min(20);
            u.locked_until_millis = now + (1000u64 << exponent).min(MAX_LOCKOUT_MILLIS);
        }
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::UserNotFound => Ok(()),
        Err(e) => Err(e),
    }
}
