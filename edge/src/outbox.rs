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
