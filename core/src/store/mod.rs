//! The storage port: a versioned key-value store with single-key conditional writes.
//!
//! Every invariant Cognate keeps (unique usernames and aliases, single-use codes, refresh-token
//! rotation) is built on the conditional writes below, so any engine that implements this
//! contract keeps them: the in-memory engine (tests), SQLite and PostgreSQL on the host, and
//! Durable Objects on the edge.
//!
//! # The contract
//! - Keys are UTF-8 strings without NUL characters (PostgreSQL text cannot hold them) of at most
//!   [`MAX_KEY_LEN`] bytes; values are opaque bytes of at most
//!   [`MAX_VALUE_LEN`] bytes. Larger inputs fail with [`StoreError::TooLarge`] and write nothing.
//! - Every successful write gives the key a new **version**: a non-zero `u64`, strictly greater
//!   than any version that key had before, and never reused for that key, not even after the
//!   key is deleted and created again (so a compare-and-set cannot succeed against a stale read
//!   of an earlier incarnation; no ABA).
//! - Each operation is atomic and linearizable on its key: once a write returns `Ok`, every later
//!   `get` sees it (read-your-writes across all callers, not eventual consistency).
//! - `put` with [`Expect::Absent`] (create-only) succeeds only when the key does not exist;
//!   with [`Expect::Version`] (compare-and-set) only when the key exists at exactly that
//!   version; [`Expect::Any`] always writes. When the expectation fails the store is unchanged
//!   and the result is [`StoreError::Conflict`]. Of any number of racing create-only puts of one
//!   key, exactly one succeeds.
//! - `delete` follows the same expectations; deleting a missing key with [`Expect::Any`] is `Ok`
//!   (idempotent); with [`Expect::Version`] it is a `Conflict`.
//! - `scan` returns keys starting with `prefix`, in ascending byte order of the key, at most
//!   `limit` (clamped to 1..=[`MAX_SCAN_LIMIT`]) per page, starting strictly after the cursor
//!   `after` when given. [`Page::next`] is `Some(cursor)` when more keys may follow: pass it as
//!   `after` to continue. A scan is not a snapshot: keys written during paging may or may not
//!   appear, but no key that exists throughout is skipped or returned twice.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::future::{BoxFuture, MaybeSend, MaybeSync};

#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod keys;
#[cfg(feature = "std")]
mod memory;
#[cfg(feature = "std")]
pub use memory::MemoryStore;

/// The longest key, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// The largest value, in bytes (400 KiB, as DynamoDB items, so every engine can hold it).
pub const MAX_VALUE_LEN: usize = 400 * 1024;
/// The most items one scan page returns.
pub const MAX_SCAN_LIMIT: usize = 1000;

/// A value and the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Versioned {
    #[serde(with = "crate::codec::bytes")]
    pub value: Vec<u8>,
    pub version: u64,
}

/// The condition a write or delete requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Expect {
    /// No condition.
    Any,
    /// The key must not exist (create-only).
    Absent,
    /// The key must exist at exactly this version (compare-and-set).
    Version(u64),
}

/// One page of a prefix scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    pub items: Vec<(String, Versioned)>,
    /// Where to continue, or `None` when the scan is complete.
    pub next: Option<String>,
}

impl Page {
    /// A page of `items` in key order; when `more` remain, the scan continues after the last.
    pub fn new(items: Vec<(String, Versioned)>, more: bool) -> Self {
        let next = if more {
            items.last().map(|(key, _)| key.clone())
        } else {
            None
        };
        Self { items, next }
    }
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoreError {
    /// The write's expectation did not hold; nothing was written.
    Conflict,
    /// The key or value exceeds the limits; nothing was written.
    TooLarge,
    /// The engine failed (I/O, connection, corruption). The write may or may not have happened.
    Unavailable(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Conflict => f.write_str("conditional write failed"),
            Self::TooLarge => f.write_str("key or value too large"),
            Self::Unavailable(why) => write!(f, "store unavailable: {why}"),
        }
    }
}

/// The storage port. See the module documentation for the contract every engine keeps.
pub trait Store: MaybeSend + MaybeSync {
    /// The value and version of `key`, or `None` when it does not exist.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>>;
    /// Writes `value` under `key` if `expect` holds; returns the new version.
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Deletes `key` if `expect` holds.
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Lists keys starting with `prefix` in ascending byte order, after the cursor `after`.
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>>;
    /// The value and version of each of `keys`, in order (`None` for a key that does not exist),
    /// as [`get`](Store::get) would answer for each: for a request that needs several records
    /// (GetUser: the pool's signing keys, the pool, the user), in one round trip where the engine
    /// can (SQLite: one blocking task and one connection; the Wasm guest: one host call). Not a
    /// snapshot across keys, only each key atomic; the default runs the `get`s concurrently.
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        crate::future::boxed(async move {
            futures_util::future::join_all(keys.iter().map(|key| self.get(key)))
                .await
                .into_iter()
                .collect()
        })
    }
}

/// The smallest byte string greater than every key starting with `prefix` (the exclusive upper
/// bound of a prefix scan over a sorted key range), or `None` when no such bound exists (an empty
/// prefix, or one of 0xFF bytes only). UTF-8 never contains `0xFF`, so for string keys this is the
/// prefix with its last byte incremented; the result need not be valid UTF-8, which is fine for
/// engines that compare keys as bytes (SQLite BLOBs, PostgreSQL BYTEA).
pub fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if let Some(next) = last.checked_add(1) {
            bound.push(next);
            return Some(bound);
        }
    }
    None
}

/// Checks the size limits every engine enforces.
pub fn check_limits(key: &str, value: &[u8]) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
        return Err(StoreError::TooLarge);
    }
    Ok(())
}

impl<T: Store + ?Sized> Store for alloc::sync::Arc<T>
where
    alloc::sync::Arc<T>: MaybeSend + MaybeSync,
{
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        (**self).get(key)
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        (**self).put(key, value, expect)
    }
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).delete(key, expect)
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        (**self).scan(prefix, after, limit)
    }
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        (**self).get_many(keys)
    }
}
