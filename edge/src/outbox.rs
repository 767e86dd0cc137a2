//! Message delivery at the edge.
//!
//! Like the host's development outbox, the edge can keep every message (codes included) where
//! tests and demos read them: with `COGNATE_DEV_OUTBOX = "true"` messages are written to the
//! authoritative store under `__outbox/<poolId>/<time>-<random>` and served by the test-only
//! route `GET /__cognate/test/outbox?pool=<poolId>`.
//!
//! Real delivery on the edge is Amazon SES and SNS, exactly as on the host: the core builds the
//! request for the pool's `EmailConfiguration` (`DEVELOPER`) or `SmsConfiguration`
//! (`cognate_core::delivery`), the Worker signs it with the operator's credentials (the secrets
//! `COGNATE_DELIVERY_AWS_ACCESS_KEY_ID`, `COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY`, optional
//! `COGNATE_DELIVERY_AWS_SESSION_TOKEN`; endpoints `COGNATE_SES_ENDPOINT`,
//! `COGNATE_SNS_ENDPOINT`) and sends it with `fetch` (timeout, retries with backoff). SMTP is
//! host-only (Workers have no SMTP client). A message with no transport fails with
//! `CodeDeliveryFailureException`; it is never silently dropped.

use cognate_core::ports::Message;
use cognate_core::store::{Expect, Store};
use cognate_core::{Clock, Error, Random};

/// The store prefix of `pool_id`'s outbox.
pub fn outbox_prefix(pool_id: &str) -> String {
    format!("__outbox/{pool_id}/")
}

/// Delivers `message`: logs it, and with `keep` writes it to the development outbox in `store`.
pub async fn deliver(
    store: &dyn Store,
    clock: &dyn Clock,
    random: &dyn Random,
    keep: bool,
    message: Message,
) -> Result<(), Error> {
    worker::console_log!(
        "message: pool {} user {} {:?} purpose {}",
        message.pool_id,
        message.username,
        message.medium,
        message.purpose
    );
    if !keep {
        worker::console_log!(
            "no transport for this message (no SES/SNS configuration, no development outbox)"
        );
        return Err(cognate_core::delivery::delivery_failure());
    }
    let mut nonce = [0u8; 6];
    random.fill(&mut nonce);
    let nonce = hex::encode(nonce);
    // Zero-padded milliseconds sort in time order; the nonce keeps same-millisecond messages
    // apart.
    let key = format!(
        "{}{:016}-{nonce}",
        outbox_prefix(&message.pool_id),
        clock.now_millis()
    );
    // The host's outbox line ([`cognate_core::delivery::outbox_line`]).
    let bytes = cognate_core::delivery::outbox_line(&message)?;
    store.put(&key, &bytes, Expect::Absent).await?;
    Ok(())
}

/// The operator's AWS credentials and endpoints for SES and SNS.
#[derive(Debug, Clone)]
pub struct EdgeAws {
    pub credentials: cognate_core::sigv4::Credentials,
    pub ses_endpoint: Option<String>,
    pub sns_endpoint: Option<String>,
}

/// Attempts per message, and the first pause between them (doubled each time).
const AWS_ATTEMPTS: u32 = 3;
const AWS_RETRY_BASE_MS: u64 = 200;
/// The largest answer read from SES or SNS.
const AWS_MAX_ANSWER: usize = 64 * 1024;

/// Sends `message` through SES or SNS as its route says (the caller checked there is one).
pub async fn send_aws(clock: &dyn Clock, aws: &EdgeAws, message: &Message) -> Result<(), Error> {
    use cognate_core::delivery::{self, Outcome, Route};
    let (request, region, service) = match &message.route {
        Route::Ses(ses) => {
            let endpoint = aws
                .ses_endpoint
                .clone()
                .unwrap_or_else(|| delivery::ses_endpoint(&ses.region));
            (
                delivery::ses_send_email(message, ses, &endpoint),
                ses.region.clone(),
                "ses",
            )
        }
        Route::Sns(sns) => {
            let endpoint = aws
                .sns_endpoint
                .clone()
                .unwrap_or_else(|| delivery::sns_endpoint(&sns.region));
            (
                delivery::sns_publish(message, &endpoint),
                sns.region.clone(),
                "sns",
            )
        }
        Route::Server { .. } => return Err(delivery::delivery_failure()),
    };
    let mut pause = AWS_RETRY_BASE_MS;
    for attempt in 1..=AWS_ATTEMPTS {
        let mut signed = request.clone();
        cognate_core::sigv4::sign(
            &mut signed,
            &aws.credentials,
            &region,
            service,
            clock.now_millis(),
        )?;
        let reason = match fetch(&signed).await {
            Ok((status, error_type, body)) => {
                match delivery::aws_outcome(status, error_type.as_deref(), &body) {
                    Outcome::Sent => return Ok(()),
                    Outcome::Retry(code) => code,
                    Outcome::Refused(code) => {
                        worker::console_log!(
                            "{service} refused a message for pool {}: {code}",
                            message.pool_id
                        );
                        return Err(delivery::delivery_failure());
                    }
                }
            }
            Err(why) => why,
        };
        worker::console_log!(
            "{service} attempt {attempt} for pool {} failed: {reason}",
            message.pool_id
        );
        if attempt < AWS_ATTEMPTS {
            worker::Delay::from(std::time::Duration::from_millis(pause)).await;
            pause = pause.saturating_mul(2);
        }
    }
    Err(delivery::delivery_failure())
}

/// One request with `fetch` and [`DELIVERY_TIMEOUT`]: status, `x-amzn-ErrorType`, body (capped).
pub(crate) async fn fetch(
    request: &cognate_core::ports::DeliveryRequest,
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let headers = worker::Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| e.to_string())?;
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::from(request.method.to_ascii_uppercase()))
        .with_headers(headers);
    if !request.body.is_empty() {
        init.with_body(Some(wasm_bindgen::JsValue::from_str(&request.body)));
    }
    let outgoing =
        worker::Request::new_with_init(&request.url, &init).map_err(|e| e.to_string())?;
    let fetcher = worker::Fetch::Request(outgoing);
    let fetch = Box::pin(fetcher.send());
    let timeout = Box::pin(worker::Delay::from(DELIVERY_TIMEOUT));
    match futures_util::future::select(fetch, timeout).await {
        futures_util::future::Either::Left((Ok(mut response), _)) => {
            let status = response.status_code();
            let error_type = response.headers().get("x-amzn-errortype").ok().flatten();
            let mut body = response.bytes().await.map_err(|e| e.to_string())?;
            body.truncate(AWS_MAX_ANSWER);
            Ok((status, error_type, body))
        }
        futures_util::future::Either::Left((Err(e), _)) => Err(e.to_string()),
        futures_util::future::Either::Right(_) => Err("timed out".into()),
    }
}

/// The largest upstream answer accepted (a JWKS or a discovery document is a few KiB).
const UPSTREAM_MAX_ANSWER: usize = 256 * 1024;
/// How long an upstream request may take.
const UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One outbound request for the core's HTTP port, with `fetch`: redirects are not followed
/// (`redirect: manual`), [`UPSTREAM_TIMEOUT`], and an answer over [`UPSTREAM_MAX_ANSWER`] is
/// refused. The caller has checked the host against the allow-list.
pub(crate) async fn fetch_http(
    request: &cognate_core::ports::HttpRequest,
) -> Result<cognate_core::ports::HttpResponse, String> {
    let headers = worker::Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| e.to_string())?;
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::from(request.method.to_ascii_uppercase()))
        .with_headers(headers)
        .with_redirect(worker::RequestRedirect::Manual);
    if !request.body.is_empty() {
        let body = js_sys::Uint8Array::from(request.body.as_slice());
        init.with_body(Some(body.into()));
    }
    let outgoing =
        worker::Request::new_with_init(&request.url, &init).map_err(|e| e.to_string())?;
    let fetcher = worker::Fetch::Request(outgoing);
    let fetch = Box::pin(fetcher.send());
    let timeout = Box::pin(worker::Delay::from(UPSTREAM_TIMEOUT));
    match futures_util::future::select(fetch, timeout).await {
        futures_util::future::Either::Left((Ok(mut response), _)) => {
            let status = response.status_code();
            let headers: Vec<(String, String)> = response
                .headers()
                .entries()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            let declared = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > UPSTREAM_MAX_ANSWER) {
                return Err("answer too large".into());
            }
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if body.len() > UPSTREAM_MAX_ANSWER {
                return Err("answer too large".into());
            }
            Ok(cognate_core::ports::HttpResponse {
                status,
                headers,
                body,
            })
        }
        futures_util::future::Either::Left((Err(e), _)) => Err(e.to_string()),
        futures_util::future::Either::Right(_) => Err("timed out".into()),
    }
}

/// How long a custom sender's delivery request may take.
const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Performs a custom sender plugin's delivery request, if its host is on the operator's
/// allow-list (`COGNATE_PLUGIN_DELIVERY_HOSTS`, comma-separated, `*.example.com` allowed, as on
/// the host). With the development outbox (`keep`) it is written there, as the host does;
/// otherwise it is sent with `fetch`, with a timeout, and a non-2xx answer fails the request.
pub async fn deliver_request(
    store: &dyn Store,
    clock: &dyn Clock,
    random: &dyn Random,
    keep: bool,
    allowed_hosts: &[String],
    pool_id: &str,
    request: cognate_core::ports::DeliveryRequest,
) -> Result<(), Error> {
    cognate_core::trigger::check_delivery(&request, allowed_hosts)?;
    worker::console_log!("custom sender delivery: pool {pool_id} to {}", request.url);
    if keep {
        let mut nonce = [0u8; 6];
        random.fill(&mut nonce);
        let nonce = hex::encode(nonce);
        let key = format!(
            "{}{:016}-{nonce}",
            outbox_prefix(pool_id),
            clock.now_millis()
        );
        let bytes = cognate_core::delivery::outbox_delivery_line(pool_id, &request)?;
        store.put(&key, &bytes, Expect::Absent).await?;
        return Ok(());
    }
    let failed = |what: String| {
        Error::new(
            cognate_core::error::ErrorKind::UnexpectedLambda,
            format!("The custom sender's delivery failed: {what}"),
        )
    };
    let headers = worker::Headers::new();
    for (name, value) in &request.headers {
        headers
            .set(name, value)
            .map_err(|e| failed(e.to_string()))?;
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::from(request.method.to_ascii_uppercase()))
        .with_headers(headers);
    if !request.body.is_empty() {
        init.with_body(Some(wasm_bindgen::JsValue::from_str(&request.body)));
    }
    let outgoing =
        worker::Request::new_with_init(&request.url, &init).map_err(|e| failed(e.to_string()))?;
    let fetcher = worker::Fetch::Request(outgoing);
    let fetch = Box::pin(fetcher.send());
    let timeout = Box::pin(worker::Delay::from(DELIVERY_TIMEOUT));
    match futures_util::future::select(fetch, timeout).await {
        futures_util::future::Either::Left((Ok(response), _)) => {
            let status = response.status_code();
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(failed(format!("HTTP {status}")))
            }
        }
        futures_util::future::Either::Left((Err(e), _)) => Err(failed(e.to_string())),
        futures_util::future::Either::Right(_) => Err(failed("timed out".into())),
    }
}
