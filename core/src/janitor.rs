//! Removes short-lived records once they have expired: authorization codes (`oc/`), hosted-UI
//! sessions (`hs/`), challenge sessions (`as/`) and refresh tokens (`rt/`). Each of them is
//! already refused once expired; this only keeps the store from growing forever.
//!
//! A record is removed `grace` after its `expires_millis`, so a late replay still meets its
//! record (a reused authorization code revokes what it issued). Deletes are conditional on the
//! version that was read: a record rewritten meanwhile is left for the next sweep. The host runs
//! [`sweep_all`] periodically; it is safe to run from several processes at once.

use alloc::format;
use alloc::string::String;

use serde::Deserialize;

use crate::error::Error;
use crate::ports::Env;
use crate::store::{Expect, StoreError};

/// The per-pool key prefixes of records with an `expires_millis` (`dr/`: the delivery rate
/// counters of `crate::delivery::check_rate`; `nd/`: device offers, `crate::device`; `sa/`:
/// accepted SAML assertion ids, `crate::saml::remember`; `wr/`: passkey registrations in
/// progress, `crate::auth::webauthn`; `slo/`: SAML single logouts in progress,
/// `crate::oidc::federation::saml_logout`).
const EXPIRING: [&str; 10] = ["oc", "hs", "as", "rt", "dr", "nd", "fs", "sa", "wr", "slo"];

/// Keys read per store page.
const PAGE: usize = 200;

/// How long after its `expires_millis` a record is removed (one hour), on every runtime: long
/// enough that a late replay of an authorization code still meets its record and revokes what
/// it issued. The host's timer and the edge's Cron Trigger both sweep with it.
pub const GRACE_MILLIS: u64 = 60 * 60 * 1000;

/// Sweeps every pool with the one grace period, [`GRACE_MILLIS`]: what the adapters' timers run.
pub async fn sweep(env: &dyn Env) -> Result<SweepReport, Error> {
    sweep_all(env, GRACE_MILLIS).await
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub examined: usize,
    pub removed: usize,
}

impl core::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: Self) {
        self.examined += other.examined;
        self.removed += other.removed;
    }
}

#[derive(Deserialize)]
struct Expiring {
    expires_millis: u64,
}

/// Sweeps every pool.
pub async fn sweep_all(env: &dyn Env, grace_millis: u64) -> Result<SweepReport, Error> {
    let mut report = SweepReport::default();
    let mut after: Option<String> = None;
    loop {
        let page = env.store().scan("pool/", after.as_deref(), PAGE).await?;
        for (key, _) in &page.items {
            if let Some(pool_id) = key.strip_prefix("pool/") {
                report += sweep_pool(env, pool_id, grace_millis).await?;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(report),
        }
    }
}

/// Sweeps one pool's expiring records.
pub async fn sweep_pool(
    env: &dyn Env,
    pool_id: &str,
    grace_millis: u64,
) -> Result<SweepReport, Error> {
    let now = env.clock().now_millis();
    let mut report = SweepReport::default();
    for kind in EXPIRING {
        let prefix = format!("p/{pool_id}/{kind}/");
        remove_due(env, &prefix, &mut report, |value| {
            serde_json::from_slice::<Expiring>(value)
                .ok()
                .map(|r| r.expires_millis.saturating_add(grace_millis) <= now)
        })
        .await?;
    }
    Ok(report)
}

/// Deletes each record under `prefix` that `due` says is due (conditionally: a record rewritten
/// meanwhile stays), counting into `report`. A record `due` cannot judge (`None`: it does not
/// parse) is not ours to judge: it stays.
async fn remove_due(
    env: &dyn Env,
    prefix: &str,
    report: &mut SweepReport,
    due: impl Fn(&[u8]) -> Option<bool>,
) -> Result<(), Error> {
    let mut after: Option<String> = None;
    loop {
        let page = env.store().scan(prefix, after.as_deref(), PAGE).await?;
        for (key, item) in &page.items {
            report.examined += 1;
            if due(&item.value) != Some(true) {
                continue;
            }
            match env.store().delete(key, Expect::Version(item.version)).await {
                Ok(()) => report.removed += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

#[derive(Deserialize)]
struct Created {
    created_millis: u64,
}

/// Removes the sign-in events (`p/<pool>/ev/`, what AdminListUserAuthEvents lists) of every pool
/// that are older than `max_age_millis`. Conditional deletes, like [`sweep_all`]; an event that
/// does not parse is left.
pub async fn prune_auth_events(env: &dyn Env, max_age_millis: u64) -> Result<SweepReport, Error> {
    let now = env.clock().now_millis();
    let mut report = SweepReport::default();
    let mut after_pool: Option<String> = None;
    loop {
        let pools = env
            .store()
            .scan("pool/", after_pool.as_deref(), PAGE)
            .await?;
        for (key, _) in &pools.items {
            let Some(pool_id) = key.strip_prefix("pool/") else {
                continue;
            };
            let prefix = crate::store::keys::pool_auth_events(pool_id);
            remove_due(env, &prefix, &mut report, |value| {
                serde_json::from_slice::<Created>(value)
                    .ok()
                    .map(|e| e.created_millis.saturating_add(max_age_millis) <= now)
            })
            .await?;
        }
        match pools.next {
            Some(next) => after_pool = Some(next),
            None => return Ok(report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock as _;
    use crate::store::Store as _;
    use crate::testing::TestEnv;
    use alloc::string::ToString;
    use futures_util::FutureExt;
    use serde_json::json;

    /// The memory store completes at once.
    fn run<T>(future: impl core::future::Future<Output = T>) -> T {
        future.now_or_never().expect("completes at once")
    }

    fn put(env: &TestEnv, key: &str, value: serde_json::Value) -> u64 {
        run(env
            .store
            .put(key, value.to_string().as_bytes(), Expect::Any))
        .unwrap()
    }

    fn exists(env: &TestEnv, key: &str) -> bool {
        run(env.store.get(key)).unwrap().is_some()
    }

    #[test]
    fn prunes_auth_events_by_age_only() {
        let env = TestEnv::new();
        let now = env.clock.now_millis();
        put(&env, "pool/p1", json!({}));
        let day = 86_400_000;
        put(
            &env,
            "p/p1/ev/alice/old",
            json!({ "created_millis": now - 91 * day }),
        );
        put(
            &env,
            "p/p1/ev/alice/new",
            json!({ "created_millis": now - day }),
        );
        put(&env, "p/p1/ev/bob/odd", json!({ "no_time": true }));
        put(&env, "p/p1/u/alice", json!({ "created_millis": 0 }));
        let report = run(prune_auth_events(&env, 90 * day)).unwrap();
        assert_eq!(report.removed, 1);
        assert_eq!(report.examined, 3);
        assert!(!exists(&env, "p/p1/ev/alice/old"));
        for key in ["p/p1/ev/alice/new", "p/p1/ev/bob/odd", "p/p1/u/alice"] {
            assert!(exists(&env, key), "{key} should stay");
        }
    }

    #[test]
    fn removes_only_records_past_expiry_and_grace() {
        let env = TestEnv::new();
        let now = env.clock.now_millis();
        put(&env, "pool/p1", json!({}));
        put(&env, "pool/p2", json!({}));
        let grace = 60_000;
        // Long gone, in every kind and in two pools.
        for key in [
            "p/p1/oc/a",
            "p/p1/hs/a",
            "p/p1/as/a",
            "p/p1/rt/a",
            "p/p2/oc/a",
        ] {
            put(
                &env,
                key,
                json!({ "expires_millis": now - grace - 1, "other": 1 }),
            );
        }
        // Expired but within the grace period, and alive.
        put(
            &env,
            "p/p1/oc/recent",
            json!({ "expires_millis": now - 10 }),
        );
        put(
            &env,
            "p/p1/rt/alive",
            json!({ "expires_millis": now + 3_600_000 }),
        );
        // Not an expiring kind, and an unreadable record.
        put(&env, "p/p1/u/alice", json!({ "expires_millis": 0 }));
        put(&env, "p/p1/hs/odd", json!({ "no_expiry": true }));

        let report = run(sweep_all(&env, grace)).unwrap();
        assert_eq!(report.removed, 5);
        assert_eq!(report.examined, 8);
        for key in [
            "p/p1/oc/a",
            "p/p1/hs/a",
            "p/p1/as/a",
            "p/p1/rt/a",
            "p/p2/oc/a",
        ] {
            assert!(!exists(&env, key), "{key} should be gone");
        }
        for key in [
            "p/p1/oc/recent",
            "p/p1/rt/alive",
            "p/p1/u/alice",
            "p/p1/hs/odd",
        ] {
            assert!(exists(&env, key), "{key} should stay");
        }

        // Later, the grace period has passed for the recent one too.
        env.clock.advance(grace + 1);
        let report = run(sweep_pool(&env, "p1", grace)).unwrap();
        assert_eq!(report.removed, 1);
        assert!(!exists(&env, "p/p1/oc/recent"));
    }

    #[test]
    fn a_record_rewritten_during_the_sweep_is_left_alone() {
        let env = TestEnv::new();
        let now = env.clock.now_millis();
        let version = put(&env, "p/p1/rt/x", json!({ "expires_millis": now - 1 }));
        // The conditional delete of a stale version conflicts and is skipped.
        put(&env, "p/p1/rt/x", json!({ "expires_millis": now + 1_000 }));
        let stale = run(env.store.delete("p/p1/rt/x", Expect::Version(version)));
        assert!(matches!(stale, Err(StoreError::Conflict)));
        let report = run(sweep_pool(&env, "p1", 0)).unwrap();
        assert_eq!(report.removed, 0);
        assert!(exists(&env, "p/p1/rt/x"));
    }
}
