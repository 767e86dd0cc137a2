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
use crate::demo::{self, DemoIds};
use crate::engine::{CoreEngine, EngineKind};
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

/// What every request shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub env: Arc<HostEnv>,
    /// Runs the core: Wasm (default) or native.
    pub engine: Arc<CoreEngine>,
}

/// The router: every method and path goes to the core.
pub fn router(service: Arc<Service>, env: Arc<HostEnv>, engine: Arc<CoreEngine>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(AppState {
        service,
        env,
        engine,
    })
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
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, process(&state, request)).await {
        Ok(response) => response,
        Err(_) => host_error(
            StatusCode::GATEWAY_TIMEOUT,
            "RequestTimeoutException",
            "The request timed out.",
        ),
    };
    // Never the body or query string: they carry passwords, codes and tokens.
    tracing::info!(
        target: "cognate::request",
        method = %method,
        path = %path,
        x_amz_target = %target,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

async fn process(state: &AppState, request: axum::extract::Request) -> axum::response::Response {
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
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(),
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
    into_http(
        state
            .engine
            .handle(&state.service, core_request, &state.env)
            .await,
    )
}

enum BodyError {
    TooLarge,
    Read(axum::Error),
}

/// Reads the body up to [`MAX_BODY_BYTES`]; past that, drains the rest and reports `TooLarge`.
async fn read_body(mut body: Body) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
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
    let (store, store_description) = open_store(&settings.store, &data_dir).await?;
    let mut env = HostEnv::native(store, &data_dir)
        .with_context(|| format!("cannot open the outbox in {}", data_dir.display()))?;
    // Trigger plugins: the wasmtime runtime over <data>/plugins, the config file's plugins
    // registered, custom sender deliveries allowed to the configured hosts.
    let shared_plugins = match settings.store {
        StoreChoice::Postgres(_) => Some(Arc::clone(&env.store)),
        StoreChoice::Sqlite => None,
    };
    let runtime = start_plugins(&data_dir, &settings.plugins, shared_plugins).await?;
    env = env.with_plugins(runtime);
    let sender = crate::delivery::DeliverySender::new(
        &settings.delivery,
        crate::ports::OutboxSender::open(&data_dir)
            .with_context(|| format!("cannot open the outbox in {}", data_dir.display()))?
            .with_delivery_hosts(settings.plugins.delivery_hosts.clone()),
        env.clock.clone(),
        settings.plugins.delivery_hosts.clone(),
    )?;
    tracing::info!(transports = %sender.describe(), "email and SMS delivery");
    env.sender = Arc::new(sender);
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
    let service = Arc::new(Service::new(config));
    let limits = crate::engine::WasmLimits {
        requests_per_instance: settings.wasm_requests_per_instance,
        ..crate::engine::WasmLimits::default()
    };
    let engine = start_engine(settings.engine, &service, &settings.cache_dir, limits).await?;

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
        admin_key,
        admin_key_source,
        demo,
        listener,
    })
}

/// Opens the configured store: the SQLite file in the data directory, or PostgreSQL. A
/// PostgreSQL database that does not answer is reported and does not stop the start: requests
/// get a retryable error until it answers, and the schema is created then.
async fn open_store(
    choice: &StoreChoice,
    data_dir: &std::path::Path,
) -> anyhow::Result<(Arc<dyn cognate_core::Store>, String)> {
    match choice {
        StoreChoice::Sqlite => {
            let db_path = data_dir.join(DB_FILE_NAME);
            let description = format!("sqlite {}", db_path.display());
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(db_path))
                .await
                .context("store start-up task failed")?
                .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
            Ok((Arc::new(store), description))
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
            Ok((Arc::new(store), description))
        }
    }
}

/// Compiles (or loads from the cache) the core for `kind`, off the async threads.
async fn start_engine(
    kind: EngineKind,
    service: &Arc<Service>,
    cache_dir: &std::path::Path,
    limits: crate::engine::WasmLimits,
) -> anyhow::Result<Arc<CoreEngine>> {
    let service = Arc::clone(service);
    let cache_dir = cache_dir.to_path_buf();
    let engine = tokio::task::spawn_blocking(move || {
        CoreEngine::new(kind, &service, Some(&cache_dir), limits)
    })
    .await
    .context("engine start-up task failed")??;
    tracing::info!(engine = kind.name(), "core engine ready");
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
             Data directory: {data}\n\
             Store: {store}\n\
             Engine: {engine}\n\
             Region: {region}\n\
             Admin access key id: {id}\n\
             Admin secret access key: {secret}\n",
            addr = self.local_addr,
            data = self.data_dir.display(),
            store = self.store,
            engine = self.engine.kind().name(),
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
        let janitor = crate::janitor::spawn(Arc::clone(&self.env));
        let app = router(self.service, self.env, self.engine);
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let server = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        });
        let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
        tokio::select! {
            result = &mut server => return result.context("server failed"),
            () = shutdown => {}
        }
        tracing::info!("shutting down: finishing in-flight requests");
        janitor.abort();
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
