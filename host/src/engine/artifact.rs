//! The Wasm core's precompiled artifact: the machine code wasmtime compiled for this engine,
//! kept in the cache directory as `core-<module hash>-<engine settings hash>.cwasm` and mapped
//! from there at every start (issue 23).
//!
//! Mapping the file rather than loading wasmtime's compilation cache (which decompresses the
//! code into the heap) leaves the code's pages file-backed: only the parts that run become
//! resident, and an idle server is about 11 MB smaller. A start with a fitting artifact compiles
//! nothing; an artifact that does not fit (another wasmtime, other engine settings, another
//! CPU's features: wasmtime checks all three when it maps the file) is compiled again and
//! replaced.
//!
//! # Trust
//! Mapping precompiled code runs it: wasmtime cannot check machine code, only the header that
//! says which engine made it. The file lives in the server's own data directory, next to the
//! store it serves (whoever can write one can rewrite every user and key in the other), is
//! written only here, completely, under a temporary name and then renamed into place (a reader
//! never sees a partial file), and is never changed in place while mapped. wasmtime's
//! compilation cache, used before, trusted the same directory the same way.

use std::hash::{Hash as _, Hasher as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use wasmtime::{Engine, Module};

/// Prefix and suffix of artifact file names.
const PREFIX: &str = "core-";
const SUFFIX: &str = ".cwasm";

/// Where the artifact of the module with `sha256` compiled by `engine` lives in `dir`.
fn path(engine: &Engine, dir: &Path, sha256: &str) -> PathBuf {
    // `DefaultHasher::new` has fixed keys: the same engine settings give the same name in every
    // process of this build.
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let module = sha256.get(..16).unwrap_or(sha256);
    dir.join(format!("{PREFIX}{module}-{:016x}{SUFFIX}", hasher.finish()))
}

/// The module from its artifact in `dir`, compiled into it first when there is none or it does
/// not fit this engine.
pub fn load_or_compile(
    engine: &Engine,
    dir: &Path,
    wasm: &[u8],
    sha256: &str,
) -> anyhow::Result<Module> {
    if let Some(module) = map_existing(engine, dir, sha256) {
        return Ok(module);
    }
    let file = path(engine, dir, sha256);
    let code = engine
        .precompile_module(wasm)
        .map_err(|e| anyhow::anyhow!("compiling the core module: {e:?}"))?;
    write(dir, &file, &code)?;
    remove_others(dir, &file);
    map(engine, &file)
}

/// The module from its artifact in `dir`, if there is one and it fits this engine.
pub fn map_existing(engine: &Engine, dir: &Path, sha256: &str) -> Option<Module> {
    let file = path(engine, dir, sha256);
    if !file.is_file() {
        return None;
    }
    map(engine, &file)
        .inspect_err(|e| {
            tracing::warn!(
                target: "cognate::engine",
                file = %file.display(),
                error = %format!("{e:#}"),
                "the compiled Wasm core does not fit this engine: compiling it again"
            );
        })
        .ok()
}

/// Maps an artifact this module wrote.
fn map(engine: &Engine, file: &Path) -> anyhow::Result<Module> {
    // SAFETY: wasmtime requires that the file hold what `Engine::precompile_module` wrote and
    // that it not change while mapped. Only `write` below creates these files, whole and under
    // their final name only once complete (a rename), and nothing modifies one in place; a file
    // of another wasmtime or engine is refused by wasmtime's own header check (an error, handled
    // by compiling again). The directory is trusted as the store beside it is (module docs).
    #[allow(unsafe_code)]
    let module = unsafe { Module::deserialize_file(engine, file) };
    module.map_err(|e| anyhow::anyhow!("{}: {e:?}", file.display()))
}

/// Writes `code` to `file` atomically: a temporary file in the same directory, synced, then
/// renamed over any older one.
fn write(dir: &Path, file: &Path, code: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the cache directory {}", dir.display()))?;
    // Named after this process and this write: two servers, or two threads of one process
    // (tests start several servers in one process on one cache directory), compiling at once
    // each write their own file. A shared name let one truncate the other's file and then
    // fail its rename, leaving that server without its Wasm core.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = file.with_extension(format!("cwasm.{}.{write}.tmp", std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut f| f.write_all(code).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temporary, file));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e)
            .with_context(|| format!("cannot write the compiled core to {}", file.display()));
    }
    Ok(())
}

/// Removes the artifacts of other builds (they are only ever replaced, never needed again).
fn remove_others(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) && entry.path() != keep {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module small enough to compile in milliseconds.
    const TINY: &[u8] = b"(module (func (export \"answer\") (result i32) i32.const 42))";

    #[test]
    fn threads_compiling_into_one_directory_at_once_all_get_the_module() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let wasm = wat::parse_bytes(TINY).unwrap().into_owned();
        let modules = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_compile(&engine, dir.path(), &wasm, "ab12")))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap())
                .collect::<Vec<_>>()
        });
        for module in modules {
            let module = module.expect("every thread gets the module");
            assert!(module.get_export("answer").is_some());
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            1,
            "one artifact and no temporary files: {names:?}"
        );
        assert!(names[0].starts_with(PREFIX) && names[0].ends_with(SUFFIX));
    }
}
