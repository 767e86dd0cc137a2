//! JSON records on the store ([`crate::store`]): a typed read with its version, and the read-modify-write that
//! every mutable record uses (a compare-and-set, retried when another writer got there first),
//! so no caller writes its own retry loop.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::store::{Expect, Store, StoreError};

/// How often a read-modify-write retries after losing a race before it gives up.
const ATTEMPTS: usize = 8;

/// The record at `key` and its version, if it exists.
pub async fn get_json<T: DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> Result<Option<(T, u64)>, Error> {
    match store.get(key).await? {
        Some(item) => Ok(Some((serde_json::from_slice(&item.value)?, item.version))),
        None => Ok(None),
    }
}

/// Applies `change` to the record at `key` and writes it back only if nobody wrote it in
/// between; on a lost race it reads again and re-applies `change` (which must therefore only
/// depend on the record it is given). Answers the record as written. `missing` is the error
/// when the record does not exist; `busy` when writers kept colliding.
pub async fn modify_json<T: Serialize + DeserializeOwned>(
    store: &dyn Store,
    key: &str,
    missing: impl Fn() -> Error,
    busy: impl FnOnce() -> Error,
    mut change: impl FnMut(&mut T) -> Result<(), Error>,
) -> Result<T, Error> {
    for _ in 0..ATTEMPTS {
        let (mut record, version) = get_json::<T>(store, key).await?.ok_or_else(&missing)?;
        change(&mut record)?;
        let bytes = serde_json::to_vec(&record)?;
        match store.put(key, &bytes, Expect::Version(version)).await {
            Ok(_) => return Ok(record),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use futures_util::FutureExt;

    use super::*;
    use crate::error::ErrorKind;
    use crate::store::MemoryStore;

    #[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
    struct Counter {
        n: u32,
    }

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        f.now_or_never().expect("the memory store never pends")
    }

    fn missing() -> Error {
        Error::resource_not_found("no counter")
    }

    fn busy() -> Error {
        Error::new(ErrorKind::TooManyRequests, "busy")
    }

    #[test]
    fn a_change_is_written_and_answered() {
        let store = MemoryStore::new();
        run(store.put("c", br#"{"n":1}"#, Expect::Absent)).unwrap();
        let out: Counter = run(modify_json(
            &store,
            "c",
            missing,
            busy,
            |c: &mut Counter| {
                c.n += 1;
                Ok(())
            },
        ))
        .unwrap();
        assert_eq!(out, Counter { n: 2 });
        assert_eq!(
            run(get_json::<Counter>(&store, "c")).unwrap().unwrap().0,
            out
        );
    }

    #[test]
    fn a_missing_record_and_a_refused_change_write_nothing() {
        let store = MemoryStore::new();
        let e = run(modify_json(
            &store,
            "c",
            missing,
            busy,
            |_: &mut Counter| Ok(()),
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ResourceNotFound);
        run(store.put("c", br#"{"n":1}"#, Expect::Absent)).unwrap();
        let e = run(modify_json(
            &store,
            "c",
            missing,
            busy,
            |c: &mut Counter| {
                c.n = 9;
                Err(Error::invalid_parameter("no"))
            },
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameter);
        assert_eq!(
            run(get_json::<Counter>(&store, "c")).unwrap().unwrap().0.n,
            1
        );
    }

    #[test]
    fn a_lost_race_is_retried_on_the_new_record() {
        let store = MemoryStore::new();
        run(store.put("c", br#"{"n":1}"#, Expect::Absent)).unwrap();
        let mut calls = 0;
        let out: Counter = run(modify_json(
            &store,
            "c",
            missing,
            busy,
            |c: &mut Counter| {
                calls += 1;
                if calls == 1 {
                    // Another writer gets in between this read and this write.
                    run(store.put("c", br#"{"n":10}"#, Expect::Any)).unwrap();
                }
                c.n += 1;
                Ok(())
            },
        ))
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(out.n, 11);
    }

    #[test]
    fn writers_that_always_collide_get_busy() {
        let store = MemoryStore::new();
        run(store.put("c", br#"{"n":1}"#, Expect::Absent)).unwrap();
        let e = run(modify_json(
            &store,
            "c",
            missing,
            busy,
            |c: &mut Counter| {
                run(store.put("c", br#"{"n":0}"#, Expect::Any)).unwrap();
                c.n += 1;
                Ok(())
            },
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooManyRequests);
    }
}
