//! `cognate`: the self-hosted Cognate server. See `cognate serve --help`.

use std::process::ExitCode;

use clap::Parser as _;
use cognate_host::{Cli, Command, Settings};

#[tokio::main]
async fn main() -> ExitCode {
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
