//! The periodic sweep of expired records (codes, hosted-UI and challenge sessions, refresh
//! tokens): the core's [`cognate_core::janitor`] on a timer, in the background.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::HostEnv;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// Starts the sweep; it runs until the task is aborted.
/// `auth_event_max_age_millis`: sign-in events older than this are removed too.
pub fn spawn(env: Arc<HostEnv>, auth_event_max_age_millis: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
        // The first tick is immediate: sweep once at start, then every interval.
        loop {
            ticks.tick().await;
            // The grace period is the core's (`cognate_core::janitor::GRACE_MILLIS`).
            match cognate_core::janitor::sweep(&*env).await {
                Ok(report) if report.removed > 0 => tracing::info!(
                    examined = report.examined,
                    removed = report.removed,
                    "swept expired records"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweeping expired records failed"),
            }
            match cognate_core::janitor::prune_auth_events(&*env, auth_event_max_age_millis).await {
                Ok(report) if report.removed > 0 => tracing::info!(
                    examined = report.examined,
                    removed = report.removed,
                    "removed old sign-in events"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "removing old sign-in events failed"),
            }
        }
    })
}
