//! The host's outbound-HTTP port ([`cognate_core::ports::Http`]): the core's requests to
//! upstream identity providers (discovery documents, JWKS, token and userInfo endpoints), sent
//! with [`crate::delivery::http::OutboundHttp`] (no redirects, a timeout, a cap on the answer)
//! to the operator's allow-list of hosts only (`[federation] upstream_hosts`,
//! `--upstream-hosts`, `COGNATE_UPSTREAM_HOSTS`).

use std::time::Duration;

use cognate_core::Error;
use cognate_core::error::ErrorKind;
use cognate_core::ports::{BoxFuture, Http, HttpRequest, HttpResponse, boxed};

use crate::delivery::http::{Failure, OutboundHttp};

/// The default cap on an answer (a JWKS or a discovery document is a few KiB).
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The default timeout of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Outbound HTTP to the allowed hosts.
#[derive(Debug, Clone)]
pub struct HostHttp {
    allowed: Vec<String>,
    http: OutboundHttp,
}

impl HostHttp {
    /// Requests to `allowed` hosts (`idp.example.com`, `*.example.com`, `127.0.0.1:8443`).
    pub fn new(
        allowed: Vec<String>,
        timeout: Duration,
        max_answer_bytes: usize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            allowed,
            http: OutboundHttp::new(timeout, max_answer_bytes)?,
        })
    }
}

impl Http for HostHttp {
    fn request<'a>(&'a self, request: HttpRequest) -> BoxFuture<'a, Result<HttpResponse, Error>> {
        boxed(async move {
            match self.http.perform_http(&request, &self.allowed).await {
                Ok(answer) => Ok(answer),
                Err(Failure::NotAllowed(why)) => {
                    tracing::warn!(%why, "upstream request refused");
                    Err(Error::new(ErrorKind::ExternalService, why))
                }
                Err(Failure::Transport(why)) => {
                    tracing::warn!(%why, "upstream request failed");
                    Err(Error::new(
                        ErrorKind::ExternalService,
                        format!("The upstream request failed ({why})."),
                    ))
                }
                Err(Failure::TooLarge) => Err(Error::new(
                    ErrorKind::ExternalService,
                    "The upstream answer is too large.",
                )),
            }
        })
    }
}
