//! `cognate`: the self-hosted Cognate server. See `cognate serve --help`.

use std::process::ExitCode;

use clap::Parser as _;
use cognate_host::{Cli, Command, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    fix_malloc_mmap_threshold();
    let cli = Cli::parse();
    cognate_host::engine::compile_in_child_processes();
    // Held to the end: dropping it writes out the last buffered log lines.
    let _log = cognate_host::init_logging();
    let result = match cli.command {
        Command::Serve(args) => match Settings::from_args(args) {
            Ok(settings) => cognate_host::run(settings).await,
            Err(e) => Err(e),
        },
        Command::Plugins(command) => cognate_host::plugins::cli(command),
        Command::Keys(command) => cognate_host::admin_client::keys_cli(command).await,
        Command::Users(command) => cognate_host::admin_client::users_cli(command).await,
        Command::Admin(args) => cognate_host::admin_cli::cli(args).await,
        Command::Backup { file, data } => cognate_host::backup::backup(&data.dir(), &file)
            .map(|()| println!("Backed up {} to {}", data.dir().display(), file.display())),
        Command::CompileCore {
            cache_dir,
            memory_bytes,
            max_instances,
            requests_per_instance,
        } => cognate_host::engine::WasmCore::precompile(
            &cache_dir,
            cognate_host::engine::WasmLimits {
                memory_bytes,
                max_instances,
                requests_per_instance,
            },
        ),
        Command::Restore {
            file,
            replace,
            data,
        } => cognate_host::backup::restore(&data.dir(), &file, replace)
            .map(|()| println!("Restored {} into {}", file.display(), data.dir().display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("cognate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Blocks of 4 MiB and more get their own mappings, returned to the system when freed. glibc
/// otherwise raises this threshold to the size of each large block freed (up to 32 MiB), after
/// which blocks of that size come from a thread's arena and stay resident when freed: after the
/// first argon2id hash (19 MiB) every later one was kept, tens of MB in an idle server (issue
/// 23). The argon2 threads keep their own working memory while they live (`ports.rs`), so
/// verifications do not pay for fresh pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_mmap_threshold() {
    // SAFETY: `mallopt` only changes the allocator's tuning (thread-safe in glibc); the
    // arguments are a valid parameter and value.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_malloc_mmap_threshold() {}
