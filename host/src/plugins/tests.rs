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

/// A module of more than one shared-registry chunk that answers `{}` to every event.
fn big_plugin() -> String {
    let filler = "x".repeat(SHARED_CHUNK_BYTES + 40_000);
    format!(
        r#"(module
  (memory (export "memory") 8)
  (data (i32.const 0) "{{}}")
  (data (i32.const 65536) "{filler}")
  (func (export "alloc") (param i32) (result i32) (i32.const 400000))
  (func (export "handle") (param i32 i32) (result i64) (i64.const 2)))"#
    )
}

fn shared(store: &Arc<dyn cognate_core::Store>) -> PluginRuntime {
    PluginRuntime::new_shared(
        None,
        PluginLimits {
            max_instances: 4,
            ..PluginLimits::default()
        },
        Arc::clone(store),
    )
    .unwrap()
}

#[tokio::test]
async fn runtimes_on_one_store_share_one_registry() {
    let store: Arc<dyn cognate_core::Store> = Arc::new(cognate_core::store::MemoryStore::new());
    let (a, b) = (shared(&store), shared(&store));
    assert!(a.is_shared());

    // Registered through A, served by B.
    a.register_any(Some("minimal"), MINIMAL.as_bytes())
        .await
        .unwrap();
    let out = b.invoke("minimal", b"{\"version\":\"1\"}").await.unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(answer["autoConfirmUser"], true);

    // A module larger than one chunk travels whole.
    let big = b
        .register_any(Some("big"), big_plugin().as_bytes())
        .await
        .unwrap();
    assert!(big.size > SHARED_CHUNK_BYTES, "{}", big.size);
    assert_eq!(a.invoke("big", b"{}").await.unwrap(), b"{}");
    let listed = a.list_any().await.unwrap();
    let mut names: Vec<String> = listed.iter().flat_map(|p| p.names.clone()).collect();
    names.sort();
    assert_eq!(names, ["big", "minimal"]);

    // A runtime that starts later finds both.
    let c = shared(&store);
    assert_eq!(c.invoke(&big.reference, b"{}").await.unwrap(), b"{}");

    // A name removed through B is gone on A at once; the module stays under its hash.
    assert!(b.remove_any("minimal").await.unwrap());
    assert_eq!(
        a.invoke("minimal", b"{}").await,
        Err(InvocationError::NotFound)
    );
    assert!(!a.remove_any("minimal").await.unwrap());
    // A module removed by hash through A: gone everywhere, its chunks deleted.
    assert!(a.remove_any(&big.reference).await.unwrap());
    for runtime in [&a, &b, &c] {
        assert_eq!(
            runtime.invoke("big", b"{}").await,
            Err(InvocationError::NotFound)
        );
    }
    let prefix = format!("host/plugins/module/{}/", big.sha256);
    let left = store.scan(&prefix, None, 10).await.unwrap();
    assert!(left.items.is_empty(), "chunks left: {:?}", left.items.len());
}
