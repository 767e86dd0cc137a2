//! The HTTP server: one fallback handler that turns every request into a core [`Request`],
//! lets the core answer it ([`CoreEngine`]: the core's Wasm build in wasmtime, or
//! [`Service::handle`] linked natively) and turns the [`Response`] back. The core does all the
//! routing (the `CognatePlugins.*` admin API included, over the plugin runtime's registry
//! port); the host adds only body limits, timeouts, logging and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use cognate_core::service::AdminKey;
use cognate_core::{Config, Request, Response, Service};
use http_body_util::{BodyExt as _, Limited};
use tokio::net::TcpListener;

use crate::config::{Settings, StoreChoice};
use crate::data_dir_lock::DataDirLock;
use crate::demo::{self, DemoIds};
use crate::engine::{CoreEngine, EngineKind};
use crate::metrics::{MeteredSender, MeteredStore, MeteredTriggers, Metrics};
use crate::ports::HostEnv;
use crate::store_postgres::PostgresStore;
use crate::store_sqlite::SqliteStore;

/// The largest request body accepted (Cognito's requests are small; this leaves room).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long one request may take, body upload included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight requests get to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How much of an oversized body is read and discarded before answering 413: a client still
/// sending when the connection closes sees a reset instead of the answer.
const MAX_DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The database file inside the data directory.
pub const DB_FILE_NAME: &str = "cognate.db";
/// How long a start waits for another process to release the data directory: long enough for
/// a restart that overlaps the old server's shutdown, short enough to report a real conflict.
const DATA_DIR_WAIT: Duration = Duration::from_secs(5);

/// What every request shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub env: Arc<HostEnv>,
    /// Runs the core: Wasm (default) or native.
    pub engine: Arc<CoreEngine>,
    /// What `/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// The audit stream, when configured.
    pub audit: Option<Arc<crate::audit::AuditLog>>,
    /// Requests per second by quota category.
    pub limiter: Arc<crate::limits::RateLimiter>,
    /// Timeouts and size limits for clients.
    pub http: crate::limits::HttpLimits,
}

/// The router: every method and path goes to the core (but `GET /metrics`, which the host
/// answers to admin-signed requests).
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

/// The separate metrics listener's router: `GET /metrics` to anyone who reaches it.
pub fn metrics_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move { metrics_text(&state) }),
        )
        .with_state(state)
}

fn metrics_text(state: &AppState) -> axum::response::Response {
    let mut response =
        axum::response::Response::new(Body::from(state.metrics.render(&state.engine)));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}

/// `GET /metrics` on the main listener: for requests signed with an admin key (SigV4, service
/// `cognito-idp`, any region), else the Cognito error the administrative API gives.
fn metrics_signed(state: &AppState, request: &Request) -> axum::response::Response {
    match cognate_core::sigv4::verify(
        request,
        "cognito-idp",
        &state.service.config().admin_keys,
        state.env.clock.now_millis(),
    ) {
        Ok(_) => metrics_text(state),
        Err(error) => into_http(
            cognate_core::api::error_response(&error)
                .with_header("access-control-allow-origin", "*"),
        ),
    }
}

async fn handle(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let operation = crate::metrics::operation_of(method.as_str(), &path, &target);
    let response =
        match tokio::time::timeout(REQUEST_TIMEOUT, process(&state, request, &operation)).await {
            Ok(response) => response,
            Err(_) => host_error(
                StatusCode::GATEWAY_TIMEOUT,
                "RequestTimeoutException",
                "The request timed out.",
            ),
        };
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or_default());
    let took = started.elapsed();
    state
        .metrics
        .request(&operation, response.status().as_u16(), error_type, took);
    // Never the body or query string: they carry passwords, codes and tokens. The latency in
    // whole microseconds: formatting a float was a fifth of the line's cost (issue 23).
    tracing::info!(
        target: "cognate::request",
        method = %method,
        path = %path,
        x_amz_target = %target,
        status = response.status().as_u16(),
        latency_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

async fn process(
    state: &AppState,
    request: axum::extract::Request,
    operation: &crate::metrics::Operation,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        // A client waiting for `100 Continue` has sent nothing yet: answer at once. Any other
        // is mid-upload: read the rest away first so it sees the answer, not a reset.
        let waiting = parts
            .headers
            .get(axum::http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if !waiting {
            drain(body).await;
        }
        return too_large();
    }
    let body = match read_body(body, state.http.body_read_timeout).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Stalled) => {
            return host_error(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeoutException",
                "The request body did not arrive in time.",
            );
        }
        Err(BodyError::Read(e)) => {
            tracing::debug!(error = %e, "could not read the request body");
            return host_error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                "Could not read the request body.",
            );
        }
    };
    let remote_addr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let core_request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                // http's names are already lower-case; values may be any bytes.
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        remote_addr,
    };
    if core_request.method == "GET" && core_request.path == "/metrics" {
        return metrics_signed(state, &core_request);
    }
    if state.limiter.is_active()
        && let Some(category) = crate::limits::category_of(operation, &core_request.body)
    {
        let target = core_request.header("x-amz-target").unwrap_or("");
        let scope = crate::limits::Scope::of(
            target,
            &core_request.body,
            &core_request.query,
            core_request.remote_addr.clone(),
        );
        if !state.limiter.admit(category, &scope) {
            return too_many_requests(!target.is_empty());
        }
    }
    let sign_in = crate::metrics::sign_in_step(operation, &core_request.body);
    // What the audit line needs of the request, kept before the core takes it.
    let audit = state.audit.as_ref().map(|log| {
        (
            Arc::clone(log),
            cognate_core::audit::RequestSnapshot::of(&core_request),
        )
    });
    let response = state
        .engine
        .handle(&state.service, core_request, &state.env)
        .await;
    if let Some((log, snapshot)) = audit
        && let Some(line) = snapshot.event(&response, state.env.clock.now_millis())
    {
        log.write(&line);
    }
    if let Some((step, flow)) = sign_in {
        let (result, locked) = crate::metrics::sign_in_result(
            response.status,
            response.header("x-amzn-errortype"),
            &response.body,
        );
        state.metrics.sign_in(step, &flow, &result);
        if locked {
            state.metrics.lockout();
        }
    }
    into_http(response)
}

/// A request over a rate limit: Cognito's `TooManyRequestsException` for the JSON API, else
/// (OAuth endpoints, hosted UI) 429 with an OAuth-style error.
fn too_many_requests(json_api: bool) -> axum::response::Response {
    if json_api {
        return host_error(
            StatusCode::BAD_REQUEST,
            "TooManyRequestsException",
            "Too many requests.",
        );
    }
    let mut response = axum::response::Response::new(Body::from(
        r#"{"error":"too_many_requests","error_description":"Too many requests."}"#,
    ));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from_static("1"),
    );
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    response
}

enum BodyError {
    TooLarge,
    /// No piece of the body arrived within the body read timeout.
    Stalled,
    Read(axum::Error),
}

/// Reads the body up to [`MAX_BODY_BYTES`]; past that, drains the rest and reports `TooLarge`.
/// Each wait for the next piece is bounded by `stall`.
async fn read_body(mut body: Body, stall: Duration) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::new();
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(_) => return Err(BodyError::Stalled),
        };
        let Ok(data) = frame.map_err(BodyError::Read)?.into_data() else {
            continue; // trailers
        };
        if bytes.len() + data.len() > MAX_BODY_BYTES {
            drain(body).await;
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Reads and drops what remains of an oversized body, bounded in bytes and time.
async fn drain(body: Body) {
    let drained = Limited::new(body, MAX_DRAIN_BYTES).collect();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
}

fn into_http(response: Response) -> axum::response::Response {
    let mut http = axum::response::Response::new(Body::from(response.body));
    *http.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                http.headers_mut().append(name, value);
            }
            _ => tracing::warn!(header = %name, "the core produced an invalid header; dropped"),
        }
    }
    http
}

/// An error the host answers itself, shaped like the core's (Cognito JSON 1.1) errors.
fn host_error(
    status: StatusCode,
    error_type: &'static str,
    message: &str,
) -> axum::response::Response {
    into_http(
        cognate_core::http::AwsError::new(status.as_u16(), error_type, message)
            .response()
            // Like every response, so a browser sees the error instead of a CORS failure.
            .with_header("access-control-allow-origin", "*"),
    )
}

fn too_large() -> axum::response::Response {
    host_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLargeException",
        &format!("The request body exceeds {MAX_BODY_BYTES} bytes."),
    )
}

/// Where the admin key came from, for the start-up banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminKeySource {
    /// Config file or environment: the operator knows the secret; it is not printed.
    Configured,
    /// Generated into the data directory on this or an earlier start.
    Generated,
}

/// A server that is bound and bootstrapped, ready to [`serve`](Prepared::serve).
#[derive(Debug)]
pub struct Prepared {
    pub local_addr: SocketAddr,
    pub base_url: String,
    pub region: String,
    pub data_dir: PathBuf,
    /// `sqlite <file>` or `postgres <host:port/db>` (never credentials).
    pub store: String,
    pub service: Arc<Service>,
    pub env: Arc<HostEnv>,
    pub engine: Arc<CoreEngine>,
    pub metrics: Arc<Metrics>,
    pub audit: Option<Arc<crate::audit::AuditLog>>,
    /// Sign-in events older than this are pruned.
    pub auth_event_max_age_millis: u64,
    limiter: Arc<crate::limits::RateLimiter>,
    http: crate::limits::HttpLimits,
    /// The separate, unauthenticated metrics listener, when configured.
    pub metrics_addr: Option<SocketAddr>,
    metrics_listener: Option<TcpListener>,
    pub admin_key: AdminKey,
    pub admin_key_source: AdminKeySource,
    pub demo: Option<DemoIds>,
    listener: TcpListener,
}

/// Opens the data directory and store, binds the listener, applies the configured pools and
/// the demo pool. Pool errors are logged, not fatal: the server starts anyway.
pub async fn prepare(mut settings: Settings) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create data directory {}",
            settings.data_dir.display()
        )
    })?;
    // Relative paths (the default `./cognate-data`) are made absolute once, here: wasmtime's
    // compilation cache refuses relative directories, and a later chdir must not move the store.
    settings.data_dir = std::path::absolute(&settings.data_dir)
        .with_context(|| format!("data directory {}", settings.data_dir.display()))?;
    settings.cache_dir = std::path::absolute(&settings.cache_dir)
        .with_context(|| format!("cache directory {}", settings.cache_dir.display()))?;
    let data_dir = settings.data_dir.clone();
    let (store, store_description, sqlite) = open_store(&settings.store, &data_dir).await?;
    let metrics = Arc::new(Metrics::with_sqlite(sqlite));
    let audit = match &settings.audit.path {
        Some(path) => Some(Arc::new(crate::audit::AuditLog::open(path)?)),
        None => None,
    };
    let store: Arc<dyn cognate_core::Store> =
        Arc::new(MeteredStore::new(store, Arc::clone(&metrics)));
    let mut env = HostEnv::native(store, &data_dir)
        .with_context(|| format!("cannot open the outbox in {}", data_dir.display()))?;
    if let Some(path) = &settings.breached_passwords {
        let started = std::time::Instant::now();
        let list = crate::breached::BreachedPasswords::load(path)?;
        tracing::info!(
            passwords = list.len(),
            load_ms = started.elapsed().as_millis() as u64,
            file = %path.display(),
            "breached-password list loaded"
        );
        env.passwords = Arc::new(crate::ports::BlockingArgon2::new().with_breached(Arc::new(list)));
    }
    // Trigger plugins: the wasmtime runtime over <data>/plugins, the config file's plugins
    // registered, custom sender deliveries allowed to the configured hosts.
    let shared_plugins = match settings.store {
        StoreChoice::Postgres(_) => Some(Arc::clone(&env.store)),
        StoreChoice::Sqlite => None,
    };
    let runtime = start_plugins(&data_dir, &settings.plugins, shared_plugins).await?;
    env = env.with_plugins(runtime);
    env.triggers = Arc::new(MeteredTriggers::new(
        Arc::clone(&env.triggers),
        Arc::clone(&metrics),
    ));
    let sender = crate::delivery::DeliverySender::new(
        &settings.delivery,
        crate::ports::OutboxSender::open(&data_dir)
            .with_context(|| format!("cannot open the outbox in {}", data_dir.display()))?
            .with_delivery_hosts(settings.plugins.delivery_hosts.clone()),
        env.clock.clone(),
        settings.plugins.delivery_hosts.clone(),
    )?;
    tracing::info!(transports = %sender.describe(), "email and SMS delivery");
    env.sender = Arc::new(MeteredSender::new(Arc::new(sender), Arc::clone(&metrics)));
    env.sts = Arc::new(crate::sts::HostSts::new(
        settings.identity.sts_endpoint(),
        std::time::Duration::from_millis(settings.identity.sts_timeout_ms.unwrap_or(10_000)),
    )?);
    tracing::info!(endpoint = %settings.identity.sts_endpoint(), "identity pools' STS");
    let federation = &settings.federation;
    env.http = Arc::new(crate::upstream::HostHttp::new(
        federation.upstream_hosts.clone(),
        federation.upstream_timeout_ms.map_or(
            crate::upstream::DEFAULT_TIMEOUT,
            std::time::Duration::from_millis,
        ),
        federation
            .upstream_max_answer_kib
            .map_or(crate::upstream::DEFAULT_MAX_ANSWER_BYTES, |k| {
                k.saturating_mul(1024)
            }),
    )?);
    tracing::info!(hosts = ?federation.upstream_hosts, "upstream identity providers' hosts");
    let (saml_encryption_certificate, saml_signing_certificate) = saml_keys(&mut env, federation)?;
    let env = Arc::new(env);

    let (admin_keys, admin_key_source) = if settings.admin_keys.is_empty() {
        let (key, created) = crate::credentials::load_or_create(&data_dir)?;
        if created {
            tracing::info!(access_key_id = %key.access_key_id, "generated an admin access key");
        }
        (vec![key], AdminKeySource::Generated)
    } else {
        (settings.admin_keys.clone(), AdminKeySource::Configured)
    };
    let admin_key = admin_keys.first().cloned().context("no admin key")?;

    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local_addr = listener.local_addr().context("listener address")?;
    let (metrics_listener, metrics_addr) = match settings.metrics_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for metrics on {addr}"))?;
            let bound = listener.local_addr().context("metrics listener address")?;
            (Some(listener), Some(bound))
        }
        None => (None, None),
    };
    if !local_addr.ip().is_loopback() {
        tracing::warn!(%local_addr, "listening beyond loopback: put TLS in front of this server");
    }
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));

    let mut config = Config::new(&base_url, &settings.region);
    config.admin_keys = admin_keys;
    config.oidc_providers = settings.identity.oidc_providers.clone();
    config.saml_encryption_certificate = saml_encryption_certificate;
    config.saml_signing_certificate = saml_signing_certificate;
    let service = Arc::new(Service::new(config));
    let limits = crate::engine::WasmLimits {
        requests_per_instance: settings.wasm_requests_per_instance,
        ..crate::engine::WasmLimits::default()
    };
    let engine = start_engine(settings.engine, &service, &settings.cache_dir, limits)?;

    for spec in &settings.pools {
        match service.apply_pool_spec(&*env, spec).await {
            Ok(applied) => tracing::info!(
                pool_id = %applied.pool_id,
                pool_name = %applied.pool_name,
                created = applied.created,
                "configured pool ready"
            ),
            Err(e) => {
                tracing::error!(pool_id = ?spec.id, error = %e, "cannot apply a configured pool")
            }
        }
    }
    let demo = if settings.demo {
        demo::ensure(&service, &env, &data_dir, &settings.region).await
    } else {
        None
    };

    Ok(Prepared {
        local_addr,
        base_url,
        region: settings.region,
        data_dir,
        store: store_description,
        service,
        env,
        engine,
        metrics,
        audit,
        auth_event_max_age_millis: settings.audit.retention_millis(),
        limiter: Arc::new(crate::limits::RateLimiter::new(
            settings.rate_limits.clone(),
        )),
        http: settings.http,
        metrics_addr,
        metrics_listener,
        admin_key,
        admin_key_source,
        demo,
        listener,
    })
}

/// Opens the configured store: the SQLite file in the data directory (also returned as itself,
/// for the metrics), or PostgreSQL. A PostgreSQL database that does not answer is reported and
/// does not stop the start: requests get a retryable error until it answers, and the schema is
/// created then.
async fn open_store(
    choice: &StoreChoice,
    data_dir: &std::path::Path,
) -> anyhow::Result<(Arc<dyn cognate_core::Store>, String, Option<SqliteStore>)> {
    match choice {
        StoreChoice::Sqlite => {
            let db_path = data_dir.join(DB_FILE_NAME);
            let description = format!("sqlite {}", db_path.display());
            let dir = data_dir.to_path_buf();
            let store = tokio::task::spawn_blocking(move || {
                // This server is the file's only user from here on, so the store may cache
                // what it reads.
                match DataDirLock::acquire(&dir, DATA_DIR_WAIT)? {
                    Some(owner) => SqliteStore::open_owned(db_path, owner),
                    None => SqliteStore::open(db_path),
                }
                .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))
            })
            .await
            .context("store start-up task failed")??;
            Ok((Arc::new(store.clone()), description, Some(store)))
        }
        StoreChoice::Postgres(url) => {
            let store = PostgresStore::new(url)
                .map_err(|e| anyhow::anyhow!("cannot use the PostgreSQL store: {e}"))?;
            let description = format!("postgres {}", store.target());
            match store.connect().await {
                Ok(()) => tracing::info!(database = %store.target(), "connected to PostgreSQL"),
                Err(e) => tracing::error!(
                    database = %store.target(),
                    error = %e,
                    "the PostgreSQL database does not answer: serving anyway; requests fail with \
                     a retryable error until it does"
                ),
            }
            Ok((Arc::new(store), description, None))
        }
    }
}

/// The core engine of `kind`, answering at once (the Wasm core compiles in the background).
fn start_engine(
    kind: EngineKind,
    service: &Arc<Service>,
    cache_dir: &std::path::Path,
    limits: crate::engine::WasmLimits,
) -> anyhow::Result<Arc<CoreEngine>> {
    let engine = match kind {
        // Serves at once: the core compiles (or loads) on a thread of its own.
        EngineKind::Wasm => CoreEngine::warming(service, Some(cache_dir), limits)?,
        EngineKind::Native => CoreEngine::Native,
    };
    tracing::info!(engine = kind.name(), "core engine started");
    Ok(Arc::new(engine))
}

/// Starts the plugin runtime (compiling modules off the async threads) and registers the
/// config file's plugins. With `shared` (a store several hosts use), the registry lives there.
async fn start_plugins(
    data_dir: &std::path::Path,
    config: &crate::config::PluginsConfig,
    shared: Option<Arc<dyn cognate_core::Store>>,
) -> anyhow::Result<Arc<crate::plugins::PluginRuntime>> {
    let dir = data_dir.join(crate::plugins::PLUGIN_DIR);
    let limits = config.limits();
    let runtime = tokio::task::spawn_blocking(move || match shared {
        Some(store) => crate::plugins::PluginRuntime::new_shared(Some(&dir), limits, store),
        None => crate::plugins::PluginRuntime::new(Some(&dir), limits),
    })
    .await
    .context("plugin start-up task failed")??;
    let runtime = Arc::new(runtime);
    for plugin in &config.register {
        let bytes = std::fs::read(&plugin.path)
            .with_context(|| format!("cannot read plugin {}", plugin.path.display()))?;
        let info = match runtime.register_any(Some(&plugin.name), &bytes).await {
            Ok(info) => info,
            // A shared registry lives in the database, which may be down at start: the host
            // starts anyway (another host, or a restart, registers it).
            Err(e) if runtime.is_shared() => {
                tracing::error!(name = %plugin.name, error = %format!("{e:#}"), "cannot register a plugin from the config file");
                continue;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot register plugin {}", plugin.name));
            }
        };
        tracing::info!(name = %plugin.name, reference = %info.reference, "plugin registered from the config file");
    }
    Ok(runtime)
}

impl Prepared {
    /// The start-up text for stdout: plain `Label: value` lines, easy to grep.
    pub fn banner(&self) -> String {
        let url = &self.base_url;
        let id = &self.admin_key.access_key_id;
        // A configured secret is the operator's: not echoed to a console that may be logged.
        let (secret, secret_var) = match self.admin_key_source {
            AdminKeySource::Generated => {
                let secret = self.admin_key.secret_access_key.expose().to_owned();
                (secret.clone(), secret)
            }
            AdminKeySource::Configured => (
                "(as configured)".to_owned(),
                "<your secret access key>".to_owned(),
            ),
        };
        let region = &self.region;
        let mut out = format!(
            "Cognate is running.\n\
             Endpoint: {url}\n\
             Listening on: {addr}\n\
             {metrics}\
             Data directory: {data}\n\
             Store: {store}\n\
             Engine: {engine}\n\
             Region: {region}\n\
             Admin access key id: {id}\n\
             Admin secret access key: {secret}\n\
             Admin console: {url}/console/ (sign in with the admin key above)\n",
            addr = self.local_addr,
            data = self.data_dir.display(),
            store = self.store,
            engine = self.engine.kind().name(),
            metrics = match self.metrics_addr {
                Some(addr) => format!("Metrics on: http://{addr}/metrics\n"),
                None => String::new(),
            },
        );
        if let Some(demo) = &self.demo {
            let pool = &demo.pool_id;
            let client = &demo.client_id;
            let outbox = self.data_dir.join(crate::ports::OutboxSender::FILE_NAME);
            out.push_str(&format!(
                "Demo user pool id: {pool}\n\
                 Demo app client id: {client}\n\
                 \n\
                 Try it with the AWS CLI:\n\
                 \x20 export AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret_var} AWS_REGION={region} AWS_DEFAULT_REGION={region}\n\
                 \x20 aws cognito-idp list-user-pools --max-results 10 --endpoint-url {url}\n\
                 \x20 aws cognito-idp sign-up --client-id {client} --username alice --password 'Passw0rd!' --user-attributes Name=email,Value=alice@example.com --endpoint-url {url}\n\
                 \x20 # the confirmation code is in {outbox}\n\
                 \x20 aws cognito-idp confirm-sign-up --client-id {client} --username alice --confirmation-code CODE --endpoint-url {url}\n\
                 \x20 aws cognito-idp initiate-auth --client-id {client} --auth-flow USER_PASSWORD_AUTH --auth-parameters USERNAME=alice,PASSWORD='Passw0rd!' --endpoint-url {url}\n",
                outbox = outbox.display(),
            ));
        } else {
            out.push_str(&format!(
                "\nTry it with the AWS CLI:\n\
                 \x20 export AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret_var} AWS_REGION={region} AWS_DEFAULT_REGION={region}\n\
                 \x20 aws cognito-idp list-user-pools --max-results 10 --endpoint-url {url}\n"
            ));
        }
        out
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for up to
    /// [`SHUTDOWN_GRACE`].
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let janitor = crate::janitor::spawn(Arc::clone(&self.env), self.auth_event_max_age_millis);
        let state = AppState {
            service: self.service,
            env: self.env,
            engine: self.engine,
            metrics: self.metrics,
            audit: self.audit,
            limiter: self.limiter,
            http: self.http,
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            let app = metrics_router(state.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            })
        });
        let http = state.http;
        let app = router(state);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = serve_connections(self.listener, app, http, stop_rx);
        let mut server = std::pin::pin!(server);
        tokio::select! {
            result = &mut server => return result.context("server failed"),
            () = shutdown => {}
        }
        tracing::info!("shutting down: finishing in-flight requests");
        janitor.abort();
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
        }
        let _ = stop_tx.send(true);
        match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
            Ok(result) => result.context("server failed"),
            Err(_) => {
                tracing::warn!("in-flight requests did not finish in time; stopping anyway");
                Ok(())
            }
        }
    }
}

/// Accepts connections and serves HTTP/1.1 on each with the client limits: the request head
/// within `header_read_timeout` (hyper's timer starts when the connection waits for a head, so
/// it also bounds the idle time between requests of a kept-alive connection), at most
/// `max_header_bytes` and `max_headers` (else 431). When `stop` turns true, stops accepting,
/// lets each connection finish its request in flight, and returns once all are closed.
async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    limits: crate::limits::HttpLimits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = tower::ServiceExt::map_request(
                    app.clone(),
                    move |mut request: axum::http::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(remote));
                        request.map(Body::new)
                    },
                );
                let service = hyper_util::service::TowerToHyperService::new(service);
                let mut stop = stop.clone();
                connections.spawn(async move {
                    let mut builder = hyper::server::conn::http1::Builder::new();
                    builder
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_read_timeout)
                        .max_header_size(limits.max_header_bytes)
                        .max_headers(limits.max_headers);
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        result = connection.as_mut() => {
                            if let Err(e) = result {
                                tracing::debug!(error = %e, %remote, "connection ended");
                            }
                        }
                        () = stopped(&mut stop) => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                });
            }
            // Finished connections leave the set as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Completes once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

/// Runs the server with `settings` until SIGINT or SIGTERM, printing the banner to stdout.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let prepared = prepare(settings).await?;
    {
        use std::io::Write as _;
        // Not `print!`, which panics when stdout is gone; flushed now because tests and
        // scripts read the banner through a pipe.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(prepared.banner().as_bytes());
        let _ = stdout.flush();
    }
    prepared.serve(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The base64 DER body of a PEM certificate file.
#[cfg(feature = "saml")]
fn certificate_body(certificate: &std::path::Path) -> anyhow::Result<String> {
    let pem = std::fs::read_to_string(certificate)
        .with_context(|| format!("cannot read {}", certificate.display()))?;
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "-----BEGIN CERTIFICATE-----")
        .skip(1)
        .take_while(|l| *l != "-----END CERTIFICATE-----")
        .collect();
    if body.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", certificate.display());
    }
    Ok(body)
}

/// The SP's SAML key pairs: encryption (`[federation] saml_encryption_key` and
/// `saml_encryption_certificate`, for `EncryptedResponses`) and signing (`saml_signing_key`
/// and `saml_signing_certificate`, for `IDPSignout`). The keys go to the SAML port, the
/// certificates (base64 DER, from their PEM) to the core, which publishes them in the SP
/// metadata. Answers (encryption certificate, signing certificate).
fn saml_keys(
    env: &mut crate::ports::HostEnv,
    federation: &crate::config::FederationConfig,
) -> anyhow::Result<(Option<String>, Option<String>)> {
    let pair =
        |key: &Option<std::path::PathBuf>, cert: &Option<std::path::PathBuf>| match (key, cert) {
            (Some(k), Some(c)) => Some((k.clone(), c.clone())),
            _ => None,
        };
    let encryption = pair(
        &federation.saml_encryption_key,
        &federation.saml_encryption_certificate,
    );
    let signing = pair(
        &federation.saml_signing_key,
        &federation.saml_signing_certificate,
    );
    if encryption.is_none() && signing.is_none() {
        return Ok((None, None));
    }
    #[cfg(feature = "saml")]
    {
        let mut saml = crate::saml::XmlSecSaml::default();
        let read = |key: &std::path::Path| {
            std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))
        };
        let mut answer = (None, None);
        if let Some((key, certificate)) = &encryption {
            answer.0 = Some(certificate_body(certificate)?);
            saml = saml
                .with_decryption_key(&read(key)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
            tracing::info!(certificate = %certificate.display(), "SAML encryption key (EncryptedResponses)");
        }
        if let Some((key, certificate)) = &signing {
            answer.1 = Some(certificate_body(certificate)?);
            saml = saml
                .with_signing_key(&read(key)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
            tracing::info!(certificate = %certificate.display(), "SAML signing key (IDPSignout)");
        }
        env.saml = Arc::new(saml);
        Ok(answer)
    }
    #[cfg(not(feature = "saml"))]
    {
        let _ = env;
        tracing::warn!("SAML keys are configured, but this build has no SAML support");
        Ok((None, None))
    }
}
