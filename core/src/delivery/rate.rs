//! Flood control: at most [`RATE_LIMIT_MESSAGES`] messages to one destination per
//! [`RATE_LIMIT_WINDOW_MILLIS`], counted in the store (so every host and the edge share it).

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::ports::Env;
use crate::store::{Expect, StoreError};

/// Messages one destination may receive per window.
pub const RATE_LIMIT_MESSAGES: u32 = 10;

/// The window of [`RATE_LIMIT_MESSAGES`]: 15 minutes.
pub const RATE_LIMIT_WINDOW_MILLIS: u64 = 15 * 60 * 1000;

#[derive(Debug, Serialize, Deserialize)]
struct RateRecord {
    window_start_millis: u64,
    count: u32,
    /// When the window ends (the janitor removes the record an hour later).
    expires_millis: u64,
}

/// The store key counting a destination's messages in a pool: its SHA-256, so the key holds no
/// address or phone number.
pub fn rate_key(pool_id: &str, destination: &str) -> String {
    let digest = Sha256::digest(destination.trim().to_lowercase().as_bytes());
    format!("p/{pool_id}/dr/{}", hex::encode(digest))
}

/// Counts one message to `destination`; refuses with Cognito's `LimitExceededException` once
/// it has had [`RATE_LIMIT_MESSAGES`] in the current window. One compare-and-set per message,
/// retried on a race.
pub async fn check_rate(env: &dyn Env, pool_id: &str, destination: &str) -> Result<(), Error> {
    let key = rate_key(pool_id, destination);
    for _ in 0..8 {
        let now = env.clock().now_millis();
        let current = env.store().get(&key).await?;
        let (record, expect) = match &current {
            Some(item) => {
                let old: Option<RateRecord> = serde_json::from_slice(&item.value).ok();
                let record = match old {
                    Some(r)
                        if now
                            < r.window_start_millis
                                .saturating_add(RATE_LIMIT_WINDOW_MILLIS) =>
                    {
                        if r.count >= RATE_LIMIT_MESSAGES {
                            return Err(Error::new(
                                ErrorKind::LimitExceeded,
                                "Attempt limit exceeded, please try after some time.",
                            ));
                        }
                        RateRecord {
                            count: r.count + 1,
                            ..r
                        }
                    }
                    _ => fresh_window(now),
                };
                (record, Expect::Version(item.version))
            }
            None => (fresh_window(now), Expect::Absent),
        };
        let value = serde_json::to_vec(&record)
            .map_err(|_| Error::internal("cannot encode a rate record"))?;
        match env.store().put(&key, &value, expect).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "Too many requests for this destination at once.",
    ))
}

fn fresh_window(now: u64) -> RateRecord {
    RateRecord {
        window_start_millis: now,
        count: 1,
        expires_millis: now.saturating_add(RATE_LIMIT_WINDOW_MILLIS),
    }
}
