//! The host's [`Sts`] port: identity pools' `AssumeRoleWithWebIdentity` requests, posted over
//! the outbound-HTTP client ([`crate::delivery::http::OutboundHttp`]: no redirects, a timeout,
//! a cap on the answer) to the operator's STS endpoint and nowhere else (its host is the whole
//! allow-list). The core writes the request and reads the answer.

use std::collections::BTreeMap;
use std::time::Duration;

use cognate_core::ports::{BoxFuture, Sts, StsAnswer, boxed};
use cognate_core::{DeliveryRequest, Error};

use crate::delivery::http::{Failure, OutboundHttp};

/// The STS answers are small; 64 KiB is plenty.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Posts to one STS endpoint.
#[derive(Debug, Clone)]
pub struct HostSts {
    endpoint: String,
    host: String,
    http: OutboundHttp,
}

impl HostSts {
    /// An STS at `endpoint` (`https://sts.amazonaws.com`, or an STS-compatible service).
    pub fn new(endpoint: &str, timeout: Duration) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| anyhow::anyhow!("sts_endpoint {endpoint}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("sts_endpoint {endpoint}: not an http(s) URL");
        }
        let host = url
            .host_str()
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| anyhow::anyhow!("sts_endpoint {endpoint}: no host"))?;
        Ok(Self {
            endpoint: endpoint.to_string(),
            host,
            http: OutboundHttp::new(timeout, MAX_ANSWER_BYTES)?,
        })
    }
}

fn unavailable(why: &str) -> Error {
    Error::new(
        cognate_core::error::ErrorKind::ExternalService,
        format!("The security token service is unavailable ({why})."),
    )
}

impl Sts for HostSts {
    fn post<'a>(&'a self, form: &'a str) -> BoxFuture<'a, Result<StsAnswer, Error>> {
        boxed(async move {
            let request = DeliveryRequest {
                method: "POST".into(),
                url: self.endpoint.clone(),
                headers: BTreeMap::from([(
                    "content-type".to_string(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_string(),
                )]),
                body: form.to_string(),
            };
            match self
                .http
                .perform(&request, std::slice::from_ref(&self.host))
                .await
            {
                Ok(answer) => Ok(StsAnswer {
                    status: answer.status,
                    body: answer.body,
                }),
                Err(Failure::NotAllowed(why)) | Err(Failure::Transport(why)) => {
                    tracing::warn!(%why, "STS request failed");
                    Err(unavailable(&why))
                }
                Err(Failure::TooLarge) => Err(unavailable("answer too large")),
            }
        })
    }
}
