//! `cognate backup` and `cognate restore`, run as the binary: a backup taken while a writer keeps
//! writing is one consistent snapshot, and it restores into a new data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cognate_core::store::{Expect, Store as _};
use cognate_host::SqliteStore;
use cognate_host::data_dir_lock::DataDirLock;
use cognate_host::server::DB_FILE_NAME;

fn cognate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(args)
        .output()
        .expect("runs the cognate binary")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_one_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let store = SqliteStore::open(live.join(DB_FILE_NAME)).unwrap();
    for i in 0..200 {
        store
            .put(&format!("user/{i:04}"), b"{\"n\":0}", Expect::Absent)
            .await
            .unwrap();
    }
    // A writer keeps moving every record forward in lockstep pairs (a then b) while the backup
    // runs: a snapshot never shows b ahead of a.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                store
                    .put("pair/a", round.to_string().as_bytes(), Expect::Any)
                    .await
                    .unwrap();
                store
                    .put("pair/b", round.to_string().as_bytes(), Expect::Any)
                    .await
                    .unwrap();
            }
            round
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let backup_file = dir.path().join("backup.db");
    let out = tokio::task::spawn_blocking({
        let (live, backup_file) = (live.clone(), backup_file.clone());
        move || cognate(&["backup", path(&backup_file), "--data", path(&live)])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.await.unwrap();
    assert!(rounds > 0);

    // A second backup to the same file is refused; so is a restore over a store.
    let again = cognate(&["backup", path(&backup_file), "--data", path(&live)]);
    assert!(!again.status.success());
    let over = cognate(&["restore", path(&backup_file), "--data", path(&live)]);
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("--replace"));
    // A file that is not a Cognate store is refused.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let fresh = dir.path().join("fresh");
    assert!(
        !cognate(&["restore", path(&junk), "--data", path(&fresh)])
            .status
            .success()
    );

    let out = cognate(&["restore", path(&backup_file), "--data", path(&fresh)]);
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = SqliteStore::open(fresh.join(DB_FILE_NAME)).unwrap();
    for i in [0, 99, 199] {
        let item = restored
            .get(&format!("user/{i:04}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(item.value, b"{\"n\":0}");
    }
    let read = |v: Option<cognate_core::store::Versioned>| -> u64 {
        v.map_or(0, |v| String::from_utf8(v.value).unwrap().parse().unwrap())
    };
    let a = read(restored.get("pair/a").await.unwrap());
    let b = read(restored.get("pair/b").await.unwrap());
    assert!(a == b || a == b + 1, "a snapshot: a={a} b={b}");
    // Versions keep growing after a restore (no version is issued twice).
    let before = restored.last_version().await.unwrap();
    let v = restored.put("after", b"x", Expect::Absent).await.unwrap();
    assert!(v > before);
    // --replace refuses while a server holds the directory (this test's lock stands for one)...
    drop(restored);
    let server = DataDirLock::try_acquire(&fresh).unwrap().unwrap();
    let restore_over = || {
        cognate(&[
            "restore",
            path(&backup_file),
            "--replace",
            "--data",
            path(&fresh),
        ])
    };
    let out = restore_over();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server is running"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        SqliteStore::open(fresh.join(DB_FILE_NAME))
            .unwrap()
            .get("after")
            .await
            .unwrap()
            .is_some(),
        "the refused restore left the store alone"
    );
    // ...and puts the backup over the store once it is stopped.
    drop(server);
    let out = restore_over();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replaced = SqliteStore::open(fresh.join(DB_FILE_NAME)).unwrap();
    assert!(replaced.get("after").await.unwrap().is_none());
}
