//! The futures the ports return: boxed (so the port traits stay object-safe), and `Send` only
//! where the runtime wants it (feature `send`: the multi-threaded host), never on Workers or in
//! the Wasm guest, whose futures are `!Send`.

use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;

#[cfg(feature = "send")]
mod bounds {
    /// `Send` when the `send` feature is on, nothing otherwise.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}
    /// `Sync` when the `send` feature is on, nothing otherwise.
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}
    /// A boxed future, `Send` under the `send` feature.
    pub type BoxFuture<'a, T> =
        core::pin::Pin<alloc::boxed::Box<dyn core::future::Future<Output = T> + Send + 'a>>;
}
#[cfg(not(feature = "send"))]
mod bounds {
    /// `Send` when the `send` feature is on, nothing otherwise.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}
    /// `Sync` when the `send` feature is on, nothing otherwise.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}
    /// A boxed future, `Send` under the `send` feature.
    pub type BoxFuture<'a, T> =
        core::pin::Pin<alloc::boxed::Box<dyn core::future::Future<Output = T> + 'a>>;
}
pub use bounds::{BoxFuture, MaybeSend, MaybeSync};

/// Boxes a future as a [`BoxFuture`].
pub fn boxed<'a, T>(future: impl Future<Output = T> + MaybeSend + 'a) -> BoxFuture<'a, T> {
    let pinned: Pin<Box<_>> = Box::pin(future);
    pinned
}
