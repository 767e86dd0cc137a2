//! The real `cognate` binary: starts, answers `/health`, rejects oversized bodies with a JSON
//! 413, stops cleanly on SIGTERM, and reuses its generated admin key after a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    addr: SocketAddr,
    /// The banner's `Label: value` lines.
    banner: HashMap<String, String>,
    log: std::path::PathBuf,
}

impl Server {
    /// Starts `cognate serve` on a free port with `data` as its data directory and waits for
    /// the banner.
    fn start(data: &Path, log_name: &str) -> Self {
        let log = data.parent().unwrap().join(log_name);
        Self::start_in(data.parent().unwrap(), Some(data), log)
    }

    /// Starts `cognate serve` in the working directory `cwd`, with `--data` only when given
    /// (else the default, `./cognate-data`, relative to `cwd`).
    fn start_in(cwd: &Path, data: Option<&Path>, log: std::path::PathBuf) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cognate"));
        command
            .current_dir(cwd)
            .args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(data) = data {
            command.arg("--data").arg(data);
        }
        let mut child = command
            .env_remove("COGNATE_LISTEN")
            .env_remove("COGNATE_CACHE_DIR")
            .env_remove("COGNATE_ENGINE")
            .env_remove("COGNATE_ADMIN_ACCESS_KEY_ID")
            .env_remove("COGNATE_ADMIN_SECRET_ACCESS_KEY")
            .env("COGNATE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps reading after the banner so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut banner = HashMap::new();
        let mut server = None;
        while Instant::now() < deadline {
            let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "cognate exited early with {status}:\n{}",
                        std::fs::read_to_string(&log).unwrap()
                    );
                }
                if banner.contains_key("Admin secret access key") {
                    break; // The banner is written at once: a pause after it means it is complete.
                }
                continue;
            };
            if let Some((label, value)) = line.split_once(": ") {
                banner.insert(label.trim().to_owned(), value.trim().to_owned());
            }
            if let Some(addr) = banner.get("Listening on") {
                server = Some(addr.parse().unwrap());
            }
        }
        let Some(addr) = server else {
            let _ = child.kill();
            panic!(
                "no banner within {START_TIMEOUT:?}:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        };
        Self {
            child,
            addr,
            banner,
            log,
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One HTTP/1.1 exchange on a fresh connection: (status, lower-cased headers, body).
    fn request(&self, head: &str, body: &[u8]) -> (u16, HashMap<String, String>, Vec<u8>) {
        self.try_request(head, body).unwrap()
    }

    fn try_request(
        &self,
        head: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, HashMap<String, String>, Vec<u8>)> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut stream = TcpStream::connect(self.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(head.as_bytes())?;
        for chunk in body.chunks(64 * 1024) {
            stream.write_all(chunk)?;
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| bad("incomplete response head"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok((status, headers, raw[split + 4..].to_vec()))
    }

    /// Waits until requests run in the Wasm core (it compiles, or is mapped, after the start).
    fn wait_for_the_wasm_core(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while !self.logs().contains("requests now run in the Wasm core") {
            assert!(
                Instant::now() < deadline,
                "the Wasm core never took over:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let health = self.try_request(
                "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                b"",
            );
            if matches!(health, Ok((200, _, _))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/health never answered 200 ({health:?}):\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait for the exit.
    fn terminate(mut self) -> ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "cognate did not stop within 30 s of SIGTERM:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only reached when a test fails before `terminate`: never leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_type(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).expect("a JSON error body");
    json["__type"].as_str().unwrap_or_default().to_owned()
}

/// README's first command on a fresh machine: no flags, an empty working directory. The default
/// data directory is relative (`./cognate-data`); everything under it (the store, the admin key,
/// the compiled core's cache, the plugins' cache) must work from there, and again after a restart.
#[test]
fn starts_with_the_default_relative_data_dir_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("fresh");
    std::fs::create_dir(&cwd).unwrap();
    let server = Server::start_in(&cwd, None, dir.path().join("fresh.log"));
    server.wait_healthy();
    let data = cwd.join("cognate-data");
    assert_eq!(
        Path::new(&server.banner["Data directory"]),
        data.canonicalize().unwrap(),
        "the banner names the absolute data directory"
    );
    let pool = server.banner["Demo user pool id"].clone();
    let client = server.banner["Demo app client id"].clone();
    assert!(pool.starts_with("us-east-1_"), "{pool}");
    // The demo pool's client signs a user up (a public call): the store and outbox work.
    let body = format!(
        r#"{{"ClientId":"{client}","Username":"first","Password":"Passw0rd!","UserAttributes":[{{"Name":"email","Value":"first@example.com"}}],"ValidationData":null}}"#
    );
    let (status, _, answer) = server.request(
        &format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        ),
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    for file in ["admin-credentials.toml", "outbox.jsonl"] {
        assert!(data.join(file).is_file(), "{file} under {}", data.display());
    }
    // The child process compiles the Wasm core into the cache under the relative data
    // directory, and the server then runs it from there.
    server.wait_for_the_wasm_core();
    assert_eq!(
        compiled_cores(&data.join("cache")).len(),
        1,
        "the compiled core's artifact"
    );
    assert_eq!(server.terminate().code(), Some(0));

    // A restart from the same directory finds the same pool and key.
    let again = Server::start_in(&cwd, None, dir.path().join("again.log"));
    again.wait_healthy();
    assert_eq!(again.banner["Demo user pool id"], pool);
    assert_eq!(again.terminate().code(), Some(0));
}

/// One server per data directory: a second one started on a directory already served waits
/// briefly for it, then stops with an error naming the first's process, and the first goes on
/// serving (its read cache stays coherent because nothing else writes its file).
#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, "first.log");
    first.wait_healthy();

    let second = Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env_remove("COGNATE_LISTEN")
        .env_remove("COGNATE_ENGINE")
        .env("COGNATE_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("(pid {})", first.child.id())),
        "{stderr}"
    );
    assert!(stderr.contains("is using the data directory"), "{stderr}");

    first.wait_healthy();
    assert_eq!(first.terminate().code(), Some(0));
    // Released with the process: the directory can be served again.
    let again = Server::start(&data, "again.log");
    again.wait_healthy();
    assert_eq!(again.terminate().code(), Some(0));
}

#[test]
fn serves_limits_bodies_stops_on_sigterm_and_keeps_its_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let server = Server::start(&data, "first.log");
    server.wait_healthy();
    let endpoint = server.banner["Endpoint"].clone();
    assert_eq!(endpoint, format!("http://{}", server.addr));
    let key_id = server.banner["Admin access key id"].clone();
    let secret = server.banner["Admin secret access key"].clone();
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20, "{key_id}");
    assert_eq!(secret.len(), 40);
    let demo_pool = server.banner.get("Demo user pool id").cloned();
    // The printed console address serves the console.
    let console = &server.banner["Admin console"];
    assert!(
        console.starts_with(&format!("{endpoint}/console/ ")),
        "{console}"
    );
    let (status, headers, _) = server.request(
        "GET /console/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"].contains("script-src 'self'"),
        "{headers:?}"
    );

    // A 2 MiB body with a Content-Length: refused before it is read.
    let big = vec![b'x'; 2 * 1024 * 1024];
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        big.len()
    );
    let (status, headers, body) = server.request(&head, &big);
    assert_eq!(status, 413);
    assert_eq!(
        headers.get("x-amzn-errortype").map(String::as_str),
        Some("RequestEntityTooLargeException")
    );
    assert_eq!(error_type(&body), "RequestEntityTooLargeException");

    // The same without a declared length (chunked): refused once the limit is passed.
    let mut chunked = Vec::new();
    for chunk in big.chunks(256 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let (status, headers, body) = server.request(head, &chunked);
    assert_eq!(status, 413);
    assert!(headers.contains_key("x-amzn-errortype"));
    assert_eq!(error_type(&body), "RequestEntityTooLargeException");

    // Bodies are never logged; requests are.
    let logs = server.logs();
    assert!(
        logs.contains("/health"),
        "one log line per request:\n{logs}"
    );
    assert!(!logs.contains("xxxxxxxx"), "a body reached the log");

    let status = server.terminate();
    assert!(
        status.success(),
        "cognate exited with {status} after SIGTERM"
    );

    // The generated key is saved with mode 0600 and reused after a restart.
    let credentials = data.join("admin-credentials.toml");
    let text = std::fs::read_to_string(&credentials).unwrap();
    assert!(text.contains(&key_id) && text.contains(&secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&credentials)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    let again = Server::start(&data, "second.log");
    again.wait_healthy();
    assert_eq!(again.banner["Admin access key id"], key_id);
    assert_eq!(again.banner["Admin secret access key"], secret);
    // The demo pool (when the core could create it) is the same pool, not a new one.
    assert_eq!(again.banner.get("Demo user pool id"), demo_pool.as_ref());
    let status = again.terminate();
    assert!(status.success());
}

/// A new binary's first start: the server answers while its Wasm core compiles (in a child
/// process, `cognate compile-core`, so the compiler's memory leaves with it), then every request
/// runs in Wasm, loaded from the cache the child filled.
#[test]
fn answers_while_the_wasm_core_compiles_then_runs_it_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, "warming.log");
    assert_eq!(server.banner["Engine"], "wasm");
    let describe = |server: &Server| {
        server.request(
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: AWSCognitoIdentityProviderService.DescribeUserPoolClient\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n",
            b"{}",
        )
    };
    // Whichever core answers, the answer is Cognito's (an unsigned admin call is refused).
    let (status, _, body) = describe(&server);
    assert_eq!(
        (status, error_type(&body).as_str()),
        (400, "UnrecognizedClientException")
    );

    server.wait_for_the_wasm_core();
    let logs = server.logs();
    assert!(!logs.contains("child process failed"), "{logs}");
    assert_eq!(
        compiled_cores(&data.join("cache")).len(),
        1,
        "the child left no compiled core in the cache"
    );
    let (status, _, body) = describe(&server);
    assert_eq!(
        (status, error_type(&body).as_str()),
        (400, "UnrecognizedClientException")
    );
    assert!(server.terminate().success());
}

/// The compiled core's artifacts (`core-*.cwasm`) in a cache directory.
fn compiled_cores(cache: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(cache)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("core-") && n.ends_with(".cwasm"))
                })
                .collect()
        })
        .unwrap_or_default()
}
