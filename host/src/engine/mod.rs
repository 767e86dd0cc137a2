//! How the host runs the core: as the Wasm artifact inside wasmtime (the default, DESIGN §2:
//! the same core everywhere) or linked natively (to measure against, and for debugging).
//!
//! Both engines answer a [`Request`] with a [`Response`] over the same [`HostEnv`] ports; only
//! where the core's own code runs differs.

use std::sync::{Arc, OnceLock};

use cognate_core::{Request, Response, Service};

use crate::ports::HostEnv;

pub mod artifact;
pub mod wasm;

pub use wasm::{WasmCore, WasmLimits};

/// `cognate serve --engine`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// The core's Wasm build in wasmtime.
    #[default]
    Wasm,
    /// The core linked into the host binary.
    Native,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Wasm => "wasm",
            Self::Native => "native",
        }
    }
}

/// The engine a server answers requests with.
#[derive(Debug)]
pub enum CoreEngine {
    Native,
    Wasm(WasmCore),
    /// The Wasm core while it compiles in the background: the first start of a new binary
    /// compiles it for seconds, and meanwhile requests run in the natively linked core (the
    /// same code, on the same ports, so the same answers); each request after the compile
    /// runs in Wasm.
    Warming(Arc<OnceLock<WasmCore>>),
}

impl CoreEngine {
    /// The engine of `kind` for `service`'s configuration. Compiling the Wasm core takes
    /// seconds the first time (then it comes from `cache_dir`): call it off the async threads.
    pub fn new(
        kind: EngineKind,
        service: &Service,
        cache_dir: Option<&std::path::Path>,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        Ok(match kind {
            EngineKind::Native => Self::Native,
            EngineKind::Wasm => Self::Wasm(WasmCore::new(service.config(), cache_dir, limits)?),
        })
    }

    /// The Wasm engine for `service`, compiled (or loaded from `cache_dir`) on a thread of its
    /// own; answers at once. A compile that fails is logged and leaves the native core serving.
    pub fn warming(
        service: &Service,
        cache_dir: Option<&std::path::Path>,
        limits: WasmLimits,
    ) -> anyhow::Result<Self> {
        let cell = Arc::new(OnceLock::new());
        let ready = Arc::clone(&cell);
        let config = service.config().clone();
        let cache_dir = cache_dir.map(std::path::Path::to_path_buf);
        std::thread::Builder::new()
            .name("cognate-core-compile".into())
            .spawn(move || {
                match load_core(&config, cache_dir.as_deref(), limits) {
                    Ok(core) => {
                        let _ = ready.set(core);
                        tracing::info!(target: "cognate::engine", "requests now run in the Wasm core");
                    }
                    Err(e) => tracing::error!(
                        target: "cognate::engine",
                        error = %format!("{e:#}"),
                        "the Wasm core did not compile: requests keep running in the native core"
                    ),
                }
            })?;
        Ok(Self::Warming(cell))
    }

    /// The Wasm core requests run in, once there is one (never for native).
    pub fn wasm_core(&self) -> Option<&WasmCore> {
        match self {
            Self::Native => None,
            Self::Wasm(core) => Some(core),
            Self::Warming(cell) => cell.get(),
        }
    }

    /// Whether requests run in Wasm yet (always for a compiled engine, never for native).
    pub fn is_wasm_ready(&self) -> bool {
        self.wasm_core().is_some()
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Self::Native => EngineKind::Native,
            Self::Wasm(_) | Self::Warming(_) => EngineKind::Wasm,
        }
    }

    /// Answers one request. Never fails: a guest that traps becomes a 500
    /// `InternalErrorException` (and a log line).
    pub async fn handle(
        &self,
        service: &Service,
        request: Request,
        env: &Arc<HostEnv>,
    ) -> Response {
        match self {
            Self::Native => native_handle(service, request, env).await,
            Self::Wasm(core) => core.handle(&request, Arc::clone(env)).await,
            Self::Warming(cell) => match cell.get() {
                Some(core) => core.handle(&request, Arc::clone(env)).await,
                None => native_handle(service, request, env).await,
            },
        }
    }
}

/// The Wasm core for `config`: mapped from its artifact in `cache_dir` when one fits (a
/// restart), else compiled there first, by a child process when this is the `cognate`
/// executable (the compiler's memory, tens of MB that the allocator would keep resident here,
/// leaves with it), in this process otherwise or when the child fails.
fn load_core(
    config: &cognate_core::Config,
    cache_dir: Option<&std::path::Path>,
    limits: WasmLimits,
) -> anyhow::Result<WasmCore> {
    let Some(dir) = cache_dir else {
        return WasmCore::new(config, None, limits);
    };
    WasmCore::start(config, dir, limits, |dir| {
        if COMPILE_IN_CHILD.load(std::sync::atomic::Ordering::Relaxed)
            && let Err(e) = compile_in_child(dir, limits)
        {
            tracing::warn!(
                target: "cognate::engine",
                error = %format!("{e:#}"),
                "compiling the Wasm core in a child process failed: compiling it here"
            );
        }
    })
}

/// The core's answer, linked natively. Spelled out with a `Send` bound so that a core change
/// that makes the request future `!Send` (which tokio's multi-threaded server cannot run) fails
/// here, with this explanation, rather than as an opaque axum `Handler` error.
///
/// Boxed: the core's future holds the state of every operation it serves (about 12 KB), and
/// inline it would make the engine's future, and every future that awaits it up to hyper's, as
/// large; each of those is moved (copied) a few times per request, on the Wasm engine too,
/// which never runs it (issue 23).
fn native_handle<'a>(
    service: &'a Service,
    request: Request,
    env: &'a HostEnv,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'a>> {
    Box::pin(service.handle(request, env))
}

/// Whether this process is the `cognate` executable, which can compile the core as a child
/// (`cognate compile-core`); a server started inside another program (tests) compiles in-process.
static COMPILE_IN_CHILD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called by the `cognate` executable at start: the Wasm core compiles in a child process.
pub fn compile_in_child_processes() {
    COMPILE_IN_CHILD.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `cognate compile-core` (this executable) to fill `cache_dir`'s compilation cache with
/// the core compiled for exactly these limits.
fn compile_in_child(cache_dir: &std::path::Path, limits: WasmLimits) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let exe = std::env::current_exe().context("this executable's path")?;
    let output = std::process::Command::new(exe)
        .arg("compile-core")
        .arg("--cache-dir")
        .arg(cache_dir)
        .args(["--memory-bytes", &limits.memory_bytes.to_string()])
        .args(["--max-instances", &limits.max_instances.to_string()])
        .args([
            "--requests-per-instance",
            &limits.requests_per_instance.to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot start `cognate compile-core`")?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" / ");
    anyhow::bail!(
        "`cognate compile-core` ended with {}: {tail}",
        output.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every request's futures above the engine hold of it, from the handler up to
    /// hyper's, each moved a few times per request: not the native core's every operation.
    #[test]
    fn an_engines_request_future_stays_small() {
        fn size<'a, F: std::future::Future>(
            _: fn(&'a CoreEngine, &'a Service, Request, &'a Arc<HostEnv>) -> F,
        ) -> usize {
            std::mem::size_of::<F>()
        }
        let size = size(CoreEngine::handle);
        assert!(size < 2048, "CoreEngine::handle's future is {size} bytes");
    }
}
