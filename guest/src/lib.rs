//! # cognate-core-guest
//!
//! The core's Wasm guest build: what `cognate serve --engine wasm` runs inside wasmtime. Built
//! for `wasm32-unknown-unknown` (the host's build script does it), it exports
//!
//! - `memory`;
//! - `handle(len: i32) -> i64`: a request frame in (see [`abi`]; the host stages its `len` bytes
//!   and the guest copies them in with the `take_result` import), a response frame out, packed as
//!   `(ptr << 32) | len` and valid until the next `handle`;
//! - `abi_version() -> i32`: the [`abi::FRAME_VERSION`] it speaks; the host refuses a guest of
//!   another version when it loads it;
//! - `store_contract(len: i32) -> i32`: runs one check of the storage contract suite, named by
//!   the staged bytes, against the host's store through the store imports (the host's tests call
//!   it, so the suite covers this artifact's store path),
//!
//! and imports every port from the module `cognate` ([`abi::imports`]). Inside, the core's
//! async [`Service::handle`](cognate_core::Service::handle) is driven by a small executor. A
//! port call starts on the host and, unless its answer is there at once, stays in flight while
//! the core polls its other futures, so concurrent core code (the ID and access token
//! signatures, racing writes) keeps several calls in flight, as natively. When nothing can
//! progress, the guest calls `call_wait` and the host suspends it on a fiber until an answer
//! arrives (SQLite, the argon2 pool, a plugin).
//!
//! On other targets the crate is only the [`abi`] module, which the host uses to encode and
//! decode the same frames.
//!
//! ## Security
//! - The guest holds no request's state beyond it: an instance the host reuses frees the
//!   request frame, the previous response and stale wakers itself, and its allocator relies on
//!   it (the next request takes the request heap's region back whole, `request_heap`: state
//!   kept across requests would be overwritten); freed heap memory is not wiped
//!   (the core is safe Rust and never reads memory it has not written). The one thing an
//!   instance keeps is its table of decoded configuration records (pools, app clients, signing
//!   keys: `cognate_core::decoded`), each the decoding of one stored version, allocated outside
//!   the region and bounded. With `--wasm-requests-per-instance 1` every request gets a fresh
//!   instance.
//! - Secrets (passwords, signing keys, codes) cross the boundary only as port arguments, in this
//!   process's memory; nothing here logs them. A panic's message goes to the host log: the core
//!   does not put secrets in panic messages (it has no panics on request paths at all).
// no_std on wasm32 (the guest); natively the crate links std, which its cdylib target needs.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod abi;

#[cfg(target_arch = "wasm32")]
mod guest;

// The guest's allocator; natively only its arithmetic, for its tests.
#[cfg(any(target_arch = "wasm32", test))]
mod request_heap;
