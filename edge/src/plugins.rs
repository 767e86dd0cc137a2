//! Trigger plugins on the edge: the [`Triggers`](cognate_core::Triggers) port over the modules
//! bundled with the Worker at deploy time, and the registry behind the `CognatePlugins.*` admin
//! API (the core's `PluginRegistry` port; the core routes, authorises and renders the API).
//!
//! Workers refuse to compile Wasm at run time, so `edge/build.sh` runs
//! `cognate-plugin-bundle`, which writes each plugin (memory cap and CPU metering written in)
//! next to a generated table, `build/plugins.js`; the entry shim puts that table on
//! `globalThis.__cognatePlugins`: SHA-256 of the original module -> compiled
//! `WebAssembly.Module`, deploy-time names (file names), and the hashes of WAT sources.
//!
//! Every call instantiates the module afresh (`new WebAssembly.Instance`, nothing crosses
//! users), with the host's one import (`cognate.log`), runs the contract (`alloc`, `handle`),
//! and maps failures exactly as the host does ([`InvocationError`]), so the core turns them
//! into the same Cognito errors:
//! - CPU: the injected gas counter traps; its exported global tells a timeout from a trap;
//! - memory: the injected grow check traps and sets its exported flag: out of memory;
//! - output: the answer's length is checked here against [`OUTPUT_CAP`] before it is read.
//!
//! Plugin traps are caught in JavaScript ([`guarded`]): a trap that crossed into this module's
//! own Wasm would count as the Worker's own crash and reset its instance.
//!
//! Names: deploy-time names come with the bundle; `RegisterPlugin` adds a name for a bundled
//! module (matched by the SHA-256 of the binary, or of the WAT text it was built from), kept in
//! the Durable Object store under [`NAME_PREFIX`]. A module that is not in the bundle is
//! refused (`InvalidParameterException`): it would need compiling.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use cognate_core::ports::{BoxFuture, InvocationError, PluginInfo, RegistryError, boxed};
use cognate_core::store::{Expect, Store};
use js_sys::{Function, Object, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;
use worker::send::SendFuture;

/// Default cap on a plugin's answer (the host's default).
pub const OUTPUT_CAP: usize = 1024 * 1024;
/// Store keys of the names `RegisterPlugin` added: `<prefix><name>` -> SHA-256 hex.
pub const NAME_PREFIX: &str = "plugin-name/";
/// Bytes one call may log (as on the host).
const LOG_BUDGET: usize = 64 * 1024;

#[wasm_bindgen(inline_js = r#"
export function cognate_plugin_table() {
  return globalThis.__cognatePlugins ?? null;
}
export function cognate_instantiate(module, imports) {
  try { return { value: new WebAssembly.Instance(module, imports) }; }
  catch (e) { return { thrown: e }; }
}
export function cognate_call(f, a, b) {
  try {
    const r = b === undefined ? f(a) : f(a, b);
    if (typeof r === "bigint") {
      const u = BigInt.asUintN(64, r);
      return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
    }
    return { value: r };
  } catch (e) { return { thrown: e }; }
}
"#)]
extern "C" {
    fn cognate_plugin_table() -> JsValue;
    fn cognate_instantiate(module: &WebAssembly::Module, imports: &Object) -> JsValue;
    fn cognate_call(f: &Function, a: i32, b: JsValue) -> JsValue;
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn thrown_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "exception".to_owned())
}

/// A bundled module.
#[derive(Debug, Clone)]
pub struct Bundled {
    pub sha256: String,
    pub module: WebAssembly::Module,
    /// Size of the original binary.
    pub size: usize,
    /// Why every call fails, if it does.
    pub problem: Option<String>,
}

/// The bundle's table (`build/plugins.js`).
#[derive(Debug, Clone)]
pub struct Bundle {
    table: JsValue,
}

impl Bundle {
    /// The bundled table, or an empty one when the Worker was built without plugins.
    pub fn load() -> Self {
        Self {
            table: cognate_plugin_table(),
        }
    }

    fn section(&self, name: &str) -> JsValue {
        if self.table.is_null() || self.table.is_undefined() {
            return JsValue::UNDEFINED;
        }
        get(&self.table, name)
    }

    /// The module with this SHA-256 (lower-case hex).
    pub fn module(&self, sha256: &str) -> Option<Bundled> {
        let entry = get(&self.section("modules"), sha256);
        if entry.is_undefined() || entry.is_null() {
            return None;
        }
        let module = get(&entry, "module")
            .dyn_into::<WebAssembly::Module>()
            .ok()?;
        Some(Bundled {
            sha256: sha256.to_owned(),
            module,
            size: get(&entry, "size").as_f64().map_or(0, |s| s as usize),
            problem: get(&entry, "problem").as_string(),
        })
    }

    /// Every bundled module's SHA-256, sorted.
    pub fn hashes(&self) -> Vec<String> {
        let modules = self.section("modules");
        let mut hashes: Vec<String> = match modules.dyn_ref::<Object>() {
            Some(object) => Object::keys(object)
                .iter()
                .filter_map(|k| k.as_string())
                .collect(),
            None => Vec::new(),
        };
        hashes.sort();
        hashes
    }

    /// The deploy-time names: (name, SHA-256).
    pub fn names(&self) -> Vec<(String, String)> {
        let names = self.section("names");
        let Some(object) = names.dyn_ref::<Object>() else {
            return Vec::new();
        };
        Object::entries(object)
            .iter()
            .filter_map(|pair| {
                let pair: js_sys::Array = pair.dyn_into().ok()?;
                Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
            })
            .collect()
    }

    /// The module built from WAT text with this SHA-256.
    pub fn from_source(&self, source_sha256: &str) -> Option<String> {
        get(&self.section("sources"), source_sha256).as_string()
    }

    fn limit_string(&self, key: &str) -> Option<String> {
        get(&self.section("limits"), key).as_string()
    }
}

/// What a call's imports share with this side.
struct CallState {
    memory: RefCell<Option<WebAssembly::Memory>>,
    logged: Cell<usize>,
}

/// Runs one bundled module on `event`: a fresh instance, the contract, the host's error mapping.
pub fn call(
    bundle: &Bundle,
    module: &Bundled,
    event: &[u8],
    output_cap: usize,
) -> Result<Vec<u8>, InvocationError> {
    if let Some(problem) = &module.problem {
        return Err(InvocationError::MissingExport(problem.clone()));
    }
    let state = Rc::new(CallState {
        memory: RefCell::new(None),
        logged: Cell::new(0),
    });
    let log_state = Rc::clone(&state);
    let log = Closure::<dyn FnMut(i32, i32)>::new(move |ptr: i32, len: i32| {
        log_line(&log_state, ptr, len);
    });
    let imports = Object::new();
    let cognate = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        Reflect::set(o, &JsValue::from_str(k), v)
            .map(|_| ())
            .map_err(|e| InvocationError::Unavailable(thrown_message(&e)))
    };
    set(&cognate, "log", log.as_ref())?;
    set(&imports, "cognate", &cognate)?;
    let outcome = cognate_instantiate(&module.module, &imports);
    let thrown = get(&outcome, "thrown");
    if !thrown.is_undefined() {
        return Err(InvocationError::Trap(thrown_message(&thrown)));
    }
    let instance: WebAssembly::Instance = get(&outcome, "value")
        .dyn_into()
        .map_err(|_| InvocationError::Unavailable("instantiation gave no instance".into()))?;
    let exports: JsValue = instance.exports().into();
    let missing = |what: &str| InvocationError::MissingExport(what.to_owned());
    let memory: WebAssembly::Memory = get(&exports, "memory")
        .dyn_into()
        .map_err(|_| missing("it does not export `memory`"))?;
    *state.memory.borrow_mut() = Some(memory.clone());
    let alloc: Function = get(&exports, "alloc")
        .dyn_into()
        .map_err(|_| missing("`alloc` must be exported as (i32) -> i32"))?;
    let handle: Function = get(&exports, "handle")
        .dyn_into()
        .map_err(|_| missing("`handle` must be exported as (i32, i32) -> i64"))?;
    let failed = |thrown: &JsValue| classify(bundle, &exports, thrown);

    let len = i32::try_from(event.len())
        .map_err(|_| InvocationError::Unavailable("event too large".into()))?;
    let result = cognate_call(&alloc, len, JsValue::UNDEFINED);
    let thrown = get(&result, "thrown");
    if !thrown.is_undefined() {
        return Err(failed(&thrown));
    }
    let ptr = get(&result, "value").as_f64().unwrap_or(-1.0) as i32;
    let bad = |what: String| InvocationError::BadOutput(what);
    let view = Uint8Array::new(&memory.buffer());
    let start = ptr as u32;
    if u64::from(start) + event.len() as u64 > u64::from(view.length()) {
        return Err(bad(format!("alloc({len}) returned {ptr}, outside memory")));
    }
    view.subarray(start, start + event.len() as u32)
        .copy_from(event);

    let result = cognate_call(&handle, ptr, JsValue::from(len));
    let thrown = get(&result, "thrown");
    if !thrown.is_undefined() {
        return Err(failed(&thrown));
    }
    let (Some(out_ptr), Some(out_len)) = (get(&result, "hi").as_f64(), get(&result, "lo").as_f64())
    else {
        return Err(missing("`handle` must be exported as (i32, i32) -> i64"));
    };
    let (out_ptr, out_len) = (out_ptr as u32, out_len as u32);
    if out_len as usize > output_cap {
        return Err(InvocationError::OutputTooLarge);
    }
    // The memory may have grown: a new buffer.
    let view = Uint8Array::new(&memory.buffer());
    if u64::from(out_ptr) + u64::from(out_len) > u64::from(view.length()) {
        return Err(bad(format!(
            "the answer ({out_len} bytes at {out_ptr}) is outside memory"
        )));
    }
    let out = view.subarray(out_ptr, out_ptr + out_len).to_vec();
    drop(log);
    Ok(out)
}

/// Why a call threw: the injected counters tell out-of-memory and timeouts from traps.
fn classify(bundle: &Bundle, exports: &JsValue, thrown: &JsValue) -> InvocationError {
    let global = |name: Option<String>| {
        name.and_then(|n| get(exports, &n).dyn_into::<WebAssembly::Global>().ok())
            .and_then(|g| g.value().as_f64())
    };
    if global(bundle.limit_string("oomExport")).is_some_and(|flag| flag != 0.0) {
        return InvocationError::OutOfMemory;
    }
    if global(bundle.limit_string("gasExport")).is_some_and(|gas| gas < 0.0) {
        return InvocationError::Timeout;
    }
    InvocationError::Trap(thrown_message(thrown))
}

/// `cognate.log(ptr, len)`: at most 4 KiB a line and 64 KiB a call, as on the host.
fn log_line(state: &CallState, ptr: i32, len: i32) {
    let Some(memory) = state.memory.borrow().clone() else {
        return;
    };
    let len = (len.max(0) as u32).min(4096);
    if state.logged.get() > LOG_BUDGET {
        return;
    }
    let view = Uint8Array::new(&memory.buffer());
    let start = ptr as u32;
    if u64::from(start) + u64::from(len) > u64::from(view.length()) {
        return;
    }
    let bytes = view.subarray(start, start + len).to_vec();
    state.logged.set(state.logged.get() + bytes.len());
    worker::console_log!("plugin: {}", String::from_utf8_lossy(&bytes));
}

/// The SHA-256 a reference resolves to: `sha256:<hex>`, a registered name, or a deploy-time
/// name (registered names win).
pub async fn resolve(
    bundle: &Bundle,
    store: &dyn Store,
    reference: &str,
) -> Result<Option<String>, InvocationError> {
    if let Some(hash) = reference.strip_prefix("sha256:") {
        return Ok(Some(hash.to_ascii_lowercase()));
    }
    let key = format!("{NAME_PREFIX}{reference}");
    match store.get(&key).await {
        Ok(Some(item)) => return Ok(String::from_utf8(item.value).ok()),
        Ok(None) => {}
        Err(e) => return Err(InvocationError::Unavailable(e.to_string())),
    }
    Ok(bundle
        .names()
        .into_iter()
        .find(|(name, _)| name == reference)
        .map(|(_, hash)| hash))
}

/// The [`Triggers`](cognate_core::Triggers) port's work for [`crate::EdgeEnv`].
pub fn invoke<'a>(
    store: &'a dyn Store,
    plugin: &'a str,
    event: &'a [u8],
) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
    boxed(SendFuture::new(async move {
        let bundle = Bundle::load();
        let hash = resolve(&bundle, store, plugin)
            .await?
            .ok_or(InvocationError::NotFound)?;
        let module = bundle.module(&hash).ok_or(InvocationError::NotFound)?;
        let result = call(&bundle, &module, event, OUTPUT_CAP);
        if let Err(e) = &result {
            worker::console_warn!("trigger plugin {plugin} failed: {e:?}");
        }
        result
    }))
}

// ---------------------------------------------------------------------------------------------
// Admin API

/// Every registered name: (name, SHA-256), deploy-time names first, registered ones over them.
async fn all_names(bundle: &Bundle, store: &dyn Store) -> Result<Vec<(String, String)>, String> {
    let mut names: std::collections::BTreeMap<String, String> =
        bundle.names().into_iter().collect();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .scan(NAME_PREFIX, after.as_deref(), 1000)
            .await
            .map_err(|e| e.to_string())?;
        for (key, item) in page.items {
            if let (Some(name), Ok(hash)) =
                (key.strip_prefix(NAME_PREFIX), String::from_utf8(item.value))
            {
                names.insert(name.to_owned(), hash);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(names.into_iter().collect())
}

fn info(module: &Bundled, names: &[(String, String)]) -> PluginInfo {
    PluginInfo {
        names: names
            .iter()
            .filter(|(_, h)| *h == module.sha256)
            .map(|(n, _)| n.clone())
            .collect(),
        sha256: module.sha256.clone(),
        reference: format!("sha256:{}", module.sha256),
        size: module.size,
        problem: module.problem.clone(),
    }
}

/// `RegisterPlugin` (the name already checked by the core): only a module bundled at deploy time
/// (its binary, or the WAT source it was built from) can be registered, under a name kept in
/// the store.
pub async fn register(
    store: &dyn Store,
    name: Option<&str>,
    bytes: &[u8],
) -> Result<PluginInfo, RegistryError> {
    let bundle = Bundle::load();
    let given = cognate_core::codec::sha256_hex_of(bytes);
    let hash = if bytes.starts_with(b"\0asm") {
        Some(given.clone())
    } else {
        bundle.from_source(&given)
    };
    let module = hash.and_then(|h| bundle.module(&h)).ok_or_else(|| {
        RegistryError::Refused(format!(
            "This Worker cannot compile plugins at run time: only modules bundled at deploy \
             time can be registered, and this one (SHA-256 {given}) is not in the bundle. Put it \
             in edge/plugins/ (or COGNATE_EDGE_PLUGINS) and redeploy."
        ))
    })?;
    if let Some(name) = name {
        let key = format!("{NAME_PREFIX}{name}");
        store
            .put(&key, module.sha256.as_bytes(), Expect::Any)
            .await
            .map_err(|e| RegistryError::Failed(e.to_string()))?;
    }
    let names = all_names(&bundle, store)
        .await
        .map_err(RegistryError::Failed)?;
    Ok(info(&module, &names))
}

/// `ListPlugins`: every bundled module with its names.
pub async fn list(store: &dyn Store) -> Result<Vec<PluginInfo>, RegistryError> {
    let bundle = Bundle::load();
    let names = all_names(&bundle, store)
        .await
        .map_err(RegistryError::Failed)?;
    Ok(bundle
        .hashes()
        .iter()
        .filter_map(|h| bundle.module(h))
        .map(|m| info(&m, &names))
        .collect())
}

/// `DeletePlugin`: removes a registered name. Modules and deploy-time names are part of the
/// deployment and are refused.
pub async fn delete(store: &dyn Store, reference: &str) -> Result<bool, RegistryError> {
    let bundle = Bundle::load();
    if reference.starts_with("sha256:") {
        return Err(RegistryError::Refused(
            "Modules are bundled with the Worker at deploy time: remove it from the plugin \
             directory and redeploy (DeletePlugin with a Name removes a name)."
                .into(),
        ));
    }
    let failed = |e: cognate_core::StoreError| RegistryError::Failed(e.to_string());
    let key = format!("{NAME_PREFIX}{reference}");
    match store.get(&key).await.map_err(failed)? {
        Some(_) => {
            store.delete(&key, Expect::Any).await.map_err(failed)?;
            Ok(true)
        }
        None if bundle.names().iter().any(|(n, _)| n == reference) => {
            Err(RegistryError::Refused(format!(
                "{reference} is a deploy-time name (a file in the plugin directory): rename or \
                 remove the file and redeploy."
            )))
        }
        None => Ok(false),
    }
}
