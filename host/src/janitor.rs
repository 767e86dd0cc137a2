//! The periodic sweep of expired records (codes, hosted-UI and challenge sessions, refresh
//! tokens): the core's [`cognate_core::janitor`] on a timer, in the background.

use std::sync::Arc;
use std::time::Duration;

use crate::ports::HostEnv;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// Starts the sweep; it runs until the task is aborted.
pub fn spawn(env: Arc<HostEnv>) -> tokio::task::JoinHandle<()> {
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
        }
    })
}
