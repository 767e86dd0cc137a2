//! Decoded records kept between requests: a pool's, an app client's and a signing key set's
//! JSON is decoded once per stored version, not at every request that reads it.
//!
//! Every token request reads its client, its pool and its pool's keys, and decoding them was
//! most of what a request spent besides its signatures (issue 23: a default pool's record alone
//! is 4.3 KB, 3.7 of them the attribute schema; the guest's JSON runs ~2.5× slower than native).
//!
//! It is sound because of the store's contract ([`crate::store`]): every write gives a key a new
//! version, never reused for that key, not even after a delete, so a key's version names one
//! value for good, and the form kept for `(key, version)` is the decoding of exactly the bytes
//! the store just returned. Reads still go to the store every time (a record changed by another
//! host is seen at once); only the decoding is skipped.
//!
//! The records kept are configuration (pools, clients, keys, resource servers), changed only by
//! administrators; the table is bounded ([`DecodedTable`]) and large values are never kept.
//!
//! The port is [`crate::ports::DecodedRecords`]; this module is the typed read every loader uses
//! ([`decode_kept`]) and the table adapters put behind it ([`KeptRecords`], or their own).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::TypeId;
use core::ops::Bound;

use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::ports::{Decoded, DecodedRecords, Decoding, Env};
use crate::store::Versioned;

/// Values larger than this are decoded at every read, never kept (a pool with every custom
/// attribute it may have is ~15 KB).
pub const MAX_KEPT_BYTES: usize = 64 * 1024;

/// The record at `item` (read from `key`), decoded as `T`: the form kept for its version when
/// there is one, else decoded now (and kept).
pub fn decode_kept<T>(
    env: &dyn Env,
    key: &str,
    item: &Versioned,
) -> Result<Arc<T>, serde_json::Error>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let decode_now = || serde_json::from_slice::<T>(&item.value).map(Arc::new);
    if item.value.len() > MAX_KEPT_BYTES {
        return decode_now();
    }
    let kept = env.decoded_records().get_or_decode(
        key,
        TypeId::of::<T>(),
        item.version,
        item.value.len(),
        &mut || decode_now().map(|t| t as Decoded),
    )?;
    // Kept by type, so this always downcasts; were it ever not to, decoding is still right.
    kept.downcast::<T>().or_else(|_| decode_now())
}

/// The record at `key` as kept decoded ([`decode_kept`]), with its version; `None` when the
/// store has none. The read every loader of a kept record makes.
pub async fn get_kept<T>(env: &dyn Env, key: &str) -> Result<Option<(Arc<T>, u64)>, Error>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    match env.store().get(key).await? {
        Some(item) => Ok(Some((decode_kept(env, key, &item)?, item.version))),
        None => Ok(None),
    }
}

/// A bounded table of decoded records, for an adapter to put behind its own lock (or none, on
/// a single-threaded runtime). A key may be kept as more than one type (a key set is read
/// whole to sign and as its public keys to verify).
///
/// Bounded by keys ([`MAX_KEYS`](Self::MAX_KEYS)) and by the encoded bytes of what it keeps
/// ([`MAX_BYTES`](Self::MAX_BYTES)). When full it drops keys not read since the clock's hand
/// last passed them (CLOCK, the second-chance approximation of least recently used): a host
/// serving more pools than fit keeps the ones in use, and one pass over many cold keys (a
/// console listing every pool) does not push the hot ones out.
#[derive(Default)]
pub struct DecodedTable {
    entries: BTreeMap<String, Entry>,
    /// Encoded bytes of everything kept.
    bytes: usize,
    /// Where the clock's hand stopped: eviction goes on after this key.
    hand: Option<String>,
}

/// A key's kept forms, with whether one was read since the hand last passed.
struct Entry {
    forms: Vec<Kept>,
    used: bool,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.forms.iter().map(|kept| kept.bytes).sum()
    }
}

struct Kept {
    type_id: TypeId,
    version: u64,
    /// The encoded record's length: what the table charges for it.
    bytes: usize,
    decoded: Decoded,
}

impl core::fmt::Debug for DecodedTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecodedTable")
            .field("entries", &self.entries.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl DecodedTable {
    /// The most keys kept: every pool, client, key set and resource server of a host with a
    /// few hundred busy pools.
    pub const MAX_KEYS: usize = 1024;
    /// The most encoded bytes kept (a default pool's record is 4.3 KB, a client's under 1 KB).
    /// Decoded forms take a few times their encoding, so a full table is a few MB; each Wasm
    /// instance keeps its own.
    pub const MAX_BYTES: usize = 1024 * 1024;

    pub const fn new() -> Self {
        Self {
            entries: BTreeMap::new(),
            bytes: 0,
            hand: None,
        }
    }

    /// The form of type `type_id` kept for `key` at exactly `version` (which marks the key as
    /// in use).
    pub fn get(&mut self, key: &str, type_id: TypeId, version: u64) -> Option<Decoded> {
        let entry = self.entries.get_mut(key)?;
        let kept = entry
            .forms
            .iter()
            .find(|k| k.type_id == type_id && k.version == version)?;
        entry.used = true;
        Some(kept.decoded.clone())
    }

    /// Keeps `decoded` (of type `type_id`, `bytes` long encoded) for `key` at `version`,
    /// replacing an older version's, and drops keys not in use while the table is over its
    /// bounds. Something larger than the whole table is not kept.
    pub fn insert(
        &mut self,
        key: &str,
        type_id: TypeId,
        version: u64,
        bytes: usize,
        decoded: Decoded,
    ) {
        if bytes > Self::MAX_BYTES {
            return;
        }
        let kept = Kept {
            type_id,
            version,
            bytes,
            decoded,
        };
        if let Some(entry) = self.entries.get_mut(key) {
            let before = entry.bytes();
            match entry.forms.iter_mut().find(|k| k.type_id == type_id) {
                // A slower reader may bring an older version than the one kept: keep the newer.
                Some(old) if old.version > version => {}
                Some(old) => *old = kept,
                None => entry.forms.push(kept),
            }
            entry.used = true;
            self.bytes = self.bytes - before + entry.bytes();
        } else {
            self.bytes += bytes;
            self.entries.insert(
                key.into(),
                Entry {
                    forms: alloc::vec![kept],
                    used: false,
                },
            );
        }
        while self.entries.len() > Self::MAX_KEYS || self.bytes > Self::MAX_BYTES {
            if !self.evict_one(key) {
                break;
            }
        }
    }

    /// Drops the first key after the hand that was not read since the hand last passed it,
    /// clearing the marks it passes; never `keep` (the key just inserted). `false` when only
    /// `keep` is left.
    fn evict_one(&mut self, keep: &str) -> bool {
        // Two turns at most: the first clears every mark it passes.
        for _ in 0..=2 * self.entries.len() {
            let next = self
                .hand
                .as_deref()
                .and_then(|hand| {
                    self.entries
                        .range::<str, _>((Bound::Excluded(hand), Bound::Unbounded))
                        .next()
                })
                .or_else(|| self.entries.iter().next())
                .map(|(key, _)| key.clone());
            let Some(key) = next else {
                return false;
            };
            let Some(entry) = self.entries.get_mut(&key) else {
                return false;
            };
            if entry.used || key == keep {
                entry.used = false;
                self.hand = Some(key);
                continue;
            }
            if let Some(gone) = self.entries.remove(&key) {
                self.bytes -= gone.bytes();
            }
            self.hand = Some(key);
            return true;
        }
        false
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Encoded bytes of everything kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A [`DecodedTable`] behind the lock its runtime needs: a mutex where the ports are shared by
/// threads (feature `send`: the host), a `RefCell` on a single-threaded runtime (Workers, the
/// Wasm guest).
#[derive(Debug, Default)]
pub struct KeptRecords {
    #[cfg(feature = "send")]
    table: std::sync::Mutex<DecodedTable>,
    #[cfg(not(feature = "send"))]
    table: core::cell::RefCell<DecodedTable>,
}

impl KeptRecords {
    pub const fn new() -> Self {
        Self {
            #[cfg(feature = "send")]
            table: std::sync::Mutex::new(DecodedTable::new()),
            #[cfg(not(feature = "send"))]
            table: core::cell::RefCell::new(DecodedTable::new()),
        }
    }

    /// Records kept now.
    pub fn len(&self) -> usize {
        self.with(|t| t.len())
    }

    pub fn is_empty(&self) -> bool {
        self.with(|t| t.is_empty())
    }

    fn with<R>(&self, f: impl FnOnce(&mut DecodedTable) -> R) -> R {
        #[cfg(feature = "send")]
        {
            // A panic while the lock was held cannot leave the table half-changed (its changes
            // are single map operations), so a poisoned lock's table is still good.
            f(&mut self
                .table
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner))
        }
        #[cfg(not(feature = "send"))]
        {
            f(&mut self.table.borrow_mut())
        }
    }
}

impl DecodedRecords for KeptRecords {
    fn get_or_decode(
        &self,
        key: &str,
        type_id: TypeId,
        version: u64,
        bytes: usize,
        decode: &mut dyn FnMut() -> Decoding,
    ) -> Decoding {
        if let Some(kept) = self.with(|t| t.get(key, type_id, version)) {
            return Ok(kept);
        }
        let decoded = decode()?;
        self.with(|t| t.insert(key, type_id, version, bytes, decoded.clone()));
        Ok(decoded)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn decoded(n: u32) -> Decoded {
        Arc::new(n)
    }

    fn value(d: &Decoded) -> u32 {
        *d.clone().downcast::<u32>().unwrap()
    }

    const N: fn() -> TypeId = TypeId::of::<u32>;

    #[test]
    fn a_kept_record_answers_only_its_own_version() {
        let mut table = DecodedTable::new();
        table.insert("pool", N(), 3, 8, decoded(30));
        assert_eq!(table.get("pool", N(), 3).map(|d| value(&d)), Some(30));
        assert!(table.get("pool", N(), 4).is_none());
        assert!(table.get("pool", N(), 2).is_none());
        assert!(table.get("other", N(), 3).is_none());
        table.insert("pool", N(), 4, 8, decoded(40));
        assert!(table.get("pool", N(), 3).is_none());
        assert_eq!(table.get("pool", N(), 4).map(|d| value(&d)), Some(40));
        // A late reader's older version does not displace the newer one.
        table.insert("pool", N(), 3, 8, decoded(30));
        assert_eq!(table.get("pool", N(), 4).map(|d| value(&d)), Some(40));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_key_keeps_one_form_per_type() {
        let mut table = DecodedTable::new();
        let text = TypeId::of::<&'static str>();
        table.insert("keys", N(), 1, 8, decoded(10));
        table.insert("keys", text, 1, 8, Arc::new("ten"));
        assert_eq!(table.get("keys", N(), 1).map(|d| value(&d)), Some(10));
        let other = table.get("keys", text, 1).unwrap();
        assert_eq!(other.downcast::<&str>().ok().map(|s| *s), Some("ten"));
        table.insert("keys", N(), 2, 8, decoded(20));
        assert_eq!(table.get("keys", N(), 2).map(|d| value(&d)), Some(20));
        assert!(table.get("keys", text, 1).is_some());
        assert_eq!(table.len(), 1);
    }

    fn key(i: usize) -> String {
        alloc::format!("k{i:05}")
    }

    #[test]
    fn the_table_stays_within_its_bounds() {
        let mut table = DecodedTable::new();
        for i in 0..DecodedTable::MAX_KEYS + 10 {
            table.insert(&key(i), N(), 1, 8, decoded(i as u32));
            assert!(table.len() <= DecodedTable::MAX_KEYS);
        }
        assert_eq!(table.len(), DecodedTable::MAX_KEYS);
        let last = DecodedTable::MAX_KEYS + 9;
        assert_eq!(
            table.get(&key(last), N(), 1).map(|d| value(&d)),
            Some(last as u32),
            "the key just inserted stays"
        );

        // By bytes too: a few large records push out the rest, and the count follows.
        let big = DecodedTable::MAX_BYTES / 4;
        for i in 0..6 {
            table.insert(&alloc::format!("big{i}"), N(), 1, big, decoded(i));
            assert!(table.bytes() <= DecodedTable::MAX_BYTES);
        }
        assert!(table.len() <= 4);
        assert_eq!(table.get("big5", N(), 1).map(|d| value(&d)), Some(5));
        // Larger than the whole table: not kept, and nothing else is dropped for it.
        let before = table.len();
        table.insert("huge", N(), 1, DecodedTable::MAX_BYTES + 1, decoded(0));
        assert!(table.get("huge", N(), 1).is_none());
        assert_eq!(table.len(), before);
    }

    /// Keys read since the clock's hand last passed survive a stream of keys read once (a host
    /// with more pools than fit, a console listing them all): what stays is what is in use.
    #[test]
    fn keys_in_use_outlive_keys_read_once() {
        let mut table = DecodedTable::new();
        let hot: alloc::vec::Vec<String> = (0..8).map(|i| alloc::format!("a-hot{i}")).collect();
        for name in &hot {
            table.insert(name, N(), 1, 8, decoded(1));
        }
        for i in 0..5 * DecodedTable::MAX_KEYS {
            // Every request reads the hot keys; each also brings one key never seen again.
            for name in &hot {
                assert!(
                    table.get(name, N(), 1).is_some(),
                    "{name} was dropped at {i}"
                );
            }
            table.insert(&key(i), N(), 1, 8, decoded(2));
        }
        assert_eq!(table.len(), DecodedTable::MAX_KEYS);
    }

    #[test]
    fn replacing_a_version_charges_its_new_size_only() {
        let mut table = DecodedTable::new();
        table.insert("pool", N(), 1, 100, decoded(1));
        table.insert("pool", N(), 2, 300, decoded(2));
        assert_eq!(table.bytes(), 300);
        table.insert("pool", TypeId::of::<&'static str>(), 2, 50, Arc::new("x"));
        assert_eq!(table.bytes(), 350);
    }

    #[test]
    fn a_shared_table_decodes_each_version_once() {
        let records = KeptRecords::default();
        let mut decodes = 0;
        for version in [1, 1, 1, 2, 2] {
            let got = records
                .get_or_decode("k", N(), version, 8, &mut || {
                    decodes += 1;
                    Ok(decoded(version as u32 * 10))
                })
                .unwrap();
            assert_eq!(value(&got), version as u32 * 10);
        }
        assert_eq!(decodes, 2);
        // A failed decode keeps nothing.
        let failed = records.get_or_decode("bad", N(), 1, 8, &mut || {
            serde_json::from_slice::<u32>(b"{").map(|n| Arc::new(n) as Decoded)
        });
        assert!(failed.is_err());
        assert_eq!(records.len(), 1);
    }
}
