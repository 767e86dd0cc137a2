//! The `CognateUsers.*` admin API (issue 24): moving users in and out of Cognate with their
//! password hashes, so they keep their passwords. `POST /` with `X-Amz-Target:
//! CognateUsers.<Operation>`, AWS JSON 1.1, SigV4-signed with an admin key. Cognito has no such
//! operations (its own import resets every password).
//!
//! - `ExportUsers` `{"UserPoolId", "PaginationToken"?, "Limit"?}` -> `{"Users": [{"Username",
//!   "Attributes": {...}, "Enabled", "UserStatus", "PasswordHash"?}], "PaginationToken"?}`; the
//!   hash is the stored PHC string (argon2id).
//! - `ImportUser` `{"UserPoolId", "Username", "Attributes"?: {...}, "PasswordHash"}` -> `{}`:
//!   creates the user as AdminCreateUser does (no message), confirmed, with the given PHC hash:
//!   argon2id, bcrypt (`$2a$`/`$2b$`/`$2y$`), scrypt (`$scrypt$`) or PBKDF2
//!   (`$pbkdf2-sha256$`, `$pbkdf2-sha512$`). The `PasswordHasher` port verifies it at sign-in and
//!   the first correct password replaces it with an argon2id hash of the pool's parameters.
//!
//! ## Security
//! Hashes are secrets: these answers travel only to admin-signed requests and are never logged
//! (the host logs no bodies). A hash is accepted only in one of the formats above.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::ports::Env;
use crate::user::{Step, UserRecord, UserStatus};

/// The admin API's target prefix.
pub const TARGET_PREFIX: &str = "CognateUsers.";

/// The PHC (and bcrypt MCF) prefixes an imported hash may have.
pub const HASH_PREFIXES: &[&str] = &[
    "$argon2id$",
    "$2a$",
    "$2b$",
    "$2y$",
    "$scrypt$",
    "$pbkdf2-sha256$",
    "$pbkdf2-sha512$",
];

/// The operation of a `CognateUsers.*` call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    super::extension::operation(request, TARGET_PREFIX)
}

/// Answers one `CognateUsers.<operation>` call: SigV4 first.
pub async fn handle(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Response {
    super::extension::answer(config, env, request, |region| {
        call(config, env, request, operation, region)
    })
    .await
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParameter, message)
}

/// Whether `hash` is a password hash in a format Cognate verifies.
pub fn acceptable_hash(hash: &str) -> bool {
    hash.len() <= 512
        && hash.bytes().all(|b| b.is_ascii_graphic())
        && HASH_PREFIXES.iter().any(|p| hash.starts_with(p))
}

pub(super) async fn call(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
    region: String,
) -> Result<Value, Error> {
    let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&request.body).map_err(|e| {
            Error::new(
                ErrorKind::Serialization,
                format!("Request body is not valid JSON: {e}"),
            )
        })?
    };
    let pool_id = body
        .get("UserPoolId")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("UserPoolId is required."))?
        .to_string();
    let (pool, _) = crate::pool::load_pool(env, &pool_id).await?;
    match operation {
        "ExportUsers" => {
            let limit = match body.get("Limit") {
                None => 60,
                Some(v) => v
                    .as_u64()
                    .filter(|l| (1..=1000).contains(l))
                    .ok_or_else(|| invalid("Limit must be from 1 to 1000."))?,
            };
            let limit = usize::try_from(limit).unwrap_or(60);
            let prefix = crate::store::keys::user(&pool_id, "");
            let after =
                super::decode_token(body.get("PaginationToken").and_then(Value::as_str), &prefix)?;
            let page = env.store().scan(&prefix, after.as_deref(), limit).await?;
            let mut users = Vec::new();
            for (_, item) in &page.items {
                let Ok(user) = serde_json::from_slice::<UserRecord>(&item.value) else {
                    continue;
                };
                let mut attributes = Map::new();
                attributes.insert("sub".into(), json!(user.sub));
                for (name, value) in &user.attributes {
                    attributes.insert(name.clone(), json!(value));
                }
                let mut entry = json!({
                    "Username": user.username,
                    "Attributes": attributes,
                    "Enabled": user.enabled,
                    "UserStatus": user.status.as_str(),
                });
                if let Some(hash) = &user.password_hash {
                    super::set(&mut entry, "PasswordHash", json!(hash));
                }
                users.push(entry);
            }
            let mut answer = json!({ "Users": users });
            if let Some(next) = page.next {
                super::set(
                    &mut answer,
                    "PaginationToken",
                    json!(super::encode_token(&next)),
                );
            }
            Ok(answer)
        }
        "ImportUser" => {
            let username = body
                .get("Username")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("Username is required."))?
                .to_string();
            let hash = body
                .get("PasswordHash")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("PasswordHash is required."))?
                .to_string();
            if !acceptable_hash(&hash) {
                return Err(invalid(format!(
                    "PasswordHash must be a PHC string of argon2id, scrypt or PBKDF2, or a \
                     bcrypt hash ({}).",
                    HASH_PREFIXES.join(", ")
                )));
            }
            if !env.passwords().verifies(&hash) {
                return Err(invalid(
                    "This runtime verifies only argon2id password hashes: import bcrypt, scrypt \
                     or PBKDF2 hashes through a Cognate host.",
                ));
            }
            let mut attributes = Vec::new();
            if let Some(given) = body.get("Attributes") {
                let given = given
                    .as_object()
                    .ok_or_else(|| invalid("Attributes must be an object of strings."))?;
                for (name, value) in given {
                    // `sub` is Cognate's to choose, as in AdminCreateUser.
                    if name == "sub" {
                        continue;
                    }
                    let value = value
                        .as_str()
                        .ok_or_else(|| invalid("Attributes must be an object of strings."))?;
                    attributes.push(json!({"Name": name, "Value": value}));
                }
            }
            let ctx = super::Ctx {
                config,
                env,
                region,
                origin: crate::auth::Origin {
                    ip_address: request.remote_addr.clone(),
                    user_agent: request.header("user-agent").map(str::to_string),
                },
            };
            // Every check and index of AdminCreateUser; no message, no temporary password.
            let create = json!({
                "UserPoolId": pool_id,
                "Username": username,
                "UserAttributes": attributes,
                "MessageAction": "SUPPRESS",
            });
            crate::api::model::check("AdminCreateUser", &create)?;
            let created = super::dispatch(&ctx, "AdminCreateUser", create).await?;
            let stored = created
                .pointer("/User/Username")
                .and_then(Value::as_str)
                .unwrap_or(&username)
                .to_string();
            crate::user::modify(env, &pool, &stored, |user| {
                user.password_hash = Some(hash.clone());
                user.srp_verifier = None;
                user.status = UserStatus::Confirmed;
                user.temporary_password_expires_millis = None;
                Ok(Step::Save(()))
            })
            .await?;
            Ok(json!({}))
        }
        other => Err(Error::new(
            ErrorKind::UnknownOperation,
            format!("Operation {other:.100} is not supported by this server"),
        )),
    }
}
