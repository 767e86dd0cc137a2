//! The storage contract suite against [`SqliteStore`], one test per check, each on a fresh
//! database in a temporary directory; plus restart durability.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cognate_core::store::contract;
use cognate_core::{Expect, Store};
use cognate_host::SqliteStore;
use cognate_host::data_dir_lock::DataDirLock;

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("cognate.db")).unwrap();
    (dir, store)
}

/// A store that owns its data directory, which answers point reads from its read cache: the
/// cache must change nothing a caller can observe.
fn fresh_owned() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let owner = DataDirLock::try_acquire(dir.path()).unwrap().unwrap();
    let store = SqliteStore::open_owned(dir.path().join("cognate.db"), owner).unwrap();
    assert!(store.caches_reads());
    (dir, store)
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {$(
        // Multi-threaded, so the racing checks really race on the blocking pool.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (_dir, store) = fresh();
            contract::$check(&store).await;
        }
    )*};
}

/// The whole suite in module `$suite`, one test per check and all of them on one database,
/// each on a fresh store from `$fresh`.
macro_rules! contract_suite {
    ($suite:ident, $fresh:ident) => {
        mod $suite {
            use super::$fresh as fresh;
            use super::*;

            cognate_core::contract_checks!(contract_tests);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn run_all_on_one_database() {
                let (_dir, store) = fresh();
                contract::run_all(&store).await;
            }
        }
    };
}

contract_suite!(plain, fresh);
contract_suite!(owned, fresh_owned);

/// Data and the version counter survive closing and reopening the file: a version issued
/// before the restart is never issued again, even for a key deleted before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_versions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.db");
    let (kept_version, deleted_version, last_before) = {
        let store = SqliteStore::open(&path).unwrap();
        let kept = store
            .put("restart/kept", b"kept value", Expect::Absent)
            .await
            .unwrap();
        let gone = store
            .put("restart/gone", b"gone", Expect::Absent)
            .await
            .unwrap();
        let gone = store
            .put("restart/gone", b"gone 2", Expect::Version(gone))
            .await
            .unwrap();
        store
            .delete("restart/gone", Expect::Version(gone))
            .await
            .unwrap();
        let last = store.last_version().await.unwrap();
        assert_eq!(last, gone);
        (kept, gone, last)
    };

    let store = SqliteStore::open(&path).unwrap();
    let kept = store.get("restart/kept").await.unwrap().unwrap();
    assert_eq!(kept.value, b"kept value");
    assert_eq!(kept.version, kept_version);
    assert!(store.get("restart/gone").await.unwrap().is_none());
    assert_eq!(store.last_version().await.unwrap(), last_before);

    // A CAS against the pre-restart version still works...
    let v = store
        .put("restart/kept", b"updated", Expect::Version(kept_version))
        .await
        .unwrap();
    assert!(
        v > last_before,
        "the counter went backwards after a restart: {v} <= {last_before}"
    );
    // ...and the deleted key's old version is never issued again.
    let reborn = store
        .put("restart/gone", b"reborn", Expect::Absent)
        .await
        .unwrap();
    assert!(reborn > deleted_version);
    assert!(
        store
            .put("restart/gone", b"aba", Expect::Version(deleted_version))
            .await
            .is_err()
    );
}

/// Two handles on one file (two processes, or a restart racing the old one) still agree:
/// create-only writes through either are exclusive and visible to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let va = a.put("shared/k", b"from a", Expect::Absent).await.unwrap();
    assert!(b.put("shared/k", b"from b", Expect::Absent).await.is_err());
    assert_eq!(b.get("shared/k").await.unwrap().unwrap().version, va);
    let vb = b
        .put("shared/other", b"from b", Expect::Absent)
        .await
        .unwrap();
    assert!(vb > va, "the counter is shared through the file");
}

/// What the read cache adds, on a store that owns its data directory.
mod cache {
    use super::*;

    /// The cache really answers: a change made behind the store's back (which the data
    /// directory's lock exists to forbid) is not seen by cached keys, while writes through the
    /// store are seen at once, by single and multi-key reads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn point_reads_come_from_memory_and_writes_through_the_store_refresh_them() {
        let (dir, store) = fresh_owned();
        let v1 = store.put("user/a", b"one", Expect::Absent).await.unwrap();
        store.put("pool/p", b"pool", Expect::Absent).await.unwrap();
        let keys = [
            "user/a".to_owned(),
            "pool/p".to_owned(),
            "gone/x".to_owned(),
        ];
        let first = store.get_many(&keys).await.unwrap();
        assert_eq!(first[0].as_ref().unwrap().value, b"one");
        assert!(first[2].is_none());

        let outsider = rusqlite::Connection::open(dir.path().join("cognate.db")).unwrap();
        outsider
            .execute(
                "UPDATE kv SET value = x'6f74686572' WHERE key = x'757365722f61'",
                [],
            )
            .unwrap();
        outsider
            .execute(
                "INSERT INTO kv (key, value, version) VALUES (x'676f6e652f78', x'00', 999)",
                [],
            )
            .unwrap();
        let cached = store.get_many(&keys).await.unwrap();
        assert_eq!(cached, first, "answered from memory, not from the file");
        assert_eq!(store.get("user/a").await.unwrap(), first[0]);

        let v2 = store
            .put("user/a", b"two", Expect::Version(v1))
            .await
            .unwrap();
        let after = store.get_many(&keys).await.unwrap();
        assert_eq!(after[0].as_ref().unwrap().value, b"two");
        assert_eq!(after[0].as_ref().unwrap().version, v2);
        store.delete("user/a", Expect::Version(v2)).await.unwrap();
        assert!(store.get("user/a").await.unwrap().is_none());
    }
}
