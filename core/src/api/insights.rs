//! The `CognateInsights.*` admin API: `POST /` with `X-Amz-Target: CognateInsights.<Operation>`,
//! AWS JSON 1.1, SigV4-signed (service `cognito-idp`) with an admin key like every
//! administrative call. Cognito has no such operation; the admin console (issue 25) draws its
//! charts from it, and any SigV4 client may call it.
//!
//! - `GetUserPoolActivity` `{"UserPoolId": "...", "Days": 14}` (1 to 90, default 14) ->
//!   `{"UserPoolId", "Days": [{"Start", "SignIns", "Failures"}], "Users": {"Total", "ByStatus",
//!   "Disabled", "WithMfa", "LockedOut"}, "Truncated"}`

use alloc::format;

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::ports::Env;

/// The API's target prefix.
pub const TARGET_PREFIX: &str = "CognateInsights.";

/// The operation of a `CognateInsights.*` call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    super::extension::operation(request, TARGET_PREFIX)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ActivityRequest {
    user_pool_id: alloc::string::String,
    #[serde(default)]
    days: Option<u64>,
}

/// Answers one `CognateInsights.<operation>` call: SigV4 first, then the operation.
pub async fn handle(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Response {
    super::extension::answer(config, env, request, |_| call(env, request, operation)).await
}

async fn call(
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Result<serde_json::Value, Error> {
    match operation {
        "GetUserPoolActivity" => {
            let body: ActivityRequest = serde_json::from_slice(&request.body)
                .map_err(|e| Error::invalid_parameter(format!("Invalid request: {e}")))?;
            let days = body.days.unwrap_or(14);
            if !(1..=crate::activity::MAX_DAYS).contains(&days) {
                return Err(Error::invalid_parameter(format!(
                    "Days must be from 1 to {}.",
                    crate::activity::MAX_DAYS
                )));
            }
            crate::activity::of_pool(env, &body.user_pool_id, days).await
        }
        other => Err(Error::new(
            ErrorKind::UnknownOperation,
            format!("Unknown operation {TARGET_PREFIX}{other}."),
        )),
    }
}
