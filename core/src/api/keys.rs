//! The `CognateKeys.*` admin API (issue 24): signing-key rotation without downtime. `POST /`
//! with `X-Amz-Target: CognateKeys.<Operation>`, AWS JSON 1.1, SigV4-signed (service
//! `cognito-idp`) with an admin key, like `CognatePlugins.*`. Cognito has no such operation: it
//! rotates its keys itself.
//!
//! - `RotateSigningKey` `{"UserPoolId": "...", "PublishAheadSeconds": 3600,
//!   "LongestTokenSeconds": 86400}` -> `{"UserPoolId", "KeyId", "SignsFrom", "Keys": [...]}`:
//!   a new key, published at once, signing from `PublishAheadSeconds` on (default 3600); the
//!   older keys verify until `LongestTokenSeconds` after that (default 86400, the longest ID or
//!   access token Cognito issues), then leave the JWKS.
//! - `ListSigningKeys` `{"UserPoolId": "..."}` -> `{"UserPoolId", "Keys": [...]}`
//!
//! A key is listed as `{"KeyId", "CreationDate", "SignsFrom"?, "Retires"?, "Signing"}`, never
//! its private part.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::pool::epoch_seconds;
use crate::ports::Env;
use crate::token::KeySet;

/// The admin API's target prefix.
pub const TARGET_PREFIX: &str = "CognateKeys.";

/// The default wait between publishing a new key and signing with it.
pub const DEFAULT_PUBLISH_AHEAD_SECONDS: u64 = 3600;
/// The default lifetime of the longest token an old key may have signed: one day, the most
/// Cognito allows for ID and access tokens.
pub const DEFAULT_LONGEST_TOKEN_SECONDS: u64 = 86_400;
/// The most either may be: 10 years (Cognito's longest refresh token is 10 years).
const MAX_SECONDS: u64 = 10 * 365 * 86_400;

/// The operation of a `CognateKeys.*` call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    super::extension::operation(request, TARGET_PREFIX)
}

/// Answers one `CognateKeys.<operation>` call: SigV4 first, then the operation.
pub async fn handle(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Response {
    super::extension::answer(config, env, request, |_| {
        call(env, operation, &request.body)
    })
    .await
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParameter, message)
}

fn seconds(body: &Value, name: &str, default: u64) -> Result<u64, Error> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value.as_u64().filter(|s| *s <= MAX_SECONDS).ok_or_else(|| {
            invalid(format!(
                "{name} must be a whole number of seconds from 0 to {MAX_SECONDS}."
            ))
        }),
    }
}

async fn call(env: &dyn Env, operation: &str, body: &[u8]) -> Result<Value, Error> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::Serialization,
                format!("Request body is not valid JSON: {e}"),
            )
        })?
    };
    if !body.is_object() {
        return Err(Error::new(
            ErrorKind::Serialization,
            "Request body must be a JSON object",
        ));
    }
    let pool_id = body
        .get("UserPoolId")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("UserPoolId is required."))?;
    if !crate::ids::is_pool_id(pool_id) {
        return Err(invalid(format!("Invalid UserPoolId: {pool_id:.64}")));
    }
    // The pool must exist (its key set goes with it).
    crate::pool::load_pool(env, pool_id).await?;
    match operation {
        "RotateSigningKey" => {
            let ahead = seconds(&body, "PublishAheadSeconds", DEFAULT_PUBLISH_AHEAD_SECONDS)?;
            let longest = seconds(&body, "LongestTokenSeconds", DEFAULT_LONGEST_TOKEN_SECONDS)?;
            let rotation =
                crate::token::rotate_key_set(env, pool_id, ahead * 1000, longest * 1000).await?;
            Ok(json!({
                "UserPoolId": pool_id,
                "KeyId": rotation.new_kid,
                "SignsFrom": epoch_seconds(rotation.signs_from_millis),
                "Keys": listing(&rotation.set, env.clock().now_millis()),
            }))
        }
        "ListSigningKeys" => {
            let set = crate::token::load_key_set(env, pool_id).await?;
            Ok(json!({
                "UserPoolId": pool_id,
                "Keys": listing(&set, env.clock().now_millis()),
            }))
        }
        other => Err(Error::new(
            ErrorKind::UnknownOperation,
            format!("Operation {other:.100} is not supported by this server"),
        )),
    }
}

/// The live keys, newest first, without their private parts.
fn listing(set: &KeySet, now: u64) -> Vec<Value> {
    let signing = set.signing_key(now).map(|k| k.kid.clone());
    set.keys
        .iter()
        .filter(|k| k.is_live(now))
        .map(|k| {
            let mut entry = json!({
                "KeyId": k.kid,
                "CreationDate": epoch_seconds(k.created_millis),
                "Signing": signing.as_deref() == Some(k.kid.as_str()),
            });
            if let Some(t) = k.signs_from_millis {
                super::set(&mut entry, "SignsFrom", epoch_seconds(t));
            }
            if let Some(t) = k.retires_millis {
                super::set(&mut entry, "Retires", epoch_seconds(t));
            }
            entry
        })
        .collect()
}
