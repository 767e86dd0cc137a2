//! Message delivery at the edge.
//!
//! Like the host's development outbox, the edge can keep every message (codes included) where
//! tests and demos read them: with `COGNATE_DEV_OUTBOX = "true"` messages are written to the
//! authoritative store under `__outbox/<poolId>/<time>-<random>` and served by the test-only
//! route `GET /__cognate/test/outbox?pool=<poolId>`. Without it, a message is logged (recipient
//! and purpose, never the code) and dropped: delivery through an email/SMS provider is not
//! built yet, on the edge as on the host.

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
        return Ok(());
    }
    let mut nonce = [0u8; 6];
    random.fill(&mut nonce);
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    // Zero-padded milliseconds sort in time order; the nonce keeps same-millisecond messages
    // apart.
    let key = format!(
        "{}{:016}-{nonce}",
        outbox_prefix(&message.pool_id),
        clock.now_millis()
    );
    let line = serde_json::json!({
        "pool_id": message.pool_id,
        "username": message.username,
        "medium": message.medium,
        "destination": message.destination,
        "purpose": message.purpose,
        "subject": message.subject,
        "body": message.body,
        "code": message.code.expose(),
    });
    let bytes = serde_json::to_vec(&line)?;
    store.put(&key, &bytes, Expect::Absent).await?;
    Ok(())
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
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!(
            "{}{:016}-{nonce}",
            outbox_prefix(pool_id),
            clock.now_millis()
        );
        let line = serde_json::json!({
            "pool_id": pool_id,
            "username": "",
            "medium": "HTTP",
            "destination": request.url,
            "purpose": "Delivery",
            "subject": request.method,
            "body": request.body,
            "delivery": request,
        });
        let bytes = serde_json::to_vec(&line)?;
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
