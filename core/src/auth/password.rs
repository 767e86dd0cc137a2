//! The password step: one argon2id verification, lockout, user status, and user migration for
//! users this pool does not know yet.

use serde_json::{Map, Value};

use super::lockout::{is_locked, record_failure};
use super::{Attempt, Authenticated, admit, events, not_found_error};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::{Env, PasswordCheck};
use crate::user::{self, Step, UserRecord};

/// The password check shared by every sign-in (the Cognito API and the hosted UI): the one
/// argon2id verification, lockout, user status and the NEW_PASSWORD_REQUIRED challenge. Records
/// failed sign-ins; the caller records the successful one with what it issues.
pub(super) async fn authenticate(
    at: &Attempt<'_>,
    login: &str,
    password: &str,
) -> Result<Authenticated, Error> {
    let (env, pool, client, proof, origin) = (at.env, at.pool, at.client, at.proof, at.origin);
    crate::password::check_input(password)?;
    let params = pool.hash_params();
    let found = user::resolve(env, pool, login).await?;
    let found = match found {
        Some(found) => Some(found),
        // Unknown here: a user migration plugin may know them (it checks the password).
        None if crate::trigger::configured(pool, crate::trigger::TriggerKind::UserMigration)
            .is_some() =>
        {
            proof.check(client, &[login])?;
            if let Some(migration) = crate::trigger::user_migration(
                env,
                pool,
                "UserMigration_Authentication",
                login,
                &client.client_id,
                Some(password),
                Value::Object(Map::new()),
            )
            .await?
            {
                let user = crate::trigger::store_migrated_user(
                    env,
                    pool,
                    login,
                    Some(password),
                    migration,
                )
                .await?;
                return admit(at, user).await;
            }
            None
        }
        None => None,
    };
    let Some((user, _)) = found else {
        // Same work as a real check; the result does not matter.
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        proof.check(client, &[login])?;
        return Err(not_found_error(client));
    };
    proof.check(client, &[login, &user.username])?;
    let now = env.clock().now_millis();
    if is_locked(&user, now) {
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let Some(hash) = user.password_hash.clone() else {
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        // A user imported from a CSV file has no password until a reset gives one; Cognito
        // answers its sign-ins with PasswordResetRequiredException.
        if user.status == crate::user::UserStatus::ResetRequired {
            return Err(Error::new(
                crate::error::ErrorKind::PasswordResetRequired,
                "Password reset required for the user",
            ));
        }
        return Err(Error::bad_credentials());
    };
    crate::trigger::pre_authentication(
        env,
        pool,
        &user,
        &client.client_id,
        Value::Object(Map::new()),
    )
    .await?;
    let check = env.passwords().verify(password, &hash, params).await?;
    if check == PasswordCheck::Mismatch {
        record_failure(env, pool, &user.username).await?;
        events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::bad_credentials());
    }
    // A correct password; `admit` decides the rest.
    if super::may_go_on(&user, now)? {
        clear_failures(env, pool, &user, check, password).await?;
        super::srp::sync_verifier(env, pool, &user, password).await?;
    }
    admit(at, user).await
}

/// After a correct password: rehash with the pool's current parameters and reset the failure
/// count. Best effort: a concurrent update wins and the rehash happens next time.
async fn clear_failures(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    check: PasswordCheck,
    password: &str,
) -> Result<(), Error> {
    if check != PasswordCheck::MatchNeedsRehash && user.failed_sign_ins == 0 {
        return Ok(());
    }
    let rehashed = if check == PasswordCheck::MatchNeedsRehash {
        let mut salt = [0u8; 16];
        env.random().fill(&mut salt);
        Some(
            env.passwords()
                .hash(password, salt, pool.hash_params())
                .await?,
        )
    } else {
        None
    };
    let expected_hash = user.password_hash.clone();
    let outcome = user::modify(env, pool, &user.username, |u| {
        if u.password_hash != expected_hash {
            return Ok(Step::Keep(()));
        }
        if let Some(h) = &rehashed {
            u.password_hash = Some(h.clone());
        }
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::TooManyRequests || e.kind == ErrorKind::UserNotFound => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
