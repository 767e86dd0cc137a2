//! An account's lifecycle after sign-up: enabling and disabling, passwords set by an
//! administrator or changed by the user, deletion.

use crate::code::CodePurpose;
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::{self, Step, UserRecord, UserStatus};

/// When a temporary password set now expires (the policy's `TemporaryPasswordValidityDays`).
pub fn temporary_expiry(pool: &PoolRecord, now: u64) -> u64 {
    let days = u64::from(
        pool.password_policy()
            .temporary_password_validity_days
            .max(1),
    );
    now.saturating_add(days * 86_400_000)
}

/// AdminSetUserPassword: a permanent password confirms the user; a temporary one makes them
/// set their own at the next sign-in. `username` is the username as stored.
pub async fn set_password(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    password: &str,
    permanent: bool,
) -> Result<(), Error> {
    let hash = crate::password::hash_new(
        env,
        pool.password_policy(),
        pool.hash_params(),
        pool.srp_user(username),
        password,
    )
    .await?;
    let now = env.clock().now_millis();
    user::modify(env, pool, username, |u| {
        u.set_password(&hash);
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        u.codes.remove(&CodePurpose::ForgotPassword.slot(None));
        if permanent {
            u.status = UserStatus::Confirmed;
            u.temporary_password_expires_millis = None;
        } else {
            u.status = UserStatus::ForceChangePassword;
            u.temporary_password_expires_millis = Some(temporary_expiry(pool, now));
        }
        Ok(Step::Save(()))
    })
    .await?;
    Ok(())
}

/// AdminEnableUser / AdminDisableUser.
pub async fn set_enabled(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
    enabled: bool,
) -> Result<(), Error> {
    let now = env.clock().now_millis();
    user::modify(env, pool, username, |u| {
        if u.enabled == enabled {
            return Ok(Step::Keep(()));
        }
        u.enabled = enabled;
        if !enabled {
            // Cognito: disabling "revokes all access tokens for the user"; they stay revoked
            // when the user is enabled again (as after a global sign-out).
            u.tokens_valid_after_millis = now;
            u.revoked_sessions.clear();
        }
        Ok(Step::Save(()))
    })
    .await?;
    Ok(())
}

/// ChangePassword: the previous password proves the user again (a wrong one counts toward the
/// lockout, as a failed sign-in does).
pub async fn change_password(
    env: &dyn Env,
    pool: &PoolRecord,
    record: &UserRecord,
    previous: &str,
    proposed: &str,
) -> Result<(), Error> {
    crate::password::check_input(previous)?;
    let now = env.clock().now_millis();
    if crate::auth::lockout::is_locked(record, now) {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "Attempt limit exceeded, please try after some time.",
        ));
    }
    let current = record
        .password_hash
        .clone()
        .ok_or_else(Error::bad_credentials)?;
    let check = env
        .passwords()
        .verify(previous, &current, pool.hash_params())
        .await?;
    if check == crate::ports::PasswordCheck::Mismatch {
        // Wrong previous passwords count toward the lockout, as failed sign-ins do.
        crate::auth::record_failure(env, pool, &record.username).await?;
        return Err(Error::bad_credentials());
    }
    let hash = crate::password::hash_new(
        env,
        pool.password_policy(),
        pool.hash_params(),
        pool.srp_user(&record.username),
        proposed,
    )
    .await?;
    user::modify(env, pool, &record.username, |u| {
        if u.password_hash.as_deref() != Some(current.as_str()) {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "The password changed concurrently; try again.",
            ));
        }
        u.set_password(&hash);
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(Step::Save(()))
    })
    .await?;
    Ok(())
}

/// Deletes a user (and, through [`user::delete`], its indexes, aliases and memberships).
pub async fn delete(env: &dyn Env, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    for _ in 0..8 {
        let (record, version) = user::load(env, pool, username)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))?;
        match user::delete(env, pool, &record, version).await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind == ErrorKind::TooManyRequests => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "The user changed while it was being deleted; try again.",
    ))
}
