//! The host's implementations of the core's ports, and [`HostEnv`] that bundles them.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use cognate_core::ports::{BoxFuture, HashParams, Message, PasswordCheck, boxed};
use cognate_core::{Clock, Env, Error, Jws, PasswordHasher, Random, Sender, Store};
use cognate_core::{DeliveryRequest, Triggers};

use crate::hash_threads::HashThreads;
use crate::jws::NativeJws;

/// Runs CPU-bound or blocking work on tokio's blocking pool; inline when there is no tokio
/// runtime (a plain executor in a test or benchmark), where spawning would panic.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| Error::internal(format!("blocking task failed: {e}")))?,
        Err(_) => work(),
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        // A clock before 1970 is a misconfigured machine; 0 keeps the server answering.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        use rand::RngCore;
        if let Err(e) = rand::rngs::OsRng.try_fill_bytes(buf) {
            // The port cannot fail, and an identity server must never hand out predictable
            // codes, tokens or keys: stop the process. (getrandom on Linux does not fail once
            // the kernel's pool is initialised.)
            tracing::error!(error = %e, "the operating system's random source failed; stopping");
            std::process::abort();
        }
    }
}

/// argon2id on password hashing's own threads ([`HashThreads`]), at most one hash per CPU at a
/// time: each hash takes ~19 MiB and tens of milliseconds, so unbounded concurrency would only
/// trade latency for memory.
#[derive(Debug)]
pub struct BlockingArgon2 {
    threads: HashThreads,
    /// The operator's breached-password list, if one was given.
    breached: Option<Arc<crate::breached::BreachedPasswords>>,
}

impl Default for BlockingArgon2 {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockingArgon2 {
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::with_concurrency(cpus)
    }

    pub fn with_concurrency(concurrent_hashes: usize) -> Self {
        Self {
            threads: HashThreads::new(concurrent_hashes),
            breached: None,
        }
    }

    /// Refuses new passwords found in `list` (the core asks through `breached`).
    pub fn with_breached(mut self, list: Arc<crate::breached::BreachedPasswords>) -> Self {
        self.breached = Some(list);
        self
    }
}

impl PasswordHasher for BlockingArgon2 {
    fn verifies(&self, phc: &str) -> bool {
        cognate_core::api::phc::acceptable_hash(phc)
    }

    fn breached<'a>(&'a self, password: &'a str) -> BoxFuture<'a, bool> {
        // A binary search over an in-memory array: microseconds, no need for the blocking pool.
        let found = self
            .breached
            .as_ref()
            .is_some_and(|list| list.contains(password));
        boxed(async move { found })
    }

    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>> {
        let password = password.to_owned();
        boxed(
            self.threads
                .run(move |_| cognate_core::password::hash_argon2id(&password, salt, params)),
        )
    }

    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        boxed(self.threads.run(move |memory| {
            // bcrypt, scrypt, PBKDF2 imported from elsewhere: checked here, then replaced.
            if let Some(result) = crate::foreign_hash::verify(&password, &phc) {
                return result;
            }
            cognate_core::password::verify_argon2id_in(&password, &phc, params, memory)
        }))
    }
}

/// The development mail and SMS "gateway": every message is appended as one JSON line to
/// `<data dir>/outbox.jsonl`, codes included, so tests and demos can read them. The log line
/// names the recipient and purpose only, never the code or body.
pub struct OutboxSender {
    path: PathBuf,
    file: Arc<Mutex<File>>,
    /// Hosts custom sender plugins may deliver to (`[plugins] delivery_hosts`).
    delivery_hosts: Vec<String>,
}

impl fmt::Debug for OutboxSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxSender")
            .field("path", &self.path)
            .finish()
    }
}

impl OutboxSender {
    /// The outbox file inside `data_dir`.
    pub const FILE_NAME: &'static str = "outbox.jsonl";

    /// Opens (creating) `<data_dir>/outbox.jsonl` for appending.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(Self::FILE_NAME);
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            // It holds live codes: readable by the operator only.
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&path)?;
        Ok(Self {
            path,
            file: Arc::new(Mutex::new(file)),
            delivery_hosts: Vec::new(),
        })
    }

    /// Allows custom sender plugins' deliveries to these hosts (`*.example.com` for
    /// subdomains).
    pub fn with_delivery_hosts(mut self, hosts: Vec<String>) -> Self {
        self.delivery_hosts = hosts;
        self
    }

    /// Appends one line (the core's outbox format, [`cognate_core::delivery::outbox_line`]).
    /// One write of the whole line under the lock: lines never interleave.
    async fn append(&self, mut line: Vec<u8>) -> Result<(), Error> {
        line.push(b'\n');
        let file = Arc::clone(&self.file);
        run_blocking(move || {
            let mut file = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            file.write_all(&line)
                .map_err(|e| Error::internal(format!("outbox: write failed: {e}")))
        })
        .await
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sender for OutboxSender {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            self.append(cognate_core::delivery::outbox_line(&message)?)
                .await?;
            tracing::info!(
                pool_id = %message.pool_id,
                username = %message.username,
                medium = ?message.medium,
                destination = %message.destination,
                purpose = %message.purpose,
                "message written to the outbox"
            );
            Ok(())
        })
    }

    /// A custom sender plugin's delivery: checked against the allow-list, then written to the
    /// outbox as a line with `delivery` (method, url, headers, body), `destination` = the URL and
    /// `medium` = `HTTP`. The development outbox is the host's only gateway: a production
    /// deployment puts a relay that performs these requests behind it.
    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            cognate_core::trigger::check_delivery(&request, &self.delivery_hosts)?;
            self.append(cognate_core::delivery::outbox_delivery_line(
                pool_id, &request,
            )?)
            .await?;
            tracing::info!(pool_id, url = %request.url, "custom sender delivery written to the outbox");
            Ok(())
        })
    }
}

/// The ports one request uses, shared by all requests.
#[derive(Clone)]
pub struct HostEnv {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub sender: Arc<dyn Sender>,
    pub jws: Arc<dyn Jws>,
    pub passwords: Arc<dyn PasswordHasher>,
    /// Trigger plugins (the wasmtime runtime; none until the server sets it).
    pub triggers: Arc<dyn Triggers>,
    /// The same runtime, for plugin management (the admin API's registry port).
    pub plugins: Option<Arc<crate::plugins::PluginRuntime>>,
    /// Identity pools' STS (none until the server sets it: `ExternalServiceException`).
    pub sts: Arc<dyn cognate_core::ports::Sts>,
    /// Outbound HTTP to upstream identity providers (none until the server sets it).
    pub http: Arc<dyn cognate_core::ports::Http>,
    /// SAML 2.0 signature verification: libxmlsec1 with the `saml` feature, else refused.
    pub saml: Arc<dyn cognate_core::ports::Saml>,
    /// Pools, clients and keys kept decoded between requests (the native engine's; the Wasm
    /// guest keeps its own per instance).
    pub decoded: Arc<cognate_core::decoded::KeptRecords>,
}

impl fmt::Debug for HostEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostEnv").finish_non_exhaustive()
    }
}

impl HostEnv {
    /// The production ports around `store`, with the outbox in `data_dir`.
    pub fn native(store: Arc<dyn Store>, data_dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            sender: Arc::new(OutboxSender::open(data_dir)?),
            jws: Arc::new(NativeJws::new()),
            passwords: Arc::new(BlockingArgon2::new()),
            triggers: Arc::new(cognate_core::ports::NoTriggers),
            plugins: None,
            sts: Arc::new(cognate_core::ports::NoSts),
            http: Arc::new(cognate_core::ports::NoHttp),
            saml: default_saml(),
            decoded: Arc::default(),
        })
    }

    /// Installs the plugin runtime as the trigger port and for the admin API.
    pub fn with_plugins(mut self, runtime: Arc<crate::plugins::PluginRuntime>) -> Self {
        self.triggers = runtime.clone();
        self.plugins = Some(runtime);
        self
    }
}

/// The host's SAML verifier: libxmlsec1 when built with the `saml` feature.
fn default_saml() -> Arc<dyn cognate_core::ports::Saml> {
    #[cfg(feature = "saml")]
    {
        Arc::new(crate::saml::XmlSecSaml::default())
    }
    #[cfg(not(feature = "saml"))]
    {
        Arc::new(cognate_core::ports::NoSaml)
    }
}

impl Env for HostEnv {
    fn store(&self) -> &dyn Store {
        &*self.store
    }
    fn clock(&self) -> &dyn Clock {
        &*self.clock
    }
    fn random(&self) -> &dyn Random {
        &*self.random
    }
    fn sender(&self) -> &dyn Sender {
        &*self.sender
    }
    fn jws(&self) -> &dyn Jws {
        &*self.jws
    }
    fn passwords(&self) -> &dyn PasswordHasher {
        &*self.passwords
    }
    fn triggers(&self) -> &dyn Triggers {
        &*self.triggers
    }
    fn plugins(&self) -> &dyn cognate_core::ports::PluginRegistry {
        match &self.plugins {
            Some(runtime) => &**runtime,
            None => &cognate_core::ports::NoPluginRegistry,
        }
    }
    fn sts(&self) -> &dyn cognate_core::ports::Sts {
        &*self.sts
    }
    fn http(&self) -> &dyn cognate_core::ports::Http {
        &*self.http
    }
    fn saml(&self) -> &dyn cognate_core::ports::Saml {
        &*self.saml
    }
    fn webauthn(&self) -> &dyn cognate_core::ports::WebAuthnVerifier {
        &crate::webauthn::HostWebAuthn
    }
    fn decoded_records(&self) -> &dyn cognate_core::ports::DecodedRecords {
        &*self.decoded
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use cognate_core::Secret;
    use cognate_core::ports::Medium;

    #[tokio::test]
    async fn outbox_appends_one_json_line_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxSender::open(dir.path()).unwrap();
        for code in ["123456", "654321"] {
            outbox
                .send(Message {
                    pool_id: "us-east-1_abc".into(),
                    username: "alice".into(),
                    medium: Medium::Email,
                    destination: "alice@example.com".into(),
                    purpose: "SignUp".into(),
                    subject: "Your code".into(),
                    body: format!("Your code is {code}"),
                    html: false,
                    link: None,
                    code: Secret::new(code),
                    route: Default::default(),
                })
                .await
                .unwrap();
        }
        let text = std::fs::read_to_string(outbox.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["code"], "123456");
        assert_eq!(lines[1]["code"], "654321");
        assert_eq!(lines[0]["medium"], "EMAIL");
        assert_eq!(lines[0]["destination"], "alice@example.com");
    }

    #[tokio::test]
    async fn argon2_runs_off_thread_and_verifies() {
        let hasher = BlockingArgon2::with_concurrency(1);
        let params = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let phc = hasher.hash("Passw0rd!", [3; 16], params).await.unwrap();
        assert_eq!(
            hasher.verify("Passw0rd!", &phc, params).await.unwrap(),
            PasswordCheck::Match
        );
        assert_eq!(
            hasher.verify("nope", &phc, params).await.unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[test]
    fn clock_and_random_work() {
        assert!(SystemClock.now_millis() > 1_600_000_000_000);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom.fill(&mut a);
        OsRandom.fill(&mut b);
        assert_ne!(a, b);
    }
}
