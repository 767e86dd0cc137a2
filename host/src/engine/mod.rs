//! How the host runs the core: as the Wasm artifact inside wasmtime (the default, DESIGN §2:
//! the same core everywhere) or linked natively (to measure against, and for debugging).
//!
//! Both engines answer a [`Request`] with a [`Response`] over the same [`HostEnv`] ports; only
//! where the core's own code runs differs.

use std::sync::Arc;

use cognate_core::{Request, Response, Service};

use crate::ports::HostEnv;

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

    pub fn kind(&self) -> EngineKind {
        match self {
            Self::Native => EngineKind::Native,
            Self::Wasm(_) => EngineKind::Wasm,
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
        }
    }
}

/// The core's answer, linked natively. Spelled out with a `Send` bound so that a core change
/// that makes the request future `!Send` (which tokio's multi-threaded server cannot run) fails
/// here, with this explanation, rather than as an opaque axum `Handler` error.
fn native_handle<'a>(
    service: &'a Service,
    request: Request,
    env: &'a HostEnv,
) -> impl std::future::Future<Output = Response> + Send + 'a {
    service.handle(request, env)
}
