//! The audit stream's writer (issue 24): one JSON line per security-relevant event, to a file
//! or stdout. Which requests are events and what their lines say is the core's
//! ([`cognate_core::audit`]); the core also records the sign-in events AdminListUserAuthEvents
//! lists from the same requests (and its janitor prunes those by age,
//! `[audit] auth_event_retention_days`).
//!
//! Lines are written by a thread of their own, in order, each flushed when the queue runs
//! empty; none is dropped.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;

use serde_json::Value;

/// `[audit]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// `stdout`, or a file that lines are appended to (default: no audit stream).
    pub path: Option<String>,
    /// Sign-in events older than this are removed by the janitor (default 90 days).
    pub auth_event_retention_days: Option<u64>,
}

/// Cognito keeps a user's auth event history for 90 days.
pub const DEFAULT_RETENTION_DAYS: u64 = 90;

impl AuditConfig {
    pub fn retention_millis(&self) -> u64 {
        self.auth_event_retention_days
            .unwrap_or(DEFAULT_RETENTION_DAYS)
            .saturating_mul(24 * 60 * 60 * 1000)
    }
}

/// Where audit lines go.
#[derive(Debug)]
pub struct AuditLog {
    lines: mpsc::Sender<Vec<u8>>,
}

impl AuditLog {
    /// Opens the configured destination: `stdout`, or a file (appended, created with mode 0600).
    pub fn open(path: &str) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let out: Box<dyn std::io::Write + Send> = if path == "stdout" || path == "-" {
            Box::new(std::io::stdout())
        } else {
            let path = PathBuf::from(path);
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            Box::new(
                options
                    .open(&path)
                    .with_context(|| format!("cannot open the audit log {}", path.display()))?,
            )
        };
        let (lines, queue) = mpsc::channel::<Vec<u8>>();
        std::thread::Builder::new()
            .name("cognate-audit".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::new(out);
                while let Ok(line) = queue.recv() {
                    let mut write = |line: Vec<u8>| {
                        if let Err(e) = out.write_all(&line) {
                            tracing::error!(error = %e, "cannot write the audit log");
                        }
                    };
                    write(line);
                    while let Ok(line) = queue.try_recv() {
                        write(line);
                    }
                    if let Err(e) = out.flush() {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                }
            })
            .context("cannot start the audit writer")?;
        Ok(Self { lines })
    }

    /// Writes one audit line ([`cognate_core::audit`] decides which requests have one).
    pub fn write(&self, event: &Value) {
        let mut line = serde_json::to_vec(event).unwrap_or_default();
        line.push(b'\n');
        if self.lines.send(line).is_err() {
            tracing::error!("the audit writer stopped");
        }
    }
}
