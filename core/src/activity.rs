//! A user pool's activity at a glance, for the admin console's charts (issue 25): sign-ins and
//! failures per day from the auth events AdminListUserAuthEvents serves, and the directory's
//! state (users by status, disabled, MFA adoption, accounts locked out now).
//!
//! Both are one pass over the pool's keys (`p/<pool>/ev/` and `p/<pool>/u/`), bounded so an
//! enormous pool answers a partial count (flagged `Truncated`) instead of a slow request.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::auth::events::AuthEvent;
use crate::error::Error;
use crate::pool::epoch_seconds;
use crate::ports::Env;
use crate::store::keys;
use crate::user::UserRecord;

/// One day in milliseconds; days are UTC days.
const DAY_MILLIS: u64 = 86_400_000;
/// The most days one call covers.
pub const MAX_DAYS: u64 = 90;
/// Records read per store page.
const PAGE: usize = 500;
/// The most records one call reads, of each kind.
const MAX_RECORDS: usize = 100_000;

/// The pool's activity over the last `days` UTC days (today included).
pub async fn of_pool(env: &dyn Env, pool_id: &str, days: u64) -> Result<Value, Error> {
    crate::pool::load_pool(env, pool_id).await?;
    let now = env.clock().now_millis();
    let today = now / DAY_MILLIS;
    let first_day = today.saturating_sub(days.clamp(1, MAX_DAYS) - 1);

    let mut per_day: BTreeMap<u64, (u64, u64)> = (first_day..=today).map(|d| (d, (0, 0))).collect();
    let events = keys::pool_auth_events(pool_id);
    let truncated_events = scan(env, &events, |value| {
        let Ok(event) = serde_json::from_slice::<AuthEvent>(value) else {
            return;
        };
        if event.event_type != "SignIn" {
            return;
        }
        if let Some(counts) = per_day.get_mut(&(event.created_millis / DAY_MILLIS)) {
            if event.success {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
    })
    .await?;

    let mut by_status: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut total, mut disabled, mut with_mfa, mut locked) = (0u64, 0u64, 0u64, 0u64);
    let truncated_users = scan(env, &keys::users(pool_id), |value| {
        let Ok(user) = serde_json::from_slice::<UserRecord>(value) else {
            return;
        };
        total += 1;
        *by_status.entry(user.status.as_str()).or_default() += 1;
        if !user.enabled {
            disabled += 1;
        }
        if !user.mfa.enabled.is_empty() {
            with_mfa += 1;
        }
        if crate::auth::lockout::is_locked(&user, now) {
            locked += 1;
        }
    })
    .await?;

    let days: Vec<Value> = per_day
        .iter()
        .map(|(day, (passed, failed))| {
            json!({
                "Start": epoch_seconds(day * DAY_MILLIS),
                "SignIns": passed,
                "Failures": failed,
            })
        })
        .collect();
    Ok(json!({
        "UserPoolId": pool_id,
        "Days": days,
        "Users": {
            "Total": total,
            "ByStatus": by_status,
            "Disabled": disabled,
            "WithMfa": with_mfa,
            "LockedOut": locked,
        },
        "Truncated": truncated_events || truncated_users,
    }))
}

/// Feeds every value under `prefix` to `each`; answers whether it stopped at [`MAX_RECORDS`].
async fn scan(env: &dyn Env, prefix: &str, mut each: impl FnMut(&[u8])) -> Result<bool, Error> {
    let mut after: Option<String> = None;
    let mut read = 0usize;
    loop {
        let page = env.store().scan(prefix, after.as_deref(), PAGE).await?;
        for (_, item) in &page.items {
            each(&item.value);
        }
        read += page.items.len();
        match page.next {
            Some(next) if read < MAX_RECORDS => after = Some(next),
            Some(_) => return Ok(true),
            None => return Ok(false),
        }
    }
}
