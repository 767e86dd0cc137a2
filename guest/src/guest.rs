//! The Wasm side: exports, imports, the ports over the imports and the executor.

// A panic is how the guest traps (the host turns it into a 500); `panic!` here is deliberate.
#![allow(clippy::panic)]

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use cognate_core::error::Error;
use cognate_core::ports::{
    BoxFuture, Clock, DeliveryRequest, Env, GeneratedKey, HashParams, InvocationError, Jws,
    JwsAlgorithm, Message, PasswordCheck, PasswordHasher, Random, Sender, Triggers, boxed,
};
use cognate_core::store::{Expect, Page, Store, StoreError, Versioned};
use cognate_core::{Secret, Service};

use crate::abi::{self, Wire};

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic is a bug: tell the host why, then trap. The host fails this request with a 500 and
/// throws the instance away.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write as _;
    let mut message = String::new();
    let _ = write!(message, "{}", info.message());
    if let Some(location) = info.location() {
        let _ = write!(message, " at {}:{}", location.file(), location.line());
    }
    // SAFETY: the host reads `len` bytes at `ptr` from this instance's memory.
    unsafe { host::panic(message.as_ptr(), message.len()) };
    core::arch::wasm32::unreachable()
}

mod host {
    #[link(wasm_import_module = "cognate")]
    unsafe extern "C" {
        pub fn now_millis() -> i64;
        pub fn random_fill(ptr: *mut u8, len: usize);
        pub fn take_result(ptr: *mut u8);
        pub fn panic(ptr: *const u8, len: usize);
        pub fn store_get(ptr: *const u8, len: usize) -> i64;
        pub fn store_put(ptr: *const u8, len: usize) -> i64;
        pub fn store_delete(ptr: *const u8, len: usize) -> i64;
        pub fn store_scan(ptr: *const u8, len: usize) -> i64;
        pub fn jws_generate(ptr: *const u8, len: usize) -> i64;
        pub fn jws_sign(ptr: *const u8, len: usize) -> i64;
        pub fn jws_verify(ptr: *const u8, len: usize) -> i64;
        pub fn password_hash(ptr: *const u8, len: usize) -> i64;
        pub fn password_verify(ptr: *const u8, len: usize) -> i64;
        pub fn send(ptr: *const u8, len: usize) -> i64;
        pub fn deliver(ptr: *const u8, len: usize) -> i64;
        pub fn trigger_invoke(ptr: *const u8, len: usize) -> i64;
    }
}

type PortCall = unsafe extern "C" fn(*const u8, usize) -> i64;

/// One port call: the arguments encoded in, the answer copied out and decoded. The host
/// answers every call (failures are values in `R`); a malformed answer is a bug, so a panic.
fn call<A: Wire, R: Wire>(import: PortCall, args: A) -> R {
    let args = abi::encode(&args);
    // SAFETY: the host reads `args.len()` bytes at `args.as_ptr()`.
    let len = unsafe { import(args.as_ptr(), args.len()) };
    let Ok(len) = usize::try_from(len) else {
        panic!("a port call failed on the host ({len})");
    };
    let mut answer = Vec::with_capacity(len);
    // SAFETY: the host writes exactly `len` bytes (the answer it just reported) at the pointer,
    // which has room for them; `set_len` then covers only initialised bytes.
    unsafe {
        host::take_result(answer.as_mut_ptr());
        answer.set_len(len);
    }
    match abi::decode(&answer) {
        Ok(value) => value,
        Err(e) => panic!("a port answer did not decode: {e}"),
    }
}

/// The ports, each a thin wrapper over its import.
struct GuestEnv;

impl Clock for GuestEnv {
    fn now_millis(&self) -> u64 {
        // SAFETY: no arguments.
        let millis = unsafe { host::now_millis() };
        u64::try_from(millis).unwrap_or(0)
    }
}

impl Random for GuestEnv {
    fn fill(&self, buf: &mut [u8]) {
        // SAFETY: the host writes `buf.len()` bytes at `buf`.
        unsafe { host::random_fill(buf.as_mut_ptr(), buf.len()) }
    }
}

impl Store for GuestEnv {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(async move { call(host::store_get, (String::from(key),)) })
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(async move { call(host::store_put, (String::from(key), value.to_vec(), expect)) })
    }
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(async move { call(host::store_delete, (String::from(key), expect)) })
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        boxed(async move {
            call(
                host::store_scan,
                (String::from(prefix), after.map(String::from), limit),
            )
        })
    }
}

impl Jws for GuestEnv {
    fn generate<'a>(&'a self, alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>> {
        boxed(async move { call(host::jws_generate, (alg,)) })
    }
    fn sign<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        boxed(async move {
            call(
                host::jws_sign,
                (
                    alg,
                    String::from(kid),
                    private_pkcs8_der.clone(),
                    input.to_vec(),
                ),
            )
        })
    }
    fn verify<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        modulus: &'a [u8],
        exponent: &'a [u8],
        input: &'a [u8],
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<bool, Error>> {
        boxed(async move {
            call(
                host::jws_verify,
                (
                    alg,
                    String::from(kid),
                    modulus.to_vec(),
                    exponent.to_vec(),
                    input.to_vec(),
                    signature.to_vec(),
                ),
            )
        })
    }
}

impl PasswordHasher for GuestEnv {
    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>> {
        boxed(async move { call(host::password_hash, (String::from(password), salt, params)) })
    }
    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        boxed(async move {
            call(
                host::password_verify,
                (String::from(password), String::from(phc), params),
            )
        })
    }
}

impl Sender for GuestEnv {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move { call(host::send, (message,)) })
    }
    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move { call(host::deliver, (String::from(pool_id), request)) })
    }
}

impl Triggers for GuestEnv {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        boxed(async move { call(host::trigger_invoke, (String::from(plugin), event.to_vec())) })
    }
}

impl Env for GuestEnv {
    fn store(&self) -> &dyn Store {
        self
    }
    fn clock(&self) -> &dyn Clock {
        self
    }
    fn random(&self) -> &dyn Random {
        self
    }
    fn sender(&self) -> &dyn Sender {
        self
    }
    fn jws(&self) -> &dyn Jws {
        self
    }
    fn passwords(&self) -> &dyn PasswordHasher {
        self
    }
    fn triggers(&self) -> &dyn Triggers {
        self
    }
}

/// Runs a future whose every leaf completes synchronously. The core never spawns and no port
/// here returns `Pending`, so the first poll finishes; a few more polls tolerate combinators
/// that yield once. A future still pending after that would wait forever: a bug, so a trap.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the core's future is still pending: a port did not complete synchronously");
}

/// `alloc(len) -> ptr`: a buffer for the host to write the request frame into.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer: Vec<u8> = Vec::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    core::mem::forget(buffer);
    ptr
}

/// `dealloc(ptr, len)`: frees a buffer from [`alloc`] (or a response the host has read).
///
/// # Safety
/// `ptr` and `len` must be exactly a buffer [`alloc`] or [`handle`] handed out, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    // SAFETY: per the contract above, this is the allocation of a `Vec<u8>` of capacity `len`.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// `handle(ptr, len) -> (response ptr << 32) | response len`: one request frame in, one
/// response frame out. A malformed request frame is a host bug: a trap.
///
/// # Safety
/// `ptr` must point to `len` initialised bytes (a buffer from [`alloc`] the host filled).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn handle(ptr: *const u8, len: usize) -> i64 {
    // SAFETY: per the contract above.
    let frame = unsafe { core::slice::from_raw_parts(ptr, len) };
    let (config, request) = match abi::decode_request_frame(frame) {
        Ok(decoded) => decoded,
        Err(e) => panic!("{e}"),
    };
    let service = Service::new(config);
    let response = block_on(service.handle(request, &GuestEnv));
    // The frame's buffer is the host's to read; with a fresh instance per request it is never
    // freed (the host may free it with `dealloc` if it recycles instances).
    let answer = Box::leak(abi::encode_response_frame(&response).into_boxed_slice());
    let packed = ((answer.as_ptr() as usize as u64) << 32) | (answer.len() as u64 & 0xffff_ffff);
    packed as i64
}
