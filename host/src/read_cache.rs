//! The SQLite store's read cache: point reads answered from memory when this process is the
//! database's only user ([`crate::data_dir_lock`]).
//!
//! Every request reads its pool, its app client and its user, and GetUser reads nothing else:
//! a read from SQLite (a WAL read lock, an `fcntl` pair on the shared-memory file, the VFS's
//! mutex and the B-tree walk) was a quarter of GetUser's CPU (issue 23). Keycloak caches the
//! same records in memory for the same reason.
//!
//! Coherence rests on two facts: only this process writes the file (the data directory's lock),
//! and every write goes through the store's one writer, which calls [`ReadCache::writing`] around
//! each transaction (with every key the transaction writes). The cache then never holds anything but the latest committed value:
//! - a write removes its key *before* it commits and keeps the key out of the cache until it has
//!   committed (or failed), so no reader can see the new value in SQLite while the cache still
//!   answers the old one;
//! - a read that missed stores its answer only if no write began or ended while it read (the
//!   generation counter), so a value read just before a commit never lands after it.
//!
//! Absent keys are cached too (a revocation marker is usually absent). Memory is bounded: two
//! generations of entries, the older dropped when the newer fills half the budget, so what is
//! in use stays and the rest goes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use cognate_core::Versioned;

/// What one entry is charged beyond its key and value (the map's slot, the allocation headers).
const ENTRY_OVERHEAD: usize = 64;

/// A read's answer: the stored item, or `None` when the key is absent.
type Entry = Option<Versioned>;

/// Point reads remembered between writes. See the module documentation.
#[derive(Debug)]
pub struct ReadCache {
    state: Mutex<State>,
    /// Bytes one generation may hold (half the budget).
    generation_budget: usize,
    /// Lookups answered from memory, and those that went to the database (the metrics'
    /// `store_cache_reads_total`).
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped when a write begins and when it ends.
    generation: u64,
    /// The keys the writer's transaction is changing right now (the store has one writer,
    /// and one transaction may carry several writes).
    writing: Vec<Box<str>>,
    current: HashMap<Box<str>, Entry>,
    current_bytes: usize,
    previous: HashMap<Box<str>, Entry>,
}

/// Taken before a read that may fill the cache; [`ReadCache::fill_all`] refuses it if any write
/// began or ended since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadTicket(u64);

/// Held by the writer from before a transaction until after its commit; dropping it lets
/// readers cache its keys again.
#[derive(Debug)]
#[must_use = "the write is only covered while the guard lives"]
pub struct WriteGuard<'a> {
    cache: &'a ReadCache,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        state.writing.clear();
        state.generation = state.generation.wrapping_add(1);
    }
}

/// The bytes an entry is charged: its key, its value and [`ENTRY_OVERHEAD`].
fn charge(key_len: usize, entry: &Entry) -> usize {
    key_len + entry.as_ref().map_or(0, |item| item.value.len()) + ENTRY_OVERHEAD
}

impl ReadCache {
    /// A cache holding at most about `budget_bytes` of keys and values.
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            generation_budget: budget_bytes / 2,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; if something did, the maps are still whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The remembered answer for `key`, if there is one.
    #[cfg(test)]
    fn get(&self, key: &str) -> Option<Entry> {
        let found = self.lock().lookup(key, self.generation_budget);
        self.count(found.is_some());
        found
    }

    /// The remembered answers for all of `keys`, or `None` if any is missing: a partial answer
    /// would mix the cache's moment with a later read's, and a multi-key read is one snapshot.
    fn get_all<K: AsRef<str>>(&self, keys: &[K]) -> Option<Vec<Entry>> {
        let mut state = self.lock();
        let found: Option<Vec<Entry>> = keys
            .iter()
            .map(|key| state.lookup(key.as_ref(), self.generation_budget))
            .collect();
        drop(state);
        self.count(found.is_some());
        found
    }

    fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Lookups so far: (answered from memory, sent to the database).
    pub fn reads(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The answers for `keys`: all from memory when the cache holds them all, else all from
    /// `read` (one snapshot, never mixed with the cache's moment), which are then kept unless
    /// a write overlapped the read.
    pub fn read_through<K: AsRef<str>, E>(
        &self,
        keys: &[K],
        read: impl FnOnce() -> Result<Vec<Entry>, E>,
    ) -> Result<Vec<Entry>, E> {
        if let Some(hits) = self.get_all(keys) {
            return Ok(hits);
        }
        let ticket = self.ticket();
        let items = read()?;
        self.fill_all(ticket, keys.iter().map(AsRef::as_ref).zip(items.iter()));
        Ok(items)
    }

    /// Taken before reading the database on a miss.
    fn ticket(&self) -> ReadTicket {
        ReadTicket(self.lock().generation)
    }

    /// [`fill_all`](Self::fill_all) for one key.
    #[cfg(test)]
    fn fill(&self, ticket: ReadTicket, key: &str, entry: &Entry) {
        self.fill_all(ticket, std::iter::once((key, entry)));
    }

    /// Remembers what a read that began with `ticket` found, unless a write began or ended
    /// since (the answers may be older than the database); a key being written is skipped.
    fn fill_all<'k>(
        &self,
        ticket: ReadTicket,
        answers: impl IntoIterator<Item = (&'k str, &'k Entry)>,
    ) {
        let mut state = self.lock();
        if state.generation != ticket.0 {
            return;
        }
        for (key, entry) in answers {
            if state.writing.iter().any(|written| &**written == key) {
                continue;
            }
            state.insert(key.into(), entry.clone(), self.generation_budget);
        }
    }

    /// Called by the store's writer before a transaction that writes `keys`; the guard is
    /// dropped after the commit or rollback.
    pub fn writing<K: AsRef<str>>(&self, keys: &[K]) -> WriteGuard<'_> {
        let mut state = self.lock();
        state.generation = state.generation.wrapping_add(1);
        state.writing.clear();
        for key in keys {
            let key = key.as_ref();
            if let Some(old) = state.current.remove(key) {
                state.current_bytes = state.current_bytes.saturating_sub(charge(key.len(), &old));
            }
            state.previous.remove(key);
            state.writing.push(key.into());
        }
        WriteGuard { cache: self }
    }

    /// Entries held (both generations), for tests and diagnostics.
    pub fn len(&self) -> usize {
        let state = self.lock();
        state.current.len() + state.previous.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged to the newer generation, for tests.
    #[cfg(test)]
    fn current_bytes(&self) -> usize {
        self.lock().current_bytes
    }
}

impl State {
    fn lookup(&mut self, key: &str, budget: usize) -> Option<Entry> {
        if let Some(entry) = self.current.get(key) {
            return Some(entry.clone());
        }
        // Still in use: bring it into the newer generation so the next turnover keeps it.
        let (key, entry) = self.previous.remove_entry(key)?;
        self.insert(key, entry.clone(), budget);
        Some(entry)
    }

    fn insert(&mut self, key: Box<str>, entry: Entry, budget: usize) {
        let size = charge(key.len(), &entry);
        if size > budget / 8 {
            return; // one value must not push out everything else
        }
        if self.current_bytes + size > budget {
            self.previous = std::mem::take(&mut self.current);
            self.current_bytes = 0;
        }
        self.current_bytes += size;
        self.previous.remove(&key);
        let key_len = key.len();
        if let Some(old) = self.current.insert(key, entry) {
            // Two readers filled the same key: it is charged once.
            self.current_bytes = self.current_bytes.saturating_sub(charge(key_len, &old));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn item(value: &[u8], version: u64) -> Entry {
        Some(Versioned {
            value: value.to_vec(),
            version,
        })
    }

    #[test]
    fn remembers_reads_and_absent_keys_until_a_write() {
        let cache = ReadCache::new(1 << 20);
        assert_eq!(cache.get("user/a"), None, "empty at first");
        let ticket = cache.ticket();
        cache.fill(ticket, "user/a", &item(b"alice", 3));
        cache.fill(ticket, "revoked/x", &None);
        assert_eq!(cache.get("user/a"), Some(item(b"alice", 3)));
        assert_eq!(
            cache.get("revoked/x"),
            Some(None),
            "an absent key is an answer too"
        );

        let guard = cache.writing(&["user/a"]);
        assert_eq!(
            cache.get("user/a"),
            None,
            "forgotten before the write commits"
        );
        assert_eq!(cache.get("revoked/x"), Some(None), "other keys stay");
        drop(guard);
        assert_eq!(cache.get("user/a"), None);
        assert_eq!(cache.reads(), (3, 3), "hits and misses are counted");
    }

    /// A read that began before a write began or ended may hold the old value: it is not kept.
    #[test]
    fn a_read_overtaken_by_a_write_is_not_kept() {
        let cache = ReadCache::new(1 << 20);
        let before = cache.ticket();
        drop(cache.writing(&["user/a"]));
        cache.fill(before, "user/a", &item(b"old", 1));
        assert_eq!(cache.get("user/a"), None, "a write ended during the read");

        let before = cache.ticket();
        let guard = cache.writing(&["user/b"]);
        cache.fill(before, "user/c", &item(b"c", 1));
        assert_eq!(cache.get("user/c"), None, "a write began during the read");
        drop(guard);

        let after = cache.ticket();
        cache.fill(after, "user/a", &item(b"new", 2));
        assert_eq!(cache.get("user/a"), Some(item(b"new", 2)));
    }

    /// While keys are being written, even a read that began after the write began cannot put
    /// them back (it may have read SQLite just before the commit); other keys may be filled.
    /// A transaction of several writes covers every key it writes.
    #[test]
    fn the_keys_being_written_stay_out() {
        let cache = ReadCache::new(1 << 20);
        cache.fill(cache.ticket(), "user/b", &item(b"b", 3));
        let guard = cache.writing(&["user/a", "user/b"]);
        assert_eq!(
            cache.get("user/b"),
            None,
            "forgotten before the transaction"
        );
        let during = cache.ticket();
        cache.fill_all(
            during,
            [
                ("user/a", &item(b"old", 1)),
                ("user/b", &item(b"b", 3)),
                ("pool/p", &item(b"pool", 7)),
            ],
        );
        assert_eq!(cache.get("user/a"), None);
        assert_eq!(cache.get("user/b"), None);
        assert_eq!(cache.get("pool/p"), Some(item(b"pool", 7)));
        drop(guard);
        assert_eq!(cache.get("user/a"), None);
        cache.fill(cache.ticket(), "user/b", &item(b"b2", 4));
        assert_eq!(
            cache.get("user/b"),
            Some(item(b"b2", 4)),
            "cached again after the commit"
        );
    }

    /// A multi-key read is answered only when every key is remembered.
    #[test]
    fn get_all_answers_only_whole_sets() {
        let cache = ReadCache::new(1 << 20);
        let keys = ["a".to_owned(), "b".to_owned()];
        cache.fill(cache.ticket(), "a", &item(b"1", 1));
        assert_eq!(cache.get_all(&keys), None);
        cache.fill(cache.ticket(), "b", &None);
        assert_eq!(cache.get_all(&keys), Some(vec![item(b"1", 1), None]));
    }

    /// Memory stays within the budget however many keys pass through, keys in use survive the
    /// turnover of generations, and one value too big for its share is not kept.
    #[test]
    fn memory_is_bounded_and_keys_in_use_stay() {
        let budget = 64 * 1024;
        let cache = ReadCache::new(budget);
        let value = vec![7u8; 500];
        cache.fill(cache.ticket(), "hot", &item(&value, 1));
        for n in 0..2_000 {
            cache.fill(cache.ticket(), &format!("cold/{n}"), &item(&value, 1));
            assert!(
                cache.get("hot").is_some(),
                "the key in use was dropped at {n}"
            );
            assert!(cache.current_bytes() <= budget / 2);
        }
        let per_entry = 500 + ENTRY_OVERHEAD;
        assert!(
            cache.len() <= budget / per_entry + 1,
            "{} entries",
            cache.len()
        );
        assert!(cache.get("cold/0").is_none(), "old keys were let go");

        cache.fill(cache.ticket(), "huge", &item(&vec![0u8; budget / 8], 1));
        assert_eq!(cache.get("huge"), None);
    }

    /// Filling a key twice charges it once.
    #[test]
    fn a_key_filled_twice_is_charged_once() {
        let cache = ReadCache::new(1 << 20);
        cache.fill(cache.ticket(), "k", &item(b"value", 1));
        let once = cache.current_bytes();
        cache.fill(cache.ticket(), "k", &item(b"value", 1));
        assert_eq!(cache.current_bytes(), once);
        assert_eq!(cache.len(), 1);
    }
}
