//! Results: the SDK's (success, or the modelled service error) and raw HTTP responses read whole.

use std::fmt;

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, SdkError};
use serde_json::Value;

/// The success value, or a panic naming the operation and the whole error chain.
pub fn ok<T, E, R>(result: Result<T, SdkError<E, R>>, what: &str) -> T
where
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what} failed: {}", DisplayErrorContext(&e)),
    }
}

/// The modelled (or unhandled) service error; panics if the call succeeded or never got an
/// answer from the service (dispatch failure, timeout, unparsable response).
pub fn service_error<T, E, R>(result: Result<T, SdkError<E, R>>, what: &str) -> E
where
    T: fmt::Debug,
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    match result {
        Ok(value) => panic!("{what} succeeded but should have failed: {value:?}"),
        Err(SdkError::ServiceError(context)) => context.into_err(),
        Err(e) => panic!(
            "{what} should have failed with a service error, got: {}",
            DisplayErrorContext(&e)
        ),
    }
}

/// `DisplayErrorContext` of an error, for assertion messages.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    DisplayErrorContext(error).to_string()
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------------

/// A response read whole.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl RawResponse {
    pub(crate) async fn read(response: reqwest::Result<reqwest::Response>) -> RawResponse {
        let response = match response {
            Ok(r) => r,
            Err(e) => panic!("request failed without a response: {e}"),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        RawResponse {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body's `__type`, reduced to the bare exception name (`a.b#NameException` →
    /// `NameException`), falling back to the `x-amzn-errortype` header.
    pub fn error_type(&self) -> Option<String> {
        let from_body = self
            .json()
            .and_then(|v| v.get("__type").and_then(Value::as_str).map(bare_error_name));
        from_body.or_else(|| self.header("x-amzn-errortype").map(bare_error_name))
    }

    /// The body's `message` (or `Message`).
    pub fn message(&self) -> Option<String> {
        let json = self.json()?;
        json.get("message")
            .or_else(|| json.get("Message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Display for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body: String = self.body.chars().take(2000).collect();
        write!(f, "HTTP {} {:?} {body}", self.status, self.headers)
    }
}

/// `com.amazonaws...#NameException` or `NameException:http://...` → `NameException`.
pub fn bare_error_name(raw: &str) -> String {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash
        .split(':')
        .next()
        .unwrap_or(after_hash)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_reduced_to_the_exception() {
        assert_eq!(
            bare_error_name("NotAuthorizedException"),
            "NotAuthorizedException"
        );
        assert_eq!(
            bare_error_name("com.amazonaws.cognito#NotAuthorizedException"),
            "NotAuthorizedException"
        );
        assert_eq!(
            bare_error_name(
                "NotAuthorizedException:http://internal.amazon.com/coral/com.amazonaws.cognito/"
            ),
            "NotAuthorizedException"
        );
    }
}
