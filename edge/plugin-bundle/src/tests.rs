//! The instrumented modules run under wasmtime (no fuel, no limiter: only what the rewrite
//! wrote into them), as the Worker runs them under V8.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use wasmtime::{Engine, Instance, Module, Store, Val};

const ALLOC: &str = r#"
  (global $next (mut i32) (i32.const 4096))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $ptr))"#;

fn plugin(handle_body: &str) -> String {
    format!(
        r#"(module (memory (export "memory") 1) {ALLOC}
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64) {handle_body}))"#
    )
}

struct Run {
    result: Result<i64, String>,
    gas: i32,
    oom: i32,
}

fn run(wat: &str, limits: &Limits) -> Run {
    let prepared = prepare(wat.as_bytes(), limits).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &prepared.instrumented).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let handle = instance
        .get_typed_func::<(i32, i32), i64>(&mut store, "handle")
        .unwrap();
    let result = handle
        .call(&mut store, (0, 0))
        .map_err(|e| format!("{e:?}"));
    let global = |name: &str, store: &mut Store<()>| match instance
        .get_global(&mut *store, name)
        .unwrap()
        .get(&mut *store)
    {
        Val::I32(v) => v,
        other => panic!("{name}: {other:?}"),
    };
    let gas = global(GAS_EXPORT, &mut store);
    let oom = global(OOM_EXPORT, &mut store);
    Run { result, gas, oom }
}

#[test]
fn a_well_behaved_plugin_answers_as_before_and_keeps_its_identity() {
    let wat = plugin("(i64.or (i64.shl (i64.const 4096) (i64.const 32)) (i64.const 3))");
    let binary = wat::parse_str(&wat).unwrap();
    let prepared = prepare(wat.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(prepared.sha256, cognate_core::codec::sha256_hex_of(&binary));
    assert_eq!(
        prepared.source_sha256,
        Some(cognate_core::codec::sha256_hex_of(wat.as_bytes()))
    );
    assert_eq!(prepared.size, binary.len());
    // The binary form hashes the same.
    let from_binary = prepare(&binary, &Limits::default()).unwrap();
    assert_eq!(from_binary.sha256, prepared.sha256);
    assert_eq!(from_binary.source_sha256, None);
    let run = run(&wat, &Limits::default());
    assert_eq!(run.result, Ok((4096 << 32) | 3));
    assert!(run.gas > 0 && run.gas < 50_000_000, "{}", run.gas);
    assert_eq!(run.oom, 0);
}

#[test]
fn an_infinite_loop_runs_out_of_gas() {
    let limits = Limits {
        fuel: 100_000,
        ..Limits::default()
    };
    let run = run(
        &plugin("(loop $forever (br $forever)) (i64.const 0)"),
        &limits,
    );
    assert!(run.result.is_err(), "{:?}", run.result);
    assert!(run.gas < 0, "{}", run.gas);
    assert_eq!(run.oom, 0);
}

#[test]
fn unbounded_recursion_is_charged_at_every_call() {
    let wat = r#"(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func $spin (param i32) (result i32) (call $spin (local.get 0)))
  (func (export "handle") (param i32 i32) (result i64) (i64.extend_i32_u (call $spin (i32.const 1)))))"#;
    let limits = Limits {
        fuel: 1_000,
        ..Limits::default()
    };
    let run = run(wat, &limits);
    assert!(run.result.is_err());
    assert!(run.gas < 0, "{}", run.gas);
}

#[test]
fn a_memory_bomb_stops_at_the_cap_with_the_flag_set() {
    let limits = Limits {
        memory_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let run = run(
        &plugin("(loop $more (drop (memory.grow (i32.const 16))) (br $more)) (i64.const 0)"),
        &limits,
    );
    assert!(run.result.is_err());
    assert_eq!(run.oom, 1);
    assert!(run.gas > 0);
}

#[test]
fn growth_within_the_cap_works_and_the_maximum_is_capped() {
    let limits = Limits {
        memory_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let run = run(
        &plugin("(i64.extend_i32_s (memory.grow (i32.const 63)))"),
        &limits,
    );
    assert_eq!(run.result, Ok(1), "the old size in pages");
    let prepared = prepare(plugin("(i64.const 0)").as_bytes(), &limits).unwrap();
    let module = Module::new(&Engine::default(), &prepared.instrumented).unwrap();
    let memory = module
        .exports()
        .find(|e| e.name() == "memory")
        .unwrap()
        .ty()
        .unwrap_memory()
        .clone();
    assert_eq!(memory.maximum(), Some(64));
}

#[test]
fn modules_without_globals_or_with_the_log_import_are_instrumented() {
    let wat = r#"(module
  (import "cognate" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "handle") (param i32 i32) (result i64) (i64.const 0)))"#;
    let prepared = prepare(wat.as_bytes(), &Limits::default()).unwrap();
    assert!(prepared.problem.is_none());
    let engine = Engine::default();
    let module = Module::new(&engine, &prepared.instrumented).unwrap();
    let exports: Vec<_> = module.exports().map(|e| e.name().to_owned()).collect();
    for name in ["memory", "alloc", "handle", GAS_EXPORT, OOM_EXPORT] {
        assert!(exports.iter().any(|e| e == name), "{name}: {exports:?}");
    }
}

#[test]
fn contract_problems_are_recorded_in_the_hosts_words() {
    let missing = r#"(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0)))"#;
    let prepared = prepare(missing.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        prepared.problem.as_deref(),
        Some("it does not export the function `handle`")
    );
    let mistyped = r#"(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 0))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))"#;
    let prepared = prepare(mistyped.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        prepared.problem.as_deref(),
        Some("`handle` must have type (i32, i32) -> (i64)")
    );
    let no_memory = r#"(module (func (export "alloc") (param i32) (result i32) (i32.const 0)))"#;
    let prepared = prepare(no_memory.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        prepared.problem.as_deref(),
        Some("it does not export `memory`")
    );
}

#[test]
fn imports_other_than_log_and_invalid_modules_are_refused() {
    let io = r#"(module (import "env" "fetch" (func)))"#;
    let e = prepare(io.as_bytes(), &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("env.fetch"), "{e}");
    let e = prepare(b"\0asm\x01\0\0\0\x01", &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("not a valid Wasm module"), "{e}");
    let e = prepare(b"(module", &Limits::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("neither a Wasm binary nor valid WAT"),
        "{e}"
    );
}
