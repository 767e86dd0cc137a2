//! Workers KV as a read cache, never as the source of truth.
//!
//! KV is replicated and eventually consistent (60 s or more to propagate; one write per second
//! per key), so it may only hold data whose staleness is harmless and that is not secret:
//! - pool records (`pool/<id>`: settings, schema, password policy; no secrets), read on
//!   almost every request, cached by [`CachedStore`] with a TTL and dropped on every write;
//! - JWKS documents (public keys), cached by the HTTP layer ([`crate::jwks_cached`]).
//!
//! Everything else, users, aliases, codes, refresh tokens, counters, signing keys and client
//! secrets, is read from the Durable Objects on every request, so no KV entry, however stale,
//! can bring back a deleted user or a revoked token.

use base64ct::{Base64, Encoding as _};
use cognate_core::ports::{BoxFuture, boxed};
use cognate_core::store::{Expect, Page, Store, StoreError, Versioned};
use serde::{Deserialize, Serialize};
use worker::kv::KvStore;
use worker::send::{SendFuture, SendWrapper};

/// The KV entry that caches `key`.
pub fn cache_key(key: &str) -> String {
    format!("cache/v1/{key}")
}

/// The keys [`CachedStore`] serves from KV: the core's read-mostly, non-secret records.
pub fn cacheable(key: &str) -> bool {
    cognate_core::store::keys::is_read_mostly(key)
}

#[derive(Serialize, Deserialize)]
struct Entry {
    /// Standard base64 of the value.
    v: String,
    n: u64,
}

/// The core's [`Store`] over an authoritative store, with [`cacheable`] reads served from KV.
pub struct CachedStore<S> {
    inner: S,
    kv: Option<SendWrapper<KvStore>>,
    ttl_seconds: u64,
}

impl<S> core::fmt::Debug for CachedStore<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CachedStore")
            .field("kv", &self.kv.is_some())
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

impl<S: Store> CachedStore<S> {
    /// `kv` `None` disables caching. KV's minimum TTL is 60 s.
    pub fn new(inner: S, kv: Option<KvStore>, ttl_seconds: u64) -> Self {
        Self {
            inner,
            kv: kv.map(SendWrapper::new),
            ttl_seconds: ttl_seconds.max(60),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn cached(&self, key: &str) -> Option<Versioned> {
        let kv = self.kv.as_ref()?;
        let text = kv.0.get(&cache_key(key)).text().await.ok()??;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        Some(Versioned {
            value: Base64::decode_vec(&entry.v).ok()?,
            version: entry.n,
        })
    }

    async fn fill(&self, key: &str, item: &Versioned) {
        let Some(kv) = &self.kv else { return };
        let entry = Entry {
            v: Base64::encode_string(&item.value),
            n: item.version,
        };
        let Ok(text) = serde_json::to_string(&entry) else {
            return;
        };
        // A failed cache fill costs only a later miss.
        if let Ok(put) = kv.0.put(&cache_key(key), text) {
            let _ = put.expiration_ttl(self.ttl_seconds).execute().await;
        }
    }

    async fn invalidate(&self, key: &str) {
        if let Some(kv) = &self.kv {
            let _ = kv.0.delete(&cache_key(key)).await;
        }
    }

    async fn get_inner(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        if !cacheable(key) {
            return self.inner.get(key).await;
        }
        if let Some(hit) = self.cached(key).await {
            return Ok(Some(hit));
        }
        let found = self.inner.get(key).await?;
        if let Some(item) = &found {
            self.fill(key, item).await;
        }
        Ok(found)
    }

    async fn put_inner(&self, key: &str, value: &[u8], expect: Expect) -> Result<u64, StoreError> {
        let result = self.inner.put(key, value, expect).await;
        // Dropped on success and on a conflict alike: a compare-and-set that failed against a
        // stale cached version must find the current one when it retries.
        if cacheable(key) {
            self.invalidate(key).await;
        }
        result
    }

    async fn delete_inner(&self, key: &str, expect: Expect) -> Result<(), StoreError> {
        let result = self.inner.delete(key, expect).await;
        if cacheable(key) {
            self.invalidate(key).await;
        }
        result
    }
}

impl<S: Store> Store for CachedStore<S> {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(SendFuture::new(self.get_inner(key)))
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(SendFuture::new(self.put_inner(key, value, expect)))
    }
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(SendFuture::new(self.delete_inner(key, expect)))
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        // Scans (listing, indexes) always read the authoritative store.
        self.inner.scan(prefix, after, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pool_records_are_cached() {
        assert!(cacheable("pool/us-east-1_abc"));
        for key in [
            "c/client",
            "p/us-east-1_abc/keys",
            "p/us-east-1_abc/c/x",
            "p/us-east-1_abc/u/alice",
            "p/us-east-1_abc/a/email/alice@example.com",
        ] {
            assert!(!cacheable(key), "{key} must not be cached in KV");
        }
    }
}
