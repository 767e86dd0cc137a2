//! Where a target's outgoing messages (confirmation codes, ...) are read: the host's JSON-lines
//! file, the edge's test route, or none; and the [`Target`] methods that wait for a code.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Target;

/// How long to wait for a message to appear in the outbox.
const OUTBOX_TIMEOUT: Duration = Duration::from_secs(10);

impl Target {
    /// Every message delivered for `pool_id` to `who` (a username or a destination address,
    /// compared case-insensitively), oldest first. Does not wait.
    pub async fn messages(&self, pool_id: &str, who: &str) -> Vec<OutboxMessage> {
        let all = match self.outbox.messages(pool_id).await {
            Ok(all) => all,
            Err(e) => panic!("cannot read the outbox: {e}"),
        };
        all.into_iter()
            .filter(|m| m.pool_id == pool_id && m.is_for(who))
            .collect()
    }

    /// The code in the newest message for `who` in `pool_id`, waiting (bounded) for one.
    pub async fn latest_code(&self, pool_id: &str, who: &str) -> String {
        self.code_after(pool_id, who, 0).await
    }

    /// The code in the newest message for `who`, waiting (bounded) until more than `seen`
    /// messages with a code exist: after a resend, pass the count from before it.
    pub async fn code_after(&self, pool_id: &str, who: &str, seen: usize) -> String {
        let deadline = Instant::now() + OUTBOX_TIMEOUT;
        loop {
            let codes = self.codes(pool_id, who).await;
            if codes.len() > seen
                && let Some(code) = codes.last()
            {
                return code.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "no new code for {who:?} in pool {pool_id} after {OUTBOX_TIMEOUT:?} \
                     ({} code(s) seen, wanted more than {seen})",
                    codes.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The codes delivered to `who` in `pool_id`, oldest first. Does not wait.
    pub async fn codes(&self, pool_id: &str, who: &str) -> Vec<String> {
        self.messages(pool_id, who)
            .await
            .into_iter()
            .filter_map(|m| m.code)
            .collect()
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a target's outgoing messages (confirmation codes, ...) can be read. The host writes
/// them to `<data dir>/outbox.jsonl` ([`JsonLinesOutbox`]); another target supplies its own.
pub trait Outbox: Send + Sync + fmt::Debug {
    /// Every message sent so far for `pool_id` (others may be included), oldest first.
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>>;
}

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub pool_id: String,
    pub username: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    pub destination: String,
    /// What it is for, e.g. `SignUp`, `ResendCode`.
    pub purpose: String,
    pub subject: String,
    pub body: String,
    /// The code it carries, if any.
    pub code: Option<String>,
}

impl OutboxMessage {
    /// Parses one outbox line: `{pool_id, username, medium, destination, purpose, subject,
    /// body, code}`.
    pub fn from_json(value: &Value) -> Result<OutboxMessage, String> {
        let text = |field: &str| -> String {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let pool_id = text("pool_id");
        if pool_id.is_empty() {
            return Err(format!("outbox line without pool_id: {value}"));
        }
        let code = Some(text("code")).filter(|c| !c.is_empty());
        Ok(OutboxMessage {
            pool_id,
            username: text("username"),
            medium: text("medium"),
            destination: text("destination"),
            purpose: text("purpose"),
            subject: text("subject"),
            body: text("body"),
            code,
        })
    }

    /// Whether this message is addressed to `who`: its username or its destination.
    pub fn is_for(&self, who: &str) -> bool {
        self.username.eq_ignore_ascii_case(who) || self.destination.eq_ignore_ascii_case(who)
    }
}

/// An outbox in a JSON-lines file (the host's `<data dir>/outbox.jsonl`).
#[derive(Debug, Clone)]
pub struct JsonLinesOutbox {
    path: PathBuf,
}

impl JsonLinesOutbox {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Outbox for JsonLinesOutbox {
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async move {
            let text = match tokio::fs::read_to_string(&self.path).await {
                Ok(text) => text,
                // Nothing sent yet.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(format!("{}: {e}", self.path.display())),
            };
            let mut messages = Vec::new();
            // Only complete lines: the writer may be half-way through the last one.
            let complete = match text.rfind('\n') {
                Some(end) => &text[..end],
                None => "",
            };
            for line in complete.lines().filter(|l| !l.trim().is_empty()) {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{}: bad line ({e}): {line}", self.path.display()))?;
                let message = OutboxMessage::from_json(&value)?;
                if message.pool_id == pool_id {
                    messages.push(message);
                }
            }
            Ok(messages)
        })
    }
}

// -- edge: an outbox served over HTTP ----------------------------------------------------------

/// An outbox served as JSON lines over HTTP (the edge Worker's test-only route
/// `GET /__cognate/test/outbox?pool=<poolId>`), authenticated with `x-cognate-test-key`.
#[derive(Clone)]
pub struct HttpOutbox {
    url: String,
    test_key: Option<String>,
}

impl fmt::Debug for HttpOutbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOutbox")
            .field("url", &self.url)
            .field("test_key", &self.test_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HttpOutbox {
    pub fn new(url: &str, test_key: Option<String>) -> Self {
        Self {
            url: url.to_owned(),
            test_key,
        }
    }
}

impl Outbox for HttpOutbox {
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| e.to_string())?;
            let mut request = client.get(&self.url).query(&[("pool", pool_id)]);
            if let Some(key) = &self.test_key {
                request = request.header("x-cognate-test-key", key);
            }
            let response = request
                .send()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("GET {}: HTTP {status}: {text}", self.url));
            }
            let mut messages = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{}: bad line ({e}): {line}", self.url))?;
                let message = OutboxMessage::from_json(&value)?;
                if message.pool_id == pool_id {
                    messages.push(message);
                }
            }
            Ok(messages)
        })
    }
}

/// A target whose messages cannot be read: scenarios that need a code fail saying so.
#[derive(Debug, Clone, Copy)]
pub struct NoOutbox;

impl Outbox for NoOutbox {
    fn messages<'a>(
        &'a self,
        _pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async {
            Err(
                "this target has no readable outbox: set COGNATE_OUTBOX_FILE or \
                 COGNATE_OUTBOX_URL, or build the target with Target::remote and an Outbox for it"
                    .to_owned(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_jsonl_outbox_reads_complete_lines_of_one_pool() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("outbox.jsonl");
        let line = |pool: &str, user: &str, code: &str| {
            json!({"pool_id": pool, "username": user, "medium": "EMAIL",
                   "destination": format!("{user}@example.com"), "purpose": "SignUp",
                   "subject": "Your code", "body": format!("Your code is {code}"), "code": code})
            .to_string()
        };
        let text = format!(
            "{}\n{}\n{}\n{{\"pool_id\": \"p1\", \"usern",
            line("p1", "ann", "111111"),
            line("p2", "ann", "222222"),
            line("p1", "Ann", "333333"),
        );
        std::fs::write(&path, text).expect("write");
        let outbox = JsonLinesOutbox::new(path.clone());
        let messages = outbox.messages("p1").await.expect("messages");
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[1].code.as_deref(), Some("333333"));
        assert!(messages[1].is_for("ann"));
        assert!(messages[1].is_for("ANN@example.com"));
        assert!(!messages[1].is_for("bob"));

        let missing = JsonLinesOutbox::new(dir.path().join("none.jsonl"));
        assert!(missing.messages("p1").await.expect("no file").is_empty());
        std::fs::write(&path, "not json\n").expect("write");
        assert!(outbox.messages("p1").await.is_err());
    }
}
