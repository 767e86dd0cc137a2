//! The edge's authoritative store: [`DoStore`], the core's [`Store`] port over SQLite-backed
//! Durable Objects ([`StoreShard`]), [`SHARDS`] of them, each key living in the shard its hash
//! picks.
//!
//! Every operation on one key is one request to one Durable Object, which executes it as
//! synchronous SQL between two awaits: a Durable Object runs one event at a time and commits
//! the writes made between awaits atomically, so a conditional write is a real
//! compare-and-set, linearizable per key (the storage contract, `cognate_core::store`).
//!
//! Versions come from a per-shard counter that only grows, so a key's versions are strictly
//! increasing and never reused, even after a delete (no ABA). A prefix scan asks every shard for
//! its first `limit` matching keys after the cursor and merges them ([`merge_pages`]).

use base64ct::{Base64, Encoding as _};
use cognate_core::ports::{BoxFuture, boxed};
use cognate_core::store::{
    Expect, MAX_SCAN_LIMIT, Page, Store, StoreError, Versioned, check_limits,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use worker::send::{SendFuture, SendWrapper};
use worker::{
    DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response, Result,
    SqlStorageValue, State, durable_object,
};

/// How many Durable Objects hold the keys. Fixed forever for a deployment: changing it moves
/// keys to other shards (a migration, not a setting).
pub const SHARDS: u32 = 16;

/// The shard that holds `key`: the first four bytes of its SHA-256, modulo [`SHARDS`].
pub fn shard_of(key: &str) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 4];
    for (dst, src) in first.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    u32::from_be_bytes(first) % SHARDS
}

/// The Durable Object name of shard `n` of the store named `store` (`store` for the service).
pub fn shard_name(store: &str, n: u32) -> String {
    format!("{store}-{n:02}")
}

/// One store operation, as the Worker sends it to a shard.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Get {
        key: String,
    },
    Put {
        key: String,
        /// Standard base64.
        value: String,
        expect: WireExpect,
    },
    Delete {
        key: String,
        expect: WireExpect,
    },
    Scan {
        prefix: String,
        after: Option<String>,
        limit: usize,
    },
}

/// [`Expect`] on the wire.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireExpect {
    Any,
    Absent,
    Version(u64),
}

impl From<Expect> for WireExpect {
    fn from(e: Expect) -> Self {
        match e {
            Expect::Any => Self::Any,
            Expect::Absent => Self::Absent,
            Expect::Version(v) => Self::Version(v),
        }
    }
}

/// A shard's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// `conflict`, `too_large` or an engine error message; absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `get`: the value (standard base64), if the key exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `get` and `put`: the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// `scan`: `(key, base64 value, version)`, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<(String, String, u64)>,
}

/// Merges shard pages (each ascending, each at most `limit` long, `full` when the shard had
/// `limit` or more matches) into one page of at most `limit` items.
///
/// The cursor is the last key returned whenever a key may remain: a shard that filled its page
/// may hold keys past it. No key is skipped: a shard's unreturned keys all sort after its last
/// returned key, and either that key is in the merged page (then the shard's whole page is, so
/// the merged page is exactly that page) or it sorts after the cursor.
pub fn merge_pages(pages: Vec<(Vec<(String, Versioned)>, bool)>, limit: usize) -> Page {
    let mut any_full = false;
    let mut all: Vec<(String, Versioned)> = Vec::new();
    for (items, full) in pages {
        any_full |= full;
        all.extend(items);
    }
    all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let more = all.len() > limit || any_full;
    all.truncate(limit);
    let next = if more {
        all.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    Page { items: all, next }
}

fn unavailable(what: impl core::fmt::Display) -> StoreError {
    StoreError::Unavailable(what.to_string())
}

fn reply_error(error: Option<String>) -> core::result::Result<(), StoreError> {
    match error.as_deref() {
        None => Ok(()),
        Some("conflict") => Err(StoreError::Conflict),
        Some("too_large") => Err(StoreError::TooLarge),
        Some(other) => Err(StoreError::Unavailable(other.to_owned())),
    }
}

/// The client side: the core's [`Store`] over the shards of one Durable Object namespace.
pub struct DoStore {
    namespace: SendWrapper<ObjectNamespace>,
    name: String,
}

impl core::fmt::Debug for DoStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DoStore")
            .field("name", &self.name)
            .field("shards", &SHARDS)
            .finish()
    }
}

impl DoStore {
    /// The service's store: shards `store-00` to `store-15`.
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self::named(namespace, "store")
    }

    /// A separate store in the same namespace, on its own shards `<name>-00`...: the storage
    /// contract suite runs on fresh ones.
    pub fn named(namespace: ObjectNamespace, name: &str) -> Self {
        Self {
            namespace: SendWrapper::new(namespace),
            name: name.to_owned(),
        }
    }

    async fn call(&self, shard: u32, op: &Op) -> core::result::Result<Reply, StoreError> {
        let body = serde_json::to_string(op).map_err(unavailable)?;
        let stub = self
            .namespace
            .0
            .get_by_name(&shard_name(&self.name, shard))
            .map_err(unavailable)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init("https://store.cognate.invalid/op", &init)
            .map_err(unavailable)?;
        let mut response = stub
            .fetch_with_request(request)
            .await
            .map_err(unavailable)?;
        let text = response.text().await.map_err(unavailable)?;
        if response.status_code() != 200 {
            return Err(unavailable(format!(
                "shard {shard} answered {}: {text}",
                response.status_code()
            )));
        }
        serde_json::from_str(&text).map_err(unavailable)
    }

    async fn get_inner(&self, key: &str) -> core::result::Result<Option<Versioned>, StoreError> {
        let reply = self
            .call(
                shard_of(key),
                &Op::Get {
                    key: key.to_owned(),
                },
            )
            .await?;
        reply_error(reply.error)?;
        match (reply.value, reply.version) {
            (Some(value), Some(version)) => Ok(Some(Versioned {
                value: Base64::decode_vec(&value).map_err(unavailable)?,
                version,
            })),
            _ => Ok(None),
        }
    }

    async fn put_inner(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
    ) -> core::result::Result<u64, StoreError> {
        check_limits(key, value)?;
        let op = Op::Put {
            key: key.to_owned(),
            value: Base64::encode_string(value),
            expect: expect.into(),
        };
        let reply = self.call(shard_of(key), &op).await?;
        reply_error(reply.error)?;
        reply
            .version
            .ok_or_else(|| unavailable("put answered no version"))
    }

    async fn delete_inner(
        &self,
        key: &str,
        expect: Expect,
    ) -> core::result::Result<(), StoreError> {
        let op = Op::Delete {
            key: key.to_owned(),
            expect: expect.into(),
        };
        let reply = self.call(shard_of(key), &op).await?;
        reply_error(reply.error)
    }

    async fn scan_inner(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> core::result::Result<Page, StoreError> {
        let limit = limit.clamp(1, MAX_SCAN_LIMIT);
        let op = Op::Scan {
            prefix: prefix.to_owned(),
            after: after.map(str::to_owned),
            limit,
        };
        let calls = (0..SHARDS).map(|shard| self.call(shard, &op));
        let replies = futures_util::future::join_all(calls).await;
        let mut pages = Vec::with_capacity(replies.len());
        for reply in replies {
            let reply = reply?;
            reply_error(reply.error)?;
            let full = reply.items.len() >= limit;
            let mut items = Vec::with_capacity(reply.items.len());
            for (key, value, version) in reply.items {
                let value = Base64::decode_vec(&value).map_err(unavailable)?;
                items.push((key, Versioned { value, version }));
            }
            pages.push((items, full));
        }
        Ok(merge_pages(pages, limit))
    }
}

impl Store for DoStore {
    fn get<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, core::result::Result<Option<Versioned>, StoreError>> {
        boxed(SendFuture::new(self.get_inner(key)))
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, core::result::Result<u64, StoreError>> {
        boxed(SendFuture::new(self.put_inner(key, value, expect)))
    }
    fn delete<'a>(
        &'a self,
        key: &'a str,
        expect: Expect,
    ) -> BoxFuture<'a, core::result::Result<(), StoreError>> {
        boxed(SendFuture::new(self.delete_inner(key, expect)))
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, core::result::Result<Page, StoreError>> {
        boxed(SendFuture::new(self.scan_inner(prefix, after, limit)))
    }
}

// ---------------------------------------------------------------------------------------------
// The Durable Object
// ---------------------------------------------------------------------------------------------

/// One shard: a SQLite-backed Durable Object holding `kv(key, value, version)` and the shard's
/// version counter.
#[durable_object]
pub struct StoreShard {
    state: State,
}

impl core::fmt::Debug for StoreShard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoreShard").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL);
INSERT OR IGNORE INTO counter (id, version) VALUES (0, 0);";

/// One row's columns, as SQL values.
type Row = Vec<SqlStorageValue>;

fn int_at(row: &Row, i: usize) -> Result<u64> {
    match row.get(i) {
        Some(SqlStorageValue::Integer(v)) => u64::try_from(*v).map_err(|_| bad_row()),
        // Integers past 2^53 would arrive as floats; versions never get there.
        _ => Err(bad_row()),
    }
}

fn bytes_at(row: &mut Row, i: usize) -> Result<Vec<u8>> {
    match row.get_mut(i) {
        Some(SqlStorageValue::Blob(v)) => Ok(core::mem::take(v)),
        // An empty BLOB may come back as an empty string.
        Some(SqlStorageValue::String(s)) if s.is_empty() => Ok(Vec::new()),
        _ => Err(bad_row()),
    }
}

fn text_at(row: &mut Row, i: usize) -> Result<String> {
    match row.get_mut(i) {
        Some(SqlStorageValue::String(v)) => Ok(core::mem::take(v)),
        _ => Err(bad_row()),
    }
}

fn bad_row() -> worker::Error {
    worker::Error::RustError("unexpected column type in the store table".into())
}

fn rows(cursor: worker::SqlCursor) -> Result<Vec<Row>> {
    cursor.raw().collect()
}

impl StoreShard {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn current(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>> {
        let found = rows(self.sql().exec(
            "SELECT value, version FROM kv WHERE key = ?",
            vec![key.into()],
        )?)?;
        match found.into_iter().next() {
            Some(mut row) => Ok(Some((bytes_at(&mut row, 0)?, int_at(&row, 1)?))),
            None => Ok(None),
        }
    }

    fn current_version(&self, key: &str) -> Result<Option<u64>> {
        let found = rows(
            self.sql()
                .exec("SELECT version FROM kv WHERE key = ?", vec![key.into()])?,
        )?;
        found.first().map(|row| int_at(row, 0)).transpose()
    }

    fn next_version(&self) -> Result<u64> {
        let found = rows(self.sql().exec(
            "UPDATE counter SET version = version + 1 WHERE id = 0 RETURNING version",
            None,
        )?)?;
        match found.first() {
            Some(row) => int_at(row, 0),
            None => Err(worker::Error::RustError("no version counter".into())),
        }
    }

    fn holds(expect: WireExpect, current: Option<u64>) -> bool {
        match (expect, current) {
            (WireExpect::Any, _) => true,
            (WireExpect::Absent, None) => true,
            (WireExpect::Version(want), Some(have)) => want == have,
            _ => false,
        }
    }

    /// Executes one operation. Synchronous from the first read to the last write: nothing else
    /// runs in this object in between, and the writes commit together.
    fn execute(&self, op: Op) -> Result<Reply> {
        let conflict = || Reply {
            error: Some("conflict".into()),
            ..Reply::default()
        };
        match op {
            Op::Get { key } => Ok(match self.current(&key)? {
                Some((value, version)) => Reply {
                    value: Some(Base64::encode_string(&value)),
                    version: Some(version),
                    ..Reply::default()
                },
                None => Reply::default(),
            }),
            Op::Put { key, value, expect } => {
                let value = Base64::decode_vec(&value)
                    .map_err(|_| worker::Error::RustError("value is not base64".into()))?;
                if check_limits(&key, &value).is_err() {
                    return Ok(Reply {
                        error: Some("too_large".into()),
                        ..Reply::default()
                    });
                }
                if !Self::holds(expect, self.current_version(&key)?) {
                    return Ok(conflict());
                }
                let version = self.next_version()?;
                let version_value =
                    SqlStorageValue::try_from_i64(i64::try_from(version).unwrap_or(i64::MAX))?;
                self.sql().exec(
                    "INSERT INTO kv (key, value, version) VALUES (?, ?, ?) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
                    vec![key.into(), value.into(), version_value],
                )?;
                Ok(Reply {
                    version: Some(version),
                    ..Reply::default()
                })
            }
            Op::Delete { key, expect } => {
                let current = self.current_version(&key)?;
                if !Self::holds(expect, current) {
                    return Ok(conflict());
                }
                if current.is_some() {
                    self.sql()
                        .exec("DELETE FROM kv WHERE key = ?", vec![key.into()])?;
                }
                Ok(Reply::default())
            }
            Op::Scan {
                prefix,
                after,
                limit,
            } => {
                let limit = limit.clamp(1, MAX_SCAN_LIMIT);
                // Keys compare as bytes (SQLite's BINARY collation on UTF-8), so every key
                // with the prefix sorts at or after it, and the first key without it ends the
                // range: read `limit` rows from the start and stop at the first stranger.
                let limit_value = SqlStorageValue::Integer(i64::try_from(limit).unwrap_or(1000));
                let cursor = match after.filter(|a| a.as_str() >= prefix.as_str()) {
                    Some(after) => self.sql().exec(
                        "SELECT key, value, version FROM kv WHERE key > ? ORDER BY key LIMIT ?",
                        vec![after.into(), limit_value],
                    )?,
                    None => self.sql().exec(
                        "SELECT key, value, version FROM kv WHERE key >= ? ORDER BY key LIMIT ?",
                        vec![prefix.as_str().into(), limit_value],
                    )?,
                };
                let mut items = Vec::new();
                for mut row in rows(cursor)? {
                    let key = text_at(&mut row, 0)?;
                    if !key.starts_with(prefix.as_str()) {
                        break;
                    }
                    let value = bytes_at(&mut row, 1)?;
                    items.push((key, Base64::encode_string(&value), int_at(&row, 2)?));
                }
                Ok(Reply {
                    items,
                    ..Reply::default()
                })
            }
        }
    }
}

impl DurableObject for StoreShard {
    fn new(state: State, _env: Env) -> Self {
        let shard = Self { state };
        if let Err(e) = shard.sql().exec(SCHEMA, None) {
            worker::console_error!("store shard: creating the schema failed: {e}");
        }
        shard
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let op: Op = match serde_json::from_str(&body) {
            Ok(op) => op,
            Err(e) => return Response::error(format!("bad store operation: {e}"), 400),
        };
        // From here to the reply nothing awaits: the operation is atomic.
        let reply = match self.execute(op) {
            Ok(reply) => reply,
            Err(e) => Reply {
                error: Some(format!("shard: {e}")),
                ..Reply::default()
            },
        };
        Response::from_json(&reply)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn item(k: &str) -> (String, Versioned) {
        (
            k.to_owned(),
            Versioned {
                value: vec![],
                version: 1,
            },
        )
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("pool/x"), shard_of("pool/x"));
        let used: std::collections::BTreeSet<u32> =
            (0..200).map(|i| shard_of(&format!("k/{i}"))).collect();
        assert_eq!(used.len(), SHARDS as usize);
    }

    #[test]
    fn merge_takes_the_smallest_and_sets_the_cursor() {
        let a = (vec![item("a/1"), item("a/4")], true);
        let b = (vec![item("a/2"), item("a/3")], true);
        let page = merge_pages(vec![a, b], 2);
        let keys: Vec<_> = page.items.iter().map(|i| i.0.as_str()).collect();
        assert_eq!(keys, ["a/1", "a/2"]);
        assert_eq!(page.next.as_deref(), Some("a/2"));
    }

    #[test]
    fn merge_ends_when_no_shard_is_full() {
        let a = (vec![item("a/1")], false);
        let b = (vec![item("a/0")], false);
        let page = merge_pages(vec![a, b], 5);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].0, "a/0");
        assert_eq!(page.next, None);
    }

    #[test]
    fn a_full_shard_keeps_the_scan_going() {
        let a = (vec![item("a/1"), item("a/2")], true);
        let page = merge_pages(vec![a, (vec![], false)], 2);
        assert_eq!(page.next.as_deref(), Some("a/2"));
    }
}
