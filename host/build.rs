//! Builds the core's Wasm guest (`guest/`, `cognate-core-guest`) for `wasm32-unknown-unknown`
//! and tells the host where it is (`COGNATE_CORE_WASM`, embedded with `include_bytes!`) and
//! its SHA-256 (`COGNATE_CORE_WASM_SHA256`).
//!
//! The guest is built by a nested `cargo build` with its OWN target directory
//! (`<target>/guest`): the outer cargo holds the lock on its build directory while this script
//! runs, so sharing it would deadlock. That directory is shared by every profile and by
//! `cargo clippy`, so the guest is compiled once and then only when `core/` or `guest/` change.
//!
//! The module rustc writes is then optimised by binaryen's `wasm-opt -O3` (Debian's `binaryen`,
//! which scripts/setup-run.sh installs), keeping the names section for trap backtraces: the
//! guest's requests cost less CPU in wasmtime (issue 23, A/Bs under wrk: GetUser 0.95-0.995x,
//! REFRESH_TOKEN_AUTH 0.98-0.99x, client_credentials 0.98-1.005x). The optimised module is kept
//! beside the input, named after the input's SHA-256, so wasm-opt (~50 s) runs once per guest
//! build.
//!
//! `COGNATE_GUEST_WASM=/path/to/cognate_core_guest.wasm` skips the nested build and wasm-opt and
//! embeds that file instead (a guest built elsewhere, e.g. by a CI step).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest as _;

const GUEST_PACKAGE: &str = "cognate-core-guest";
const GUEST_TARGET: &str = "wasm32-unknown-unknown";
/// `[profile.guest]` in the workspace Cargo.toml.
const GUEST_PROFILE: &str = "guest";

fn main() {
    println!("cargo:rerun-if-env-changed=COGNATE_GUEST_WASM");
    let wasm = match std::env::var_os("COGNATE_GUEST_WASM") {
        Some(path) => {
            // A module built elsewhere: rebuild when it changes. (Not for the module built
            // below: this script writes it, so it would always look newer than the script's
            // last run, and every second build would compile the host again. Its sources are
            // watched instead.)
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            path
        }
        None => build_guest(),
    };
    if !wasm.is_file() {
        fail(&format!(
            "the guest module {} does not exist",
            wasm.display()
        ));
    }
    println!("cargo:rustc-env=COGNATE_CORE_WASM={}", wasm.display());
    // Its SHA-256, so the server names the module (and its compiled artifact) without hashing
    // 4.5 MB at every start.
    let bytes = std::fs::read(&wasm)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", wasm.display())));
    println!(
        "cargo:rustc-env=COGNATE_CORE_WASM_SHA256={}",
        sha256_hex(&bytes)
    );
}

/// The SHA-256 of `bytes`, lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn build_guest() -> PathBuf {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .unwrap_or_else(|| fail("host/ has no parent directory"))
        .to_path_buf();
    for watched in ["core/src", "core/Cargo.toml", "guest", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.toml").display()
    );
    let target_dir = guest_target_dir(Path::new(&env("OUT_DIR")));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        // `rustc --crate-type cdylib`: the guest's manifest declares only an rlib (see there).
        .args(["rustc", "--locked", "-p", GUEST_PACKAGE, "--lib"])
        .args(["--crate-type", "cdylib"])
        .args(["--target", GUEST_TARGET, "--profile", GUEST_PROFILE])
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags are for the host's target, not wasm32; the clippy wrapper
        // would only make the guest rebuild whenever clippy and build alternate.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR");
    let status = command
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo for the guest: {e}")));
    if !status.success() {
        fail(&format!(
            "building the core's Wasm guest failed ({status}); is the target installed? \
             `rustup target add {GUEST_TARGET}` (scripts/setup.sh does it)"
        ));
    }
    optimise(
        &target_dir
            .join(GUEST_TARGET)
            .join(GUEST_PROFILE)
            .join("cognate_core_guest.wasm"),
    )
}

/// `wasm-opt -O3` of `input`, cached beside it under the input's SHA-256.
fn optimise(input: &Path) -> PathBuf {
    let bytes = std::fs::read(input)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", input.display())));
    let hex = sha256_hex(&bytes);
    let hex = hex.get(..16).unwrap_or(&hex);
    let output = input.with_file_name(format!("cognate_core_guest.opt-{hex}.wasm"));
    if output.is_file() {
        return output;
    }
    // Build scripts of several profiles may run at once over this shared directory: each
    // writes its own temporary file and renames it into place whole.
    let temporary = input.with_file_name(format!(
        "cognate_core_guest.opt-{hex}.{}.tmp",
        std::process::id()
    ));
    let status = Command::new("wasm-opt")
        .args(["-O3", "-g"])
        .arg(input)
        .arg("-o")
        .arg(&temporary)
        .status()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run wasm-opt ({e}); install binaryen: scripts/setup-run.sh does it"
            ))
        });
    if !status.success() {
        let _ = std::fs::remove_file(&temporary);
        fail(&format!(
            "wasm-opt failed on {} ({status})",
            input.display()
        ));
    }
    std::fs::rename(&temporary, &output).unwrap_or_else(|e| {
        fail(&format!(
            "cannot rename {} to {}: {e}",
            temporary.display(),
            output.display()
        ))
    });
    output
}

/// `<target>/guest` from `OUT_DIR` = `<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("guest"))
        .unwrap_or_else(|| out_dir.join("guest-target"))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set")))
}

fn fail(message: &str) -> ! {
    eprintln!("cognate-host build script: {message}");
    std::process::exit(1)
}
