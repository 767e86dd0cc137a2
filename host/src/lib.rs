//! # cognate-host
//!
//! The self-hosted Cognate server: the core's [`Service`](cognate_core::Service) behind an axum
//! HTTP server, with a SQLite store and native ports (aws-lc-rs RS256, argon2id on a blocking pool, a
//! file outbox for email and SMS). The core runs as its Wasm build inside wasmtime by default
//! ([`engine`]), or linked natively (`--engine native`). The `cognate` binary is a thin wrapper around [`run`];
//! benchmarks and tests reuse the pieces.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use cognate_host::config::{ServeArgs, Settings};
//! let settings = Settings::from_args(ServeArgs {
//!     listen: Some("127.0.0.1:0".parse()?),
//!     no_demo: true,
//!     ..ServeArgs::default()
//! })?;
//! let server = cognate_host::server::prepare(settings).await?;
//! println!("serving on {}", server.base_url);
//! server.serve(cognate_host::server::shutdown_signal()).await
//! # }
//! ```
//!
//! ## Security
//! - Listens on 127.0.0.1 by default; anything else should sit behind TLS.
//! - The generated admin key is stored with mode 0600 in the data directory.
//! - Request logs carry method, path, operation, status and latency, never bodies or query
//!   strings; the outbox log line never carries the code or the message body.
//! - `outbox.jsonl` holds live codes: it is a development mail gateway, not for production.

pub mod admin_cli;
pub mod admin_client;
pub mod allocator;
pub mod audit;
pub mod backup;
pub mod breached;
pub mod config;
pub mod credentials;
pub mod data_dir_lock;
pub mod delivery;
pub mod demo;
pub mod engine;
pub mod epoch;
pub mod foreign_hash;
pub mod hash_threads;
pub mod janitor;
pub mod jws;
pub mod limits;
pub mod log_writer;
pub mod metrics;
pub mod plugins;
pub mod ports;
pub mod read_cache;
// SAML 2.0 signature verification with libxmlsec1 (issue 20).
#[cfg(feature = "saml")]
pub mod saml;
pub mod server;
pub mod store_postgres;
pub mod store_sqlite;
pub mod sts;
pub mod upstream;
pub mod webauthn;

pub use config::{Cli, Command, ServeArgs, Settings};
pub use engine::{CoreEngine, EngineKind, WasmCore};
pub use jws::NativeJws;
pub use plugins::{PluginLimits, PluginRuntime};
pub use ports::{BlockingArgon2, HostEnv, OsRandom, OutboxSender, SystemClock};
pub use server::{prepare, router, run};
pub use store_postgres::PostgresStore;
pub use store_sqlite::SqliteStore;

/// Keeps the log writer's thread alive; dropping it writes out what is still buffered. Hold it
/// for as long as the process logs (`main` keeps it until it returns).
#[must_use = "dropping the guard stops the log writer"]
#[derive(Debug)]
pub struct LogGuard(#[allow(dead_code)] Option<log_writer::WriterGuard>);

/// Sets up logging: `COGNATE_LOG` filters (default `info`), `COGNATE_LOG_FORMAT=json` for JSON
/// lines. Logs go to stderr; stdout carries only the start-up banner.
///
/// Lines are formatted on the thread that logs and written by a thread of their own
/// ([`log_writer`], issue 23): a request never waits for the terminal, pipe or disk behind
/// stderr, and under load the writer wakes and writes once per 10 ms, not once per line.
/// Nothing is dropped: when 16 MiB wait, loggers wait for the writer (back-pressure, not
/// loss). Each line is written whole.
pub fn init_logging() -> LogGuard {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("COGNATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let Ok((writer, guard)) = log_writer::start(std::io::stderr()) else {
        // No thread for the writer: log straight to stderr rather than not at all.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(terminal)
            .try_init();
        return LogGuard(None);
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colours only for a person at a terminal, not in files and pipes.
        .with_ansi(terminal);
    let json = std::env::var("COGNATE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // `try_init`: a second call (tests) keeps the first subscriber instead of panicking.
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    LogGuard(installed.is_ok().then_some(guard))
}
