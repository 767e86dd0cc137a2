//! The `cognate` host started by the harness: a free loopback port, a fresh data directory, a
//! watchdog that stops it however this process exits, and the store it runs on.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{TEST_ADMIN_ACCESS_KEY_ID, TEST_ADMIN_SECRET_ACCESS_KEY, unique};

/// How long to wait for a started server to answer `GET /health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The watchdog: runs the server with fd 3 open on a pipe from this process; when the pipe
/// closes (this process dropped the target or exited, in any way), it stops the server and
/// removes the scratch directory. `$1` is the scratch directory, the rest the server command.
const WATCHDOG: &str = r#"
dir="$1"; shift
exec 3<&0
"$@" 3<&- </dev/null &
pid=$!
echo "$pid" >"$dir/server.pid"
(
  read -r _ <&3
  kill -TERM "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  [ -n "$COGNATE_TEST_KEEP_DATA" ] || rm -rf "$dir"
) &
exec 3<&-
wait "$pid"
"#;

/// A `cognate serve` child process, stopped when dropped.
pub(crate) struct LocalServer {
    pub(crate) addr: SocketAddr,
    scratch: PathBuf,
    pub(crate) data_dir: PathBuf,
    log_path: PathBuf,
    /// The watchdog shell and the pipe that keeps the server alive.
    process: Mutex<Option<(Child, ChildStdin)>>,
}

impl fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl LocalServer {
    pub(crate) fn start(store: Option<&str>) -> Result<LocalServer, String> {
        let binary = host_binary()?;
        // Another process may take the free port between our probe and the server's bind:
        // try again on a fresh port if the server exits before it is healthy.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::start_once(&binary, store) {
                Ok(server) => return Ok(server),
                Err(StartError::Exited(message)) => failures.push(message),
                Err(StartError::Fatal(message)) => return Err(message),
            }
        }
        Err(failures.join("\n---\n"))
    }

    fn start_once(binary: &Path, store: Option<&str>) -> Result<LocalServer, StartError> {
        let scratch = tempfile::Builder::new()
            .prefix("cognate-e2e-")
            .tempdir()
            .map_err(|e| StartError::Fatal(format!("cannot create a temporary directory: {e}")))?
            .keep();
        let data_dir = scratch.join("data");
        let log_path = scratch.join("server.log");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| StartError::Fatal(format!("{}: {e}", data_dir.display())))?;
        let log = std::fs::File::create(&log_path)
            .map_err(|e| StartError::Fatal(format!("{}: {e}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError::Fatal(format!("{}: {e}", log_path.display())))?;
        let addr = free_port().map_err(StartError::Fatal)?;

        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("cognate-watchdog")
            .arg(&scratch)
            .arg(binary)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data")
            .arg(&data_dir)
            .arg("--no-demo");
        if let Some(store) = store {
            command.arg("--store").arg(store);
        }
        let spawned = command
            // Custom sender plugins' deliveries (the example posts to mail.example.com).
            .env("COGNATE_PLUGIN_DELIVERY_HOSTS", "mail.example.com")
            // Federation's scenarios use a pool of the same server as the upstream provider,
            // and scripts/test-federation.sh adds node oidc-provider's address.
            .env(
                "COGNATE_UPSTREAM_HOSTS",
                match std::env::var("COGNATE_TEST_EXTRA_UPSTREAM_HOSTS") {
                    Ok(extra) if !extra.is_empty() => format!("{addr},{extra}"),
                    _ => addr.to_string(),
                },
            )
            // Every server shares one cache of the compiled Wasm core (compiling it takes
            // seconds); `COGNATE_ENGINE` (wasm or native), if set, passes through to the server.
            .env(
                "COGNATE_CACHE_DIR",
                std::env::var_os("COGNATE_CACHE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| engine_cache_dir(binary)),
            )
            .env("COGNATE_ADMIN_ACCESS_KEY_ID", TEST_ADMIN_ACCESS_KEY_ID)
            .env(
                "COGNATE_ADMIN_SECRET_ACCESS_KEY",
                TEST_ADMIN_SECRET_ACCESS_KEY,
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&scratch);
                return Err(StartError::Fatal(format!(
                    "cannot run sh for {}: {e}",
                    binary.display()
                )));
            }
        };
        let Some(stdin) = child.stdin.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Fatal(
                "the watchdog has no stdin pipe".to_owned(),
            ));
        };
        let server = LocalServer {
            addr,
            scratch,
            data_dir,
            log_path,
            process: Mutex::new(Some((child, stdin))),
        };

        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if health_answers(addr) {
                return Ok(server);
            }
            if let Some(status) = server.exit_status() {
                let message = format!(
                    "{} serve --listen {addr} exited ({status}) before GET /health answered; \
                     its output:\n{}",
                    binary.display(),
                    server.log()
                );
                drop(server);
                return Err(StartError::Exited(message));
            }
            if Instant::now() > deadline {
                let message = format!(
                    "{} serve --listen {addr}: GET /health did not answer within {STARTUP_TIMEOUT:?}; \
                     its output:\n{}",
                    binary.display(),
                    server.log()
                );
                drop(server);
                return Err(StartError::Fatal(message));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The watchdog's exit status, if the server has exited.
    fn exit_status(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let (child, _) = guard.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// SIGKILL to the server itself (not the watchdog), then waits for the watchdog to see it.
    pub(crate) fn kill_hard(&self) {
        let pid = std::fs::read_to_string(self.scratch.join("server.pid"))
            .expect("the watchdog wrote no server.pid");
        let status = Command::new("kill")
            .arg("-KILL")
            .arg(pid.trim())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -KILL {} failed", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.exit_status().is_none() {
            assert!(Instant::now() < deadline, "the killed server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let taken = self
            .process
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((mut child, stdin)) = taken else {
            return;
        };
        // Closing the pipe tells the watchdog to stop the server (it escalates to SIGKILL).
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if std::env::var_os("COGNATE_TEST_KEEP_DATA").is_some() {
            eprintln!("cognate-tests: kept {}", self.scratch.display());
        }
    }
}

enum StartError {
    /// The server exited early; another port may work.
    Exited(String),
    Fatal(String),
}

/// The host binary: `COGNATE_BIN`, else `cognate` in the test executable's profile directory
/// (`target/<profile>/deps/<test>-<hash>` → `target/<profile>/cognate`).
pub fn host_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("COGNATE_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("COGNATE_BIN={} is not a file", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected test executable path {}", exe.display()))?;
    let binary = profile_dir.join(format!("cognate{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "the host binary {} does not exist: run `cargo build -p cognate-host` (same profile) \
             before the end-to-end tests, or set COGNATE_BIN, or COGNATE_BASE_URL for a running server",
            binary.display()
        ))
    }
}

/// The compiled Wasm core's cache for test servers: beside the host binary, so it lives as long
/// as the build that made it.
fn engine_cache_dir(binary: &Path) -> PathBuf {
    binary
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("cognate-test-cache")
}

/// The store for a server this harness starts: `None` (the server's default, SQLite in its
/// data directory) unless `COGNATE_TEST_STORE` names a PostgreSQL server, on which a fresh
/// database is created for it.
pub(crate) fn test_store() -> Result<Option<String>, String> {
    match std::env::var("COGNATE_TEST_STORE") {
        Ok(url) if !url.trim().is_empty() && !url.trim().eq_ignore_ascii_case("sqlite") => {
            fresh_postgres_database(url.trim()).map(Some)
        }
        _ => Ok(None),
    }
}

/// Creates a new, empty database on the PostgreSQL server `admin_url` points at (its role must
/// be allowed to create databases) and returns the URL naming it.
pub fn fresh_postgres_database(admin_url: &str) -> Result<String, String> {
    let name = unique("cognate_test")
        .to_ascii_lowercase()
        .replace('-', "_");
    let admin_url = admin_url.to_owned();
    // Its own thread and runtime: callers may be inside a runtime, where blocking on another
    // would panic.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect to COGNATE_TEST_STORE: {e}"))?;
            let driver = tokio::spawn(connection);
            let created = client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .map_err(|e| format!("cannot create database {name}: {e}"));
            drop(client);
            let _ = driver.await;
            created
        })?;
        Ok(postgres_url_with_database(&admin_url, &name))
    })
    .join()
    .map_err(|_| "the database creation thread panicked".to_owned())?
}

/// `url` naming the database `name` instead of its own.
pub fn postgres_url_with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A loopback address with a port nothing listens on right now.
fn free_port() -> Result<SocketAddr, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))
}

/// `GET /health` answered 200, over a plain socket (no async runtime needed).
fn health_answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => read += n,
        }
    }
    // 200, or 503 from a server that is up but whose store does not answer (it says why, and
    // serves retryable errors until the store is back): either way the server has started.
    [b"200", b"503"]
        .iter()
        .any(|status| head.get(9..12) == Some(&status[..]))
}
