//! Trigger plugins on the host: a wasmtime runtime implementing the core's
//! [`Triggers`](cognate_core::Triggers) port, and the plugin registry behind `cognate plugins`
//! and the admin API.
//!
//! - Each module is compiled once (wasmtime's compilation cache keeps the machine code in
//!   `<data>/plugins/cache`, so a restart does not recompile) and pre-instantiated
//!   ([`InstancePre`]) on the pooling allocator.
//! - Every invocation gets a fresh instance in its own [`Store`]: nothing crosses users.
//! - Budgets: fuel (CPU, default [`DEFAULT_FUEL`]), an epoch deadline (wall clock, default 5 s,
//!   like Lambda's Cognito timeout), a memory cap (default 64 MiB), an output cap (default
//!   1 MiB). A plugin that traps, loops, bloats or answers garbage fails only its request.
//! - Plugins may import one host function, `cognate.log(ptr, len)`; nothing else: no network,
//!   no files, no clock.
//!
//! Registry on disk: `<data>/plugins/<sha256>.wasm` (content-addressed modules) and
//! `<data>/plugins/names.json` (`{"name": "<sha256>"}`). The server rereads `names.json` when
//! it changes (checked at most once a second), so `cognate plugins add` works on a running
//! server too.
//!
//! Shared registry ([`PluginRuntime::new_shared`], hosts on one PostgreSQL database): the
//! registry lives in the store instead, so a plugin registered through one host is served by
//! all. `host/plugins/registry` holds the names and modules (JSON, updated by compare-and-set);
//! `host/plugins/module/<sha256>/<n>` the module's bytes in chunks (content-addressed, so
//! rewriting them is harmless). Before every call and listing a host reads the registry record
//! and, when its version changed, loads what is new and drops what was removed: a removal on
//! one host stops the plugin on every host at once. Modules are compiled locally (cached in
//! `<data>/plugins/cache`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use cognate_core::ports::{BoxFuture, InvocationError, RegistryError, Triggers, boxed};
use wasmtime::{
    Caller, Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, ResourceLimiter, Store, Trap,
};

/// Default CPU budget per call, in wasmtime fuel units (about one per Wasm instruction):
/// tens of milliseconds, against a trivial plugin's few thousand.
pub const DEFAULT_FUEL: u64 = 50_000_000;
/// Default wall-clock budget per call (Cognito gives a Lambda trigger 5 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default memory cap per instance.
pub const DEFAULT_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Default cap on a plugin's answer.
pub const DEFAULT_OUTPUT_BYTES: usize = 1024 * 1024;
/// Default number of instances that may run at once (pooling allocator slots).
pub const DEFAULT_MAX_INSTANCES: u32 = 64;
/// How often the epoch advances.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// The largest module accepted.
pub const MAX_MODULE_BYTES: usize = 16 * 1024 * 1024;

/// The runtime's limits (config file `[plugins]`).
#[derive(Debug, Clone)]
pub struct PluginLimits {
    pub fuel: u64,
    pub timeout: Duration,
    pub memory_bytes: usize,
    pub output_bytes: usize,
    pub max_instances: u32,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_FUEL,
            timeout: DEFAULT_TIMEOUT,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            output_bytes: DEFAULT_OUTPUT_BYTES,
            max_instances: DEFAULT_MAX_INSTANCES,
        }
    }
}

/// What one call's store holds.
struct CallState {
    memory_cap: usize,
    out_of_memory: bool,
    logged: usize,
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.out_of_memory = true;
            return Err(wasmtime::Error::msg(format!(
                "plugin memory limit of {} bytes reached",
                self.memory_cap
            )));
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

/// One registered module.
struct Loaded {
    pre: InstancePre<CallState>,
    size: usize,
    /// Why the module does not follow the contract, if it does not (it is still registered:
    /// its calls fail with `UnexpectedLambdaException`).
    problem: Option<String>,
}

#[derive(Default)]
struct Registry {
    /// name -> sha256 hex
    names: BTreeMap<String, String>,
    /// sha256 hex -> module
    modules: HashMap<String, Arc<Loaded>>,
    /// `names.json`'s modification time when last read.
    names_mtime: Option<SystemTime>,
}

/// A registered plugin, as listed (the core's type: the admin API renders it).
pub use cognate_core::ports::PluginInfo;

/// The wasmtime plugin runtime and registry.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: PluginLimits,
    dir: Option<PathBuf>,
    registry: RwLock<Registry>,
    /// Millis (since `started`) of the last `names.json` check.
    last_check: AtomicU64,
    started: Instant,
    /// Advances the engine's epoch while this lives.
    _ticker: crate::epoch::EpochTicker,
    /// Serialises registry writes on disk.
    write_lock: Mutex<()>,
    /// The registry in a shared store, when several hosts serve one deployment.
    shared: Option<SharedRegistry>,
}

/// The registry kept in a store every host shares.
struct SharedRegistry {
    store: Arc<dyn cognate_core::Store>,
    /// The version of the registry record the local registry reflects (0: none yet).
    seen: AtomicU64,
    /// One reload at a time.
    reload: tokio::sync::Mutex<()>,
}

/// The shared registry record.
const SHARED_REGISTRY_KEY: &str = "host/plugins/registry";
/// Module bytes per chunk record (under the store's value limit).
const SHARED_CHUNK_BYTES: usize = 256 * 1024;

fn shared_chunk_key(hash: &str, index: usize) -> String {
    format!("host/plugins/module/{hash}/{index:05}")
}

/// What the shared registry record holds.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
struct SharedRecord {
    /// name -> sha256 hex
    names: BTreeMap<String, String>,
    /// sha256 hex -> number of chunks
    modules: BTreeMap<String, usize>,
}

impl fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("dir", &self.dir)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// A runtime whose registry lives in `dir` (created if missing; `None`: in memory only, no
    /// compilation cache).
    pub fn new(dir: Option<&Path>, limits: PluginLimits) -> anyhow::Result<Self> {
        let runtime = Self::build(dir, dir, limits, None)?;
        runtime.load_dir()?;
        Ok(runtime)
    }

    /// A runtime whose registry lives in `store`, shared with every host on it; `dir` holds
    /// only the compilation cache.
    pub fn new_shared(
        dir: Option<&Path>,
        limits: PluginLimits,
        store: Arc<dyn cognate_core::Store>,
    ) -> anyhow::Result<Self> {
        Self::build(
            None,
            dir,
            limits,
            Some(SharedRegistry {
                store,
                seen: AtomicU64::new(0),
                reload: tokio::sync::Mutex::new(()),
            }),
        )
    }

    fn build(
        dir: Option<&Path>,
        cache_parent: Option<&Path>,
        limits: PluginLimits,
        shared: Option<SharedRegistry>,
    ) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        // Explicit bounds checks in a small reservation: many slots fit in little address space.
        let reservation = u64::try_from(limits.memory_bytes).unwrap_or(u64::MAX);
        config.memory_reservation(reservation);
        config.memory_guard_size(64 * 1024);
        config.memory_reservation_for_growth(0);
        config.memory_may_move(false);
        config.max_wasm_stack(512 * 1024);
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_core_instances(limits.max_instances)
            .total_memories(limits.max_instances)
            .total_tables(limits.max_instances)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .table_elements(100_000)
            .max_memory_size(limits.memory_bytes);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        if let Some(dir) = cache_parent {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create plugin directory {}", dir.display()))?;
            let mut cache = wasmtime::CacheConfig::new();
            // wasmtime's cache wants an absolute directory.
            let cache_dir = std::path::absolute(dir.join("cache"))
                .with_context(|| format!("plugin cache under {}", dir.display()))?;
            cache.with_directory(cache_dir);
            let cache = wasmtime::Cache::new(cache)
                .map_err(|e| anyhow::anyhow!("plugin compilation cache: {e}"))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("plugin engine: {e}"))?;
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "cognate",
                "log",
                |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| {
                    let Some(memory) = caller
                        .get_export("memory")
                        .and_then(wasmtime::Extern::into_memory)
                    else {
                        return;
                    };
                    let len = usize::try_from(len).unwrap_or(0).min(4096);
                    if caller.data().logged > 64 * 1024 {
                        return;
                    }
                    let mut buf = vec![0u8; len];
                    let offset = usize::try_from(ptr as u32).unwrap_or(usize::MAX);
                    if memory.read(&caller, offset, &mut buf).is_ok() {
                        caller.data_mut().logged += len;
                        tracing::info!(target: "cognate::plugin", "{}", String::from_utf8_lossy(&buf));
                    }
                },
            )
            .map_err(|e| anyhow::anyhow!("plugin linker: {e}"))?;
        let ticker = crate::epoch::EpochTicker::start(&engine, EPOCH_TICK, "cognate-plugin-epoch")?;
        let runtime = Self {
            engine,
            linker,
            limits,
            dir: dir.map(Path::to_path_buf),
            registry: RwLock::new(Registry::default()),
            last_check: AtomicU64::new(0),
            started: Instant::now(),
            _ticker: ticker,
            write_lock: Mutex::new(()),
            shared,
        };
        Ok(runtime)
    }

    /// Whether the registry is shared through a store.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    fn names_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("names.json"))
    }

    /// Compiles (or fetches from the cache) and pre-instantiates a module.
    fn compile(&self, bytes: &[u8]) -> anyhow::Result<Loaded> {
        let module = Module::new(&self.engine, bytes)
            .map_err(|e| anyhow::anyhow!("not a valid Wasm module: {e}"))?;
        for import in module.imports() {
            if (import.module(), import.name()) != ("cognate", "log") {
                bail!(
                    "the module imports {}.{}; plugins may import only cognate.log",
                    import.module(),
                    import.name()
                );
            }
        }
        let problem = contract_problem(&module);
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| anyhow::anyhow!("cannot pre-instantiate the module: {e}"))?;
        Ok(Loaded {
            pre,
            size: bytes.len(),
            problem,
        })
    }

    /// Loads every module and name in the plugin directory.
    fn load_dir(&self) -> anyhow::Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let mut modules = HashMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".wasm"))
            else {
                continue;
            };
            let bytes = std::fs::read(&path)?;
            let hash = cognate_core::codec::sha256_hex_of(&bytes);
            if hash != stem {
                tracing::warn!(path = %path.display(), "plugin file does not match its hash; skipped");
                continue;
            }
            match self.compile(&bytes) {
                Ok(loaded) => {
                    modules.insert(hash, Arc::new(loaded));
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "plugin skipped")
                }
            }
        }
        let (names, mtime) = self.read_names()?;
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        registry.modules = modules;
        registry.names = names;
        registry.names_mtime = mtime;
        tracing::info!(
            modules = registry.modules.len(),
            names = registry.names.len(),
            "trigger plugins loaded"
        );
        Ok(())
    }

    fn read_names(&self) -> anyhow::Result<(BTreeMap<String, String>, Option<SystemTime>)> {
        let Some(path) = self.names_path() else {
            return Ok((BTreeMap::new(), None));
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                let names = serde_json::from_slice(&bytes)
                    .with_context(|| format!("invalid {}", path.display()))?;
                Ok((names, mtime))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((BTreeMap::new(), None)),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn write_names(&self, names: &BTreeMap<String, String>) -> anyhow::Result<Option<SystemTime>> {
        let Some(path) = self.names_path() else {
            return Ok(None);
        };
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(names)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(std::fs::metadata(&path).and_then(|m| m.modified()).ok())
    }

    /// Rereads the directory if `names.json` changed since it was read (at most once a second).
    fn refresh_if_changed(&self) {
        let Some(path) = self.names_path() else {
            return;
        };
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_check.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 1000 && last != 0 {
            return;
        }
        self.last_check.store(now.max(1), Ordering::Relaxed);
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let known = self
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .names_mtime;
        if mtime != known
            && let Err(e) = self.load_dir()
        {
            tracing::warn!(error = %e, "cannot reload trigger plugins");
        }
    }

    /// Registers (or replaces) a module under `name` (and always under its hash). `bytes` may be
    /// a binary module or WAT text.
    pub fn register(&self, name: Option<&str>, bytes: &[u8]) -> anyhow::Result<PluginInfo> {
        let (hash, binary, loaded) = self.prepare(name, bytes)?;
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{hash}.wasm"));
            if !path.exists() {
                let tmp = dir.join(format!("{hash}.wasm.tmp"));
                std::fs::write(&tmp, &binary)?;
                std::fs::rename(&tmp, &path)?;
            }
        }
        let mut names = self.read_names()?.0;
        if let Some(name) = name {
            names.insert(name.to_owned(), hash.clone());
        }
        let mtime = self.write_names(&names)?;
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        registry.modules.insert(hash.clone(), loaded);
        if self.dir.is_some() {
            registry.names = names;
            registry.names_mtime = mtime;
        } else if let Some(name) = name {
            registry.names.insert(name.to_owned(), hash.clone());
        }
        Ok(info_of(&registry, &hash))
    }

    /// Checks, decodes (WAT or binary), hashes and compiles a module to register.
    fn prepare(
        &self,
        name: Option<&str>,
        bytes: &[u8],
    ) -> anyhow::Result<(String, Vec<u8>, Arc<Loaded>)> {
        if bytes.len() > MAX_MODULE_BYTES {
            bail!("the module is larger than {MAX_MODULE_BYTES} bytes");
        }
        if let Some(name) = name
            && !cognate_core::trigger::is_plugin_name(name)
        {
            bail!("plugin names are 1 to 64 of A-Z a-z 0-9 - _ . (got {name:?})");
        }
        let binary = if bytes.starts_with(b"\0asm") {
            bytes.to_vec()
        } else {
            wat::parse_bytes(bytes)
                .map_err(|e| anyhow::anyhow!("neither a Wasm binary nor valid WAT: {e}"))?
                .into_owned()
        };
        let hash = cognate_core::codec::sha256_hex_of(&binary);
        let loaded = Arc::new(self.compile(&binary)?);
        Ok((hash, binary, loaded))
    }

    /// Removes a name, or (`sha256:<hex>`) a module and every name of it. Returns whether
    /// anything was removed.
    pub fn remove(&self, reference: &str) -> anyhow::Result<bool> {
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut names = if self.dir.is_some() {
            self.read_names()?.0
        } else {
            self.registry
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .names
                .clone()
        };
        let removed_hash = reference
            .strip_prefix("sha256:")
            .map(str::to_ascii_lowercase);
        let before = names.len();
        match &removed_hash {
            Some(hash) => names.retain(|_, h| h != hash),
            None => {
                names.remove(reference);
            }
        }
        let mut removed = names.len() != before;
        let mtime = self.write_names(&names)?;
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        if let Some(hash) = &removed_hash {
            removed |= registry.modules.remove(hash).is_some();
            if let Some(dir) = &self.dir {
                let _ = std::fs::remove_file(dir.join(format!("{hash}.wasm")));
            }
        }
        registry.names = names;
        registry.names_mtime = mtime;
        Ok(removed)
    }

    /// Every registered module.
    pub fn list(&self) -> Vec<PluginInfo> {
        self.refresh_if_changed();
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        let mut hashes: Vec<&String> = registry.modules.keys().collect();
        hashes.sort();
        hashes.iter().map(|h| info_of(&registry, h)).collect()
    }

    fn resolve(&self, reference: &str) -> Option<Arc<Loaded>> {
        let find = |registry: &Registry| match reference.strip_prefix("sha256:") {
            Some(hash) => registry.modules.get(hash).cloned(),
            None => registry
                .names
                .get(reference)
                .and_then(|h| registry.modules.get(h))
                .cloned(),
        };
        self.refresh_if_changed();
        find(&self.registry.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `plugin` on `event` (synchronously, on this thread; bounded by the budgets).
    pub fn call(&self, plugin: &str, event: &[u8]) -> Result<Vec<u8>, InvocationError> {
        let loaded = self.resolve(plugin).ok_or(InvocationError::NotFound)?;
        if let Some(problem) = &loaded.problem {
            return Err(InvocationError::MissingExport(problem.clone()));
        }
        let mut store = Store::new(
            &self.engine,
            CallState {
                memory_cap: self.limits.memory_bytes,
                out_of_memory: false,
                logged: 0,
            },
        );
        store.limiter(|state| state as &mut dyn ResourceLimiter);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| InvocationError::Unavailable(e.to_string()))?;
        let ticks = u64::try_from(self.limits.timeout.as_millis() / EPOCH_TICK.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        store.set_epoch_deadline(ticks);
        let result = run_call(&mut store, &loaded.pre, event, self.limits.output_bytes);
        result.map_err(|e| match e {
            CallError::Invocation(e) => e,
            CallError::Wasm(e) => classify(&e, store.data().out_of_memory),
        })
    }
}

/// The registry operations that work on both kinds of registry: the shared one through the
/// store, the local one as before.
impl PluginRuntime {
    /// [`register`](Self::register), through the shared store when there is one.
    pub async fn register_any(
        &self,
        name: Option<&str>,
        bytes: &[u8],
    ) -> anyhow::Result<PluginInfo> {
        let Some(shared) = &self.shared else {
            return self.register(name, bytes);
        };
        let (hash, binary, loaded) = self.prepare(name, bytes)?;
        let chunks: Vec<&[u8]> = binary.chunks(SHARED_CHUNK_BYTES).collect();
        // The bytes first, then the record that points at them: a host that sees the record
        // finds the bytes.
        for (index, chunk) in chunks.iter().enumerate() {
            shared
                .store
                .put(
                    &shared_chunk_key(&hash, index),
                    chunk,
                    cognate_core::Expect::Any,
                )
                .await
                .map_err(|e| anyhow::anyhow!("cannot store the plugin: {e}"))?;
        }
        let count = chunks.len();
        self.update_shared(|record| {
            record.modules.insert(hash.clone(), count);
            if let Some(name) = name {
                record.names.insert(name.to_owned(), hash.clone());
            }
            true
        })
        .await?;
        self.registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .modules
            .insert(hash.clone(), loaded);
        self.refresh_shared().await?;
        Ok(info_of(
            &self.registry.read().unwrap_or_else(|e| e.into_inner()),
            &hash,
        ))
    }

    /// [`remove`](Self::remove), through the shared store when there is one.
    pub async fn remove_any(&self, reference: &str) -> anyhow::Result<bool> {
        let Some(shared) = &self.shared else {
            return self.remove(reference);
        };
        let removed_hash = reference
            .strip_prefix("sha256:")
            .map(str::to_ascii_lowercase);
        let mut chunks = 0;
        let removed = self
            .update_shared(|record| match &removed_hash {
                Some(hash) => {
                    let before = record.names.len();
                    record.names.retain(|_, h| h != hash);
                    chunks = record.modules.remove(hash).unwrap_or(0);
                    chunks > 0 || record.names.len() != before
                }
                None => record.names.remove(reference).is_some(),
            })
            .await?;
        if let Some(hash) = &removed_hash {
            for index in 0..chunks {
                if let Err(e) = shared
                    .store
                    .delete(&shared_chunk_key(hash, index), cognate_core::Expect::Any)
                    .await
                {
                    tracing::warn!(%hash, error = %e, "cannot delete a removed plugin's bytes");
                }
            }
        }
        self.refresh_shared().await?;
        Ok(removed)
    }

    /// [`list`](Self::list), current with the shared store when there is one.
    pub async fn list_any(&self) -> anyhow::Result<Vec<PluginInfo>> {
        self.refresh_shared().await?;
        Ok(self.list())
    }

    /// Applies `change` to the shared record by compare-and-set, retrying on a concurrent
    /// change. `change` says whether it changed anything (nothing is written if not).
    async fn update_shared(
        &self,
        mut change: impl FnMut(&mut SharedRecord) -> bool,
    ) -> anyhow::Result<bool> {
        use cognate_core::{Expect, StoreError};
        let Some(shared) = &self.shared else {
            bail!("the plugin registry is not shared");
        };
        for _ in 0..100 {
            let current = shared
                .store
                .get(SHARED_REGISTRY_KEY)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read the plugin registry: {e}"))?;
            let (mut record, expect) = match &current {
                Some(item) => (
                    serde_json::from_slice::<SharedRecord>(&item.value)
                        .context("the shared plugin registry does not decode")?,
                    Expect::Version(item.version),
                ),
                None => (SharedRecord::default(), Expect::Absent),
            };
            if !change(&mut record) {
                return Ok(false);
            }
            let bytes = serde_json::to_vec(&record)?;
            match shared.store.put(SHARED_REGISTRY_KEY, &bytes, expect).await {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict) => continue,
                Err(e) => bail!("cannot write the plugin registry: {e}"),
            }
        }
        bail!("the plugin registry kept changing under this update")
    }

    /// Brings the local registry up to the shared record's version: loads new modules (bytes
    /// from the store, compiled here) and drops removed names and modules. A no-op without a
    /// shared store, or when the version is the one already seen.
    pub async fn refresh_shared(&self) -> anyhow::Result<()> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let read =
            |e: cognate_core::StoreError| anyhow::anyhow!("cannot read the plugin registry: {e}");
        let current = shared.store.get(SHARED_REGISTRY_KEY).await.map_err(read)?;
        let version = current.as_ref().map_or(0, |item| item.version);
        if version == shared.seen.load(Ordering::Acquire) {
            return Ok(());
        }
        let _one_at_a_time = shared.reload.lock().await;
        if version == shared.seen.load(Ordering::Acquire) {
            return Ok(());
        }
        let record: SharedRecord = match &current {
            Some(item) => serde_json::from_slice(&item.value)
                .context("the shared plugin registry does not decode")?,
            None => SharedRecord::default(),
        };
        let mut modules = HashMap::new();
        for (hash, chunks) in &record.modules {
            let known = self
                .registry
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .modules
                .get(hash)
                .cloned();
            if let Some(loaded) = known {
                modules.insert(hash.clone(), loaded);
                continue;
            }
            let mut binary = Vec::new();
            for index in 0..*chunks {
                match shared
                    .store
                    .get(&shared_chunk_key(hash, index))
                    .await
                    .map_err(read)?
                {
                    Some(item) => binary.extend_from_slice(&item.value),
                    None => break,
                }
            }
            if cognate_core::codec::sha256_hex_of(&binary) != *hash {
                tracing::warn!(%hash, "a shared plugin's bytes are missing or do not match its hash; skipped");
                continue;
            }
            match self.compile(&binary) {
                Ok(loaded) => {
                    modules.insert(hash.clone(), Arc::new(loaded));
                }
                Err(e) => tracing::warn!(%hash, error = %e, "shared plugin skipped"),
            }
        }
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        registry.modules = modules;
        registry.names = record.names;
        shared.seen.store(version, Ordering::Release);
        Ok(())
    }
}

fn info_of(registry: &Registry, hash: &str) -> PluginInfo {
    let module = registry.modules.get(hash);
    PluginInfo {
        names: registry
            .names
            .iter()
            .filter(|(_, h)| h.as_str() == hash)
            .map(|(n, _)| n.clone())
            .collect(),
        sha256: hash.to_owned(),
        reference: format!("sha256:{hash}"),
        size: module.map_or(0, |m| m.size),
        problem: module.and_then(|m| m.problem.clone()),
    }
}

/// Why a module cannot be called, if it cannot: the contract's exports and their types.
fn contract_problem(module: &Module) -> Option<String> {
    use wasmtime::{ExternType, ValType};
    let export = |name: &str| module.get_export(name);
    match export("memory") {
        Some(ExternType::Memory(_)) => {}
        _ => return Some("it does not export `memory`".into()),
    }
    let func = |name: &str, params: &[&str], results: &[&str]| -> Option<String> {
        let Some(ExternType::Func(ty)) = export(name) else {
            return Some(format!("it does not export the function `{name}`"));
        };
        let names = |types: &mut dyn Iterator<Item = ValType>| -> Vec<&'static str> {
            types
                .map(|t| match t {
                    ValType::I32 => "i32",
                    ValType::I64 => "i64",
                    _ => "other",
                })
                .collect()
        };
        let p = names(&mut ty.params());
        let r = names(&mut ty.results());
        (p != params || r != results).then(|| {
            format!(
                "`{name}` must have type ({}) -> ({})",
                params.join(", "),
                results.join(", ")
            )
        })
    };
    func("alloc", &["i32"], &["i32"]).or_else(|| func("handle", &["i32", "i32"], &["i64"]))
}

enum CallError {
    Invocation(InvocationError),
    Wasm(wasmtime::Error),
}

impl From<wasmtime::Error> for CallError {
    fn from(e: wasmtime::Error) -> Self {
        Self::Wasm(e)
    }
}

fn run_call(
    store: &mut Store<CallState>,
    pre: &InstancePre<CallState>,
    event: &[u8],
    output_cap: usize,
) -> Result<Vec<u8>, CallError> {
    let instance = pre.instantiate(&mut *store)?;
    let missing = |what: &str| CallError::Invocation(InvocationError::MissingExport(what.into()));
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| missing("it does not export `memory`"))?;
    let alloc = instance
        .get_typed_func::<i32, i32>(&mut *store, "alloc")
        .map_err(|_| missing("`alloc` must be exported as (i32) -> i32"))?;
    let handle = instance
        .get_typed_func::<(i32, i32), i64>(&mut *store, "handle")
        .map_err(|_| missing("`handle` must be exported as (i32, i32) -> i64"))?;
    let len = i32::try_from(event.len()).map_err(|_| {
        CallError::Invocation(InvocationError::Unavailable("event too large".into()))
    })?;
    let ptr = alloc.call(&mut *store, len)?;
    let bad = |what: String| CallError::Invocation(InvocationError::BadOutput(what));
    memory
        .write(&mut *store, ptr as u32 as usize, event)
        .map_err(|_| bad(format!("alloc({len}) returned {ptr}, outside memory")))?;
    let packed = handle.call(&mut *store, (ptr, len))? as u64;
    let out_ptr = (packed >> 32) as usize;
    let out_len = (packed & 0xffff_ffff) as usize;
    if out_len > output_cap {
        return Err(CallError::Invocation(InvocationError::OutputTooLarge));
    }
    let mut out = vec![0u8; out_len];
    memory.read(&*store, out_ptr, &mut out).map_err(|_| {
        bad(format!(
            "the answer ({out_len} bytes at {out_ptr}) is outside memory"
        ))
    })?;
    Ok(out)
}

fn classify(error: &wasmtime::Error, out_of_memory: bool) -> InvocationError {
    if out_of_memory {
        return InvocationError::OutOfMemory;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel | Trap::Interrupt) => InvocationError::Timeout,
        Some(trap) => InvocationError::Trap(trap.to_string()),
        None => {
            let text = error.to_string();
            if text.contains("pooling") || text.contains("maximum concurrent") {
                InvocationError::Unavailable(text)
            } else {
                InvocationError::Trap(text)
            }
        }
    }
}

impl Triggers for PluginRuntime {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        // A call is tens of microseconds, bounded by fuel and the epoch deadline: it runs
        // inline rather than paying for a hop to the blocking pool.
        boxed(async move {
            if let Err(e) = self.refresh_shared().await {
                tracing::warn!(target: "cognate::plugin", plugin, error = %e, "cannot read the shared plugin registry");
                return Err(InvocationError::Unavailable(format!("{e:#}")));
            }
            let started = Instant::now();
            let result = self.call(plugin, event);
            tracing::debug!(
                target: "cognate::plugin",
                plugin,
                micros = started.elapsed().as_micros() as u64,
                ok = result.is_ok(),
                "trigger plugin call"
            );
            if let Err(e) = &result {
                tracing::warn!(target: "cognate::plugin", plugin, error = ?e, "trigger plugin failed");
            }
            result
        })
    }
}

#[cfg(test)]
mod tests;

/// The plugin directory inside the data directory.
pub const PLUGIN_DIR: &str = "plugins";

/// `cognate plugins ...`: works on the data directory directly; a running server sees the
/// change within a second.
pub fn cli(command: crate::config::PluginsCommand) -> anyhow::Result<()> {
    use crate::config::PluginsCommand;
    use std::io::Write as _;
    let open = |data: &crate::config::DataDirArg| {
        PluginRuntime::new(
            Some(&data.dir().join(PLUGIN_DIR)),
            PluginLimits {
                max_instances: 1,
                ..PluginLimits::default()
            },
        )
    };
    let mut out = std::io::stdout().lock();
    match command {
        PluginsCommand::Add { name, file, data } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let info = open(&data)?.register(Some(&name), &bytes)?;
            writeln!(out, "Registered plugin: {name}")?;
            writeln!(out, "Reference: {}", info.reference)?;
            writeln!(out, "Size: {} bytes", info.size)?;
            if let Some(problem) = &info.problem {
                writeln!(out, "Warning: every call will fail: {problem}")?;
            }
            writeln!(
                out,
                "Use it in a pool's LambdaConfig, e.g. --lambda-config PreSignUp={name}"
            )?;
        }
        PluginsCommand::List { data } => {
            for info in open(&data)?.list() {
                writeln!(
                    out,
                    "{}\t{}\t{} bytes{}",
                    if info.names.is_empty() {
                        "-".to_owned()
                    } else {
                        info.names.join(",")
                    },
                    info.reference,
                    info.size,
                    info.problem
                        .map(|p| format!("\tBROKEN: {p}"))
                        .unwrap_or_default()
                )?;
            }
        }
        PluginsCommand::Remove { reference, data } => {
            if !open(&data)?.remove(&reference)? {
                bail!("no plugin {reference}");
            }
            writeln!(out, "Removed {reference}")?;
        }
    }
    Ok(())
}

/// The [`PluginRegistry`](cognate_core::ports::PluginRegistry) port behind the
/// `CognatePlugins.*` admin API (which the core routes, authorises and renders): the shared
/// registry in the store when there is one, else the data directory's. Every failure to
/// register (a module that does not compile, a store that does not answer) is refused as an
/// invalid parameter, a failing list or delete is an internal error.
impl cognate_core::ports::PluginRegistry for PluginRuntime {
    fn register<'a>(
        &'a self,
        name: Option<&'a str>,
        module: &'a [u8],
    ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>> {
        boxed(async move {
            self.register_any(name, module)
                .await
                .map_err(|e| RegistryError::Refused(format!("{e:#}")))
        })
    }

    fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>> {
        boxed(async move {
            self.list_any()
                .await
                .map_err(|e| RegistryError::Failed(format!("{e:#}")))
        })
    }

    fn delete<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>> {
        boxed(async move {
            self.remove_any(reference)
                .await
                .map_err(|e| RegistryError::Failed(format!("{e:#}")))
        })
    }
}
