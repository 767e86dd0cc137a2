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
    let kept =
        env.decoded_records()
            .get_or_decode(key, TypeId::of::<T>(), item.version, &mut || {
                decode_now().map(|t| t as Decoded)
            })?;
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
#[derive(Default)]
pub struct DecodedTable {
    entries: BTreeMap<String, Vec<Kept>>,
}

struct Kept {
    type_id: TypeId,
    version: u64,
    decoded: Decoded,
}

impl core::fmt::Debug for DecodedTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecodedTable")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl DecodedTable {
    /// The most records kept: far more than the pools and clients one server's hot paths
    /// touch, small enough that a table full of the largest records stays a few MB.
    pub const CAPACITY: usize = 128;

    pub const fn new() -> Self {
        Self {
            entries: BTreeMap::new(),
        }
    }

    /// The form of type `type_id` kept for `key` at exactly `version`.
    pub fn get(&self, key: &str, type_id: TypeId, version: u64) -> Option<Decoded> {
        self.entries
            .get(key)?
            .iter()
            .find(|k| k.type_id == type_id && k.version == version)
            .map(|k| k.decoded.clone())
    }

    /// Keeps `decoded` (of type `type_id`) for `key` at `version`, replacing an older
    /// version's. A full table drops one key first (the first in key order: which one matters
    /// little, the next read of it decodes again).
    pub fn insert(&mut self, key: &str, type_id: TypeId, version: u64, decoded: Decoded) {
        let kept = Kept {
            type_id,
            version,
            decoded,
        };
        if let Some(forms) = self.entries.get_mut(key) {
            match forms.iter_mut().find(|k| k.type_id == type_id) {
                // A slower reader may bring an older version than the one kept: keep the newer.
                Some(old) if old.version > version => {}
                Some(old) => *old = kept,
                None => forms.push(kept),
            }
            return;
        }
        if self.entries.len() >= Self::CAPACITY {
            self.entries.pop_first();
        }
        self.entries.insert(key.into(), alloc::vec![kept]);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        decode: &mut dyn FnMut() -> Decoding,
    ) -> Decoding {
        if let Some(kept) = self.with(|t| t.get(key, type_id, version)) {
            return Ok(kept);
        }
        let decoded = decode()?;
        self.with(|t| t.insert(key, type_id, version, decoded.clone()));
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
        table.insert("pool", N(), 3, decoded(30));
        assert_eq!(table.get("pool", N(), 3).map(|d| value(&d)), Some(30));
        assert!(table.get("pool", N(), 4).is_none());
        assert!(table.get("pool", N(), 2).is_none());
        assert!(table.get("other", N(), 3).is_none());
        table.insert("pool", N(), 4, decoded(40));
        assert!(table.get("pool", N(), 3).is_none());
        assert_eq!(table.get("pool", N(), 4).map(|d| value(&d)), Some(40));
        // A late reader's older version does not displace the newer one.
        table.insert("pool", N(), 3, decoded(30));
        assert_eq!(table.get("pool", N(), 4).map(|d| value(&d)), Some(40));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_key_keeps_one_form_per_type() {
        let mut table = DecodedTable::new();
        let text = TypeId::of::<&'static str>();
        table.insert("keys", N(), 1, decoded(10));
        table.insert("keys", text, 1, Arc::new("ten"));
        assert_eq!(table.get("keys", N(), 1).map(|d| value(&d)), Some(10));
        let other = table.get("keys", text, 1).unwrap();
        assert_eq!(other.downcast::<&str>().ok().map(|s| *s), Some("ten"));
        table.insert("keys", N(), 2, decoded(20));
        assert_eq!(table.get("keys", N(), 2).map(|d| value(&d)), Some(20));
        assert!(table.get("keys", text, 1).is_some());
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn the_table_stays_within_its_capacity() {
        let mut table = DecodedTable::new();
        for i in 0..(DecodedTable::CAPACITY as u32 + 10) {
            table.insert(&alloc::format!("k{i:04}"), N(), 1, decoded(i));
            assert!(table.len() <= DecodedTable::CAPACITY);
        }
        assert_eq!(table.len(), DecodedTable::CAPACITY);
        let last = DecodedTable::CAPACITY as u32 + 9;
        assert_eq!(
            table
                .get(&alloc::format!("k{last:04}"), N(), 1)
                .map(|d| value(&d)),
            Some(last)
        );
    }

    #[test]
    fn a_shared_table_decodes_each_version_once() {
        let records = KeptRecords::default();
        let mut decodes = 0;
        for version in [1, 1, 1, 2, 2] {
            let got = records
                .get_or_decode("k", N(), version, &mut || {
                    decodes += 1;
                    Ok(decoded(version as u32 * 10))
                })
                .unwrap();
            assert_eq!(value(&got), version as u32 * 10);
        }
        assert_eq!(decodes, 2);
        // A failed decode keeps nothing.
        let failed = records.get_or_decode("bad", N(), 1, &mut || {
            serde_json::from_slice::<u32>(b"{").map(|n| Arc::new(n) as Decoded)
        });
        assert!(failed.is_err());
        assert_eq!(records.len(), 1);
    }
}
