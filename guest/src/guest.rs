//! The Wasm side: exports, imports, the ports over the imports and the executor.

// A panic is how the guest traps (the host turns it into a 500); `panic!` here is deliberate.
#![allow(clippy::panic)]

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::any::TypeId;
use core::cell::RefCell;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use cognate_core::decoded::KeptRecords;
use cognate_core::error::Error;
use cognate_core::ports::{
    AssertionCheck, BoxFuture, ByteBuf, Clock, DecodedRecords, Decoding, DeliveryRequest, Env,
    GeneratedKey, HashParams, Http, HttpRequest, HttpResponse, InvocationError, Jws, JwsAlgorithm,
    Message, PasswordCheck, PasswordHasher, PluginInfo, PluginRegistry, Random, RegistrationCheck,
    RegistryError, Sender, SrpMath, Sts, StsAnswer, Triggers, VerifiedAssertion, VerifiedPasskey,
    WebAuthnRefusal, WebAuthnVerifier, boxed,
};
use cognate_core::store::{Expect, Page, Store, StoreError, Versioned, contract};
use cognate_core::{Secret, Service, srp};

use crate::abi::{self, Wire};

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
        pub fn call_poll(id: i64) -> i64;
        pub fn call_wait();
        pub fn panic(ptr: *const u8, len: usize);
        pub fn store_get(ptr: *const u8, len: usize) -> i64;
        pub fn store_put(ptr: *const u8, len: usize) -> i64;
        pub fn store_delete(ptr: *const u8, len: usize) -> i64;
        pub fn store_scan(ptr: *const u8, len: usize) -> i64;
        pub fn store_get_many(ptr: *const u8, len: usize) -> i64;
        pub fn jws_generate(ptr: *const u8, len: usize) -> i64;
        pub fn jws_sign(ptr: *const u8, len: usize) -> i64;
        pub fn jws_verify(ptr: *const u8, len: usize) -> i64;
        pub fn password_hash(ptr: *const u8, len: usize) -> i64;
        pub fn password_verify(ptr: *const u8, len: usize) -> i64;
        pub fn password_breached(ptr: *const u8, len: usize) -> i64;
        pub fn srp_verifier(ptr: *const u8, len: usize) -> i64;
        pub fn srp_server_hello(ptr: *const u8, len: usize) -> i64;
        pub fn srp_server_key(ptr: *const u8, len: usize) -> i64;
        pub fn send(ptr: *const u8, len: usize) -> i64;
        pub fn deliver(ptr: *const u8, len: usize) -> i64;
        pub fn trigger_invoke(ptr: *const u8, len: usize) -> i64;
        pub fn plugins_register(ptr: *const u8, len: usize) -> i64;
        pub fn plugins_list(ptr: *const u8, len: usize) -> i64;
        pub fn plugins_delete(ptr: *const u8, len: usize) -> i64;
        pub fn sts_post(ptr: *const u8, len: usize) -> i64;
        pub fn http_request(ptr: *const u8, len: usize) -> i64;
        pub fn saml_metadata(ptr: *const u8, len: usize) -> i64;
        pub fn saml_verify(ptr: *const u8, len: usize) -> i64;
        pub fn saml_sign_redirect(ptr: *const u8, len: usize) -> i64;
        pub fn saml_logout_response(ptr: *const u8, len: usize) -> i64;
        pub fn webauthn_register(ptr: *const u8, len: usize) -> i64;
        pub fn webauthn_assert(ptr: *const u8, len: usize) -> i64;
    }
}

type PortCall = unsafe extern "C" fn(*const u8, usize) -> i64;

/// One port call. The host starts it at once and answers on the spot when it can; otherwise the
/// call stays in flight on the host while the core goes on with its other futures (the two
/// signatures of a token response, racing writes), as the native core's futures do, and
/// [`block_on`] waits on the host only when nothing else can progress. The host answers every
/// call (failures are values in `R`); a malformed answer is a bug, so a panic.
async fn call<A: serde::Serialize, R: Wire>(import: PortCall, args: A) -> R {
    let started = {
        let args = abi::encode(&args);
        // SAFETY: the host reads `args.len()` bytes at `args.as_ptr()` before it returns.
        unsafe { import(args.as_ptr(), args.len()) }
    };
    let len = match started {
        0.. => started,
        // Dropping an in-flight call (the core never does) leaves its answer unread on the
        // host until the instance goes away.
        _ => InFlight { id: -started }.await,
    };
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

/// A port call the host is still working on: ready once `call_poll` reports its answer.
struct InFlight {
    id: i64,
}

impl Future for InFlight {
    type Output = i64;

    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i64> {
        // SAFETY: no memory is passed.
        let len = unsafe { host::call_poll(self.id) };
        if len >= 0 {
            return Poll::Ready(len);
        }
        WAITING.0.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// The wakers of in-flight calls, woken (all of them) whenever the host finishes a call.
struct Waiting(RefCell<Vec<Waker>>);
// SAFETY: the guest is single-threaded (wasm32-unknown-unknown without threads).
unsafe impl Sync for Waiting {}
static WAITING: Waiting = Waiting(RefCell::new(Vec::new()));

/// Set when the root future's waker is woken (a future that yields without a port call).
static WOKEN: AtomicBool = AtomicBool::new(false);

fn root_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(core::ptr::null(), &VTABLE)
    }
    fn wake(_: *const ()) {
        WOKEN.store(true, Ordering::Relaxed);
    }
    fn drop(_: *const ()) {}
    // SAFETY: the vtable's functions never touch the data pointer and are thread-agnostic.
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) }
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
        boxed(async move { call(host::store_get, (key,)).await })
    }
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(async move { call(host::store_put, (key, ByteBuf(value.to_vec()), expect)).await })
    }
    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(async move { call(host::store_delete, (key, expect)).await })
    }
    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        boxed(async move { call(host::store_scan, (prefix, after, limit)).await })
    }
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        boxed(async move { call(host::store_get_many, (keys,)).await })
    }
}

impl Jws for GuestEnv {
    fn generate<'a>(&'a self, alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>> {
        boxed(async move { call(host::jws_generate, (alg,)).await })
    }
    fn sign<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        boxed(async move {
            let signature: Result<ByteBuf, Error> = call(
                host::jws_sign,
                (alg, kid, private_pkcs8_der, ByteBuf(input.to_vec())),
            )
            .await;
            signature.map(|s| s.0)
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
                    kid,
                    ByteBuf(modulus.to_vec()),
                    ByteBuf(exponent.to_vec()),
                    ByteBuf(input.to_vec()),
                    ByteBuf(signature.to_vec()),
                ),
            )
            .await
        })
    }
}

impl PasswordHasher for GuestEnv {
    /// The host verifies them (its `password_verify`).
    fn verifies(&self, phc: &str) -> bool {
        cognate_core::api::phc::acceptable_hash(phc)
    }

    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>> {
        boxed(async move { call(host::password_hash, (password, salt, params)).await })
    }
    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        boxed(async move { call(host::password_verify, (password, phc, params)).await })
    }
    fn breached<'a>(&'a self, password: &'a str) -> BoxFuture<'a, bool> {
        boxed(async move { call(host::password_breached, (password,)).await })
    }
}

/// SRP's arithmetic runs in the host, natively: 3072-bit exponentiation on the guest's 32-bit
/// limbs is about five times slower.
impl SrpMath for GuestEnv {
    fn verifier<'a>(
        &'a self,
        pool_name: &'a str,
        user_id: &'a str,
        password: &'a str,
        salt: [u8; 16],
    ) -> BoxFuture<'a, srp::Verifier> {
        boxed(async move { call(host::srp_verifier, (pool_name, user_id, password, salt)).await })
    }
    fn server_hello<'a>(
        &'a self,
        v_hex: &'a str,
        b: [u8; 32],
    ) -> BoxFuture<'a, Result<srp::ServerHello, srp::SrpError>> {
        boxed(async move { call(host::srp_server_hello, (v_hex, b)).await })
    }
    fn server_key<'a>(
        &'a self,
        a_hex: &'a str,
        hello: &'a srp::ServerHello,
        v_hex: &'a str,
    ) -> BoxFuture<'a, Result<[u8; 16], srp::SrpError>> {
        boxed(async move { call(host::srp_server_key, (a_hex, hello, v_hex)).await })
    }
}

impl Sender for GuestEnv {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move { call(host::send, (message,)).await })
    }
    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move { call(host::deliver, (pool_id, request)).await })
    }
}

impl Triggers for GuestEnv {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        boxed(async move {
            let output: Result<ByteBuf, InvocationError> =
                call(host::trigger_invoke, (plugin, ByteBuf(event.to_vec()))).await;
            output.map(|o| o.0)
        })
    }
}

impl PluginRegistry for GuestEnv {
    fn register<'a>(
        &'a self,
        name: Option<&'a str>,
        module: &'a [u8],
    ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>> {
        boxed(async move { call(host::plugins_register, (name, ByteBuf(module.to_vec()))).await })
    }
    fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>> {
        boxed(async move { call(host::plugins_list, ()).await })
    }
    fn delete<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>> {
        boxed(async move { call(host::plugins_delete, (reference,)).await })
    }
}

impl Sts for GuestEnv {
    fn post<'a>(&'a self, form: &'a str) -> BoxFuture<'a, Result<StsAnswer, Error>> {
        boxed(async move { call(host::sts_post, (form,)).await })
    }
}

impl Http for GuestEnv {
    fn request<'a>(&'a self, request: HttpRequest) -> BoxFuture<'a, Result<HttpResponse, Error>> {
        boxed(async move { call(host::http_request, (request,)).await })
    }
}

impl cognate_core::ports::Saml for GuestEnv {
    fn metadata<'a>(
        &'a self,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<cognate_core::saml::IdpMetadata, cognate_core::saml::SamlError>> {
        boxed(async move { call(host::saml_metadata, (metadata_xml,)).await })
    }
    fn verify<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<cognate_core::saml::SignedAssertion, cognate_core::saml::SamlError>>
    {
        boxed(async move { call(host::saml_verify, (saml_response, metadata_xml)).await })
    }
    fn sign_redirect<'a>(
        &'a self,
        signed_query: &'a str,
    ) -> BoxFuture<'a, Result<String, cognate_core::saml::SamlError>> {
        boxed(async move { call(host::saml_sign_redirect, (signed_query,)).await })
    }
    fn verify_logout_response<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<cognate_core::saml::LogoutResponse, cognate_core::saml::SamlError>>
    {
        boxed(async move { call(host::saml_logout_response, (saml_response, metadata_xml)).await })
    }
}

impl WebAuthnVerifier for GuestEnv {
    fn verify_registration<'a>(
        &'a self,
        check: &'a RegistrationCheck,
    ) -> BoxFuture<'a, Result<VerifiedPasskey, WebAuthnRefusal>> {
        boxed(async move { call(host::webauthn_register, (check,)).await })
    }
    fn verify_assertion<'a>(
        &'a self,
        check: &'a AssertionCheck,
    ) -> BoxFuture<'a, Result<VerifiedAssertion, WebAuthnRefusal>> {
        boxed(async move { call(host::webauthn_assert, (check,)).await })
    }
}

/// The pools, clients and keys this instance has decoded ([`cognate_core::decoded`]): the one
/// state an instance keeps between requests (see the crate's Security section).
struct Kept(KeptRecords);
// SAFETY: the guest is single-threaded (wasm32-unknown-unknown without threads).
unsafe impl Sync for Kept {}
static KEPT_RECORDS: Kept = Kept(KeptRecords::new());

impl DecodedRecords for GuestEnv {
    fn get_or_decode(
        &self,
        key: &str,
        type_id: TypeId,
        version: u64,
        bytes: usize,
        decode: &mut dyn FnMut() -> Decoding,
    ) -> Decoding {
        // Outside the request heap's region: what the table keeps (the decoded record, its key,
        // the map's nodes) must outlive this request. A lookup that finds it allocates nothing.
        crate::request_heap::outside_region(|| {
            KEPT_RECORDS
                .0
                .get_or_decode(key, type_id, version, bytes, decode)
        })
    }
}

impl Env for GuestEnv {
    fn store(&self) -> &dyn Store {
        self
    }
    fn decoded_records(&self) -> &dyn DecodedRecords {
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
    fn plugins(&self) -> &dyn PluginRegistry {
        self
    }
    fn srp(&self) -> &dyn SrpMath {
        self
    }
    fn sts(&self) -> &dyn Sts {
        self
    }
    fn http(&self) -> &dyn Http {
        self
    }
    fn saml(&self) -> &dyn cognate_core::ports::Saml {
        self
    }
    fn webauthn(&self) -> &dyn WebAuthnVerifier {
        self
    }
}

/// Runs the core's future to completion. It is polled until it is pending with only port calls
/// in flight; then `call_wait` suspends this instance (the host awaits SQLite, argon2 or a
/// plugin on its runtime) until at least one of them has an answer, and every waiting future is
/// woken. A future pending with nothing in flight would wait forever: a bug, so a trap.
fn block_on<F: Future>(future: F) -> F::Output {
    // A recycled instance: nothing from the last request's futures may be woken.
    WAITING.0.borrow_mut().clear();
    let mut future = pin!(future);
    let waker = root_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        WOKEN.store(false, Ordering::Relaxed);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        if WOKEN.load(Ordering::Relaxed) {
            continue;
        }
        let waiting = core::mem::take(&mut *WAITING.0.borrow_mut());
        if waiting.is_empty() {
            panic!("the core's future is pending with no port call in flight");
        }
        // SAFETY: no memory is passed.
        unsafe { host::call_wait() };
        waiting.into_iter().for_each(Waker::wake);
    }
}

/// The input the host has staged for an export (`handle`'s frame, `store_contract`'s check
/// name): `len` bytes copied out with `take_result`, like a port call's answer.
fn take_input(len: usize) -> Vec<u8> {
    let mut input = Vec::with_capacity(len);
    // SAFETY: the host writes exactly the `len` bytes it staged at the pointer, which has room
    // for them; `set_len` then covers only initialised bytes.
    unsafe {
        host::take_result(input.as_mut_ptr());
        input.set_len(len);
    }
    input
}

/// The last response, kept for the host to read until the next request on this instance.
struct LastResponse(RefCell<Option<Box<[u8]>>>);
// SAFETY: the guest is single-threaded (wasm32-unknown-unknown without threads).
unsafe impl Sync for LastResponse {}
static LAST_RESPONSE: LastResponse = LastResponse(RefCell::new(None));

/// Frees what the last request left (its response, the wakers' buffer), then takes the request
/// heap's region back: nothing allocated before this point is in use any more.
fn begin_request() {
    drop(LAST_RESPONSE.0.borrow_mut().take());
    drop(core::mem::take(&mut *WAITING.0.borrow_mut()));
    // SAFETY: the last request's futures are gone (`block_on` returned), and with them every
    // allocation it made; its response and the wakers' buffer were the only ones kept, and
    // were just freed.
    unsafe { crate::request_heap::begin_request() };
}

/// `handle(len) -> (response ptr << 32) | response len`: one request frame in (`len` bytes the
/// host staged, see [`take_input`]), one response frame out. The response stays valid until the
/// next `handle` on this instance, which frees it, so an instance serves request after request
/// without the host managing guest memory. A malformed request frame is a host bug: a trap.
#[unsafe(no_mangle)]
pub extern "C" fn handle(len: usize) -> i64 {
    begin_request();
    let frame = take_input(len);
    let (config, request) = match abi::decode_request_frame(&frame) {
        Ok(decoded) => decoded,
        Err(e) => panic!("{e}"),
    };
    drop(frame);
    let service = Service::new(config);
    let response = block_on(service.handle(request, &GuestEnv));
    let answer = abi::encode_response_frame(&response).into_boxed_slice();
    let packed = ((answer.as_ptr() as usize as u64) << 32) | (answer.len() as u64 & 0xffff_ffff);
    *LAST_RESPONSE.0.borrow_mut() = Some(answer);
    packed as i64
}

/// `abi_version() -> i32`: the [`abi::FRAME_VERSION`] this guest speaks; the host refuses a
/// guest of another version when it loads it.
#[unsafe(no_mangle)]
pub extern "C" fn abi_version() -> i32 {
    i32::from(abi::FRAME_VERSION)
}

/// `store_contract(len) -> i32`: runs the storage contract check (`contract::CHECKS`) whose name
/// is the `len` bytes the host staged (see [`take_input`]) against the host's store, through the
/// same store imports `handle` uses. 1: the check passed; 0: there is no such check. A violation
/// panics, so the host sees a trap whose panic message names the property. Only the host's tests
/// call it.
#[unsafe(no_mangle)]
pub extern "C" fn store_contract(len: usize) -> i32 {
    begin_request();
    let name = take_input(len);
    let Ok(name) = core::str::from_utf8(&name) else {
        return 0;
    };
    i32::from(block_on(contract::run_check(&GuestEnv, name)))
}
