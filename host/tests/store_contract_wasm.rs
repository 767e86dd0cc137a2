//! The storage contract suite through the Wasm core's store imports: each check runs inside the
//! guest artifact the host serves requests with (its `store_contract` export), so every read and
//! write crosses the same ABI a request's do (guest encoding, async host function, SQLite, the
//! answer copied back), against a fresh SQLite database per check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use cognate_core::Config;
use cognate_core::ports::BoxFuture;
use cognate_core::store::{Expect, Page, Store, StoreError, Versioned};
use cognate_host::engine::{WasmCore, WasmLimits};
use cognate_host::{HostEnv, SqliteStore};

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

/// A fresh SQLite database in `dir`.
fn sqlite(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir.join("cognate.db")).unwrap()
}

fn env_over(store: Arc<dyn Store>, dir: &std::path::Path) -> Arc<HostEnv> {
    Arc::new(HostEnv::native(store, dir).unwrap())
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let dir = tempfile::tempdir().unwrap();
            let env = env_over(Arc::new(sqlite(dir.path())), dir.path());
            let ran = core()
                .run_store_contract(stringify!($check), env)
                .await
                .unwrap_or_else(|e| panic!("{e:#}"));
            assert!(ran, "the guest does not know the check {}", stringify!($check));
        }
    )*};
}

cognate_core::contract_checks!(contract_tests);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_check_is_refused_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let ran = core()
        .run_store_contract(
            "no_such_check",
            env_over(Arc::new(sqlite(dir.path())), dir.path()),
        )
        .await
        .unwrap();
    assert!(!ran);
}

/// SQLite with its puts changed, to prove what the tests below need.
#[derive(Debug)]
struct TwistedPuts {
    inner: SqliteStore,
    twist: Twist,
}

#[derive(Debug)]
enum Twist {
    /// Breaks the contract: create-only writes overwrite what is there.
    Overwrite,
    /// The first two puts wait for each other (a rendezvous): they answer only when two port
    /// calls are in flight on the host at the same time.
    Rendezvous {
        puts: AtomicUsize,
        both_in_flight: tokio::sync::Barrier,
    },
}

impl Store for TwistedPuts {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        self.inner.get(key)
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            match &self.twist {
                Twist::Overwrite if expect == Expect::Absent => {
                    return self.inner.put(key, value, Expect::Any).await;
                }
                Twist::Overwrite => {}
                Twist::Rendezvous {
                    puts,
                    both_in_flight,
                } => {
                    if puts.fetch_add(1, Ordering::SeqCst) < 2 {
                        both_in_flight.wait().await;
                    }
                }
            }
            self.inner.put(key, value, expect).await
        })
    }
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.delete(key, expect)
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        self.inner.scan(prefix, after, limit)
    }
}

/// The suite can fail through this path: a violation inside the guest comes back as an error
/// naming the property, and the core keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_breaks_the_contract_fails_the_check_inside_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    let store = TwistedPuts {
        inner: sqlite(dir.path()),
        twist: Twist::Overwrite,
    };
    let env = env_over(Arc::new(store), dir.path());
    let error = core()
        .run_store_contract("create_only", Arc::clone(&env))
        .await
        .expect_err("an overwriting store passed create_only");
    let text = format!("{error:#}");
    assert!(text.contains("the guest panicked"), "{text}");
    assert!(text.contains("contract/create_only/k"), "{text}");
    assert!(text.contains("the key exists"), "{text}");
    // What the guest saw is what the store holds: the first value was overwritten.
    let held = env
        .store
        .get("contract/create_only/k")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.value, b"second");
    let health = core()
        .handle(&cognate_core::Request::new("GET", "/health"), env)
        .await;
    assert_eq!(health.status, 200);
}

/// The core's concurrent futures (here `racing_creates`' `join_all` of puts) keep their port
/// calls in flight together on the host, as they do natively: with one call at a time, the
/// first put would wait for the second forever. (The timeout only turns that hang into a
/// failure; it asserts nothing about speed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_core_futures_have_their_port_calls_in_flight_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = TwistedPuts {
        inner: sqlite(dir.path()),
        twist: Twist::Rendezvous {
            puts: AtomicUsize::new(0),
            both_in_flight: tokio::sync::Barrier::new(2),
        },
    };
    let env = env_over(Arc::new(store), dir.path());
    let ran = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        core().run_store_contract("racing_creates", env),
    )
    .await
    .expect("the guest made one port call at a time: the rendezvous never happened")
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(ran);
}
