//! The SQLite engine: the host's embedded default store.
//!
//! One database file in WAL mode. Writes go through one writer connection behind a mutex. Each
//! write checks its expectation, bumps the global version counter in `meta` and writes the row
//! inside a `BEGIN IMMEDIATE` transaction, so a version is never issued twice (not even for a
//! deleted and re-created key) and the counter survives restarts. Reads use a small pool of
//! read-only connections, which WAL lets run alongside the writer. Writes and scans run on
//! tokio's blocking pool so the async runtime never waits on the disk.
//!
//! Writes are committed in groups ([`WriteQueue`]): writes that arrive while the writer is busy
//! wait together and share the next transaction, so they share its one fsync. A sign-in's three
//! writes (its refresh token, its session and its sign-in event) arrive together; each fsync
//! cost ~130 µs of server CPU under load (issue 23). Every write is still answered only after the
//! commit that made it durable, and a write whose expectation fails writes nothing and does not
//! affect the others in its group.
//!
//! A server that holds its data directory's lock ([`SqliteStore::open_owned`]) also answers point
//! reads from memory ([`crate::read_cache`]); a store opened without it (tools, tests, a second
//! handle) reads the file every time.
//!
//! Keys are stored as BLOBs: SQLite compares BLOBs with `memcmp`, which is exactly the byte order
//! the contract requires, independent of the database's text encoding or any collation. Prefix
//! scans are index ranges (`key >= prefix AND key < upper_bound`), never `LIKE`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
/// The most writes one transaction carries: a burst beyond it commits in several, so no write
/// waits behind an unbounded transaction.
const MAX_WRITES_PER_COMMIT: usize = 256;
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
    /// Writes waiting for the writer.
    queue: Mutex<WriteQueue>,
    /// Transactions the writer committed (each one fsync), for tests and diagnostics.
    commits: AtomicU64,
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
                queue: Mutex::new(WriteQueue::default()),
                commits: AtomicU64::new(0),
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

    /// Transactions committed by this handle's writer so far: writes committed together count
    /// once. For tests and diagnostics.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
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

    /// Queues a write for the writer and waits for the commit that carries it. The first write
    /// to find no drain running schedules one on tokio's blocking pool (inline outside a tokio
    /// runtime); writes queued while it commits go into its next transaction.
    async fn write(&self, key: &str, change: Change) -> Result<Option<u64>, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let schedule = {
            let mut queue = lock(&self.inner.queue);
            queue.waiting.push(QueuedWrite {
                key: key.to_owned(),
                change,
                answer,
            });
            !std::mem::replace(&mut queue.draining, true)
        };
        if schedule {
            let turn = DrainTurn::new(&self.inner);
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => drop(handle.spawn_blocking(move || turn.run())),
                Err(_) => turn.run(),
            }
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "sqlite: the writer stopped before committing".into(),
            ))
        })
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

    /// Commits the queued writes, a group at a time, until none is left; runs on one thread at a
    /// time (the one that found no drain scheduled, see [`SqliteStore::write`]).
    fn drain_writes(&self) {
        let mut conn = lock(&self.writer);
        loop {
            let group: Vec<QueuedWrite> = {
                let mut queue = lock(&self.queue);
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    return;
                }
                let take = queue.waiting.len().min(MAX_WRITES_PER_COMMIT);
                queue.waiting.drain(..take).collect()
            };
            self.commit_group(&mut conn, group);
        }
    }

    /// Commits `group` in one transaction and answers each write. The read cache forgets every
    /// key before the transaction and does not take them back until it is over.
    fn commit_group(&self, conn: &mut Connection, group: Vec<QueuedWrite>) {
        let covered = self.cache.as_ref().map(|cache| {
            let keys: Vec<&str> = group.iter().map(|w| w.key.as_str()).collect();
            cache.writing(&keys)
        });
        let outcomes = match apply_in_one_transaction(conn, &group, &self.commits) {
            Ok(outcomes) => outcomes,
            // The engine failed (not an expectation): nothing of the group was committed. Each
            // write alone again, so one write's failure (say, a full disk at its row) is its own.
            Err(_) if group.len() > 1 => group
                .iter()
                .map(|write| {
                    apply_in_one_transaction(conn, std::slice::from_ref(write), &self.commits)
                        .map_err(unavailable)
                        .and_then(|mut one| {
                            one.pop().unwrap_or_else(|| {
                                Err(StoreError::Unavailable(
                                    "sqlite: a write went unanswered".into(),
                                ))
                            })
                        })
                })
                .collect(),
            Err(e) => vec![Err(unavailable(e))],
        };
        drop(covered);
        for (write, outcome) in group.into_iter().zip(outcomes) {
            // The writer may have stopped waiting (its request was dropped); the write stands.
            let _ = write.answer.send(outcome);
        }
    }
}

/// Writes waiting for the writer, and whether a thread is already committing them.
#[derive(Debug, Default)]
struct WriteQueue {
    waiting: Vec<QueuedWrite>,
    /// A drain is running or scheduled: it will take whatever is queued now.
    draining: bool,
}

/// One write and where its outcome goes: the version it wrote (`None` for a delete).
#[derive(Debug)]
struct QueuedWrite {
    key: String,
    change: Change,
    answer: tokio::sync::oneshot::Sender<Result<Option<u64>, StoreError>>,
}

#[derive(Debug)]
enum Change {
    Put { value: Vec<u8>, expect: Expect },
    Delete { expect: Expect },
}

/// A scheduled drain. Should it never run or stop half-way (a runtime shutting down drops a
/// blocking task unrun; a panic unwinds), dropping it fails every write still waiting, so their
/// writers get an error instead of waiting for ever, and the next write schedules a new drain.
struct DrainTurn {
    inner: Arc<Inner>,
    finished: bool,
}

impl DrainTurn {
    fn new(inner: &Arc<Inner>) -> Self {
        Self {
            inner: Arc::clone(inner),
            finished: false,
        }
    }

    fn run(mut self) {
        self.inner.drain_writes();
        self.finished = true;
    }
}

impl Drop for DrainTurn {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = lock(&self.inner.queue);
            queue.waiting.clear();
            queue.draining = false;
        }
    }
}

/// Applies `writes` in order in one `BEGIN IMMEDIATE` transaction and commits it if any of them
/// changed something. A write whose expectation does not hold changes nothing (it is checked
/// before the write), so the others commit without it. `Err`: the engine failed and the whole
/// transaction rolled back.
fn apply_in_one_transaction(
    conn: &mut Connection,
    writes: &[QueuedWrite],
    commits: &AtomicU64,
) -> rusqlite::Result<Vec<Result<Option<u64>, StoreError>>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(apply(&tx, write.key.as_bytes(), &write.change)?);
    }
    if outcomes.iter().any(Result::is_ok) {
        tx.commit()?;
        commits.fetch_add(1, Ordering::Relaxed);
    }
    // Otherwise dropping the transaction rolls it back: it wrote nothing.
    Ok(outcomes)
}

/// One write inside the writer's transaction.
fn apply(
    tx: &rusqlite::Transaction<'_>,
    key: &[u8],
    change: &Change,
) -> rusqlite::Result<Result<Option<u64>, StoreError>> {
    let current = current_version(tx, key)?;
    let expect = match change {
        Change::Put { expect, .. } | Change::Delete { expect } => *expect,
    };
    if !holds(current, expect) {
        return Ok(Err(StoreError::Conflict));
    }
    match change {
        Change::Put { value, .. } => {
            // The global counter, bumped in the same transaction as the write: versions are
            // never reused, across keys, deletes and restarts.
            tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE name = 'last_version'")?
                .execute([])?;
            let version: i64 = tx
                .prepare_cached("SELECT value FROM meta WHERE name = 'last_version'")?
                .query_row([], |row| row.get(0))?;
            // A corrupt counter fails the whole transaction (an engine error), never just this
            // write while the others of its group commit.
            let Ok(issued) = to_version(version) else {
                return Err(rusqlite::Error::IntegralValueOutOfRange(0, version));
            };
            tx.prepare_cached(
                "INSERT INTO kv (key, value, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
            )?
            .execute(params![key, value, version])?;
            Ok(Ok(Some(issued)))
        }
        Change::Delete { .. } => {
            if current.is_some() {
                tx.prepare_cached("DELETE FROM kv WHERE key = ?1")?
                    .execute([key])?;
            }
            Ok(Ok(None))
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
            let change = Change::Put {
                value: value.to_vec(),
                expect,
            };
            match self.write(key, change).await? {
                Some(version) => Ok(version),
                None => Err(StoreError::Unavailable(
                    "sqlite: a put wrote no version".into(),
                )),
            }
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
            self.write(key, Change::Delete { expect }).await.map(|_| ())
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

    /// Writes that queue while the writer is busy share its next transaction (one commit, one
    /// fsync), and each still gets its own outcome: a failed expectation fails that write
    /// alone, two writers racing for one key see exactly one win, versions stay distinct, and
    /// everything acknowledged is in the file after a reopen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_together_share_one_commit_and_keep_their_own_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        let first = store.put("taken", b"0", Expect::Absent).await.unwrap();
        let doomed = store.put("doomed", b"x", Expect::Absent).await.unwrap();
        let commits_before = store.commits();

        let busy = lock(&store.inner.writer);
        let spawn_put = |key: &'static str, value: &'static [u8], expect: Expect| {
            let store = store.clone();
            tokio::spawn(async move { store.put(key, value, expect).await })
        };
        let fresh: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .put(&format!("fresh/{i}"), b"new", Expect::Absent)
                        .await
                })
            })
            .collect();
        let racers = [
            spawn_put("taken", b"first racer", Expect::Version(first)),
            spawn_put("taken", b"second racer", Expect::Version(first)),
        ];
        let stale = spawn_put("fresh/0", b"stale", Expect::Version(1));
        let removal = {
            let store = store.clone();
            tokio::spawn(async move { store.delete("doomed", Expect::Version(doomed)).await })
        };
        let queued = 8 + 2 + 1 + 1;
        while lock(&store.inner.queue).waiting.len() < queued {
            // Not an await: the guard stays on this thread while the runtime's workers queue.
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(busy);

        let mut versions = std::collections::BTreeSet::new();
        for task in fresh {
            assert!(versions.insert(task.await.unwrap().unwrap()));
        }
        let mut won = 0;
        for task in racers {
            match task.await.unwrap() {
                Ok(version) => {
                    won += 1;
                    assert!(versions.insert(version));
                }
                Err(e) => assert_eq!(e, StoreError::Conflict),
            }
        }
        assert_eq!(won, 1, "exactly one racer for a version wins");
        assert_eq!(stale.await.unwrap(), Err(StoreError::Conflict));
        removal.await.unwrap().unwrap();
        assert_eq!(
            store.commits(),
            commits_before + 1,
            "one transaction for the group"
        );
        assert!(versions.iter().all(|v| *v > doomed));

        drop(store);
        let reopened = SqliteStore::open(&path).unwrap();
        for i in 0..8 {
            let item = reopened.get(&format!("fresh/{i}")).await.unwrap().unwrap();
            assert_eq!(
                item.value, b"new",
                "a failed write in the group changed nothing"
            );
        }
        let taken = reopened.get("taken").await.unwrap().unwrap();
        assert!(taken.value.ends_with(b"racer") && versions.contains(&taken.version));
        assert_eq!(reopened.get("doomed").await.unwrap(), None);
        assert_eq!(
            reopened.last_version().await.unwrap(),
            *versions.last().unwrap()
        );
    }

    /// A group whose transaction fails as a whole (here: the database is read-only under the
    /// writer) answers every write with an error, leaves nothing half-written, and the writer
    /// serves the next writes once the cause is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_fails_each_write_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
        store.put("a", b"1", Expect::Absent).await.unwrap();
        lock(&store.inner.writer)
            .pragma_update(None, "query_only", true)
            .unwrap();
        let busy = lock(&store.inner.writer);
        let tasks: Vec<_> = ["b", "c", "d"]
            .into_iter()
            .map(|key| {
                let store = store.clone();
                tokio::spawn(async move { store.put(key, b"2", Expect::Absent).await })
            })
            .collect();
        while lock(&store.inner.queue).waiting.len() < 3 {
            // Not an await: the guard stays on this thread while the runtime's workers queue.
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(busy);
        for task in tasks {
            assert!(matches!(
                task.await.unwrap(),
                Err(StoreError::Unavailable(_))
            ));
        }
        lock(&store.inner.writer)
            .pragma_update(None, "query_only", false)
            .unwrap();
        for key in ["b", "c", "d"] {
            assert_eq!(store.get(key).await.unwrap(), None);
        }
        store.put("b", b"3", Expect::Absent).await.unwrap();
        assert_eq!(store.get("b").await.unwrap().unwrap().value, b"3");
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
