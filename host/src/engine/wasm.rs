//! The Wasm engine: the core's guest build (`guest/`, embedded in this binary) in wasmtime.
//!
//! - Compiled once, by `cognate compile-core` in a child process, into a precompiled artifact
//!   in the cache directory (`core-<module hash>-<engine settings hash>.cwasm`); every start
//!   maps that file instead of compiling (see [`super::artifact`]): its machine code is paged
//!   in as it runs, not copied into this process's heap, which keeps the idle server small
//!   (issue 23).
//! - Pre-instantiated ([`InstancePre`]: imports resolved once) on the pooling allocator with
//!   copy-on-write memory images. An instance serves up to
//!   [`WasmLimits::requests_per_instance`] requests, one at a time, each in a [`Store`] state
//!   reset for it; then, or when it trapped, was cancelled mid-request or grew past
//!   [`RECYCLE_MEMORY_BYTES`], it is dropped and a fresh one takes its place. `1` gives every
//!   request a fresh instance (README, "Engines", weighs the two).
//! - Store, signature, password, sender and trigger imports start their port call on the host
//!   and return; a call that cannot answer at once stays in flight (a `FuturesUnordered` per
//!   request) while the guest polls its other futures, so the core's concurrent futures keep
//!   several calls in flight as they do natively (the two token signatures run in parallel).
//!   When the guest can do nothing else it calls `call_wait`, an async host function: wasmtime
//!   suspends the guest's fiber until an answer arrives, so no runtime thread blocks. argon2 and
//!   RSA run natively behind their ports.
//! - Limits: a memory cap per instance, a bounded number of instances at once (more requests
//!   wait for a slot), and an epoch deadline that makes a guest running for more than
//!   [`YIELD_EVERY`] yield to the runtime, so a looping guest neither starves other requests nor
//!   escapes the server's request timeout.
//! - A guest that traps (a bug: a panic, an out-of-bounds access, the memory cap) fails its
//!   request with a 500 `InternalErrorException` and an error log line; the instance is thrown
//!   away and the next request gets a fresh one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use anyhow::Context as _;
use cognate_core::ports::{BoxFuture, ByteBuf};
use cognate_core::{Config, Request, Response};
use cognate_core_guest::abi::{self, Wire, imports};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use wasmtime::{
    Caller, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module,
    PoolingAllocationConfig, ResourceLimiter, Store, TypedFunc,
};

use super::artifact;
use crate::ports::HostEnv;

/// The core's guest module, built for wasm32-unknown-unknown by `host/build.rs`.
pub static CORE_WASM: &[u8] = include_bytes!(env!("COGNATE_CORE_WASM"));
/// [`CORE_WASM`]'s SHA-256 (lower-case hex), computed by the build script: hashing the module
/// at each start would page all its 4.5 MB in for nothing.
pub static CORE_WASM_SHA256: &str = env!("COGNATE_CORE_WASM_SHA256");

/// Default memory cap per instance. A request needs a few MiB; a large ListUsers page a few more.
pub const DEFAULT_MEMORY_BYTES: usize = 128 * 1024 * 1024;
/// Default number of requests the guest serves at once (pooling allocator slots).
pub const DEFAULT_MAX_INSTANCES: u32 = 128;
/// Default number of requests one instance serves before a fresh one replaces it.
pub const DEFAULT_REQUESTS_PER_INSTANCE: u32 = 1000;
/// How long a guest runs before it yields to the runtime (epoch granularity).
pub const YIELD_EVERY: Duration = Duration::from_millis(10);
/// The largest port argument or answer the host reads: above any request (1 MiB) or store
/// value (400 KiB) with room for framing.
const MAX_PORT_BYTES: usize = 8 * 1024 * 1024;
/// A recycled instance whose memory grew past this is thrown away instead of kept.
const RECYCLE_MEMORY_BYTES: usize = 16 * 1024 * 1024;
/// The most instances kept idle between requests.
const MAX_IDLE_INSTANCES: usize = 32;
/// The most port calls one request may have in flight (the core's widest `join` is a few dozen).
const MAX_CALLS_IN_FLIGHT: usize = 4096;
/// Keys one `store_get_many` call may name (the core asks for a handful).
const MAX_GET_MANY_KEYS: usize = 1000;
/// The longest panic message kept for the log.
const MAX_PANIC_MESSAGE: usize = 4096;

/// The Wasm engine's limits.
#[derive(Debug, Clone, Copy)]
pub struct WasmLimits {
    pub memory_bytes: usize,
    pub max_instances: u32,
    /// How many requests one instance serves before it is thrown away; 1: a fresh instance for
    /// every request.
    pub requests_per_instance: u32,
}

impl Default for WasmLimits {
    fn default() -> Self {
        Self {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            max_instances: DEFAULT_MAX_INSTANCES,
            requests_per_instance: DEFAULT_REQUESTS_PER_INSTANCE,
        }
    }
}

/// What one request's [`Store`] holds.
struct RequestState {
    env: Arc<HostEnv>,
    /// The instance's memory, once instantiated.
    memory: Option<Memory>,
    /// The last port call's encoded answer, until the guest takes it.
    result: Vec<u8>,
    memory_cap: usize,
    out_of_memory: bool,
    panic_message: Option<String>,
    /// Port calls in flight, each answering `(id, encoded answer)`.
    in_flight: FuturesUnordered<BoxFuture<'static, (i64, Vec<u8>)>>,
    /// Answers of finished calls the guest has not polled yet.
    finished: HashMap<i64, Vec<u8>>,
    /// The last call id handed out (ids start at 1).
    last_call: i64,
}

impl RequestState {
    /// Ready for the next request on a recycled instance.
    fn reset(&mut self, env: Arc<HostEnv>) {
        self.env = env;
        self.result.clear();
        self.in_flight.clear();
        self.finished.clear();
        self.last_call = 0;
    }

    /// Polls every call in flight once; moves the answers that are there to `finished`.
    fn drive(&mut self, cx: &mut std::task::Context<'_>) {
        while let Poll::Ready(Some((id, answer))) = self.in_flight.poll_next_unpin(cx) {
            self.finished.insert(id, answer);
        }
    }

    /// Makes the finished call `id`'s answer the one `take_result` copies out; its length.
    fn report(&mut self, id: i64) -> Option<i64> {
        let answer = self.finished.remove(&id)?;
        Some(self.answer_now(answer))
    }

    /// Makes `answer` the one `take_result` copies out; its length.
    fn answer_now(&mut self, answer: Vec<u8>) -> i64 {
        self.result = answer;
        i64::try_from(self.result.len()).unwrap_or(i64::MAX)
    }
}

impl ResourceLimiter for RequestState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.out_of_memory = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The compiled core, ready to serve requests.
pub struct WasmCore {
    engine: Engine,
    pre: InstancePre<RequestState>,
    /// The service configuration, encoded once, copied into every request frame.
    config_frame: Vec<u8>,
    slots: Semaphore,
    /// Instances made so far (the metrics' `wasm_instances_created`).
    created: std::sync::atomic::AtomicU64,
    /// Instances between requests, when they serve more than one.
    idle: std::sync::Mutex<Vec<Live>>,
    limits: WasmLimits,
    sha256: String,
    /// Advances the engine's epoch while this lives.
    _ticker: crate::epoch::EpochTicker,
}

impl std::fmt::Debug for WasmCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmCore")
            .field("sha256", &self.sha256)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WasmCore {
    /// Loads the embedded core's precompiled artifact from `cache_dir` (compiling it there first
    /// when there is none that fits this engine), or compiles it in memory without a cache
    /// directory; then pre-instantiates it.
    pub fn new(
        config: &Config,
        cache_dir: Option<&std::path::Path>,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        Self::load(CORE_WASM, CORE_WASM_SHA256, config, cache_dir, limits)
    }

    /// Compiles the embedded core into its artifact in `cache_dir` and nothing else (`cognate
    /// compile-core`, which the server runs as a child process at start, so the compiler's
    /// memory leaves with the child). Does nothing when a fitting artifact is there.
    pub fn precompile(cache_dir: &std::path::Path, limits: WasmLimits) -> anyhow::Result<()> {
        let engine = engine(limits)?;
        artifact::load_or_compile(&engine, cache_dir, CORE_WASM, CORE_WASM_SHA256)?;
        Ok(())
    }

    /// As [`WasmCore::new`], for another build of the guest.
    pub fn from_module(
        wasm: &[u8],
        config: &Config,
        cache_dir: Option<&std::path::Path>,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        let sha256 = cognate_core::codec::sha256_hex_of(wasm);
        Self::load(wasm, &sha256, config, cache_dir, limits)
    }

    /// The embedded core for a server's start, on one engine: mapped from its artifact in
    /// `cache_dir` when one fits (a restart); else `compile` (the server's `cognate
    /// compile-core` child) is given `cache_dir` to write it, and what is there is mapped or,
    /// failing that, compiled here.
    pub fn start(
        config: &Config,
        cache_dir: &std::path::Path,
        limits: WasmLimits,
        compile: impl FnOnce(&std::path::Path),
    ) -> anyhow::Result<Self> {
        let engine = engine(limits)?;
        let started = std::time::Instant::now();
        if let Some(module) = artifact::map_existing(&engine, cache_dir, CORE_WASM_SHA256) {
            return Self::with_module(engine, module, started, CORE_WASM_SHA256, config, limits);
        }
        compile(cache_dir);
        let started = std::time::Instant::now();
        let module = artifact::load_or_compile(&engine, cache_dir, CORE_WASM, CORE_WASM_SHA256)?;
        Self::with_module(engine, module, started, CORE_WASM_SHA256, config, limits)
    }

    fn load(
        wasm: &[u8],
        sha256: &str,
        config: &Config,
        cache_dir: Option<&std::path::Path>,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        let engine = engine(limits)?;
        let started = std::time::Instant::now();
        let module = match cache_dir {
            Some(dir) => artifact::load_or_compile(&engine, dir, wasm, sha256)?,
            None => {
                Module::new(&engine, wasm).map_err(|e| anyhow::anyhow!("the core module: {e:?}"))?
            }
        };
        Self::with_module(engine, module, started, sha256, config, limits)
    }

    /// Pre-instantiates `module` (loaded since `started`) on `engine`.
    fn with_module(
        engine: Engine,
        module: Module,
        started: std::time::Instant,
        sha256: &str,
        config: &Config,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        let sha256 = sha256.to_owned();
        tracing::info!(
            target: "cognate::engine",
            sha256 = %sha256,
            millis = started.elapsed().as_millis() as u64,
            "Wasm core loaded"
        );
        let mut linker = Linker::new(&engine);
        define_imports(&mut linker).map_err(|e| anyhow::anyhow!("core imports: {e:?}"))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| anyhow::anyhow!("the core module's imports: {e:?}"))?;
        check_abi_version(&engine, &module)?;
        let ticker = crate::epoch::EpochTicker::start(&engine, YIELD_EVERY, "cognate-core-epoch")?;
        Ok(Self {
            engine,
            pre,
            config_frame: abi::encode_config(config),
            slots: Semaphore::new(usize::try_from(limits.max_instances.max(1)).unwrap_or(1)),
            created: std::sync::atomic::AtomicU64::new(0),
            idle: std::sync::Mutex::new(Vec::new()),
            limits,
            sha256,
            _ticker: ticker,
        })
    }

    /// Instances kept between requests right now.
    pub fn idle_instances(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Instances serving a request right now.
    pub fn busy_instances(&self) -> usize {
        self.max_instances()
            .saturating_sub(self.slots.available_permits())
    }

    /// The most instances that serve at once.
    pub fn max_instances(&self) -> usize {
        usize::try_from(self.limits.max_instances.max(1)).unwrap_or(1)
    }

    /// Instances made since the start (an idle one reused is not a new one).
    pub fn instances_created(&self) -> u64 {
        self.created.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The SHA-256 of the guest module (lower-case hex).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Answers one request in an instance. Never fails: a guest failure is logged and
    /// answered with a 500 `InternalErrorException`.
    pub async fn handle(&self, request: &Request, env: Arc<HostEnv>) -> Response {
        let frame = abi::encode_request_frame(&self.config_frame, request);
        self.answer(&frame, request, env).await
    }

    async fn answer(&self, frame: &[u8], request: &Request, env: Arc<HostEnv>) -> Response {
        match self.run(frame, env).await {
            Ok(response) => response,
            Err(e) => {
                // The error names the trap and the guest's panic message; never the request,
                // which may carry passwords and tokens.
                tracing::error!(
                    target: "cognate::engine",
                    method = %request.method,
                    path = %request.path,
                    error = %format!("{e:#}"),
                    "the Wasm core failed this request"
                );
                internal_error()
            }
        }
    }

    /// Runs `frame` (a request frame, or anything else in tests) in an idle instance or a fresh
    /// one; keeps the instance for later when it may serve more.
    async fn run(&self, frame: &[u8], env: Arc<HostEnv>) -> anyhow::Result<Response> {
        let _slot = self
            .slots
            .acquire()
            .await
            .context("the Wasm core is shut down")?;
        let recycle = self.limits.requests_per_instance > 1;
        let idle = if recycle {
            self.idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
        } else {
            None
        };
        let mut live = match idle {
            Some(mut live) => {
                live.store.data_mut().reset(env);
                live.store.set_epoch_deadline(1);
                live
            }
            None => {
                self.created
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut store = self.new_store(env);
                match Live::instantiate(&mut store, &self.pre).await {
                    Ok(exports) => Live {
                        store,
                        exports,
                        served: 0,
                    },
                    Err(e) => return Err(self.guest_failure(e, store.data())),
                }
            }
        };
        match live.serve(frame).await {
            Ok(response) => {
                live.served += 1;
                if recycle && live.served < self.limits.requests_per_instance {
                    self.give_back(live);
                }
                Ok(response)
            }
            Err(e) => Err(self.guest_failure(e, live.store.data())),
        }
    }

    /// Keeps `live` for a later request unless its memory grew past [`RECYCLE_MEMORY_BYTES`] or
    /// enough instances are idle already.
    fn give_back(&self, live: Live) {
        if live.exports.memory.data_size(&live.store) > RECYCLE_MEMORY_BYTES {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE_INSTANCES {
            idle.push(live);
        }
    }

    fn new_store(&self, env: Arc<HostEnv>) -> Store<RequestState> {
        let mut store = Store::new(
            &self.engine,
            RequestState {
                env,
                memory: None,
                result: Vec::new(),
                memory_cap: self.limits.memory_bytes,
                out_of_memory: false,
                panic_message: None,
                in_flight: FuturesUnordered::new(),
                finished: HashMap::new(),
                last_call: 0,
            },
        );
        store.limiter(|state| state as &mut dyn ResourceLimiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        store
    }

    /// Runs the storage contract check `check` (`cognate_core::store::contract::CHECKS`) inside
    /// a fresh instance, against `env`'s store through the guest's store imports: the path every
    /// request's reads and writes take. `Ok(false)`: the guest knows no such check; an error: the
    /// check failed (the guest's panic message names the property) or the guest trapped.
    pub async fn run_store_contract(&self, check: &str, env: Arc<HostEnv>) -> anyhow::Result<bool> {
        let mut store = self.new_store(env);
        let outcome = async {
            let (instance, _) = instantiate(&mut store, &self.pre).await?;
            let run = instance.get_typed_func::<i32, i32>(&mut store, "store_contract")?;
            let len = stage_input(&mut store, check.as_bytes())?;
            run.call_async(&mut store, len).await
        }
        .await;
        match outcome {
            Ok(passed) => Ok(passed == 1),
            Err(e) => Err(self.guest_failure(e, store.data())),
        }
    }

    /// A trap, with what the request's state knows about why.
    fn guest_failure(&self, e: wasmtime::Error, state: &RequestState) -> anyhow::Error {
        let mut error = anyhow::anyhow!("{e:?}");
        if state.out_of_memory {
            error = error.context(format!(
                "the guest reached its memory cap of {} bytes",
                self.limits.memory_bytes
            ));
        }
        if let Some(message) = &state.panic_message {
            error = error.context(format!("the guest panicked: {message}"));
        }
        error
    }

    /// Creates and drops one instance: the per-request instantiation cost, for benchmarks.
    pub async fn instantiate_once(&self, env: Arc<HostEnv>) -> anyhow::Result<()> {
        let mut store = self.new_store(env);
        self.pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    }
}

/// The engine for the core: async host functions, epoch interruption, pooling allocator.
fn engine(limits: WasmLimits) -> anyhow::Result<Engine> {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    config.max_wasm_stack(1024 * 1024);
    config.async_stack_size(2 * 1024 * 1024);
    // `COGNATE_WASM_PERFMAP=1`: write /tmp/perf-<pid>.map so `perf` names the guest's functions.
    if std::env::var_os("COGNATE_WASM_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    // One slot per request that may run at once is enough: a request takes an idle instance
    // when there is one and creates one only when there is none, and it returns its instance
    // before it frees its place, so running plus idle instances never exceed `max_instances`.
    let mut pooling = PoolingAllocationConfig::new();
    pooling
        .total_core_instances(limits.max_instances)
        .total_memories(limits.max_instances)
        .total_tables(limits.max_instances)
        .total_stacks(limits.max_instances)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .table_elements(100_000)
        .max_memory_size(limits.memory_bytes);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(|e| anyhow::anyhow!("Wasm core engine: {e:?}"))
}

/// Refuses a guest built for another ABI version: it reports its version from the export
/// [`abi::exports::ABI_VERSION`], which needs no imports, so a throwaway instance answers it.
fn check_abi_version(engine: &Engine, module: &Module) -> anyhow::Result<()> {
    let mut store = Store::new(engine, ());
    // Runs before the epoch ticker starts; the deadline only keeps it finite.
    store.set_epoch_deadline(1_000_000);
    // Every import a trap: `abi_version` calls none, and a guest whose imports differ from this
    // host's still reports its version.
    let mut linker = Linker::<()>::new(engine);
    let exported = linker
        .define_unknown_imports_as_traps(module)
        .and_then(|()| linker.instantiate(&mut store, module))
        .and_then(|instance| {
            instance.get_typed_func::<(), i32>(&mut store, abi::exports::ABI_VERSION)
        })
        .and_then(|version| version.call(&mut store, ()))
        .ok();
    abi::check_guest_version(exported).map_err(anyhow::Error::msg)
}

/// A new instance of the core in `store`, with its memory made known to the ports.
async fn instantiate(
    store: &mut Store<RequestState>,
    pre: &InstancePre<RequestState>,
) -> wasmtime::Result<(wasmtime::Instance, Memory)> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| wasmtime::Error::msg("the core exports no memory"))?;
    store.data_mut().memory = Some(memory);
    Ok((instance, memory))
}

/// An instance with its store and the exports a request uses.
struct Live {
    store: Store<RequestState>,
    exports: Exports,
    /// Requests it has answered.
    served: u32,
}

#[derive(Clone)]
struct Exports {
    memory: Memory,
    handle: TypedFunc<i32, i64>,
}

impl Live {
    async fn instantiate(
        store: &mut Store<RequestState>,
        pre: &InstancePre<RequestState>,
    ) -> wasmtime::Result<Exports> {
        let (instance, memory) = instantiate(store, pre).await?;
        Ok(Exports {
            memory,
            handle: instance.get_typed_func(&mut *store, "handle")?,
        })
    }

    /// Answers one request frame. The guest frees the frame, and the response at its next
    /// request, so the instance can serve request after request.
    async fn serve(&mut self, frame: &[u8]) -> wasmtime::Result<Response> {
        let Exports { memory, handle } = self.exports.clone();
        let store = &mut self.store;
        let len = stage_input(store, frame)?;
        let packed = handle.call_async(&mut *store, len).await? as u64;
        let out_ptr = usize::try_from(packed >> 32).unwrap_or(usize::MAX);
        let out_len = usize::try_from(packed & 0xffff_ffff).unwrap_or(usize::MAX);
        let out = memory
            .data(&*store)
            .get(out_ptr..out_ptr.saturating_add(out_len))
            .ok_or_else(|| wasmtime::Error::msg("the response frame is outside memory"))?;
        abi::decode_response_frame(out).map_err(|e| wasmtime::Error::msg(format!("response: {e}")))
    }
}

/// Stages `input` for an export, which copies it in with `take_result`; its length.
fn stage_input(store: &mut Store<RequestState>, input: &[u8]) -> wasmtime::Result<i32> {
    let len = i32::try_from(input.len()).map_err(|_| wasmtime::Error::msg("input too large"))?;
    store.data_mut().result = input.to_vec();
    Ok(len)
}

/// A guest pointer or length (an `i32` holding a `u32`).
fn wasm_usize(value: i32) -> usize {
    value as u32 as usize
}

fn memory_of(caller: &Caller<'_, RequestState>) -> wasmtime::Result<Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| wasmtime::Error::msg("a port was called before the memory was known"))
}

/// The bytes at `(ptr, len)` in the guest's memory, up to [`MAX_PORT_BYTES`].
fn guest_bytes<'a>(
    caller: &'a Caller<'_, RequestState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<&'a [u8]> {
    let memory = memory_of(caller)?;
    let (start, len) = (wasm_usize(ptr), wasm_usize(len));
    if len > MAX_PORT_BYTES {
        return Err(wasmtime::Error::msg("port arguments too large"));
    }
    memory
        .data(caller)
        .get(start..start.saturating_add(len))
        .ok_or_else(|| wasmtime::Error::msg("port arguments outside memory"))
}

fn read_args<A: Wire>(
    caller: &Caller<'_, RequestState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<A> {
    abi::decode(guest_bytes(caller, ptr, len)?)
        .map_err(|e| wasmtime::Error::msg(format!("port arguments: {e}")))
}

/// Defines one port import: `(args ptr, args len) -> answer len, or -id while in flight`. It
/// decodes the arguments, starts `port` over the request's ports and polls everything in flight
/// once (with the request task's waker): a call that can answer at once (a cached key, a write
/// that found its row locked and failed fast) does, without a round through `call_wait`.
fn define_port<A, R, F, Fut>(
    linker: &mut Linker<RequestState>,
    name: &str,
    port: F,
) -> wasmtime::Result<()>
where
    A: Wire + Send + 'static,
    R: Wire + Send + 'static,
    F: Fn(Arc<HostEnv>, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    linker.func_wrap_async(
        imports::IMPORT_MODULE,
        name,
        move |mut caller: Caller<'_, RequestState>, (ptr, len): (i32, i32)| {
            let call = read_args::<A>(&caller, ptr, len)
                .map(|args| port(Arc::clone(&caller.data().env), args));
            Box::new(async move {
                let call = call?;
                let state = caller.data_mut();
                if state.in_flight.len() >= MAX_CALLS_IN_FLIGHT {
                    return Err(wasmtime::Error::msg("too many port calls in flight"));
                }
                state.last_call += 1;
                let id = state.last_call;
                let mut answering: BoxFuture<'static, (i64, Vec<u8>)> =
                    Box::pin(async move { (id, abi::encode(&call.await)) });
                // Most calls answer at once (the read cache, a cached key): they skip the
                // in-flight set and its bookkeeping. Either way every call in flight is polled.
                let answered = std::future::poll_fn(|cx| {
                    let answered = match answering.as_mut().poll(cx) {
                        Poll::Ready((_, answer)) => Some(answer),
                        Poll::Pending => None,
                    };
                    state.drive(cx);
                    Poll::Ready(answered)
                })
                .await;
                match answered {
                    Some(answer) => Ok(state.answer_now(answer)),
                    None => {
                        state.in_flight.push(answering);
                        Ok(-id)
                    }
                }
            })
        },
    )?;
    Ok(())
}

fn define_imports(linker: &mut Linker<RequestState>) -> wasmtime::Result<()> {
    use imports::*;
    linker.func_wrap(
        IMPORT_MODULE,
        NOW_MILLIS,
        |caller: Caller<'_, RequestState>| -> i64 {
            i64::try_from(caller.data().env.clock.now_millis()).unwrap_or(i64::MAX)
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        RANDOM_FILL,
        |mut caller: Caller<'_, RequestState>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let len = wasm_usize(len);
            if len > MAX_PORT_BYTES {
                return Err(wasmtime::Error::msg("random_fill too large"));
            }
            let mut buf = vec![0u8; len];
            caller.data().env.random.fill(&mut buf);
            memory_of(&caller)?.write(&mut caller, wasm_usize(ptr), &buf)?;
            Ok(())
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        TAKE_RESULT,
        |mut caller: Caller<'_, RequestState>, ptr: i32| -> wasmtime::Result<()> {
            let result = std::mem::take(&mut caller.data_mut().result);
            memory_of(&caller)?.write(&mut caller, wasm_usize(ptr), &result)?;
            Ok(())
        },
    )?;
    linker.func_wrap(
        IMPORT_MODULE,
        PANIC,
        |mut caller: Caller<'_, RequestState>, ptr: i32, len: i32| {
            let len = len.clamp(0, MAX_PANIC_MESSAGE as i32);
            let message = guest_bytes(&caller, ptr, len)
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_else(|e| format!("(unreadable panic message: {e})"));
            caller.data_mut().panic_message = Some(message);
        },
    )?;

    linker.func_wrap(
        IMPORT_MODULE,
        CALL_POLL,
        |mut caller: Caller<'_, RequestState>, id: i64| -> wasmtime::Result<i64> {
            let state = caller.data_mut();
            if id < 1 || id > state.last_call {
                return Err(wasmtime::Error::msg(format!("no port call {id}")));
            }
            Ok(state.report(id).unwrap_or(-1))
        },
    )?;
    linker.func_wrap_async(
        IMPORT_MODULE,
        CALL_WAIT,
        |mut caller: Caller<'_, RequestState>, (): ()| {
            Box::new(async move {
                let state = caller.data_mut();
                if state.finished.is_empty() && state.in_flight.is_empty() {
                    return Err(wasmtime::Error::msg(
                        "the guest waits with no port call in flight",
                    ));
                }
                std::future::poll_fn(|cx| {
                    state.drive(cx);
                    if state.finished.is_empty() {
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    }
                })
                .await;
                Ok(())
            })
        },
    )?;

    define_port(linker, STORE_GET, |env, (key,): (String,)| async move {
        env.store.get(&key).await
    })?;
    define_port(
        linker,
        STORE_GET_MANY,
        |env, (keys,): (Vec<String>,)| async move {
            if keys.len() > MAX_GET_MANY_KEYS {
                return Err(cognate_core::StoreError::Unavailable(format!(
                    "store_get_many: {} keys, at most {MAX_GET_MANY_KEYS}",
                    keys.len()
                )));
            }
            env.store.get_many(&keys).await
        },
    )?;
    define_port(
        linker,
        STORE_PUT,
        |env, (key, value, expect): (String, ByteBuf, cognate_core::Expect)| async move {
            env.store.put(&key, &value.0, expect).await
        },
    )?;
    define_port(
        linker,
        STORE_DELETE,
        |env, (key, expect): (String, cognate_core::Expect)| async move {
            env.store.delete(&key, expect).await
        },
    )?;
    define_port(
        linker,
        STORE_SCAN,
        |env, (prefix, after, limit): (String, Option<String>, u64)| async move {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            env.store.scan(&prefix, after.as_deref(), limit).await
        },
    )?;
    define_port(
        linker,
        JWS_GENERATE,
        |env, (alg,): (cognate_core::ports::JwsAlgorithm,)| async move { env.jws.generate(alg).await },
    )?;
    define_port(
        linker,
        JWS_SIGN,
        |env,
         (alg, kid, key, input): (
            cognate_core::ports::JwsAlgorithm,
            String,
            cognate_core::Secret,
            ByteBuf,
        )| async move { env.jws.sign(alg, &kid, &key, &input.0).await.map(ByteBuf) },
    )?;
    define_port(
        linker,
        JWS_VERIFY,
        |env,
         (alg, kid, modulus, exponent, input, signature): (
            cognate_core::ports::JwsAlgorithm,
            String,
            ByteBuf,
            ByteBuf,
            ByteBuf,
            ByteBuf,
        )| async move {
            env.jws
                .verify(alg, &kid, &modulus.0, &exponent.0, &input.0, &signature.0)
                .await
        },
    )?;
    define_port(
        linker,
        PASSWORD_HASH,
        |env, (password, salt, params): (String, [u8; 16], cognate_core::ports::HashParams)| async move {
            env.passwords.hash(&password, salt, params).await
        },
    )?;
    define_port(
        linker,
        PASSWORD_VERIFY,
        |env, (password, phc, params): (String, String, cognate_core::ports::HashParams)| async move {
            env.passwords.verify(&password, &phc, params).await
        },
    )?;
    define_port(
        linker,
        PASSWORD_BREACHED,
        |env, (password,): (String,)| async move { env.passwords.breached(&password).await },
    )?;
    // SRP's arithmetic natively, inline as the native engine runs it (a few milliseconds).
    define_port(
        linker,
        SRP_VERIFIER,
        |_env, (pool_name, user_id, password, salt): (String, String, String, [u8; 16])| async move {
            cognate_core::srp::verifier(&pool_name, &user_id, &password, salt)
        },
    )?;
    define_port(
        linker,
        SRP_SERVER_HELLO,
        |_env, (v_hex, b): (String, [u8; 32])| async move { cognate_core::srp::server_hello(&v_hex, b) },
    )?;
    define_port(
        linker,
        SRP_SERVER_KEY,
        |_env, (a_hex, hello, v_hex): (String, cognate_core::srp::ServerHello, String)| async move {
            cognate_core::srp::server_key(&a_hex, &hello, &v_hex)
        },
    )?;
    define_port(
        linker,
        SEND,
        |env, (message,): (cognate_core::ports::Message,)| async move { env.sender.send(message).await },
    )?;
    define_port(
        linker,
        DELIVER,
        |env, (pool_id, request): (String, cognate_core::DeliveryRequest)| async move {
            env.sender.deliver(&pool_id, request).await
        },
    )?;
    define_port(
        linker,
        TRIGGER_INVOKE,
        |env, (plugin, event): (String, ByteBuf)| async move {
            env.triggers.invoke(&plugin, &event.0).await.map(ByteBuf)
        },
    )?;
    define_port(
        linker,
        PLUGINS_REGISTER,
        |env, (name, module): (Option<String>, ByteBuf)| async move {
            use cognate_core::Env as _;
            env.plugins().register(name.as_deref(), &module.0).await
        },
    )?;
    define_port(linker, PLUGINS_LIST, |env, (): ()| async move {
        use cognate_core::Env as _;
        env.plugins().list().await
    })?;
    define_port(
        linker,
        PLUGINS_DELETE,
        |env, (reference,): (String,)| async move {
            use cognate_core::Env as _;
            env.plugins().delete(&reference).await
        },
    )?;
    define_port(linker, STS_POST, |env, (form,): (String,)| async move {
        env.sts.post(&form).await
    })?;
    define_port(
        linker,
        HTTP_REQUEST,
        |env, (request,): (cognate_core::ports::HttpRequest,)| async move {
            env.http.request(request).await
        },
    )?;
    define_port(
        linker,
        WEBAUTHN_REGISTER,
        |env, (check,): (cognate_core::ports::RegistrationCheck,)| async move {
            use cognate_core::Env as _;
            env.webauthn().verify_registration(&check).await
        },
    )?;
    define_port(
        linker,
        SAML_METADATA,
        |env, (metadata_xml,): (String,)| async move { env.saml.metadata(&metadata_xml).await },
    )?;
    define_port(
        linker,
        SAML_VERIFY,
        |env, (response, metadata_xml): (String, String)| async move {
            env.saml.verify(&response, &metadata_xml).await
        },
    )?;
    define_port(
        linker,
        SAML_SIGN_REDIRECT,
        |env, (query,): (String,)| async move { env.saml.sign_redirect(&query).await },
    )?;
    define_port(
        linker,
        SAML_LOGOUT_RESPONSE,
        |env, (response, metadata_xml): (String, String)| async move {
            env.saml
                .verify_logout_response(&response, &metadata_xml)
                .await
        },
    )?;
    define_port(
        linker,
        WEBAUTHN_ASSERT,
        |env, (check,): (cognate_core::ports::AssertionCheck,)| async move {
            use cognate_core::Env as _;
            env.webauthn().verify_assertion(&check).await
        },
    )?;
    Ok(())
}

/// The answer to a request the guest failed: Cognito's 500.
fn internal_error() -> Response {
    cognate_core::http::AwsError::new(500, "InternalErrorException", "An internal error occurred.")
        .response()
        // Like every response, so a browser sees the error instead of a CORS failure.
        .with_header("access-control-allow-origin", "*")
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use cognate_core::store::MemoryStore;

    fn env(dir: &std::path::Path) -> Arc<HostEnv> {
        Arc::new(HostEnv::native(Arc::new(MemoryStore::new()), dir).unwrap())
    }

    const HEALTH: &str = "/health";
    /// A store read through the imports that finds no such pool: 404.
    const NO_SUCH_JWKS: &str = "/us-east-1_nothere00/.well-known/jwks.json";

    async fn get(core: &WasmCore, dir: &std::path::Path, path: &str) -> Response {
        core.handle(&Request::new("GET", path), env(dir)).await
    }

    fn serving(requests_per_instance: u32) -> WasmLimits {
        WasmLimits {
            requests_per_instance,
            ..WasmLimits::default()
        }
    }

    fn core(limits: WasmLimits) -> WasmCore {
        WasmCore::new(&Config::new("http://test.local", "us-east-1"), None, limits).unwrap()
    }

    #[test]
    fn a_guest_of_another_abi_version_is_refused_at_load() {
        let config = Config::new("http://test.local", "us-east-1");
        let load = |wat: &str| {
            let wasm = wat::parse_str(wat).unwrap();
            WasmCore::from_module(&wasm, &config, None, WasmLimits::default())
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        // A guest from before version 4 (the hand-written codec) exports no version.
        let stale = load(
            r#"(module (import "cognate" "take_result" (func (param i32)))
                 (memory (export "memory") 1)
                 (func (export "handle") (param i32) (result i64) i64.const 0))"#,
        );
        assert!(stale.contains("exports no `abi_version`"), "{stale}");
        let other = load(
            r#"(module (memory (export "memory") 1)
                 (func (export "handle") (param i32) (result i64) i64.const 0)
                 (func (export "abi_version") (result i32) i32.const 3))"#,
        );
        let expected = format!(
            "speaks ABI version 3, this host speaks {}",
            abi::FRAME_VERSION
        );
        assert!(other.contains(&expected), "{other}");
        // The embedded guest is this host's.
        assert!(WasmCore::new(&config, None, WasmLimits::default()).is_ok());
    }

    /// The compiled core is kept as a file in the cache directory and mapped at the next start
    /// without compiling again; a file that does not fit (damaged, or another engine's) is
    /// compiled again and replaced, and other builds' artifacts are removed.
    #[test]
    fn the_compiled_core_is_kept_mapped_and_replaced_when_it_does_not_fit() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let config = Config::new("http://test.local", "us-east-1");
        // The smallest guest this host accepts: compiles in milliseconds.
        let wasm = wat::parse_str(format!(
            r#"(module (memory (export "memory") 1)
                 (func (export "handle") (param i32) (result i64) i64.const 0)
                 (func (export "abi_version") (result i32) i32.const {}))"#,
            abi::FRAME_VERSION
        ))
        .unwrap();
        let stale = dir
            .path()
            .join("core-0000000000000000-0000000000000000.cwasm");
        std::fs::write(&stale, b"another build's code").unwrap();
        let artifacts = || {
            let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            found.sort();
            found
        };
        let load = || {
            WasmCore::from_module(&wasm, &config, Some(dir.path()), WasmLimits::default()).unwrap()
        };

        load();
        let kept = artifacts();
        assert_eq!(
            kept.len(),
            1,
            "one artifact, the stale one removed: {kept:?}"
        );
        let file = kept[0].clone();
        assert_ne!(file, stale);
        assert!(std::fs::read(&file).unwrap().starts_with(b"\x7fELF"));
        let first = std::fs::metadata(&file).unwrap();

        // The next start maps the same file: not rewritten (same inode, same time).
        load();
        let again = std::fs::metadata(&file).unwrap();
        assert_eq!(
            (again.ino(), again.modified().unwrap()),
            (first.ino(), first.modified().unwrap())
        );

        // A file wasmtime refuses is compiled again and replaced.
        std::fs::write(&file, b"not machine code").unwrap();
        load();
        assert_eq!(artifacts(), std::slice::from_ref(&file));
        assert!(std::fs::read(&file).unwrap().starts_with(b"\x7fELF"));
    }

    #[tokio::test]
    async fn the_wasm_core_answers_requests() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(WasmLimits::default());
        let health = get(&core, dir.path(), HEALTH).await;
        assert_eq!(health.status, 200);
        assert_eq!(health.body, b"{\"status\":\"ok\"}");
        assert_eq!(health.header("access-control-allow-origin"), Some("*"));
        // A store read through the imports: no such pool.
        let jwks = get(&core, dir.path(), NO_SUCH_JWKS).await;
        assert_eq!(jwks.status, 404);
        assert_eq!(
            jwks.header("x-amzn-errortype"),
            Some("ResourceNotFoundException:")
        );
    }

    #[tokio::test]
    async fn a_trapping_guest_fails_its_request_with_a_500_and_the_next_request_works() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(WasmLimits::default());
        // A malformed frame is a host bug the guest traps on (a panic, then `unreachable`).
        let error = core
            .run(b"not a request frame", env(dir.path()))
            .await
            .unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("the guest panicked"), "{text}");
        assert!(text.contains("unsupported frame version"), "{text}");
        // Answered as Cognito's 500.
        let answer = core
            .answer(
                b"not a request frame",
                &Request::new("POST", "/"),
                env(dir.path()),
            )
            .await;
        assert_eq!(answer.status, 500);
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("InternalErrorException")
        );
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["__type"], "InternalErrorException");
        // And the engine still serves.
        let health = get(&core, dir.path(), HEALTH).await;
        assert_eq!(health.status, 200);
    }

    #[tokio::test]
    async fn an_instance_serves_its_share_of_requests_and_a_trap_throws_it_away() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(serving(3));
        // Different requests in turn on the same instances: each gets its own answer.
        for round in 0..7 {
            if round % 2 == 0 {
                let health = get(&core, dir.path(), HEALTH).await;
                assert_eq!(health.status, 200, "round {round}");
                assert_eq!(health.body, b"{\"status\":\"ok\"}");
            } else {
                let jwks = get(&core, dir.path(), NO_SUCH_JWKS).await;
                assert_eq!(jwks.status, 404, "round {round}");
            }
        }
        // Three instances served 3, 3 and 1 requests: only the last is kept.
        assert_eq!(core.idle_instances(), 1);
        // A trap on the kept instance throws it away...
        let answer = core
            .answer(
                b"not a request frame",
                &Request::new("POST", "/"),
                env(dir.path()),
            )
            .await;
        assert_eq!(answer.status, 500);
        assert_eq!(core.idle_instances(), 0);
        // ...and the next request gets a fresh one.
        let health = get(&core, dir.path(), HEALTH).await;
        assert_eq!(health.status, 200);
        assert_eq!(core.idle_instances(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_the_instances_they_need() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(WasmLimits {
            max_instances: 2,
            ..WasmLimits::default()
        });
        let env = env(dir.path());
        let answers = futures_util::future::join_all((0..24).map(|i| {
            let env = Arc::clone(&env);
            let core = &core;
            async move {
                let path = if i % 2 == 0 { HEALTH } else { NO_SUCH_JWKS };
                (i, core.handle(&Request::new("GET", path), env).await.status)
            }
        }))
        .await;
        for (i, status) in answers {
            assert_eq!(status, if i % 2 == 0 { 200 } else { 404 }, "request {i}");
        }
        // At most two ran at once, so at most two instances were ever made.
        assert!((1..=2).contains(&core.idle_instances()));
    }

    #[tokio::test]
    async fn with_one_request_per_instance_no_instance_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(serving(1));
        for _ in 0..3 {
            let health = get(&core, dir.path(), HEALTH).await;
            assert_eq!(health.status, 200);
            assert_eq!(core.idle_instances(), 0);
        }
    }

    #[tokio::test]
    async fn a_guest_over_its_memory_cap_fails_only_its_request() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(WasmLimits {
            memory_bytes: 4 * 1024 * 1024,
            max_instances: 2,
            requests_per_instance: 1,
        });
        // The frame alone needs more memory than the cap allows: the guest's allocation fails.
        let huge = Request::new("POST", "/").with_body(vec![b' '; 6 * 1024 * 1024]);
        let answer = core.handle(&huge, env(dir.path())).await;
        assert_eq!(answer.status, 500);
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("InternalErrorException")
        );
        let error = core
            .run(
                &abi::encode_request_frame(&core.config_frame, &huge),
                env(dir.path()),
            )
            .await
            .unwrap_err();
        assert!(format!("{error:#}").contains("memory cap"), "{error:#}");
        let health = get(&core, dir.path(), HEALTH).await;
        assert_eq!(health.status, 200);
    }
}
