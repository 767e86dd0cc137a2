//! The platform-neutral HTTP request and response the adapters translate to and from.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// An HTTP request as the core sees it. Header names are lower-case.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub method: String,
    /// The path without the query string, e.g. `/` or `/us-east-1_abc/.well-known/jwks.json`.
    pub path: String,
    /// The raw query string without `?` (may be empty).
    pub query: String,
    pub headers: Vec<(String, String)>,
    #[serde(with = "crate::codec::bytes")]
    pub body: Vec<u8>,
    /// The client's address, when the adapter knows it (for auth events and logs).
    pub remote_addr: Option<String>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_string(),
            path: path.to_string(),
            ..Self::default()
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response produced by the core.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "crate::codec::bytes")]
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn json(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self::new(status)
            .with_header("content-type", content_type)
            .with_body(body)
    }
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The content type of AWS JSON 1.1, the Cognito API's.
pub const AWS_JSON: &str = "application/x-amz-json-1.1";

/// Error messages are cut to this many characters (Cognito's own are a sentence or two): a
/// message may quote the caller's input, and a huge one must not become a huge header (HTTP
/// clients refuse header lines past 64 KiB) or a huge body.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 1024;

/// Cognito's error answer, built in this one place for the core's API, the plugin admin API
/// and the adapters' own refusals (body too large, timeout, a failed guest):
/// `{"__type": <name>, "message": <message>}` with `content-type` AWS JSON 1.1 and the name in
/// `x-amzn-errortype`.
///
/// ```
/// use cognate_core::http::AwsError;
/// let r = AwsError::new(400, "InvalidParameterException", "no").response();
/// assert_eq!(r.header("x-amzn-errortype"), Some("InvalidParameterException"));
/// let r = AwsError::new(400, "InvalidParameterException", "no").service().response();
/// assert_eq!(r.header("x-amzn-errortype"), Some("InvalidParameterException:"));
/// assert_eq!(r.header("x-amzn-errormessage"), Some("no"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AwsError<'a> {
    status: u16,
    error_type: &'a str,
    message: &'a str,
    content_type: &'a str,
    service: bool,
}

impl<'a> AwsError<'a> {
    pub fn new(status: u16, error_type: &'a str, message: &'a str) -> Self {
        Self {
            status,
            error_type,
            message,
            content_type: AWS_JSON,
            service: false,
        }
    }

    /// As the Cognito service itself answers: `x-amzn-errortype` is `<name>:` (where AWS puts
    /// the model's URL after the colon) and the message is repeated in `x-amzn-errormessage`.
    /// Without it the header is the bare name, as AWS's front end answers what never reached
    /// the service.
    pub fn service(mut self) -> Self {
        self.service = true;
        self
    }

    /// Another content type (the routes outside the JSON 1.1 API answer `application/json`).
    pub fn content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = content_type;
        self
    }

    pub fn response(self) -> Response {
        let message: String = self.message.chars().take(MAX_ERROR_MESSAGE_CHARS).collect();
        let body = serde_json::json!({ "__type": self.error_type, "message": message });
        let response = Response::json(
            self.status,
            self.content_type,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
        if self.service {
            response
                .with_header("x-amzn-errortype", &alloc::format!("{}:", self.error_type))
                .with_header("x-amzn-errormessage", &header_safe(&message))
        } else {
            response.with_header("x-amzn-errortype", self.error_type)
        }
    }
}

/// `text` as a header value: visible ASCII and spaces only (input quoted in a message may hold
/// anything; a control character or a non-ASCII byte would make the header invalid).
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}
