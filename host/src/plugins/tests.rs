#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

const MINIMAL: &str = include_str!("../../../plugins/examples/minimal.wat");

fn hostile(name: &str) -> &'static str {
    match name {
        "loop" => include_str!("../../../plugins/hostile/loop.wat"),
        "memory_bomb" => include_str!("../../../plugins/hostile/memory_bomb.wat"),
        "trap" => include_str!("../../../plugins/hostile/trap.wat"),
        "garbage" => include_str!("../../../plugins/hostile/garbage.wat"),
        "huge_output" => include_str!("../../../plugins/hostile/huge_output.wat"),
        "missing_export" => include_str!("../../../plugins/hostile/missing_export.wat"),
        other => panic!("no hostile plugin {other}"),
    }
}

fn runtime(dir: Option<&Path>) -> PluginRuntime {
    PluginRuntime::new(
        dir,
        PluginLimits {
            max_instances: 8,
            ..PluginLimits::default()
        },
    )
    .unwrap()
}

#[test]
fn minimal_plugin_answers_and_is_found_by_name_and_hash() {
    let rt = runtime(None);
    let info = rt.register(Some("minimal"), MINIMAL.as_bytes()).unwrap();
    assert_eq!(info.names, vec!["minimal".to_string()]);
    assert!(info.problem.is_none());
    let out = rt.call("minimal", b"{\"version\":\"1\"}").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["autoConfirmUser"], true);
    assert!(rt.call(&info.reference, b"{}").is_ok());
    assert_eq!(rt.call("nope", b"{}"), Err(InvocationError::NotFound));
    // A big event makes the bump allocator grow memory.
    let big = vec![b' '; 300_000];
    assert!(rt.call("minimal", &big).is_ok());
}

#[test]
fn hostile_plugins_fail_only_their_call() {
    let rt = PluginRuntime::new(
        None,
        PluginLimits {
            max_instances: 8,
            timeout: Duration::from_millis(500),
            ..PluginLimits::default()
        },
    )
    .unwrap();
    rt.register(Some("ok"), MINIMAL.as_bytes()).unwrap();
    for (name, expected) in [
        ("loop", InvocationError::Timeout),
        ("memory_bomb", InvocationError::OutOfMemory),
        ("huge_output", InvocationError::OutputTooLarge),
    ] {
        rt.register(Some(name), hostile(name).as_bytes()).unwrap();
        assert_eq!(rt.call(name, b"{}"), Err(expected), "{name}");
        assert!(rt.call("ok", b"{}").is_ok(), "after {name}");
    }
    rt.register(Some("trap"), hostile("trap").as_bytes())
        .unwrap();
    assert!(matches!(
        rt.call("trap", b"{}"),
        Err(InvocationError::Trap(_))
    ));
    rt.register(Some("garbage"), hostile("garbage").as_bytes())
        .unwrap();
    assert_eq!(rt.call("garbage", b"{}").unwrap(), b"this is {not json");
    let info = rt
        .register(Some("missing"), hostile("missing_export").as_bytes())
        .unwrap();
    assert!(info.problem.is_some());
    assert!(matches!(
        rt.call("missing", b"{}"),
        Err(InvocationError::MissingExport(_))
    ));
    assert!(rt.call("ok", b"{}").is_ok());
}

#[test]
fn imports_beyond_log_are_refused() {
    let rt = runtime(None);
    let wat = r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1))"#;
    assert!(rt.register(Some("io"), wat.as_bytes()).is_err());
    assert!(rt.register(Some("bad name!"), MINIMAL.as_bytes()).is_err());
    assert!(rt.register(Some("x"), b"\0asm garbage").is_err());
}

#[test]
fn registry_persists_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let hash = {
        let rt = runtime(Some(dir.path()));
        let info = rt.register(Some("minimal"), MINIMAL.as_bytes()).unwrap();
        rt.register(Some("alias"), MINIMAL.as_bytes()).unwrap();
        info.sha256
    };
    let rt = runtime(Some(dir.path()));
    let list = rt.list();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].names,
        vec!["alias".to_string(), "minimal".to_string()]
    );
    assert!(rt.call("minimal", b"{}").is_ok());
    assert!(rt.remove("alias").unwrap());
    assert!(rt.call("alias", b"{}").is_err());
    assert!(rt.remove(&format!("sha256:{hash}")).unwrap());
    assert!(rt.call("minimal", b"{}").is_err());
    assert!(rt.list().is_empty());
}
