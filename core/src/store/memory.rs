//! The in-memory engine, for tests and examples. One mutex around a `BTreeMap`: every operation
//! is atomic, and versions come from one counter so they are never reused.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::sync::Mutex;

use super::{Expect, MAX_SCAN_LIMIT, Page, Store, StoreError, Versioned, check_limits};
use crate::future::{BoxFuture, boxed};

/// An in-memory [`Store`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<String, Versioned>,
    last_version: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T, StoreError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".to_string()))?;
        Ok(f(&mut state))
    }
}

fn holds(current: Option<&Versioned>, expect: Expect) -> bool {
    match (expect, current) {
        (Expect::Any, _) => true,
        (Expect::Absent, None) => true,
        (Expect::Version(v), Some(item)) => item.version == v,
        _ => false,
    }
}

impl Store for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(async move { self.with_state(|s| s.entries.get(key).cloned()) })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(async move {
            check_limits(key, value)?;
            self.with_state(|s| {
                if !holds(s.entries.get(key), expect) {
                    return Err(StoreError::Conflict);
                }
                s.last_version += 1;
                let version = s.last_version;
                s.entries.insert(
                    key.to_string(),
                    Versioned {
                        value: value.to_vec(),
                        version,
                    },
                );
                Ok(version)
            })?
        })
    }

    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(async move {
            self.with_state(|s| {
                let current = s.entries.get(key);
                if current.is_none() && expect == Expect::Any {
                    return Ok(());
                }
                if !holds(current, expect) {
                    return Err(StoreError::Conflict);
                }
                s.entries.remove(key);
                Ok(())
            })?
        })
    }

    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        boxed(async move {
            let limit = limit.clamp(1, MAX_SCAN_LIMIT);
            self.with_state(|s| {
                use core::ops::Bound;
                let start = match after {
                    Some(cursor) if cursor >= prefix => Bound::Excluded(cursor.to_string()),
                    _ => Bound::Included(prefix.to_string()),
                };
                let mut items: Vec<(String, Versioned)> = s
                    .entries
                    .range((start, Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .take(limit + 1)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let next = if items.len() > limit {
                    items.truncate(limit);
                    items.last().map(|(k, _)| k.clone())
                } else {
                    None
                };
                Page { items, next }
            })
        })
    }
}

// The contract suite lives behind the `contract` feature (it ships for other engines' tests);
// `cargo test -p cognate-core --features contract` runs it here.
#[cfg(test)]
mod contract_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::MemoryStore;
    use crate::store::contract;
    use core::future::Future;
    use core::task::{Context, Poll, Waker};

    /// Polls to completion on this thread. The memory store never waits on anything, so its
    /// futures are ready at once; the loop only guards against a future that yields.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::yield_now();
        }
    }

    macro_rules! contract_tests {
        ($($check:ident),* $(,)?) => {$(
            #[test]
            fn $check() {
                block_on(contract::$check(&MemoryStore::new()));
            }
        )*};
    }

    crate::contract_checks!(contract_tests);

    #[test]
    fn run_all_on_one_store() {
        block_on(contract::run_all(&MemoryStore::new()));
    }

    /// Every name in `CHECKS` runs a check (on a fresh store each: a check runs once per
    /// store), and an unknown name runs nothing.
    #[test]
    fn every_named_check_runs_and_unknown_names_do_not() {
        for check in contract::CHECKS {
            assert!(
                block_on(contract::run_check(&MemoryStore::new(), check)),
                "{check}"
            );
        }
        let store = MemoryStore::new();
        assert!(!block_on(contract::run_check(&store, "no_such_check")));
        assert!(!block_on(contract::run_check(&store, "")));
    }
}
