//! Cognate's own admin APIs beside Cognito's: `CognatePlugins.*`, `CognateInsights.*`,
//! `CognateKeys.*` and `CognateUsers.*`. Each is a `POST /` whose `X-Amz-Target` starts with its
//! prefix, AWS JSON 1.1, SigV4-signed (service `cognito-idp`) with an admin key like every
//! administrative call; here is what they share: recognising the call and the signed answer.

use alloc::string::String;
use core::future::Future;

use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::http::{AWS_JSON, AwsError, Request, Response};
use crate::ports::Env;

/// The operation of a call to the API whose target prefix is `prefix` (`"CognateKeys."`), if
/// `request` is one.
pub fn operation<'a>(request: &'a Request, prefix: &str) -> Option<&'a str> {
    if request.method != "POST" || !(request.path == "/" || request.path.is_empty()) {
        return None;
    }
    request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(prefix))
}

/// Checks the call's SigV4 signature, then answers with what `call` makes of it (given the
/// signed region): its value as AWS JSON 1.1, or its error as Cognito's.
pub async fn answer<F, Fut>(config: &Config, env: &dyn Env, request: &Request, call: F) -> Response
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<Value, Error>>,
{
    let result = match crate::sigv4::verify(
        request,
        super::SIGNING_SERVICE,
        &config.admin_keys,
        env.clock().now_millis(),
    ) {
        Ok(signed) => call(signed.region).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(value) => Response::json(
            200,
            AWS_JSON,
            serde_json::to_vec(&value).unwrap_or_default(),
        ),
        Err(e) => {
            let (name, status) = e.kind.wire();
            AwsError::new(status, name, &e.message).response()
        }
    }
}
