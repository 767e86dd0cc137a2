//! Command line, config file and environment, resolved into one [`Settings`].
//!
//! Precedence, highest first: command-line flags, environment (`COGNATE_LISTEN`,
//! `COGNATE_ADMIN_ACCESS_KEY_ID` + `COGNATE_ADMIN_SECRET_ACCESS_KEY`), the TOML config file,
//! built-in defaults.
//!
//! ```toml
//! listen = "127.0.0.1:9229"
//! data = "./cognate-data"
//! base_url = "https://auth.example.com"
//! region = "eu-west-1"
//! demo = false
//! engine = "wasm"           # or "native": how the core runs (see README, "Engines")
//! cache_dir = "./cognate-data/cache"   # compiled Wasm core (default <data>/cache)
//! wasm_requests_per_instance = 1000     # 1: a fresh Wasm instance for every request
//! store = "sqlite"          # default: <data>/cognate.db; or "postgres://user:pw@host:5432/db"
//! metrics_listen = "127.0.0.1:9464"   # GET /metrics here without a signature (default: none;
//!                                     # the main listener answers admin-signed requests)
//!
//! [[admin_keys]]
//! access_key_id = "AKIAEXAMPLEEXAMPLE00"
//! secret_access_key = "..."
//!
//! [[pools]]
//! id = "eu-west-1_Example01"
//! create = { PoolName = "main", AutoVerifiedAttributes = ["email"] }
//! [[pools.clients]]
//! id = "exampleclientid0000000000a"
//! create = { ClientName = "web", ExplicitAuthFlows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }
//!
//! # Trigger plugins (all optional; these are the defaults)
//! [plugins]
//! fuel = 50000000          # CPU budget per call (wasmtime fuel, ~1 per instruction)
//! timeout_ms = 5000        # wall-clock budget per call
//! memory_mib = 64          # memory cap per instance
//! output_kib = 1024        # cap on a plugin's answer
//! max_instances = 64       # instances running at once
//! delivery_hosts = []      # hosts custom sender plugins may deliver to ("*.example.com" ok)
//! [[plugins.register]]     # registered at start, like `cognate plugins add NAME FILE`
//! name = "pre-sign-up"
//! path = "plugins/pre_sign_up.wasm"
//!
//! # The audit stream (optional): JSON lines of security-relevant events
//! [audit]
//! path = "stdout"                 # or a file, appended to (default: no audit stream)
//! auth_event_retention_days = 90  # sign-in events (AdminListUserAuthEvents) kept this long
//!
//! # Rate limits in Cognito's quota categories (requests per second; none by default) and the
//! # HTTP limits on slow or bloated clients (these are the defaults): see host/src/limits.rs
//! [rate_limits.per_pool]
//! UserAuthentication = 120
//! [rate_limits.per_ip]
//! UserAuthentication = 10
//! [http]
//! header_read_timeout_ms = 10000
//! body_read_timeout_ms = 10000
//! max_header_bytes = 32768
//! max_headers = 100
//!
//! # Refuse new passwords found in a list of breached passwords (optional; host/src/breached.rs)
//! [passwords]
//! breached_file = "pwned-passwords-sha1.txt"   # HASH[:COUNT] or plain passwords, one a line
//!
//! # Identity pools (optional)
//! [identity]
//! sts_endpoint = "https://sts.amazonaws.com"   # where AssumeRoleWithWebIdentity goes (default);
//!                                               # any STS-compatible service (MinIO, Ceph RGW)
//! sts_timeout_ms = 10000
//! [[identity.oidc_providers]]   # OpenID Connect providers identity pools may name, as IAM
//! url = "https://login.example.com"     # registers them (OpenIdConnectProviderARNs)
//! client_ids = ["my-app"]
//!
//! # Federation (optional): hosts the server may call for upstream identity providers
//! [federation]
//! upstream_hosts = ["accounts.google.com", "www.googleapis.com", "*.okta.com", "127.0.0.1:8443"]
//! upstream_timeout_ms = 10000
//! upstream_max_answer_kib = 256
//! ```
//!
//! Environment: `COGNATE_STS_ENDPOINT` (over `[identity] sts_endpoint`),
//! `COGNATE_IDENTITY_OIDC_PROVIDERS` (JSON, over `[[identity.oidc_providers]]`),
//! `COGNATE_UPSTREAM_HOSTS` (comma-separated, like `--upstream-hosts`; replaces
//! `[federation] upstream_hosts`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use cognate_core::Secret;
use cognate_core::service::{AdminKey, PoolSpec};

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9229";
pub const DEFAULT_DATA_DIR: &str = "./cognate-data";
pub const DEFAULT_REGION: &str = "us-east-1";

/// `cognate`: a Cognito-compatible identity server.
#[derive(Debug, Parser)]
#[command(name = "cognate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of `serve`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage trigger plugins in a data directory (a running server picks changes up).
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// A pool's token signing keys, on a running server (SigV4 with an admin key).
    #[command(subcommand)]
    Keys(crate::admin_client::KeysCommand),
    /// Export or import a pool's users with their password hashes (SigV4 with an admin key).
    #[command(subcommand)]
    Users(crate::admin_client::UsersCommand),
    /// Pools, app clients, users, groups and plugins on a running server (SigV4 with an admin
    /// key): `cognate admin pools list`, `cognate admin --json users list POOL`, ...
    Admin(crate::admin_cli::AdminArgs),
    /// Write a consistent copy of the SQLite store to FILE (safe while the server runs).
    Backup {
        /// The backup file to create (it must not exist).
        file: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Compile the Wasm core into a compilation cache, then exit. The server runs this as a
    /// child process at start, so the compiler's memory is not kept by the server.
    #[command(hide = true)]
    CompileCore {
        #[arg(long)]
        cache_dir: PathBuf,
        #[arg(long)]
        memory_bytes: usize,
        #[arg(long)]
        max_instances: u32,
        #[arg(long)]
        requests_per_instance: u32,
    },
    /// Put a backup in place as the store of a data directory.
    Restore {
        /// A file written by `cognate backup`.
        file: PathBuf,
        /// Overwrite the data directory's store (stop its server first).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        data: DataDirArg,
    },
}

/// `cognate plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Register (or replace) a plugin: a `.wasm` module or `.wat` text, under NAME.
    Add {
        /// The name a pool's LambdaConfig uses for it.
        name: String,
        /// The module file.
        file: PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// List registered plugins.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Remove a name, or a module and all its names (`sha256:<hex>`).
    Remove {
        reference: String,
        #[command(flatten)]
        data: DataDirArg,
    },
}

/// The data directory a plugins command works on.
#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Data directory [default: ./cognate-data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataDirArg {
    pub fn dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}

/// The config file's `[plugins]` table.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub memory_mib: Option<usize>,
    pub output_kib: Option<usize>,
    pub max_instances: Option<u32>,
    #[serde(default)]
    pub delivery_hosts: Vec<String>,
    #[serde(default)]
    pub register: Vec<PluginFile>,
}

/// A plugin registered at start.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFile {
    pub name: String,
    pub path: PathBuf,
}

impl PluginsConfig {
    /// The runtime limits, defaults filled in.
    pub fn limits(&self) -> crate::plugins::PluginLimits {
        let d = crate::plugins::PluginLimits::default();
        crate::plugins::PluginLimits {
            fuel: self.fuel.unwrap_or(d.fuel),
            timeout: self
                .timeout_ms
                .map_or(d.timeout, std::time::Duration::from_millis),
            memory_bytes: self
                .memory_mib
                .map_or(d.memory_bytes, |m| m.saturating_mul(1024 * 1024)),
            output_bytes: self
                .output_kib
                .map_or(d.output_bytes, |k| k.saturating_mul(1024)),
            max_instances: self.max_instances.unwrap_or(d.max_instances),
        }
    }
}

/// `cognate serve` flags. Every one may also be set in the config file; flags win.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: database, admin credentials, outbox [default: ./cognate-data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:9229].
    #[arg(long, value_name = "ADDR", env = "COGNATE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Public base URL, used as the token issuer prefix [default: http://<listen address>].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Region for requests that name none [default: us-east-1].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Do not create or print the demo pool.
    #[arg(long)]
    pub no_demo: bool,
    /// Hosts custom sender plugins may deliver to, comma-separated (replaces the config file's
    /// `[plugins] delivery_hosts`).
    #[arg(
        long,
        value_name = "HOSTS",
        value_delimiter = ',',
        env = "COGNATE_PLUGIN_DELIVERY_HOSTS"
    )]
    pub plugin_delivery_hosts: Vec<String>,
    /// Hosts the server may call for upstream identity providers (their discovery documents,
    /// JWKS, token and userInfo endpoints), comma-separated: `idp.example.com`,
    /// `*.example.com`, `127.0.0.1:8443` (replaces the config file's `[federation]
    /// upstream_hosts`).
    #[arg(
        long,
        value_name = "HOSTS",
        value_delimiter = ',',
        env = "COGNATE_UPSTREAM_HOSTS"
    )]
    pub upstream_hosts: Vec<String>,
    /// How the core runs: its Wasm build in wasmtime, or linked natively [default: wasm].
    #[arg(long, value_enum, value_name = "ENGINE", env = "COGNATE_ENGINE")]
    pub engine: Option<crate::engine::EngineKind>,
    /// Where the compiled Wasm core is cached between starts [default: <data>/cache].
    #[arg(long, value_name = "DIR", env = "COGNATE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Requests one Wasm core instance serves before a fresh one replaces it; 1 gives every
    /// request a fresh instance [default: 1000].
    #[arg(long, value_name = "N", env = "COGNATE_WASM_REQUESTS_PER_INSTANCE")]
    pub wasm_requests_per_instance: Option<u32>,
    /// Where records live: `sqlite` (a file in the data directory), or a PostgreSQL URL
    /// (`postgres://user:password@host:5432/dbname`) that several hosts may share
    /// [default: sqlite].
    #[arg(
        long,
        value_name = "STORE",
        env = "COGNATE_STORE",
        hide_env_values = true
    )]
    pub store: Option<String>,
    /// A second address that serves `GET /metrics` without authentication, for a Prometheus
    /// server to scrape (keep it private) [default: none; the main listener serves `/metrics`
    /// to requests signed with an admin key].
    #[arg(long, value_name = "ADDR", env = "COGNATE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Write the audit stream (JSON lines) to FILE, or `stdout` (replaces `[audit] path`).
    #[arg(long, value_name = "FILE", env = "COGNATE_AUDIT_LOG")]
    pub audit_log: Option<String>,
    /// Refuse new passwords found in FILE: SHA-1 hashes (`HASH` or HIBP's `HASH:COUNT`) or
    /// plain passwords, one a line (replaces `[passwords] breached_file`).
    #[arg(long, value_name = "FILE", env = "COGNATE_BREACHED_PASSWORDS")]
    pub breached_passwords: Option<PathBuf>,
}

/// The config file's contents.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    #[serde(alias = "data_dir")]
    pub data: Option<PathBuf>,
    pub base_url: Option<String>,
    pub region: Option<String>,
    /// Create and print the demo pool (default true).
    pub demo: Option<bool>,
    /// `wasm` (default) or `native`.
    pub engine: Option<crate::engine::EngineKind>,
    pub cache_dir: Option<PathBuf>,
    /// Requests one Wasm core instance serves (default 1000; 1: a fresh one per request).
    pub wasm_requests_per_instance: Option<u32>,
    /// `sqlite` (default) or a PostgreSQL URL.
    pub store: Option<String>,
    /// The unauthenticated metrics listener (default: none).
    pub metrics_listen: Option<SocketAddr>,
    #[serde(default)]
    pub admin_keys: Vec<AdminKeyConfig>,
    /// Pools declared as code, created at start unless they exist.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// Trigger plugin runtime settings and plugins registered at start.
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// Email and SMS transports (SMTP, SES, SNS) and the development outbox.
    #[serde(default)]
    pub delivery: crate::delivery::DeliveryConfig,
    /// Identity pools: the STS that gives credentials.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Federation: the hosts of upstream identity providers.
    #[serde(default)]
    pub federation: FederationConfig,
    /// The audit stream and how long sign-in events are kept.
    #[serde(default)]
    pub audit: crate::audit::AuditConfig,
    /// Requests per second by Cognito quota category, per pool and per source IP.
    #[serde(default)]
    pub rate_limits: crate::limits::RateLimitConfig,
    /// Timeouts and size limits for clients.
    #[serde(default)]
    pub http: crate::limits::HttpConfig,
    /// New-password checks beyond the pools' policies.
    #[serde(default)]
    pub passwords: PasswordsConfig,
}

/// `[passwords]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordsConfig {
    /// The breached-password list ([`crate::breached`]); none by default.
    pub breached_file: Option<PathBuf>,
}

/// `[federation]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Hosts upstream identity providers live on (`host`, `*.domain`, `host:port`).
    #[serde(default)]
    pub upstream_hosts: Vec<String>,
    pub upstream_timeout_ms: Option<u64>,
    pub upstream_max_answer_kib: Option<usize>,
    /// The SP's SAML encryption key (an RSA private key, PEM file) and its certificate (PEM
    /// file), for SAML providers with `EncryptedResponses`: the certificate is published in the
    /// SP metadata, the key decrypts. Both or neither (`COGNATE_SAML_ENCRYPTION_KEY`,
    /// `COGNATE_SAML_ENCRYPTION_CERTIFICATE`).
    pub saml_encryption_key: Option<PathBuf>,
    pub saml_encryption_certificate: Option<PathBuf>,
    /// The SP's SAML signing key (an RSA private key, PEM file) and its certificate (PEM file),
    /// for SAML providers with `IDPSignout`: the key signs `LogoutRequest`s, the certificate is
    /// published in the SP metadata. Both or neither (`COGNATE_SAML_SIGNING_KEY`,
    /// `COGNATE_SAML_SIGNING_CERTIFICATE`).
    pub saml_signing_key: Option<PathBuf>,
    pub saml_signing_certificate: Option<PathBuf>,
}

/// `[identity]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// The STS endpoint (default `https://sts.amazonaws.com`).
    pub sts_endpoint: Option<String>,
    pub sts_timeout_ms: Option<u64>,
    /// OpenID Connect providers identity pools may name (`[[identity.oidc_providers]]`), as
    /// AWS IAM registers them: issuer `url` and `client_ids`.
    #[serde(default)]
    pub oidc_providers: Vec<cognate_core::config::OidcProvider>,
}

impl IdentityConfig {
    /// The STS endpoint in force.
    pub fn sts_endpoint(&self) -> &str {
        self.sts_endpoint
            .as_deref()
            .unwrap_or("https://sts.amazonaws.com")
    }
}

/// An admin access key in the config file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminKeyConfig {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Where the host keeps its records.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum StoreChoice {
    /// `<data>/cognate.db`: one process.
    #[default]
    Sqlite,
    /// A PostgreSQL database (its URL): any number of hosts.
    Postgres(String),
}

impl std::fmt::Debug for StoreChoice {
    /// Never the URL: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite => f.write_str("Sqlite"),
            Self::Postgres(_) => f.write_str("Postgres(<url>)"),
        }
    }
}

impl StoreChoice {
    /// `sqlite`, or a `postgres://` / `postgresql://` URL.
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("sqlite") {
            Ok(Self::Sqlite)
        } else if crate::store_postgres::is_postgres_url(value) {
            Ok(Self::Postgres(value.to_owned()))
        } else {
            bail!("the store must be `sqlite` or a postgres:// URL (got something else)")
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: `http://<bound address>`, known once the listener is bound.
    pub base_url: Option<String>,
    pub region: String,
    /// Configured admin keys; when empty, the data directory's generated pair is used.
    pub admin_keys: Vec<AdminKey>,
    pub pools: Vec<PoolSpec>,
    pub demo: bool,
    pub plugins: PluginsConfig,
    /// Email and SMS transports, the environment's settings over the file's.
    pub delivery: crate::delivery::DeliveryConfig,
    /// Identity pools' STS.
    pub identity: IdentityConfig,
    /// Upstream identity providers' hosts.
    pub federation: FederationConfig,
    pub engine: crate::engine::EngineKind,
    /// The compiled Wasm core's cache.
    pub cache_dir: PathBuf,
    /// Requests one Wasm core instance serves before it is replaced (at least 1).
    pub wasm_requests_per_instance: u32,
    /// SQLite in the data directory, or PostgreSQL.
    pub store: StoreChoice,
    /// Where `GET /metrics` is served without a signature, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The audit stream's destination and the sign-in events' retention.
    pub audit: crate::audit::AuditConfig,
    pub rate_limits: crate::limits::RateLimitConfig,
    pub http: crate::limits::HttpLimits,
    /// The breached-password list to load, if any.
    pub breached_passwords: Option<PathBuf>,
}

impl Settings {
    /// Resolves flags, the process environment and the config file the flags name.
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(args, file, |name| std::env::var(name).ok())
    }

    /// Resolves flags over `env` over the config file over defaults. (`COGNATE_LISTEN` is
    /// already folded into `args.listen` by clap.)
    pub fn resolve(
        args: ServeArgs,
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let listen = match args.listen.or(file.listen) {
            Some(listen) => listen,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let mut admin_keys: Vec<AdminKey> = file
            .admin_keys
            .into_iter()
            .map(|k| AdminKey {
                access_key_id: k.access_key_id,
                secret_access_key: k.secret_access_key,
            })
            .collect();
        match (
            env("COGNATE_ADMIN_ACCESS_KEY_ID").filter(|v| !v.is_empty()),
            env("COGNATE_ADMIN_SECRET_ACCESS_KEY").filter(|v| !v.is_empty()),
        ) {
            // The environment replaces the file's keys, as it would any other setting.
            (Some(id), Some(secret)) => {
                admin_keys = vec![AdminKey {
                    access_key_id: id,
                    secret_access_key: Secret::new(secret),
                }];
            }
            (None, None) => {}
            _ => bail!(
                "set both COGNATE_ADMIN_ACCESS_KEY_ID and COGNATE_ADMIN_SECRET_ACCESS_KEY, or neither"
            ),
        }
        for key in &admin_keys {
            if key.access_key_id.is_empty() || key.secret_access_key.expose().is_empty() {
                bail!("admin keys need a non-empty access_key_id and secret_access_key");
            }
        }
        let base_url = args
            .base_url
            .or(file.base_url)
            .map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("base URL must start with http:// or https://, got {url:?}");
        }
        let data_dir = args
            .data
            .or(file.data)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let wasm_requests_per_instance = args
            .wasm_requests_per_instance
            .or(file.wasm_requests_per_instance)
            .unwrap_or(crate::engine::wasm::DEFAULT_REQUESTS_PER_INSTANCE);
        if wasm_requests_per_instance == 0 {
            bail!(
                "wasm_requests_per_instance must be at least 1 (1: a fresh instance per request)"
            );
        }
        let store = match args.store.or(file.store) {
            Some(value) => StoreChoice::parse(&value)?,
            None => StoreChoice::Sqlite,
        };
        let delivery = file.delivery.with_env(&env)?;
        let mut identity = file.identity;
        if let Some(endpoint) = env("COGNATE_STS_ENDPOINT").filter(|v| !v.is_empty()) {
            identity.sts_endpoint = Some(endpoint);
        }
        if let Some(json) = env("COGNATE_IDENTITY_OIDC_PROVIDERS").filter(|v| !v.is_empty()) {
            identity.oidc_providers = serde_json::from_str(&json).context(
                "COGNATE_IDENTITY_OIDC_PROVIDERS: expected [{\"url\": ..., \"client_ids\": [...]}]",
            )?;
        }
        let mut federation = file.federation;
        if let Some(path) = env("COGNATE_SAML_ENCRYPTION_KEY").filter(|v| !v.is_empty()) {
            federation.saml_encryption_key = Some(PathBuf::from(path));
        }
        if let Some(path) = env("COGNATE_SAML_ENCRYPTION_CERTIFICATE").filter(|v| !v.is_empty()) {
            federation.saml_encryption_certificate = Some(PathBuf::from(path));
        }
        if let Some(path) = env("COGNATE_SAML_SIGNING_KEY").filter(|v| !v.is_empty()) {
            federation.saml_signing_key = Some(PathBuf::from(path));
        }
        if let Some(path) = env("COGNATE_SAML_SIGNING_CERTIFICATE").filter(|v| !v.is_empty()) {
            federation.saml_signing_certificate = Some(PathBuf::from(path));
        }
        if federation.saml_signing_key.is_some() != federation.saml_signing_certificate.is_some() {
            anyhow::bail!("[federation] saml_signing_key and saml_signing_certificate go together");
        }
        if federation.saml_encryption_key.is_some()
            != federation.saml_encryption_certificate.is_some()
        {
            anyhow::bail!(
                "[federation] saml_encryption_key and saml_encryption_certificate go together"
            );
        }
        if !args.upstream_hosts.is_empty() {
            federation.upstream_hosts = args
                .upstream_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect();
        }
        let mut audit = file.audit;
        if let Some(path) = args.audit_log.filter(|p| !p.is_empty()) {
            audit.path = Some(path);
        }
        file.rate_limits.check()?;
        Ok(Self {
            breached_passwords: args.breached_passwords.or(file.passwords.breached_file),
            audit,
            rate_limits: file.rate_limits,
            http: file.http.limits(),
            metrics_listen: args.metrics_listen.or(file.metrics_listen),
            store,
            delivery,
            identity,
            federation,
            engine: args.engine.or(file.engine).unwrap_or_default(),
            wasm_requests_per_instance,
            cache_dir: args
                .cache_dir
                .or(file.cache_dir)
                .unwrap_or_else(|| data_dir.join("cache")),
            data_dir,
            listen,
            base_url,
            region: args
                .region
                .or(file.region)
                .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
            admin_keys,
            pools: file.pools,
            demo: !args.no_demo && file.demo.unwrap_or(true),
            plugins: {
                let mut plugins = file.plugins;
                if !args.plugin_delivery_hosts.is_empty() {
                    plugins.delivery_hosts = args.plugin_delivery_hosts;
                }
                plugins
            },
        })
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

    const FILE: &str = r#"
        listen = "127.0.0.1:7000"
        data = "/var/lib/cognate"
        region = "eu-west-1"
        demo = false

        [[admin_keys]]
        access_key_id = "AKIAFILEFILEFILEFILE"
        secret_access_key = "file-secret"

        [[pools]]
        id = "eu-west-1_Example01"
        create = { PoolName = "main", AutoVerifiedAttributes = ["email"] }
        [[pools.clients]]
        create = { ClientName = "web" }
    "#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults() {
        let s = Settings::resolve(ServeArgs::default(), FileConfig::default(), no_env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9229");
        assert_eq!(s.data_dir, PathBuf::from("./cognate-data"));
        assert_eq!(s.region, "us-east-1");
        assert!(s.base_url.is_none() && s.admin_keys.is_empty() && s.pools.is_empty() && s.demo);
    }

    #[test]
    fn file_then_flags_win() {
        let file: FileConfig = toml::from_str(FILE).unwrap();
        let s = Settings::resolve(ServeArgs::default(), file, no_env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(s.region, "eu-west-1");
        assert!(!s.demo);
        assert_eq!(s.admin_keys[0].access_key_id, "AKIAFILEFILEFILEFILE");
        assert_eq!(s.pools.len(), 1);
        assert_eq!(s.pools[0].id.as_deref(), Some("eu-west-1_Example01"));
        assert_eq!(s.pools[0].create["PoolName"], "main");
        assert_eq!(s.pools[0].clients[0].create["ClientName"], "web");

        let args = ServeArgs {
            listen: Some("127.0.0.1:8000".parse().unwrap()),
            region: Some("ap-south-1".into()),
            base_url: Some("https://auth.example.com/".into()),
            ..ServeArgs::default()
        };
        let env = |name: &str| match name {
            "COGNATE_ADMIN_ACCESS_KEY_ID" => Some("AKIAENVENVENVENVENV0".to_owned()),
            "COGNATE_ADMIN_SECRET_ACCESS_KEY" => Some("env-secret".to_owned()),
            _ => None,
        };
        let s = Settings::resolve(args, toml::from_str(FILE).unwrap(), env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.region, "ap-south-1");
        assert_eq!(s.base_url.as_deref(), Some("https://auth.example.com"));
        assert_eq!(s.admin_keys.len(), 1);
        assert_eq!(s.admin_keys[0].access_key_id, "AKIAENVENVENVENVENV0");
    }

    #[test]
    fn half_an_env_key_pair_is_an_error() {
        let env = |name: &str| (name == "COGNATE_ADMIN_ACCESS_KEY_ID").then(|| "AKIA".to_owned());
        assert!(Settings::resolve(ServeArgs::default(), FileConfig::default(), env).is_err());
    }

    #[test]
    fn plugins_table_parses() {
        let file: FileConfig = toml::from_str(
            "[plugins]\nfuel = 10\ndelivery_hosts = [\"a.example\"]\n[[plugins.register]]\nname = \"p\"\npath = \"p.wasm\"\n",
        )
        .unwrap();
        let limits = file.plugins.limits();
        assert_eq!(limits.fuel, 10);
        assert_eq!(limits.memory_bytes, 64 * 1024 * 1024);
        assert_eq!(file.plugins.register[0].name, "p");
        let cli = Cli::try_parse_from(["cognate", "plugins", "add", "p", "p.wasm", "--data", "/d"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Command::Plugins(PluginsCommand::Add { .. })
        ));
    }

    #[test]
    fn wasm_requests_per_instance_defaults_file_then_flag_and_zero_is_refused() {
        let s = Settings::resolve(ServeArgs::default(), FileConfig::default(), no_env).unwrap();
        assert_eq!(
            s.wasm_requests_per_instance,
            crate::engine::wasm::DEFAULT_REQUESTS_PER_INSTANCE
        );
        let file = || toml::from_str::<FileConfig>("wasm_requests_per_instance = 1").unwrap();
        let s = Settings::resolve(ServeArgs::default(), file(), no_env).unwrap();
        assert_eq!(s.wasm_requests_per_instance, 1);
        let args = ServeArgs {
            wasm_requests_per_instance: Some(50),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(args, file(), no_env).unwrap();
        assert_eq!(s.wasm_requests_per_instance, 50);
        let zero = ServeArgs {
            wasm_requests_per_instance: Some(0),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(zero, FileConfig::default(), no_env).unwrap_err();
        assert!(error.to_string().contains("at least 1"), "{error}");
    }

    #[test]
    fn store_defaults_to_sqlite_file_then_flag_win_and_others_are_refused() {
        let s = Settings::resolve(ServeArgs::default(), FileConfig::default(), no_env).unwrap();
        assert_eq!(s.store, StoreChoice::Sqlite);
        let file = || toml::from_str::<FileConfig>("store = \"postgres://a@db/file\"").unwrap();
        let s = Settings::resolve(ServeArgs::default(), file(), no_env).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Postgres("postgres://a@db/file".into())
        );
        let args = ServeArgs {
            store: Some("postgresql://b:secret@db/flag".into()),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(args, file(), no_env).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Postgres("postgresql://b:secret@db/flag".into())
        );
        assert!(!format!("{s:?}").contains("secret"));
        let args = ServeArgs {
            store: Some("sqlite".into()),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(args, file(), no_env).unwrap();
        assert_eq!(s.store, StoreChoice::Sqlite);
        let args = ServeArgs {
            store: Some("mysql://db/x".into()),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(args, FileConfig::default(), no_env).unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
        let cli = Cli::try_parse_from(["cognate", "serve", "--store", "postgres://u@h/d"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.store.as_deref(), Some("postgres://u@h/d"));
    }

    #[test]
    fn unknown_config_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("listne = \"127.0.0.1:1\"").is_err());
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "cognate",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-demo",
            "--data",
            "/tmp/x",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.listen.unwrap().port(), 0);
        assert!(args.no_demo);
    }
}
