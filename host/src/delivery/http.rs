//! The outbound-HTTP port: every request the server makes to another service (SES, SNS, custom
//! sender plugin deliveries) goes through [`OutboundHttp`], which refuses hosts off the caller's
//! allow-list, follows no redirects (a redirect could leave the allow-list), and bounds each
//! request by a timeout and its answer by a size cap.

use std::time::Duration;

use cognate_core::DeliveryRequest;
use cognate_core::ports::{HttpRequest, HttpResponse};

/// An answer, its body capped.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `x-amzn-ErrorType` (AWS REST-JSON services name their error there).
    pub error_type: Option<String>,
    pub body: Vec<u8>,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The URL's host is not on the allow-list: nothing was sent.
    NotAllowed(String),
    /// Connection refused, reset, TLS failure, timeout...: worth a retry.
    Transport(String),
    /// The answer was larger than the cap.
    TooLarge,
}

/// The HTTP client behind the port.
#[derive(Debug, Clone)]
pub struct OutboundHttp {
    client: reqwest::Client,
    max_answer_bytes: usize,
}

impl OutboundHttp {
    pub fn new(timeout: Duration, max_answer_bytes: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cognate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            max_answer_bytes,
        })
    }

    /// Performs `request` if its host is on `allowed` (exact names, `*.example.com` for
    /// subdomains; see `cognate_core::trigger::check_delivery`).
    pub async fn perform(
        &self,
        request: &DeliveryRequest,
        allowed: &[String],
    ) -> Result<Answer, Failure> {
        cognate_core::trigger::check_delivery(request, allowed)
            .map_err(|e| Failure::NotAllowed(e.message))?;
        let (status, headers, body) = self
            .send(
                &request.method,
                &request.url,
                request
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str())),
                request.body.clone().into_bytes(),
            )
            .await?;
        let error_type = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Answer {
            status,
            error_type,
            body,
        })
    }
}

impl OutboundHttp {
    /// Performs a core [`HttpRequest`] if its URL passes
    /// [`cognate_core::ports::host_allowed`] (`host`, `*.domain`, `host:port`): any status, the
    /// headers (lower-case names), the body up to the cap.
    pub async fn perform_http(
        &self,
        request: &HttpRequest,
        allowed: &[String],
    ) -> Result<HttpResponse, Failure> {
        if !cognate_core::ports::host_allowed(&request.url, allowed) {
            return Err(Failure::NotAllowed(
                cognate_core::ports::http_refused(&request.url).message,
            ));
        }
        let headers_in = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()));
        let (status, headers, body) = self
            .send(
                &request.method,
                &request.url,
                headers_in,
                request.body.clone(),
            )
            .await?;
        let headers = headers
            .iter()
            .filter_map(|(n, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (n.as_str().to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl OutboundHttp {
    /// Sends one request (no redirects, the client's timeout) and reads its answer up to the
    /// cap: the status, the headers, the body.
    async fn send<'h>(
        &self,
        method: &str,
        url: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
        body: Vec<u8>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::Transport("bad method".into()))?;
        let mut builder = self.client.request(method, url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let mut response = builder
            .body(body)
            .send()
            .await
            .map_err(|e| Failure::Transport(describe(&e)))?;
        if response
            .content_length()
            .is_some_and(|n| n > self.max_answer_bytes as u64)
        {
            return Err(Failure::TooLarge);
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::Transport(describe(&e)))?
        {
            if body.len() + chunk.len() > self.max_answer_bytes {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }
}

/// An error's kind without the URL (which could carry a token in a plugin's query string).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_request() {
        "request failed"
    } else if error.is_body() || error.is_decode() {
        "bad answer"
    } else {
        "failed"
    };
    let host = error
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("?")
        .to_string();
    format!("{kind} ({host})")
}
