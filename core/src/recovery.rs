//! Password recovery: a reset code to a verified contact, and the code setting a new password.

use alloc::string::{String, ToString};

use serde_json::Value;

use crate::code::{self, CodePurpose};
use crate::error::Error;
use crate::message::{self, CodeDelivery};
use crate::pool::{AppClient, ClientProof, PoolRecord};
use crate::ports::Env;
use crate::user::{self, Step, UserRecord, UserStatus};

/// The verified contact a password-reset code goes to: email first, then phone number.
fn recovery_contact(record: &UserRecord) -> Option<(&'static str, String)> {
    ["email", "phone_number"].into_iter().find_map(|attr| {
        record
            .attribute(attr)
            .filter(|_| record.is_verified(attr))
            .map(|v| (attr, v.to_string()))
    })
}

/// ForgotPassword: a reset code to the user's verified email or phone number. A user this pool
/// does not know may come from the user migration plugin, needing a reset.
pub async fn forgot_password(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    username: &str,
    proof: ClientProof<'_>,
    client_metadata: Value,
) -> Result<CodeDelivery, Error> {
    let mut found = user::resolve(env, pool, username).await?.map(|(u, _)| u);
    if found.is_none()
        && crate::trigger::configured(pool, crate::trigger::TriggerKind::UserMigration).is_some()
    {
        // Unknown here: a user migration plugin may know them; they arrive needing a reset.
        proof.check(client, &[username])?;
        if let Some(migration) = crate::trigger::user_migration(
            env,
            pool,
            "UserMigration_ForgotPassword",
            username,
            &client.client_id,
            None,
            client_metadata,
        )
        .await?
        {
            let migration = crate::trigger::Migration {
                final_status: UserStatus::ResetRequired,
                ..migration
            };
            found = Some(
                crate::trigger::store_migrated_user(env, pool, username, None, migration).await?,
            );
        }
    }
    let Some(found) = found else {
        proof.check(client, &[username])?;
        if client.prevents_user_existence_errors() {
            return Ok(CodeDelivery::decoy(pool, username));
        }
        return Err(Error::unknown_user_for_client());
    };
    proof.check(client, &[username, &found.username])?;
    // Counted before the new code replaces the old one: a refused request changes nothing.
    if found.enabled
        && let Some((_, destination)) = recovery_contact(&found)
    {
        crate::delivery::check_rate(env, &pool.id, &destination).await?;
    }
    let mut outgoing = None;
    let (record, ()) = user::modify(env, pool, &found.username, |u| {
        if !u.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let (attr, dest) = recovery_contact(u).ok_or_else(|| {
            Error::invalid_parameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number",
            )
        })?;
        let secret = message::put_code(env, u, CodePurpose::ForgotPassword, attr);
        outgoing = Some((attr, dest, secret));
        Ok(Step::Save(()))
    })
    .await?;
    let (attr, dest, secret) = outgoing.ok_or_else(|| Error::internal("no code issued"))?;
    crate::trigger::deliver(
        env,
        pool,
        &record,
        message::verification(pool, &record, attr, &dest, "ForgotPassword", secret),
        crate::trigger::MessageSource::ForgotPassword,
        Some(&client.client_id),
    )
    .await?;
    Ok(CodeDelivery::to(attr, &dest))
}

/// ConfirmForgotPassword: the reset code sets the new password (and confirms a user whose
/// password had to be reset).
#[allow(clippy::too_many_arguments)] // the operation's members
pub async fn confirm_forgot_password(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    username: &str,
    code: &str,
    new_password: &str,
    proof: ClientProof<'_>,
    client_metadata: Value,
) -> Result<(), Error> {
    let Some((found, _)) = user::resolve(env, pool, username).await? else {
        proof.check(client, &[username])?;
        if client.prevents_user_existence_errors() {
            // What a known user with a wrong code gets, after the same work: the new password
            // is checked against the policy and hashed (a weak one is InvalidPasswordException
            // for everyone, and the time taken does not tell either).
            crate::password::hash_new(
                env,
                pool.password_policy(),
                pool.hash_params(),
                pool.srp_user(username),
                new_password,
            )
            .await?;
            return Err(code::mismatch());
        }
        return Err(Error::unknown_user_for_client());
    };
    proof.check(client, &[username, &found.username])?;
    let hash = crate::password::hash_new(
        env,
        pool.password_policy(),
        pool.hash_params(),
        pool.srp_user(&found.username),
        new_password,
    )
    .await?;
    let now = env.clock().now_millis();
    let (confirmed, ()) = user::modify(env, pool, &found.username, |u| {
        match message::take_code(u, CodePurpose::ForgotPassword, None, code, now)? {
            Err(wrong) => Ok(Step::SaveThenFail(wrong)),
            Ok(_) => {
                u.set_password(&hash);
                u.failed_sign_ins = 0;
                u.locked_until_millis = 0;
                u.temporary_password_expires_millis = None;
                if matches!(
                    u.status,
                    UserStatus::ResetRequired | UserStatus::ForceChangePassword
                ) {
                    u.status = UserStatus::Confirmed;
                }
                Ok(Step::Save(()))
            }
        }
    })
    .await?;
    crate::trigger::post_confirmation(
        env,
        pool,
        "PostConfirmation_ConfirmForgotPassword",
        &confirmed,
        Some(&client.client_id),
        client_metadata,
    )
    .await?;
    Ok(())
}

/// AdminResetUserPassword: the user must reset their password; a code goes to their verified
/// contact if they have one.
pub async fn admin_reset_password(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
) -> Result<(), Error> {
    if user.enabled
        && user.status != UserStatus::Unconfirmed
        && let Some((_, destination)) = recovery_contact(user)
    {
        crate::delivery::check_rate(env, &pool.id, &destination).await?;
    }
    let mut outgoing = None;
    let (record, ()) = user::modify(env, pool, &user.username, |u| {
        if !u.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        if u.status == UserStatus::Unconfirmed {
            return Err(Error::not_authorized(
                "User password cannot be reset in the current state.",
            ));
        }
        u.status = UserStatus::ResetRequired;
        outgoing = recovery_contact(u).map(|(attr, dest)| {
            let secret = message::put_code(env, u, CodePurpose::ForgotPassword, attr);
            (attr, dest, secret)
        });
        Ok(Step::Save(()))
    })
    .await?;
    if let Some((attr, dest, secret)) = outgoing {
        crate::trigger::deliver(
            env,
            pool,
            &record,
            message::verification(pool, &record, attr, &dest, "ForgotPassword", secret),
            crate::trigger::MessageSource::ForgotPassword,
            None,
        )
        .await?;
    }
    Ok(())
}
