//! The storage contract suite against [`PostgresStore`] on a real PostgreSQL server, through
//! both engines: natively (the host calls the store) and through the Wasm core's store imports
//! (each check runs inside the guest, as `store_contract_wasm.rs` does on SQLite). Every test
//! gets a fresh database. Plus what only a shared database has: two stores (two hosts) on one
//! database, a restart, a database that is down at start and comes back.
//!
//! They need a server: `COGNATE_TEST_POSTGRES` = a URL whose role may create databases
//! (`scripts/with-postgres.sh` starts a throwaway one and sets it). Without it they are ignored;
//! `scripts/test-postgres.sh` runs them with `--ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use cognate_core::Config;
use cognate_core::store::{Expect, Store, StoreError, contract};
use cognate_host::HostEnv;
use cognate_host::engine::{WasmCore, WasmLimits};
use cognate_host::store_postgres::{self, PostgresStore};

/// The server the tests create their databases on.
fn admin_url() -> String {
    match std::env::var("COGNATE_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "set COGNATE_TEST_POSTGRES to a PostgreSQL URL whose role may create databases \
             (scripts/with-postgres.sh cargo test ... -- --ignored)"
        ),
    }
}

/// A new, empty database, as a URL.
async fn fresh_url() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "cognate_contract_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    store_postgres::create_database(&admin_url(), &name)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn fresh() -> PostgresStore {
    let store = PostgresStore::new(&fresh_url().await).unwrap();
    store.connect().await.unwrap();
    store
}

/// One compiled core for the whole file (compiling takes seconds; instances are per check).
fn core() -> &'static WasmCore {
    static CORE: OnceLock<WasmCore> = OnceLock::new();
    CORE.get_or_init(|| {
        WasmCore::new(
            &Config::new("http://contract.local", "us-east-1"),
            None,
            WasmLimits::default(),
        )
        .unwrap()
    })
}

macro_rules! native_tests {
    ($($check:ident),* $(,)?) => {
        mod native {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
                async fn $check() {
                    let store = fresh().await;
                    contract::$check(&store).await;
                }
            )*
        }
    };
}

macro_rules! wasm_tests {
    ($($check:ident),* $(,)?) => {
        mod wasm {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
                async fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store: Arc<dyn Store> = Arc::new(fresh().await);
                    let env = Arc::new(HostEnv::native(store, dir.path()).unwrap());
                    let ran = core()
                        .run_store_contract(stringify!($check), env)
                        .await
                        .unwrap_or_else(|e| panic!("{e:#}"));
                    assert!(ran, "the guest does not know the check {}", stringify!($check));
                }
            )*
        }
    };
}

cognate_core::contract_checks!(native_tests);
cognate_core::contract_checks!(wasm_tests);

/// `sslmode=require`: the connection is TLS (the server says so), the certificate is checked
/// against `sslrootcert`, and a server whose CA is not trusted is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn tls_when_the_url_asks_for_it() {
    let ca = std::env::var("COGNATE_TEST_POSTGRES_CA")
        .expect("COGNATE_TEST_POSTGRES_CA (scripts/with-postgres.sh sets it)");
    let url = fresh_url().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = PostgresStore::new(&format!(
        "{url}{sep}sslmode=require&sslrootcert={ca}&application_name=cognate_tls_check"
    ))
    .unwrap();
    store.connect().await.unwrap();
    contract::run_all(&store).await;

    let (admin, connection) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = 'cognate_tls_check'",
            &[],
        )
        .await
        .unwrap();
    let (tls, all): (i64, i64) = (row.get(0), row.get(1));
    assert!(all > 0 && tls == all, "{tls} of {all} connections use TLS");
    drop(admin);
    let _ = driver.await;

    // Mozilla's roots only: the test CA is not among them, so nothing connects.
    let untrusted = PostgresStore::new(&format!("{url}{sep}sslmode=require")).unwrap();
    assert!(
        matches!(untrusted.connect().await, Err(StoreError::Unavailable(_))),
        "a certificate from an untrusted CA was accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn run_all_on_one_database() {
    contract::run_all(&fresh().await).await;
}

/// Two stores on one database are two hosts: create-only writes through either are exclusive
/// and visible to the other at once, and versions come from one counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn two_stores_on_one_database_agree() {
    let url = fresh_url().await;
    let a = PostgresStore::new(&url).unwrap();
    let b = PostgresStore::new(&url).unwrap();
    let va = a.put("shared/k", b"from a", Expect::Absent).await.unwrap();
    assert_eq!(
        b.put("shared/k", b"from b", Expect::Absent).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(b.get("shared/k").await.unwrap().unwrap().version, va);
    let vb = b
        .put("shared/k", b"b's update", Expect::Version(va))
        .await
        .unwrap();
    assert!(vb > va);
    assert_eq!(
        a.put("shared/k", b"a's stale update", Expect::Version(va))
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        a.get("shared/k").await.unwrap().unwrap().value,
        b"b's update"
    );

    // 100 racing create-only puts of one key, half through each store: exactly one wins.
    let racers = (0..100u32).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            store
                .put("shared/race", format!("{i}").as_bytes(), Expect::Absent)
                .await
        })
    });
    let mut won = 0;
    for racer in racers.collect::<Vec<_>>() {
        match racer.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("a racing create failed otherwise: {e}"),
        }
    }
    assert_eq!(won, 1, "racing creates through two stores: {won} won");
}

/// Data and versions survive a new pool (a restart): a version issued before is never issued
/// again, even for a key deleted before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn data_and_versions_survive_a_restart() {
    let url = fresh_url().await;
    let (kept, gone) = {
        let store = PostgresStore::new(&url).unwrap();
        let kept = store
            .put("restart/kept", b"kept", Expect::Absent)
            .await
            .unwrap();
        let gone = store
            .put("restart/gone", b"gone", Expect::Absent)
            .await
            .unwrap();
        store
            .delete("restart/gone", Expect::Version(gone))
            .await
            .unwrap();
        (kept, gone)
    };
    let store = PostgresStore::new(&url).unwrap();
    let found = store.get("restart/kept").await.unwrap().unwrap();
    assert_eq!(
        (found.value.as_slice(), found.version),
        (&b"kept"[..], kept)
    );
    assert!(store.get("restart/gone").await.unwrap().is_none());
    let reborn = store
        .put("restart/gone", b"again", Expect::Absent)
        .await
        .unwrap();
    assert!(reborn > gone && reborn > kept);
    assert_eq!(
        store
            .put("restart/gone", b"aba", Expect::Version(gone))
            .await,
        Err(StoreError::Conflict)
    );
}

/// A database that does not answer gives a retryable `Unavailable` (never a panic, never a
/// hang); when it comes back, the same store works, creating its schema then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_database_that_is_down_gives_unavailable_then_recovers() {
    let real = fresh_url().await;
    let config: tokio_postgres::Config = real.parse().unwrap();
    let real_port = *config.get_ports().first().unwrap_or(&5432);
    // A port nothing listens on yet: the database is "down".
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let down = real.replace(&format!(":{real_port}/"), &format!(":{port}/"));
    let store = PostgresStore::new(&down).unwrap();
    match store.get("k").await {
        Err(StoreError::Unavailable(why)) => {
            assert!(why.contains("cannot connect"), "{why}");
            // Clients see this text (InternalErrorException): not where the database is.
            assert!(!why.contains(&format!("{port}")), "{why}");
        }
        other => panic!("a get with the database down gave {other:?}"),
    }
    assert!(matches!(
        store.put("k", b"v", Expect::Absent).await,
        Err(StoreError::Unavailable(_))
    ));

    // The database "comes back": a plain TCP relay to the real server on that port.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let relay = tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", real_port)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let version = store.put("k", b"v", Expect::Absent).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().version, version);
    relay.abort();
}

/// Hosts starting together on a new database all create the schema at once: every one of them
/// starts (a lost `CREATE ... IF NOT EXISTS` race is retried), and they share one schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn hosts_starting_together_on_a_new_database_all_start() {
    let url = fresh_url().await;
    let stores: Vec<PostgresStore> = (0..6).map(|_| PostgresStore::new(&url).unwrap()).collect();
    let starts = stores
        .iter()
        .cloned()
        .map(|store| tokio::spawn(async move { store.connect().await }));
    for start in starts.collect::<Vec<_>>() {
        start
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("a racing start failed: {e}"));
    }
    let version = stores[0].put("k", b"v", Expect::Absent).await.unwrap();
    for store in &stores {
        assert_eq!(store.get("k").await.unwrap().unwrap().version, version);
    }
}
