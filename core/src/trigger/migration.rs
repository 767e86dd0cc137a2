//! User migration: a user this pool does not know yet, asked of the migration plugin at sign-in
//! and ForgotPassword, and stored as if created here.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Value, json};

use super::{Invocation, TriggerKind, flag, run};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::UserRecord;

/// What a user migration plugin returned for a user it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub attributes: alloc::collections::BTreeMap<String, String>,
    /// `CONFIRMED` or `RESET_REQUIRED`.
    pub final_status: crate::user::UserStatus,
    pub suppress_message: bool,
    pub force_alias_creation: bool,
}

/// Runs user migration (`UserMigration_Authentication` with the password the user typed,
/// `UserMigration_ForgotPassword` without). `None`: the plugin does not know the user (it
/// returned no `userAttributes`), or no plugin is configured.
pub async fn user_migration(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    login: &str,
    client_id: &str,
    password: Option<&str>,
    client_metadata: Value,
) -> Result<Option<Migration>, Error> {
    let mut request = json!({
        "validationData": {},
        "clientMetadata": client_metadata,
    });
    if let (Some(p), Value::Object(map)) = (password, &mut request) {
        map.insert("password".into(), json!(p));
    }
    let Some(response) = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::UserMigration,
            source,
            user_name: login,
            client_id: Some(client_id),
            request,
            response: json!({
                "userAttributes": null,
                "finalUserStatus": null,
                "messageAction": null,
                "desiredDeliveryMediums": null,
                "forceAliasCreation": null,
                "enableSMSMFA": null,
            }),
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let invalid = |what: &str| {
        Error::new(
            ErrorKind::InvalidLambdaResponse,
            format!("Invalid lambda response: {what}"),
        )
    };
    let attributes = match response.get("userAttributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => {
            let mut out = alloc::collections::BTreeMap::new();
            for (name, value) in map {
                let v = match value {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(invalid("userAttributes values must be strings")),
                };
                // Cognito generates these itself.
                if name == "sub" || name.starts_with("cognito:") || name == "username" {
                    continue;
                }
                out.insert(name.clone(), v);
            }
            out
        }
        Some(_) => return Err(invalid("userAttributes must be an object")),
    };
    let final_status = match response.get("finalUserStatus").and_then(Value::as_str) {
        None | Some("CONFIRMED") => crate::user::UserStatus::Confirmed,
        Some("RESET_REQUIRED") => crate::user::UserStatus::ResetRequired,
        Some(_) => {
            return Err(invalid(
                "finalUserStatus must be CONFIRMED or RESET_REQUIRED",
            ));
        }
    };
    Ok(Some(Migration {
        attributes,
        final_status,
        suppress_message: response.get("messageAction").and_then(Value::as_str) == Some("SUPPRESS"),
        force_alias_creation: flag(&response, "forceAliasCreation")?,
    }))
}

/// Stores a migrated user: the name typed (or, in pools whose usernames are emails or phone
/// numbers, a new sub with that attribute), the plugin's attributes, the password typed (if
/// any, hashed with the pool's parameters) and the final status. Aliases are reserved as for a
/// new user. Returns the stored record.
pub async fn store_migrated_user(
    env: &dyn Env,
    pool: &PoolRecord,
    login: &str,
    password: Option<&str>,
    migration: Migration,
) -> Result<UserRecord, Error> {
    use crate::store::{Expect, StoreError};
    use crate::user;
    let mut attributes = migration.attributes;
    let sub = crate::ids::uuid_v4(env.random());
    let (username, unique_alias) = if pool.username_attributes.is_empty() {
        (login.to_string(), None)
    } else {
        let attr = if user::looks_like_email(login)
            && pool.username_attributes.iter().any(|a| a == "email")
        {
            "email"
        } else if user::looks_like_phone(login)
            && pool.username_attributes.iter().any(|a| a == "phone_number")
        {
            "phone_number"
        } else {
            return Err(Error::new(
                ErrorKind::InvalidLambdaResponse,
                "Invalid lambda response: the username must be an email or phone number in this pool",
            ));
        };
        attributes.insert(attr.to_string(), login.to_string());
        (sub.clone(), Some(attr))
    };
    user::validate_values(pool, &mut attributes, true).map_err(|e| {
        Error::new(
            ErrorKind::InvalidLambdaResponse,
            format!("Invalid lambda response: {}", e.message),
        )
    })?;
    let hash = match password {
        Some(p) if migration.final_status == user::UserStatus::Confirmed => {
            Some(crate::password::hash(env, pool.hash_params(), pool.srp_user(&username), p).await?)
        }
        _ => None,
    };
    let now = env.clock().now_millis();
    let record = UserRecord::new(username, sub, attributes, migration.final_status, hash, now);
    let key = pool.normalize_username(&record.username);
    if let Some(attr) = unique_alias {
        let value = record.attribute(attr).unwrap_or_default().to_string();
        let exists = Error::new(
            ErrorKind::UsernameExists,
            format!("An account with the given {attr} already exists."),
        );
        user::alias::reserve(env, pool, attr, &value, &key, false, exists).await?;
    }
    for attr in &pool.alias_attributes {
        let eligible = attr == "preferred_username" || record.is_verified(attr);
        let Some(value) = record.attribute(attr).filter(|_| eligible) else {
            continue;
        };
        let exists = Error::new(
            ErrorKind::AliasExists,
            format!("An account with the given {attr} already exists."),
        );
        user::alias::reserve(
            env,
            pool,
            attr,
            value,
            &key,
            migration.force_alias_creation,
            exists,
        )
        .await?;
    }
    match user::save(env, pool, None, &record, Expect::Absent).await {
        Ok(_) => Ok(record),
        Err(StoreError::Conflict) => {
            Err(Error::new(ErrorKind::UsernameExists, "User already exists"))
        }
        Err(e) => Err(e.into()),
    }
}
