//! The SQLite engine: the host's embedded default store.
//!
//! One database file in WAL mode. Writes go through one writer connection behind a mutex, each in
//! a `BEGIN IMMEDIATE` transaction that checks the expectation, bumps the global version counter
//! in `meta` and writes the row, so a version is never issued twice (not even for a deleted and
//! re-created key) and the counter survives restarts. Reads use a small pool of read-only
//! connections, which WAL lets run alongside the writer. Every operation runs on tokio's blocking
//! pool so the async runtime never waits on the disk.
//!
//! A server that holds its data directory's lock ([`SqliteStore::open_owned`]) also answers point
//! reads from memory ([`crate::read_cache`]); a store opened without it (tools, tests, a second
//! handle) reads the file every time.
//!
//! Keys are stored as BLOBs: SQLite compares BLOBs with `memcmp`, which is exactly the byte order
//! the contract requires, independent of the database's text encoding or any collation. Prefix
//! scans are index ranges (`key >= prefix AND key < upper_bound`), never `LIKE`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cognate_core::ports::{BoxFuture, boxed};
use cognate_core::store::{MAX_KEY_LEN, MAX_SCAN_LIMIT, check_limits};
use cognate_core::{Expect, Page, Store, StoreError, Versioned};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::data_dir_lock::DataDirLock;
use crate::read_cache::ReadCache;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle read connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 8;
/// The read cache's budget for keys and values. A user is about a kilobyte, so this holds the
/// working set of tens of thousands of active users, and nothing when idle.
const READ_CACHE_BYTES: usize = 32 * 1024 * 1024;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS kv (
        key BLOB PRIMARY KEY,
        value BLOB NOT NULL,
        version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', 1);
    INSERT OR IGNORE INTO meta (name, value) VALUES ('last_version', 0);
";

/// A [`Store`] in one SQLite database file. Cheap to clone (the connections are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Point reads kept in memory: only with the data directory's lock, which makes this
    /// process the file's only writer.
    cache: Option<Arc<ReadCache>>,
    /// Held for the store's life (see `cache`).
    _owner: Option<DataDirLock>,
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

/// Locks a mutex, recovering from poisoning: a panic while holding a connection leaves no
/// half-done work behind, because an unfinished transaction rolls back when it is dropped.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and its schema. Blocking: call it at
    /// start-up or from a blocking context.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, true, None)
    }

    /// Opens the database as [`open`](Self::open) does, for a process that holds the data
    /// directory's lock (`owner`): no other process writes the file, so point reads are cached
    /// in memory. Every write must then go through this store (one handle per file).
    pub fn open_owned(path: impl AsRef<Path>, owner: DataDirLock) -> Result<Self, StoreError> {
        Self::open_with(path, true, Some(owner))
    }

    /// Opens the database without an fsync per commit: for bulk loads (imports, benchmark
    /// fixtures) only, since a power loss may undo the latest acknowledged writes.
    pub fn open_for_bulk_load(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, false, None)
    }

    fn open_with(
        path: impl AsRef<Path>,
        durable: bool,
        owner: Option<DataDirLock>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let writer = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unavailable)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(unavailable)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "sqlite: could not enable WAL mode on {} (got {mode})",
                path.display()
            )));
        }
        // FULL: every acknowledged write survives a power loss (NORMAL could undo the last
        // commits, losing a confirmed sign-up or re-issuing a version number). It costs one WAL
        // fsync per commit, small next to a password hash.
        writer
            .pragma_update(None, "synchronous", if durable { "FULL" } else { "OFF" })
            .map_err(unavailable)?;
        writer.execute_batch(SCHEMA).map_err(unavailable)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                cache: owner
                    .is_some()
                    .then(|| Arc::new(ReadCache::new(READ_CACHE_BYTES))),
                _owner: owner,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether point reads are answered from memory (the store owns its file).
    pub fn caches_reads(&self) -> bool {
        self.inner.cache.is_some()
    }

    /// The read cache, when the store owns its file (for the metrics).
    pub fn read_cache(&self) -> Option<Arc<ReadCache>> {
        self.inner.cache.clone()
    }

    /// The last version issued (the global counter). For tests and diagnostics.
    pub async fn last_version(&self) -> Result<u64, StoreError> {
        self.blocking(|inner| {
            inner.read(|conn| {
                conn.query_row(
                    "SELECT value FROM meta WHERE name = 'last_version'",
                    [],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(unavailable)
                .and_then(to_version)
            })
        })
        .await
    }

    /// Runs `op` on tokio's blocking pool; inline when called outside a tokio runtime (a plain
    /// executor), where there is no async thread to protect and spawning would panic.
    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || op(&inner))
                .await
                .map_err(|e| StoreError::Unavailable(format!("sqlite task failed: {e}")))?,
            Err(_) => op(&inner),
        }
    }
}

impl Inner {
    /// Runs `f` on a pooled read-only connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = f(&conn);
        // A connection that failed may be broken: close it rather than pool it.
        if result.is_ok() {
            let mut readers = lock(&self.readers);
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
        }
        result
    }

    /// Every key in one read transaction on one pooled connection: one consistent snapshot.
    fn read_snapshot(&self, keys: &[String]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached("BEGIN DEFERRED")
                .and_then(|mut begin| begin.execute([]))
                .map_err(unavailable)?;
            let items = keys
                .iter()
                .map(|key| get_one(conn, key.as_bytes()))
                .collect();
            // A read-only transaction: ending it commits nothing, whether the reads succeeded
            // or not. If even that fails, the error closes the connection (`read` does not
            // pool a connection that failed).
            conn.prepare_cached("COMMIT")
                .and_then(|mut commit| commit.execute([]))
                .map_err(unavailable)?;
            items
        })
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unavailable)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
        Ok(conn)
    }

    /// Runs `f`, which writes `key`, in a `BEGIN IMMEDIATE` transaction on the writer; commits
    /// when `f` returns `Ok(Ok(_))`, rolls back otherwise (a failed expectation writes nothing).
    /// The read cache forgets `key` before the transaction and does not take it back until the
    /// commit or rollback is over.
    fn write<T>(
        &self,
        key: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let _covered = self.cache.as_ref().map(|cache| cache.writing(key));
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        match f(&tx).map_err(unavailable)? {
            Ok(value) => {
                tx.commit().map_err(unavailable)?;
                Ok(value)
            }
            // Dropping the transaction rolls it back.
            Err(e) => Err(e),
        }
    }
}

fn to_version(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored)
        .map_err(|_| StoreError::Unavailable(format!("sqlite: corrupt version {stored}")))
}

fn holds(current: Option<i64>, expect: Expect) -> bool {
    match (expect, current) {
        (Expect::Any, _) | (Expect::Absent, None) => true,
        (Expect::Version(want), Some(have)) => u64::try_from(have).is_ok_and(|have| have == want),
        _ => false,
    }
}

fn current_version(tx: &rusqlite::Transaction<'_>, key: &[u8]) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached("SELECT version FROM kv WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()
}

/// The scan query for a lower bound (inclusive or not) and an optional upper bound. Both
/// bounds are on the primary key, so SQLite answers it with one index range search.
fn scan_sql(inclusive: bool, bounded: bool) -> &'static str {
    match (inclusive, bounded) {
        (true, true) => {
            "SELECT key, value, version FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3"
        }
        (false, true) => {
            "SELECT key, value, version FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3"
        }
        (true, false) => {
            "SELECT key, value, version FROM kv WHERE key >= ?1 AND ?2 IS NULL ORDER BY key LIMIT ?3"
        }
        (false, false) => {
            "SELECT key, value, version FROM kv WHERE key > ?1 AND ?2 IS NULL ORDER BY key LIMIT ?3"
        }
    }
}

fn scan_page(
    conn: &Connection,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Page, StoreError> {
    let limit = limit.clamp(1, MAX_SCAN_LIMIT);
    // Start strictly after the cursor when it lies inside or past the prefix range, else at it.
    let (lower, inclusive) = match after {
        Some(cursor) if cursor >= prefix => (cursor, false),
        _ => (prefix, true),
    };
    let upper = cognate_core::store::prefix_upper_bound(prefix.as_bytes());
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let rows: Vec<(Vec<u8>, Vec<u8>, i64)> = conn
        .prepare_cached(scan_sql(inclusive, upper.is_some()))
        .and_then(|mut stmt| {
            stmt.query_map(params![lower.as_bytes(), upper, fetch], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect()
        })
        .map_err(unavailable)?;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    for (key, value, version) in rows.into_iter().take(limit) {
        let key = String::from_utf8(key)
            .map_err(|_| StoreError::Unavailable("sqlite: stored key is not UTF-8".to_owned()))?;
        items.push((
            key,
            Versioned {
                value,
                version: to_version(version)?,
            },
        ));
    }
    Ok(Page::new(items, more))
}

/// One point read on a read connection.
fn get_one(conn: &Connection, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
    if key.len() > MAX_KEY_LEN {
        // Such a key can never have been written.
        return Ok(None);
    }
    let row: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT value, version FROM kv WHERE key = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(unavailable)?;
    row.map(|(value, version)| {
        Ok(Versioned {
            value,
            version: to_version(version)?,
        })
    })
    .transpose()
}

impl Store for SqliteStore {
    /// Point reads run on the calling (async) thread: a primary-key lookup on a pooled
    /// read-only connection in WAL mode takes microseconds and does not wait for the writer,
    /// while a hop to the blocking pool and back cost more than the read itself (two thread
    /// wake-ups; measured on GetUser, issue 23). Writes (an fsync each) and scans (unbounded
    /// work) still run on the blocking pool.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(async move {
            if key.len() > MAX_KEY_LEN {
                return Ok(None);
            }
            let read = || self.inner.read(|conn| get_one(conn, key.as_bytes()));
            match &self.inner.cache {
                None => read(),
                Some(cache) => cache
                    .read_through(&[key], || read().map(|item| vec![item]))
                    .map(|mut items| items.pop().flatten()),
            }
        })
    }

    /// Every key in one read transaction on one connection, on the calling thread like
    /// [`Store::get`]: one consistent snapshot, and one take and release of WAL's read lock
    /// (an `fcntl` pair on the shared-memory file) instead of one per key, which was a fifth
    /// of GetUser's store time (issue 23).
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        boxed(async move {
            match keys {
                [] => Ok(Vec::new()),
                [key] => self.get(key).await.map(|item| vec![item]),
                _ => match &self.inner.cache {
                    None => self.inner.read_snapshot(keys),
                    Some(cache) => cache.read_through(keys, || self.inner.read_snapshot(keys)),
                },
            }
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(async move {
            check_limits(key, value)?;
            let key = key.to_owned();
            let value = value.to_vec();
            self.blocking(move |inner| {
                inner.write(&key, |tx| {
                    let key = key.as_bytes();
                    if !holds(current_version(tx, key)?, expect) {
                        return Ok(Err(StoreError::Conflict));
                    }
                    // The global counter, bumped in the same transaction as the write: versions
                    // are never reused, across keys, deletes and restarts.
                    tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE name = 'last_version'")?
                        .execute([])?;
                    let version: i64 = tx
                        .prepare_cached("SELECT value FROM meta WHERE name = 'last_version'")?
                        .query_row([], |row| row.get(0))?;
                    tx.prepare_cached(
                        "INSERT INTO kv (key, value, version) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
                    )?
                    .execute(params![key, value, version])?;
                    Ok(to_version(version))
                })
            })
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(async move {
            if key.len() > MAX_KEY_LEN {
                // Such a key cannot exist: treat it as missing.
                return match expect {
                    Expect::Version(_) => Err(StoreError::Conflict),
                    Expect::Any | Expect::Absent => Ok(()),
                };
            }
            let key = key.to_owned();
            self.blocking(move |inner| {
                inner.write(&key, |tx| {
                    let key = key.as_bytes();
                    let current = current_version(tx, key)?;
                    if !holds(current, expect) {
                        return Ok(Err(StoreError::Conflict));
                    }
                    if current.is_some() {
                        tx.prepare_cached("DELETE FROM kv WHERE key = ?1")?
                            .execute([key])?;
                    }
                    Ok(Ok(()))
                })
            })
            .await
        })
    }

    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        boxed(async move {
            let prefix = prefix.to_owned();
            let after = after.map(str::to_owned);
            self.blocking(move |inner| {
                inner.read(|conn| scan_page(conn, &prefix, after.as_deref(), limit))
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    #[test]
    fn upper_bound_increments_the_last_byte() {
        assert_eq!(
            cognate_core::store::prefix_upper_bound(b"a/"),
            Some(b"a0".to_vec())
        );
        assert_eq!(cognate_core::store::prefix_upper_bound(b""), None);
        assert_eq!(
            cognate_core::store::prefix_upper_bound(&[0x61, 0xFF]),
            Some(vec![0x62])
        );
        assert_eq!(cognate_core::store::prefix_upper_bound(&[0xFF, 0xFF]), None);
        // "é" = C3 A9: the bound is C3 AA ("ê"), so "ê..." is excluded.
        assert_eq!(
            cognate_core::store::prefix_upper_bound("é".as_bytes()),
            Some(vec![0xC3, 0xAA])
        );
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks: without memory statistics and
    /// memory management, whose process-wide mutexes the runtime's threads waited on (issue 23).
    #[test]
    fn sqlite_is_built_without_its_global_memory_mutexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
        let conn = lock(&store.inner.writer);
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }

    /// Prefix scans must be an index range on the primary key, never a full scan or LIKE.
    #[test]
    fn scans_use_a_primary_key_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
        let conn = lock(&store.inner.writer);
        for (inclusive, bounded) in [(true, true), (false, true), (true, false), (false, false)] {
            let sql = format!("EXPLAIN QUERY PLAN {}", scan_sql(inclusive, bounded));
            let upper: Option<Vec<u8>> = bounded.then(|| b"b".to_vec());
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(params![b"a".to_vec(), upper, 10], |row| {
                    row.get::<_, String>(3)
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(
                plan.contains("SEARCH kv USING PRIMARY KEY"),
                "scan ({inclusive}, {bounded}) is not an index range: {plan}"
            );
            assert!(
                !plan.contains("TEMP B-TREE"),
                "scan sorts instead of walking the index: {plan}"
            );
        }
    }

    #[test]
    fn works_outside_a_tokio_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
        let put = futures_now(store.put("k", b"v", Expect::Absent)).unwrap();
        let got = futures_now(store.get("k")).unwrap().unwrap();
        assert_eq!((got.value.as_slice(), got.version), (&b"v"[..], put));
    }

    /// Outside a runtime the store works inline, so its futures are ready at once.
    fn futures_now<T>(future: BoxFuture<'_, T>) -> T {
        let mut future = future;
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("pending outside a runtime"),
        }
    }
}
