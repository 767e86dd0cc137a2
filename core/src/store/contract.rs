//! The storage contract suite: every [`Store`] engine runs these checks in its tests.
//!
//! [`run_all`] runs every check in turn; each check is also a `pub async fn` so an engine can
//! run them as separate tests (one failing property per failing test). Every check writes only
//! under its own `contract/<check>/` prefix, so all of them can share one store, but the store
//! must not hold keys under `contract/` before (run each check once per store).
//!
//! A violation panics with a message naming the property that failed.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use cognate_core::store::{MemoryStore, contract};
//! let store = MemoryStore::new();
//! futures_util::FutureExt::now_or_never(contract::run_all(&store)).unwrap();
//! # }
//! ```

// This module is test code shipped inside the library so every engine (memory, SQLite,
// PostgreSQL, Durable Objects) runs the same checks; a contract violation must fail the caller's
// test loudly, which is exactly what panics, unwraps and asserts are for.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use futures_util::future::join_all;

use super::{
    Expect, MAX_KEY_LEN, MAX_SCAN_LIMIT, MAX_VALUE_LEN, Page, Store, StoreError, Versioned,
};

/// Calls `$callback!(check, check, ...)` with the name of every check, in order: the one list of
/// the suite's checks, from which [`run_all`], [`CHECKS`], [`run_check`] and every engine's
/// one-test-per-check module are made (`cognate_core::contract_checks!(my_tests_macro);`).
#[macro_export]
macro_rules! contract_checks {
    ($callback:ident) => {
        $callback!(
            get_missing,
            get_many,
            create_only,
            compare_and_set,
            versions_never_reused,
            delete_semantics,
            failed_writes_change_nothing,
            racing_creates,
            racing_compare_and_set,
            racing_increments,
            scan_order,
            scan_prefix_isolation,
            scan_limit_clamping,
            scan_paging,
            max_value,
            long_keys,
            empty_values,
            binary_values,
        );
    };
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        /// Runs every check against `store`, in order. Panics on the first violation.
        pub async fn run_all(store: &dyn Store) {
            $($check(store).await;)*
        }

        /// The name of every check, in [`run_all`]'s order: for runners that pick checks by
        /// name (the Worker's test route, the Wasm guest's `store_contract` export).
        pub const CHECKS: &[&str] = &[$(stringify!($check)),*];

        /// Runs the check named `name` (one of [`CHECKS`]) against `store`. `false` when there
        /// is no such check; panics on a violation like the checks themselves.
        pub async fn run_check(store: &dyn Store, name: &str) -> bool {
            match name {
                $(stringify!($check) => $check(store).await,)*
                _ => return false,
            }
            true
        }
    };
}

contract_checks!(suite);

// ---------------------------------------------------------------------------------------------
// Helpers: each names the operation in its panic message so a failure reads like a spec line.

async fn get(store: &dyn Store, key: &str) -> Option<Versioned> {
    match store.get(key).await {
        Ok(found) => found,
        Err(e) => panic!("get({key:?}) failed: {e}"),
    }
}

async fn put(store: &dyn Store, key: &str, value: &[u8], expect: Expect) -> u64 {
    match store.put(key, value, expect).await {
        Ok(version) => {
            assert!(
                version != 0,
                "put({key:?}, {expect:?}) returned version 0; versions are non-zero"
            );
            version
        }
        Err(e) => panic!("put({key:?}, {expect:?}) failed: {e}"),
    }
}

async fn put_fails(
    store: &dyn Store,
    key: &str,
    value: &[u8],
    expect: Expect,
    want: StoreError,
    why: &str,
) {
    match store.put(key, value, expect).await {
        Err(e) if e == want => {}
        other => panic!("put({key:?}, {expect:?}) must fail with {want:?} ({why}), got {other:?}"),
    }
}

async fn delete(store: &dyn Store, key: &str, expect: Expect) {
    if let Err(e) = store.delete(key, expect).await {
        panic!("delete({key:?}, {expect:?}) failed: {e}");
    }
}

async fn delete_conflicts(store: &dyn Store, key: &str, expect: Expect, why: &str) {
    match store.delete(key, expect).await {
        Err(StoreError::Conflict) => {}
        other => panic!("delete({key:?}, {expect:?}) must be a Conflict ({why}), got {other:?}"),
    }
}

async fn scan(store: &dyn Store, prefix: &str, after: Option<&str>, limit: usize) -> Page {
    match store.scan(prefix, after, limit).await {
        Ok(page) => page,
        Err(e) => panic!("scan({prefix:?}, after {after:?}, limit {limit}) failed: {e}"),
    }
}

/// Asserts `key` holds exactly `value` at `version`.
async fn assert_holds(store: &dyn Store, key: &str, value: &[u8], version: u64, why: &str) {
    match get(store, key).await {
        Some(found) => {
            assert!(
                found.value == value,
                "get({key:?}): wrong value ({why}): {} bytes, expected {} bytes",
                found.value.len(),
                value.len()
            );
            assert_eq!(
                found.version, version,
                "get({key:?}): wrong version ({why})"
            );
        }
        None => panic!("get({key:?}) found nothing ({why})"),
    }
}

async fn assert_missing(store: &dyn Store, key: &str, why: &str) {
    if let Some(found) = get(store, key).await {
        panic!(
            "get({key:?}) must find nothing ({why}), found version {}",
            found.version
        );
    }
}

/// Every key under `prefix`, following cursors with page size `limit`. Checks along the way
/// that pages are ascending, within the limit, and that paging ends.
async fn scan_all(store: &dyn Store, prefix: &str, limit: usize) -> Vec<(String, Versioned)> {
    let clamped = limit.clamp(1, MAX_SCAN_LIMIT);
    let mut all: Vec<(String, Versioned)> = Vec::new();
    let mut after: Option<String> = None;
    // An engine may answer `next` on a final full page and then an empty page; it may not loop.
    for _ in 0..100_000 {
        let page = scan(store, prefix, after.as_deref(), limit).await;
        assert!(
            page.items.len() <= clamped,
            "scan({prefix:?}, limit {limit}) returned {} items, more than the clamped limit {clamped}",
            page.items.len()
        );
        for (key, _) in &page.items {
            assert!(
                key.starts_with(prefix),
                "scan({prefix:?}) returned {key:?}, outside the prefix"
            );
            if let Some((last, _)) = all.last() {
                assert!(
                    last.as_bytes() < key.as_bytes(),
                    "scan({prefix:?}) returned {key:?} after {last:?}: not strictly ascending byte order (or a key twice)"
                );
            }
            if let Some(cursor) = &after {
                assert!(
                    cursor.as_bytes() < key.as_bytes(),
                    "scan({prefix:?}, after {cursor:?}) returned {key:?}, not strictly after the cursor"
                );
            }
        }
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
    panic!("scan({prefix:?}, limit {limit}) never ended: `next` kept coming back");
}

fn keys_of(items: &[(String, Versioned)]) -> Vec<String> {
    items.iter().map(|(k, _)| k.clone()).collect()
}

/// `keys` sorted by bytes (Rust's `str` order is byte order) without duplicates.
fn byte_sorted(keys: &[String]) -> Vec<String> {
    let mut sorted = keys.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

fn patterned(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31).wrapping_add(usize::from(seed)) % 251) as u8)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Single-key semantics.

/// `get` of a key that was never written is `None`; a scan of an unused prefix is empty.
pub async fn get_missing(store: &dyn Store) {
    assert_missing(store, "contract/get_missing/never-written", "never written").await;
    let page = scan(store, "contract/get_missing/", None, 10).await;
    assert!(
        page.items.is_empty(),
        "scan of an unused prefix returned {:?}",
        keys_of(&page.items)
    );
    assert_eq!(
        page.next, None,
        "scan of an unused prefix must end (next = None)"
    );
}

/// A create-only put succeeds once, then is a `Conflict` that leaves the first value.
/// `get_many` answers each key as `get` does, in the order asked: present, missing and
/// repeated keys alike.
pub async fn get_many(store: &dyn Store) {
    let a = "contract/get_many/a";
    let b = "contract/get_many/b";
    let va = put(store, a, b"first", Expect::Absent).await;
    let vb = put(store, b, b"", Expect::Absent).await;
    let keys = vec![
        b.to_string(),
        "contract/get_many/missing".to_string(),
        a.to_string(),
        a.to_string(),
    ];
    let got = store
        .get_many(&keys)
        .await
        .unwrap_or_else(|e| panic!("get_many failed: {e}"));
    let first = Some(Versioned {
        value: b"first".to_vec(),
        version: va,
    });
    assert_eq!(
        got,
        vec![
            Some(Versioned {
                value: Vec::new(),
                version: vb
            }),
            None,
            first.clone(),
            first,
        ],
        "get_many answers each key as get does, in order"
    );
    let none = store
        .get_many(&[])
        .await
        .unwrap_or_else(|e| panic!("get_many of no keys failed: {e}"));
    assert!(none.is_empty(), "get_many of no keys is empty");
    // After a write, get_many sees it (read-your-writes, as get).
    let va2 = put(store, a, b"second", Expect::Version(va)).await;
    let got = store.get_many(&[a.to_string()]).await.unwrap();
    assert_eq!(
        got,
        vec![Some(Versioned {
            value: b"second".to_vec(),
            version: va2
        })],
        "get_many sees the latest write"
    );
}

pub async fn create_only(store: &dyn Store) {
    let key = "contract/create_only/k";
    let v1 = put(store, key, b"first", Expect::Absent).await;
    assert_holds(store, key, b"first", v1, "after create").await;
    put_fails(
        store,
        key,
        b"second",
        Expect::Absent,
        StoreError::Conflict,
        "the key exists",
    )
    .await;
    assert_holds(store, key, b"first", v1, "a failed create changes nothing").await;
}

/// Compare-and-set succeeds only at the current version; `Any` always writes.
pub async fn compare_and_set(store: &dyn Store) {
    let key = "contract/cas/k";
    let v1 = put(store, key, b"one", Expect::Absent).await;
    let v2 = put(store, key, b"two", Expect::Version(v1)).await;
    assert!(v2 > v1, "CAS must give a greater version: {v1} then {v2}");
    assert_holds(store, key, b"two", v2, "after CAS").await;

    put_fails(
        store,
        key,
        b"stale",
        Expect::Version(v1),
        StoreError::Conflict,
        "stale version",
    )
    .await;
    put_fails(
        store,
        key,
        b"future",
        Expect::Version(v2 + 1),
        StoreError::Conflict,
        "version never issued",
    )
    .await;
    put_fails(
        store,
        key,
        b"huge",
        Expect::Version(u64::MAX),
        StoreError::Conflict,
        "version u64::MAX",
    )
    .await;
    put_fails(
        store,
        key,
        b"zero",
        Expect::Version(0),
        StoreError::Conflict,
        "version 0 is never issued",
    )
    .await;
    assert_holds(store, key, b"two", v2, "failed CAS changes nothing").await;

    let missing = "contract/cas/missing";
    put_fails(
        store,
        missing,
        b"x",
        Expect::Version(v2),
        StoreError::Conflict,
        "CAS of a missing key",
    )
    .await;
    assert_missing(store, missing, "a failed CAS creates nothing").await;

    let v3 = put(store, key, b"three", Expect::Any).await;
    assert!(
        v3 > v2,
        "an unconditional put must give a greater version: {v2} then {v3}"
    );
    assert_holds(store, key, b"three", v3, "after unconditional put").await;

    let fresh = "contract/cas/any-creates";
    let v = put(store, fresh, b"new", Expect::Any).await;
    assert_holds(store, fresh, b"new", v, "an unconditional put creates").await;
}

/// Versions strictly increase per key and are never reused, even after delete and re-create
/// (no ABA: a CAS against an earlier incarnation's version must fail).
pub async fn versions_never_reused(store: &dyn Store) {
    let key = "contract/versions/k";
    let mut seen: Vec<u64> = Vec::new();
    let mut last = put(store, key, b"0", Expect::Absent).await;
    seen.push(last);
    for i in 1..20u32 {
        let next = put(store, key, format!("{i}").as_bytes(), Expect::Version(last)).await;
        assert!(
            next > last,
            "versions must strictly increase: {last} then {next}"
        );
        last = next;
        seen.push(last);
    }
    delete(store, key, Expect::Version(last)).await;
    assert_missing(store, key, "after delete").await;

    let reborn = put(store, key, b"reborn", Expect::Absent).await;
    assert!(
        reborn > last,
        "a re-created key must get a version greater than any it had before: {last} then {reborn}"
    );
    for old in &seen {
        put_fails(
            store,
            key,
            b"aba",
            Expect::Version(*old),
            StoreError::Conflict,
            "version of an earlier incarnation",
        )
        .await;
        delete_conflicts(
            store,
            key,
            Expect::Version(*old),
            "version of an earlier incarnation",
        )
        .await;
    }
    assert_holds(store, key, b"reborn", reborn, "ABA attempts change nothing").await;

    // Many delete/create cycles: never a repeat.
    let mut prev = reborn;
    for _ in 0..10 {
        delete(store, key, Expect::Any).await;
        let again = put(store, key, b"cycle", Expect::Absent).await;
        assert!(
            again > prev,
            "re-create after delete reused or lowered the version: {prev} then {again}"
        );
        prev = again;
    }
}

/// Deletes honour their expectation; `Any` on a missing key is `Ok`, `Version` is a `Conflict`.
pub async fn delete_semantics(store: &dyn Store) {
    let missing = "contract/delete/missing";
    delete(store, missing, Expect::Any).await;
    delete(store, missing, Expect::Any).await; // idempotent
    delete_conflicts(
        store,
        missing,
        Expect::Version(1),
        "Version on a missing key",
    )
    .await;
    // `Absent` holds for a missing key: nothing to delete, nothing changes.
    delete(store, missing, Expect::Absent).await;
    assert_missing(store, missing, "deleting a missing key creates nothing").await;

    let key = "contract/delete/k";
    let v1 = put(store, key, b"v", Expect::Absent).await;
    delete_conflicts(store, key, Expect::Version(v1 + 1), "wrong version").await;
    delete_conflicts(store, key, Expect::Absent, "Absent on an existing key").await;
    assert_holds(store, key, b"v", v1, "failed deletes change nothing").await;
    delete(store, key, Expect::Version(v1)).await;
    assert_missing(store, key, "after delete at the right version").await;
    delete_conflicts(store, key, Expect::Version(v1), "the key is gone").await;

    let other = "contract/delete/any";
    put(store, other, b"v", Expect::Absent).await;
    delete(store, other, Expect::Any).await;
    assert_missing(store, other, "after unconditional delete").await;
    let page = scan(store, "contract/delete/", None, 10).await;
    assert!(
        page.items.is_empty(),
        "scan must not return deleted keys: {:?}",
        keys_of(&page.items)
    );
}

/// Every failed conditional write or delete leaves the value and version exactly as they were,
/// both for `get` and for `scan`.
pub async fn failed_writes_change_nothing(store: &dyn Store) {
    let key = "contract/failed/k";
    let v1 = put(store, key, b"original", Expect::Absent).await;
    let v2 = put(store, key, b"current", Expect::Version(v1)).await;

    put_fails(
        store,
        key,
        b"x",
        Expect::Absent,
        StoreError::Conflict,
        "exists",
    )
    .await;
    put_fails(
        store,
        key,
        b"x",
        Expect::Version(v1),
        StoreError::Conflict,
        "stale",
    )
    .await;
    put_fails(
        store,
        key,
        b"x",
        Expect::Version(v2 + 7),
        StoreError::Conflict,
        "wrong",
    )
    .await;
    let huge = vec![0u8; MAX_VALUE_LEN + 1];
    put_fails(
        store,
        key,
        &huge,
        Expect::Any,
        StoreError::TooLarge,
        "value too large",
    )
    .await;
    put_fails(
        store,
        key,
        &huge,
        Expect::Version(v2),
        StoreError::TooLarge,
        "value too large, right version",
    )
    .await;
    delete_conflicts(store, key, Expect::Version(v1), "stale").await;
    delete_conflicts(store, key, Expect::Absent, "exists").await;

    assert_holds(store, key, b"current", v2, "after failed writes").await;
    let page = scan(store, "contract/failed/", None, 10).await;
    assert_eq!(
        page.items,
        vec![(
            key.to_string(),
            Versioned {
                value: b"current".to_vec(),
                version: v2
            }
        )],
        "scan after failed writes"
    );
    // The version counter did not move either: the next write is still a CAS at v2.
    let v3 = put(store, key, b"next", Expect::Version(v2)).await;
    assert!(v3 > v2);
}

// ---------------------------------------------------------------------------------------------
// Concurrency. The futures run concurrently (join_all); engines that do their work on threads
// (SQLite on a blocking pool) really race.

/// How many concurrent writers the racing checks use.
pub const RACERS: usize = 32;

/// Of many concurrent create-only puts of one key, exactly one succeeds; the others are
/// `Conflict`s, and the stored value is the winner's.
pub async fn racing_creates(store: &dyn Store) {
    for round in 0..4u32 {
        let key = format!("contract/race_create/{round}");
        let values: Vec<Vec<u8>> = (0..RACERS)
            .map(|i| format!("racer-{i}").into_bytes())
            .collect();
        let results = join_all(
            values
                .iter()
                .map(|value| store.put(&key, value, Expect::Absent)),
        )
        .await;
        let mut winners = Vec::new();
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(version) => winners.push((i, *version)),
                Err(StoreError::Conflict) => {}
                Err(e) => panic!("racing create {i} of {key:?} failed with {e}, not Conflict"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "exactly one of {RACERS} racing create-only puts of {key:?} must win, got {winners:?}"
        );
        let (winner, version) = winners[0];
        assert_holds(store, &key, &values[winner], version, "the winner's value").await;
    }
}

/// Of many concurrent compare-and-sets from the same version, exactly one succeeds.
pub async fn racing_compare_and_set(store: &dyn Store) {
    let key = "contract/race_cas/k";
    let mut version = put(store, key, b"start", Expect::Absent).await;
    for round in 0..4u32 {
        let values: Vec<Vec<u8>> = (0..RACERS)
            .map(|i| format!("{round}-{i}").into_bytes())
            .collect();
        let results = join_all(
            values
                .iter()
                .map(|value| store.put(key, value, Expect::Version(version))),
        )
        .await;
        let winners: Vec<(usize, u64)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Ok(v) => Some((i, *v)),
                Err(StoreError::Conflict) => None,
                Err(e) => panic!("racing CAS {i} of {key:?} failed with {e}, not Conflict"),
            })
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "exactly one racing CAS from version {version} must win, got {winners:?}"
        );
        let (winner, new_version) = winners[0];
        assert!(new_version > version);
        assert_holds(
            store,
            key,
            &values[winner],
            new_version,
            "the CAS winner's value",
        )
        .await;
        version = new_version;
    }
}

/// Concurrent read-modify-write increments with CAS retry loops lose no update.
pub async fn racing_increments(store: &dyn Store) {
    const WORKERS: usize = 8;
    const PER_WORKER: u64 = 25;
    let key = "contract/race_counter/n";
    put(store, key, b"0", Expect::Absent).await;

    async fn increment(store: &dyn Store, key: &str, times: u64) -> u64 {
        let mut conflicts = 0u64;
        for _ in 0..times {
            let mut attempts = 0u32;
            loop {
                attempts += 1;
                assert!(
                    attempts < 10_000,
                    "increment of {key:?} never got through its CAS"
                );
                let current = get(store, key).await.expect("the counter exists");
                let n: u64 = core::str::from_utf8(&current.value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .expect("the counter holds a decimal number");
                let next = format!("{}", n + 1);
                match store
                    .put(key, next.as_bytes(), Expect::Version(current.version))
                    .await
                {
                    Ok(_) => break,
                    Err(StoreError::Conflict) => conflicts += 1,
                    Err(e) => panic!("increment of {key:?} failed: {e}"),
                }
            }
        }
        conflicts
    }

    join_all((0..WORKERS).map(|_| increment(store, key, PER_WORKER))).await;
    let total = get(store, key).await.expect("the counter exists");
    assert_eq!(
        core::str::from_utf8(&total.value).ok(),
        Some(format!("{}", WORKERS as u64 * PER_WORKER).as_str()),
        "racing CAS increments lost updates"
    );
}

// ---------------------------------------------------------------------------------------------
// Scans.

/// Scans return keys in ascending **byte** order (not locale or UTF-16 order), with the
/// versions and values `get` sees; the key equal to the prefix itself is included.
pub async fn scan_order(store: &dyn Store) {
    let prefix = "contract/scan_order/";
    let suffixes = [
        "b",
        "a",
        "",
        "ab",
        "a/",
        "a/b",
        "a-",
        "a0",
        "B",
        "Z",
        "z",
        "~",
        "é",
        "e",
        "ê",
        "日本",
        "\u{7f}",
        "\u{80}",
        "\u{FFFF}",
        "\u{10000}",
        "\u{1F600}",
        "aa",
        "aaa",
        "a\u{1}",
        " ",
    ];
    let keys: Vec<String> = suffixes.iter().map(|s| format!("{prefix}{s}")).collect();
    let mut written = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let value = format!("value-{i}").into_bytes();
        let version = put(store, key, &value, Expect::Absent).await;
        written.push((key.clone(), Versioned { value, version }));
    }
    written.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    // Spell out the cases that non-byte collations get wrong.
    let pos = |s: &str| {
        written
            .iter()
            .position(|(k, _)| *k == format!("{prefix}{s}"))
            .unwrap()
    };
    assert!(pos("Z") < pos("a"), "byte order puts upper case first");
    assert!(pos("z") < pos("é"), "byte order puts non-ASCII after ASCII");
    assert!(
        pos("\u{FFFF}") < pos("\u{10000}"),
        "byte (code point) order, not UTF-16 order"
    );
    assert!(
        pos("a") < pos("a\u{1}") && pos("a\u{1}") < pos("a-"),
        "a shorter key sorts first"
    );

    let page = scan(store, prefix, None, MAX_SCAN_LIMIT).await;
    assert_eq!(
        keys_of(&page.items),
        keys_of(&written),
        "scan must return keys in ascending byte order"
    );
    assert_eq!(
        page.items, written,
        "scan must return each key's current value and version"
    );
    assert_eq!(page.next, None, "a scan that returned everything must end");
}

/// A prefix matches only keys that start with it, byte for byte: `a/` is not `ab`, and a
/// prefix ending in a multi-byte character does not match its neighbours in the code table.
pub async fn scan_prefix_isolation(store: &dyn Store) {
    let base = "contract/iso/";
    let suffixes = [
        "a",
        "a/",
        "a/1",
        "a/2",
        "a/2/x",
        "ab",
        "ab/1",
        "a0",
        "a.",
        "a.b",
        "b",
        "é",
        "é1",
        "éa",
        "ê",
        "è",
        "\u{FFFF}",
        "\u{FFFF}x",
        "\u{10000}",
    ];
    for s in &suffixes {
        put(store, &format!("{base}{s}"), s.as_bytes(), Expect::Absent).await;
    }
    // The neighbour just outside the `contract/iso/` prefix ('/' + 1 = '0').
    put(store, "contract/iso0", b"outside", Expect::Absent).await;

    let expect = |prefix: &str| -> Vec<String> {
        let full = format!("{base}{prefix}");
        byte_sorted(
            &suffixes
                .iter()
                .map(|s| format!("{base}{s}"))
                .filter(|k| k.starts_with(&full))
                .collect::<Vec<_>>(),
        )
    };
    for prefix in [
        "a/", "a", "ab", "a.", "é", "ê", "\u{FFFF}", "b", "c", "a/2/", "a/2/x", "",
    ] {
        let full = format!("{base}{prefix}");
        let got = keys_of(&scan_all(store, &full, 3).await);
        assert_eq!(got, expect(prefix), "scan of prefix {full:?}");
    }

    // A cursor before the prefix starts at the prefix; one past the end ends the scan.
    let full = format!("{base}a/");
    let from_before = scan(store, &full, Some("contract/"), 100).await;
    assert_eq!(
        keys_of(&from_before.items),
        expect("a/"),
        "cursor before the prefix"
    );
    let past = scan(store, &full, Some("contract/iso/a0"), 100).await;
    assert!(
        past.items.is_empty() && past.next.is_none(),
        "cursor past the prefix must give an empty, final page"
    );
}

/// `limit` is clamped to `1..=MAX_SCAN_LIMIT`.
pub async fn scan_limit_clamping(store: &dyn Store) {
    let prefix = "contract/limit/";
    let total = MAX_SCAN_LIMIT + 1;
    let keys: Vec<String> = (0..total).map(|i| format!("{prefix}{i:05}")).collect();
    // Written in batches of concurrent puts to keep slow engines quick.
    for batch in keys.chunks(100) {
        let results = join_all(batch.iter().map(|k| store.put(k, b"x", Expect::Absent))).await;
        for (key, result) in batch.iter().zip(results) {
            if let Err(e) = result {
                panic!("put({key:?}) failed: {e}");
            }
        }
    }

    let zero = scan(store, prefix, None, 0).await;
    assert_eq!(
        keys_of(&zero.items),
        vec![keys[0].clone()],
        "limit 0 is clamped to 1"
    );
    assert!(zero.next.is_some(), "more keys follow the one-item page");

    let one = scan(store, prefix, None, 1).await;
    assert_eq!(keys_of(&one.items), vec![keys[0].clone()], "limit 1");

    for limit in [MAX_SCAN_LIMIT + 1, usize::MAX] {
        let page = scan(store, prefix, None, limit).await;
        assert_eq!(
            page.items.len(),
            MAX_SCAN_LIMIT,
            "limit {limit} is clamped to MAX_SCAN_LIMIT ({MAX_SCAN_LIMIT})"
        );
        assert_eq!(keys_of(&page.items), keys[..MAX_SCAN_LIMIT].to_vec());
        let next = page.next.expect("a key follows the full page");
        let rest = scan(store, prefix, Some(&next), limit).await;
        assert_eq!(
            keys_of(&rest.items),
            vec![keys[MAX_SCAN_LIMIT].clone()],
            "the page after the clamped one"
        );
    }
    assert_eq!(keys_of(&scan_all(store, prefix, usize::MAX).await), keys);
}

/// Following `next` cursors returns every key exactly once, in order, for any page size; a
/// cursor that is not a stored key works too; deleted keys disappear from later scans.
pub async fn scan_paging(store: &dyn Store) {
    let prefix = "contract/paging/";
    let mut keys: Vec<String> = (0..257u32)
        .map(|i| format!("{prefix}{:03}", (i * 7) % 257))
        .collect();
    for key in &keys {
        put(store, key, key.as_bytes(), Expect::Absent).await;
    }
    // A key in a neighbouring prefix must never show up.
    put(store, "contract/paging0", b"outside", Expect::Absent).await;
    keys = byte_sorted(&keys);

    for limit in [1, 2, 10, 64, 256, 257, 258, MAX_SCAN_LIMIT] {
        let items = scan_all(store, prefix, limit).await;
        assert_eq!(
            keys_of(&items),
            keys,
            "paging with limit {limit} must return every key exactly once"
        );
        for (key, item) in &items {
            assert_eq!(item.value, key.as_bytes(), "scan value of {key:?}");
        }
    }

    // A cursor between two keys continues at the next one.
    let between = format!("{prefix}100x");
    let page = scan(store, prefix, Some(&between), 3).await;
    assert_eq!(
        keys_of(&page.items),
        vec![
            format!("{prefix}101"),
            format!("{prefix}102"),
            format!("{prefix}103")
        ],
        "a cursor that is not a stored key"
    );

    // Deleting during paging: keys that exist throughout are still returned exactly once.
    let first = scan(store, prefix, None, 50).await;
    for key in keys.iter().skip(100).step_by(2) {
        delete(store, key, Expect::Any).await;
    }
    let mut seen = keys_of(&first.items);
    let mut after = first.next;
    while let Some(cursor) = after {
        let page = scan(store, prefix, Some(&cursor), 50).await;
        seen.extend(keys_of(&page.items));
        after = page.next;
    }
    let survivors: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 100 || (i - 100) % 2 == 1)
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(seen, survivors, "paging across deletes");
}

// ---------------------------------------------------------------------------------------------
// Sizes and values.

/// A value of exactly `MAX_VALUE_LEN` bytes round-trips; one byte more is `TooLarge` and
/// writes nothing.
pub async fn max_value(store: &dyn Store) {
    let key = "contract/max_value/k";
    let biggest = patterned(MAX_VALUE_LEN, 1);
    let v1 = put(store, key, &biggest, Expect::Absent).await;
    assert_holds(store, key, &biggest, v1, "a MAX_VALUE_LEN value").await;
    let page = scan(store, "contract/max_value/", None, 10).await;
    assert!(
        page.items.len() == 1 && page.items[0].1.value == biggest,
        "scan returns the whole MAX_VALUE_LEN value"
    );

    let too_big = patterned(MAX_VALUE_LEN + 1, 2);
    put_fails(
        store,
        key,
        &too_big,
        Expect::Version(v1),
        StoreError::TooLarge,
        "MAX_VALUE_LEN + 1",
    )
    .await;
    put_fails(
        store,
        key,
        &too_big,
        Expect::Any,
        StoreError::TooLarge,
        "MAX_VALUE_LEN + 1",
    )
    .await;
    assert_holds(
        store,
        key,
        &biggest,
        v1,
        "a too-large write changes nothing",
    )
    .await;

    let fresh = "contract/max_value/fresh";
    put_fails(
        store,
        fresh,
        &too_big,
        Expect::Absent,
        StoreError::TooLarge,
        "MAX_VALUE_LEN + 1",
    )
    .await;
    assert_missing(store, fresh, "a too-large create writes nothing").await;
    let v2 = put(store, fresh, b"small", Expect::Absent).await;
    assert_holds(
        store,
        fresh,
        b"small",
        v2,
        "the key is still free after the failed create",
    )
    .await;
}

/// Keys of exactly `MAX_KEY_LEN` bytes (ASCII or multi-byte) work everywhere; one byte more is
/// `TooLarge` and writes nothing.
pub async fn long_keys(store: &dyn Store) {
    let prefix = "contract/long_keys/";
    let ascii = format!("{prefix}{}", "k".repeat(MAX_KEY_LEN - prefix.len()));
    assert_eq!(ascii.len(), MAX_KEY_LEN);
    // Two-byte characters filling the rest; an odd remainder is padded with one ASCII byte.
    let room = MAX_KEY_LEN - prefix.len() - 1;
    let multi = format!("{prefix}m{}{}", "é".repeat(room / 2), "x".repeat(room % 2));
    assert_eq!(multi.len(), MAX_KEY_LEN);

    for key in [&ascii, &multi] {
        let v = put(store, key, b"long", Expect::Absent).await;
        assert_holds(store, key, b"long", v, "a MAX_KEY_LEN key").await;
        let v2 = put(store, key, b"longer", Expect::Version(v)).await;
        assert_holds(store, key, b"longer", v2, "CAS of a MAX_KEY_LEN key").await;
    }
    let items = scan_all(store, prefix, 10).await;
    assert_eq!(
        keys_of(&items),
        byte_sorted(&[ascii.clone(), multi.clone()]),
        "scan of MAX_KEY_LEN keys"
    );
    // A whole MAX_KEY_LEN key works as a scan prefix and as a cursor.
    let exact = scan(store, &ascii, None, 10).await;
    assert_eq!(
        keys_of(&exact.items),
        vec![ascii.clone()],
        "a MAX_KEY_LEN prefix"
    );
    let after = scan(store, prefix, Some(&ascii), 10).await;
    assert_eq!(
        keys_of(&after.items),
        vec![multi.clone()],
        "a MAX_KEY_LEN cursor"
    );

    let too_long = format!("{ascii}k");
    put_fails(
        store,
        &too_long,
        b"x",
        Expect::Absent,
        StoreError::TooLarge,
        "MAX_KEY_LEN + 1",
    )
    .await;
    put_fails(
        store,
        &too_long,
        b"x",
        Expect::Any,
        StoreError::TooLarge,
        "MAX_KEY_LEN + 1",
    )
    .await;
    let items = scan_all(store, prefix, 10).await;
    assert_eq!(items.len(), 2, "a too-long key writes nothing");

    for key in [&ascii, &multi] {
        delete(store, key, Expect::Any).await;
        assert_missing(store, key, "deleted MAX_KEY_LEN key").await;
    }
}

/// An empty value is a value: it exists, round-trips and is distinct from a missing key.
pub async fn empty_values(store: &dyn Store) {
    let key = "contract/empty/k";
    let v1 = put(store, key, b"", Expect::Absent).await;
    assert_holds(store, key, b"", v1, "an empty value").await;
    put_fails(
        store,
        key,
        b"again",
        Expect::Absent,
        StoreError::Conflict,
        "an empty value still exists",
    )
    .await;
    let v2 = put(store, key, b"full", Expect::Version(v1)).await;
    let v3 = put(store, key, b"", Expect::Version(v2)).await;
    assert_holds(store, key, b"", v3, "back to empty").await;
    let page = scan(store, "contract/empty/", None, 10).await;
    assert_eq!(
        page.items,
        vec![(
            key.to_string(),
            Versioned {
                value: Vec::new(),
                version: v3
            }
        )],
        "scan returns empty values"
    );
}

/// Values are opaque bytes: every byte value, NULs and invalid UTF-8 included, round-trips.
pub async fn binary_values(store: &dyn Store) {
    let key = "contract/binary/k";
    let mut value: Vec<u8> = (0..=255u8).collect();
    value.extend_from_slice(&[0, 0, 0xFF, 0xFE, 0xC3, 0x28, 0x80]);
    let v = put(store, key, &value, Expect::Absent).await;
    assert_holds(store, key, &value, v, "binary value").await;
    let page = scan(store, "contract/binary/", None, 10).await;
    assert_eq!(
        page.items,
        vec![(key.to_string(), Versioned { value, version: v })],
        "scan of a binary value"
    );
}
