//! Prometheus metrics (issue 24): what the server did, in the OpenMetrics text format, at
//! `GET /metrics`.
//!
//! Who may read them: on the main listener, a request signed with an admin key (SigV4, as the
//! administrative API; `curl --aws-sigv4 "aws:amz:us-east-1:cognito-idp" --user ID:SECRET`);
//! or anyone who reaches the separate, unauthenticated metrics listener (`[metrics] listen` in
//! the config file, `--metrics-listen`), which is what a Prometheus server scrapes: keep it on
//! loopback or a private network.
//!
//! What is measured, all under the `cognate_` prefix:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `requests_total` | `operation`, `outcome` | every request: the Cognito operation (`X-Amz-Target`) or `METHOD /path` for the other endpoints; `success` or the error's `__type` / `http_<status>` |
//! | `request_duration_seconds` | `operation` | the same, as a latency histogram |
//! | `sign_ins_total` | `step`, `flow`, `result` | `InitiateAuth`/`AdminInitiateAuth` (`step="initiate"`, `flow` = `AuthFlow`), the challenge answers (`step="respond"`, `flow` = `ChallengeName`), the token endpoint (`step="token"`, `flow` = `grant_type`); `result` = `tokens`, `challenge` or the error |
//! | `lockouts_total` | | sign-ins refused because of too many failed attempts |
//! | `plugin_calls_total` | `plugin`, `result` | trigger plugin calls: `ok` or why they failed |
//! | `plugin_call_duration_seconds` | `plugin` | their latency |
//! | `store_operations_total` | `operation`, `result` | store `get`/`get_many`/`put`/`delete`/`scan`: `ok`, `conflict`, `too_large`, `unavailable` |
//! | `store_operation_duration_seconds` | `operation` | their latency |
//! | `wasm_instances` | `state` | the Wasm core's instances: `busy` (serving a request), `idle` (kept for the next); `max` their limit |
//! | `wasm_instances_created_total` | | instances made (an idle one reused is not counted) |
//! | `store_cache_reads_total` | `result` | point reads of the SQLite store's read cache: `hit` (answered from memory) or `miss` (read from the file); absent on PostgreSQL |
//! | `store_cache_entries` | | records the read cache holds |
//! | `store_commits_total` | | transactions the SQLite store's writer committed, one fsync each; writes committed together count once (compare with `store_operations_total`); absent on PostgreSQL |
//! | `message_deliveries_total` | `medium`, `result` | email, SMS and custom sender (`http`) deliveries: `ok` or `error` |
//!
//! ## Security
//! Labels come from closed sets (the core's operations and error types, Cognito's flow names)
//! or from the operator (plugin names); a client's made-up values are folded into `other`, and
//! no label family grows past [`MAX_LABEL_VALUES`] values, so requests cannot grow the registry
//! without bound. No user names, addresses, codes or tokens are labels.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cognate_core::ports::{BoxFuture, InvocationError, Medium, Message, boxed};
use cognate_core::store::{Expect, Page, StoreError, Versioned};
use cognate_core::{DeliveryRequest, Error, Sender, Store, Triggers};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The most distinct values one label takes before new ones are counted as `other`.
pub const MAX_LABEL_VALUES: usize = 512;

/// What `outcome`, `result` and friends say when nothing went wrong.
const OK: &str = "ok";
const OTHER: &str = "other";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    step: &'static str,
    flow: String,
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabel {
    plugin: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreOperation {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    medium: &'static str,
    result: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// A label's values seen so far: a client cannot make more than [`MAX_LABEL_VALUES`].
#[derive(Debug, Default)]
struct Bounded(Mutex<HashSet<String>>);

impl Bounded {
    fn admit(&self, value: &str) -> String {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() >= MAX_LABEL_VALUES {
            return OTHER.to_owned();
        }
        seen.insert(value.to_owned());
        value.to_owned()
    }
}

/// One server's metrics (each server its own: two servers in one process do not mix).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<OperationLabel>,
    sign_ins: Family<SignInLabels, Counter>,
    lockouts: Counter,
    plugin_calls: Family<PluginLabels, Counter>,
    plugin_seconds: Histograms<PluginLabel>,
    store_operations: Family<StoreLabels, Counter>,
    store_seconds: Histograms<StoreOperation>,
    wasm_instances: Family<StateLabel, Gauge>,
    wasm_instances_created: Counter,
    deliveries: Family<DeliveryLabels, Counter>,
    /// The SQLite store, whose commits and read cache are read at each scrape; `None` on
    /// PostgreSQL.
    sqlite: Option<crate::store_sqlite::SqliteStore>,
    store_cache_reads: Family<ResultLabel, Counter>,
    store_cache_entries: Gauge,
    store_commits: Counter,
    operations: Bounded,
    plugins: Bounded,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Brings `counter` up to `total`, a count kept elsewhere and read at each scrape.
fn catch_up(counter: &Counter, total: u64) {
    let counted = counter.get();
    if total > counted {
        counter.inc_by(total - counted);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::with_sqlite(None)
    }

    /// Metrics that also report `sqlite`'s commits and its read cache (when it owns its file).
    pub fn with_sqlite(sqlite: Option<crate::store_sqlite::SqliteStore>) -> Self {
        let mut registry = Registry::with_prefix("cognate");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds: Histograms<OperationLabel> =
            Family::new_with_constructor(latency_histogram);
        let sign_ins = Family::<SignInLabels, Counter>::default();
        let lockouts = Counter::default();
        let plugin_calls = Family::<PluginLabels, Counter>::default();
        let plugin_seconds: Histograms<PluginLabel> =
            Family::new_with_constructor(latency_histogram);
        let store_operations = Family::<StoreLabels, Counter>::default();
        let store_seconds: Histograms<StoreOperation> =
            Family::new_with_constructor(latency_histogram);
        let wasm_instances = Family::<StateLabel, Gauge>::default();
        let wasm_instances_created = Counter::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests by operation and outcome",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request latency by operation",
            request_seconds.clone(),
        );
        registry.register(
            "sign_ins",
            "Sign-in steps by step, flow and result",
            sign_ins.clone(),
        );
        registry.register(
            "lockouts",
            "Sign-ins refused after too many failed attempts",
            lockouts.clone(),
        );
        registry.register(
            "plugin_calls",
            "Trigger plugin calls by plugin and result",
            plugin_calls.clone(),
        );
        registry.register(
            "plugin_call_duration_seconds",
            "Trigger plugin call latency by plugin",
            plugin_seconds.clone(),
        );
        registry.register(
            "store_operations",
            "Store operations by operation and result",
            store_operations.clone(),
        );
        registry.register(
            "store_operation_duration_seconds",
            "Store operation latency by operation",
            store_seconds.clone(),
        );
        registry.register(
            "wasm_instances",
            "Wasm core instances by state (busy, idle, max)",
            wasm_instances.clone(),
        );
        registry.register(
            "wasm_instances_created",
            "Wasm core instances created",
            wasm_instances_created.clone(),
        );
        registry.register(
            "message_deliveries",
            "Email, SMS and custom sender deliveries by medium and result",
            deliveries.clone(),
        );
        let store_cache_reads = Family::<ResultLabel, Counter>::default();
        let store_cache_entries = Gauge::default();
        let store_commits = Counter::default();
        if sqlite.is_some() {
            registry.register(
                "store_commits",
                "Transactions committed by the SQLite store's writer, one fsync each (writes \
                 committed together count once)",
                store_commits.clone(),
            );
        }
        if sqlite
            .as_ref()
            .is_some_and(crate::store_sqlite::SqliteStore::caches_reads)
        {
            registry.register(
                "store_cache_reads",
                "Point reads of the store's read cache by result (hit, miss)",
                store_cache_reads.clone(),
            );
            registry.register(
                "store_cache_entries",
                "Records held by the store's read cache",
                store_cache_entries.clone(),
            );
        }
        Self {
            registry,
            requests,
            request_seconds,
            sign_ins,
            lockouts,
            plugin_calls,
            plugin_seconds,
            store_operations,
            store_seconds,
            wasm_instances,
            wasm_instances_created,
            deliveries,
            sqlite,
            store_cache_reads,
            store_cache_entries,
            store_commits,
            operations: Bounded::default(),
            plugins: Bounded::default(),
        }
    }

    /// The text exposition, after reading the engine's instance gauges.
    pub fn render(&self, engine: &crate::engine::CoreEngine) -> String {
        if let Some(core) = engine.wasm_core() {
            let set = |state, value: usize| {
                self.wasm_instances
                    .get_or_create(&StateLabel { state })
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            };
            set("busy", core.busy_instances());
            set("idle", core.idle_instances());
            set("max", core.max_instances());
            catch_up(&self.wasm_instances_created, core.instances_created());
        }
        if let Some(sqlite) = &self.sqlite {
            catch_up(&self.store_commits, sqlite.commits());
        }
        if let Some(cache) = self.sqlite.as_ref().and_then(|sqlite| sqlite.read_cache()) {
            let (hits, misses) = cache.reads();
            for (result, total) in [("hit", hits), ("miss", misses)] {
                catch_up(
                    &self
                        .store_cache_reads
                        .get_or_create(&ResultLabel { result }),
                    total,
                );
            }
            self.store_cache_entries
                .set(i64::try_from(cache.len()).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        text
    }

    /// Counts one request answered with `status` (and the core's `x-amzn-errortype`, if any).
    pub fn request(
        &self,
        operation: &Operation,
        status: u16,
        error_type: Option<&str>,
        took: Duration,
    ) {
        let operation = match operation {
            Operation::Known(name) => name.clone(),
            // A made-up operation name the core refused: not a label of its own.
            Operation::Target(_) if error_type == Some("UnknownOperationException") => {
                OTHER.to_owned()
            }
            Operation::Target(name) => self.operations.admit(name),
        };
        let outcome = if status < 400 {
            "success".to_owned()
        } else if let Some(kind) = error_type.filter(|k| is_label(k)) {
            kind.to_owned()
        } else {
            format!("http_{status}")
        };
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.clone(),
                outcome,
            })
            .inc();
        self.request_seconds
            .get_or_create(&OperationLabel { operation })
            .observe(took.as_secs_f64());
    }

    /// Counts one sign-in step.
    pub fn sign_in(&self, step: &'static str, flow: &str, result: &str) {
        self.sign_ins
            .get_or_create(&SignInLabels {
                step,
                flow: flow.to_owned(),
                result: if is_label(result) {
                    result.to_owned()
                } else {
                    OTHER.to_owned()
                },
            })
            .inc();
    }

    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    fn plugin_call(&self, plugin: &str, result: &'static str, took: Duration) {
        let plugin = self.plugins.admit(plugin);
        self.plugin_calls
            .get_or_create(&PluginLabels {
                plugin: plugin.clone(),
                result,
            })
            .inc();
        self.plugin_seconds
            .get_or_create(&PluginLabel { plugin })
            .observe(took.as_secs_f64());
    }

    fn store_operation(&self, operation: &'static str, result: &'static str, took: Duration) {
        self.store_operations
            .get_or_create(&StoreLabels { operation, result })
            .inc();
        self.store_seconds
            .get_or_create(&StoreOperation { operation })
            .observe(took.as_secs_f64());
    }

    fn delivery(&self, medium: &'static str, ok: bool) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                medium,
                result: if ok { OK } else { "error" },
            })
            .inc();
    }
}

/// A short identifier-like value: safe and bounded enough to be a label.
fn is_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':')
}

/// What a request is, for its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// A fixed name: an endpoint (`GET /oauth2/authorize`) or `other`.
    Known(String),
    /// An `X-Amz-Target` operation: a label once the core has not refused it as unknown.
    Target(String),
}

/// The paths outside the JSON APIs that get a label of their own; anything else is `other`.
const PATHS: &[&str] = &[
    "/",
    "/health",
    "/metrics",
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/userInfo",
    "/oauth2/userinfo",
    "/oauth2/revoke",
    "/oauth2/idpresponse",
    "/saml2/idpresponse",
    "/login",
    "/logout",
    "/signup",
    "/confirm",
    "/confirmUser",
    "/forgotPassword",
    "/confirmForgotPassword",
    "/mfa",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
];

/// The operation a request names: its `X-Amz-Target`'s operation, or its method and path with
/// a pool id replaced by `{poolId}`.
pub fn operation_of(method: &str, path: &str, target: &str) -> Operation {
    if !target.is_empty() {
        let name = target.rsplit('.').next().unwrap_or_default();
        return if is_label(name) && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Operation::Target(name.to_owned())
        } else {
            Operation::Known(OTHER.to_owned())
        };
    }
    let method = match method {
        "GET" | "POST" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" => method,
        _ => return Operation::Known(OTHER.to_owned()),
    };
    if PATHS.contains(&path) {
        return Operation::Known(format!("{method} {path}"));
    }
    // A user import job's upload URL (one label, not one per job).
    if path.starts_with("/user-import/") {
        return Operation::Known(format!("{method} /user-import/{{poolId}}/{{jobId}}"));
    }
    for tail in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        if let Some(pool) = path.strip_suffix(tail)
            && pool
                .strip_prefix('/')
                .is_some_and(|id| !id.is_empty() && !id.contains('/'))
        {
            return Operation::Known(format!("{method} /{{poolId}}{tail}"));
        }
    }
    Operation::Known(OTHER.to_owned())
}

/// Cognito's `AuthFlow` values; others are `other`.
const AUTH_FLOWS: &[&str] = &[
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
];

/// Cognito's `ChallengeName` values; others are `other`.
const CHALLENGES: &[&str] = &[
    "SMS_MFA",
    "EMAIL_OTP",
    "SOFTWARE_TOKEN_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "PASSWORD_VERIFIER",
    "CUSTOM_CHALLENGE",
    "SELECT_CHALLENGE",
    "DEVICE_SRP_AUTH",
    "DEVICE_PASSWORD_VERIFIER",
    "ADMIN_NO_SRP_AUTH",
    "NEW_PASSWORD_REQUIRED",
    "SMS_OTP",
    "PASSWORD",
    "WEB_AUTHN",
    "PASSWORD_SRP",
];

const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];

fn known(value: Option<&str>, set: &[&str]) -> String {
    value
        .filter(|v| set.contains(v))
        .unwrap_or(OTHER)
        .to_owned()
}

/// The sign-in step a request is, if it is one: `(step, flow)`, read from the request body (the
/// flow or challenge name only; nothing else of the body is kept).
pub fn sign_in_step(operation: &Operation, body: &[u8]) -> Option<(&'static str, String)> {
    match operation {
        Operation::Target(op) if op == "InitiateAuth" || op == "AdminInitiateAuth" => {
            let body: serde_json::Value = serde_json::from_slice(body).ok()?;
            Some((
                "initiate",
                known(body.get("AuthFlow").and_then(|v| v.as_str()), AUTH_FLOWS),
            ))
        }
        Operation::Target(op)
            if op == "RespondToAuthChallenge" || op == "AdminRespondToAuthChallenge" =>
        {
            let body: serde_json::Value = serde_json::from_slice(body).ok()?;
            Some((
                "respond",
                known(
                    body.get("ChallengeName").and_then(|v| v.as_str()),
                    CHALLENGES,
                ),
            ))
        }
        Operation::Known(name) if name == "POST /oauth2/token" => {
            let grant = form_urlencoded::parse(body)
                .find(|(name, _)| name == "grant_type")
                .map(|(_, value)| value.into_owned());
            Some(("token", known(grant.as_deref(), GRANT_TYPES)))
        }
        _ => None,
    }
}

/// The result of a sign-in step from the core's answer: `tokens`, `challenge`, or the error
/// (`__type`, or the OAuth `error`); and whether it was a lockout.
pub fn sign_in_result(status: u16, error_type: Option<&str>, body: &[u8]) -> (String, bool) {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    if status < 400 {
        let has = |name: &str| json.as_ref().is_some_and(|j| j.get(name).is_some());
        let result = if has("AuthenticationResult") || has("access_token") {
            "tokens"
        } else if has("ChallengeName") {
            "challenge"
        } else {
            OK
        };
        return (result.to_owned(), false);
    }
    let kind = error_type
        .map(|t| t.split(':').next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| field("__type"))
        .or_else(|| field("error"))
        .unwrap_or_else(|| format!("http_{status}"));
    let locked = kind == "NotAuthorizedException"
        && field("message").as_deref() == Some("Password attempts exceeded");
    (kind, locked)
}

/// The store, timed and counted.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for MeteredStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredStore").finish_non_exhaustive()
    }
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = work.await;
        let label = match &result {
            Ok(_) => OK,
            Err(StoreError::Conflict) => "conflict",
            Err(StoreError::TooLarge) => "too_large",
            Err(StoreError::Unavailable(_)) => "unavailable",
        };
        self.metrics
            .store_operation(operation, label, started.elapsed());
        result
    }
}

impl Store for MeteredStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(self.timed("get", self.inner.get(key)))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(self.timed("put", self.inner.put(key, value, expect)))
    }

    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(self.timed("delete", self.inner.delete(key, expect)))
    }

    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        boxed(self.timed("scan", self.inner.scan(prefix, after, limit)))
    }

    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        boxed(self.timed("get_many", self.inner.get_many(keys)))
    }
}

/// The trigger plugins, timed and counted.
pub struct MeteredTriggers {
    inner: Arc<dyn Triggers>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for MeteredTriggers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredTriggers").finish_non_exhaustive()
    }
}

impl MeteredTriggers {
    pub fn new(inner: Arc<dyn Triggers>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

impl Triggers for MeteredTriggers {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        boxed(async move {
            let started = Instant::now();
            let result = self.inner.invoke(plugin, event).await;
            let label = match &result {
                Ok(_) => OK,
                Err(InvocationError::NotFound) => "not_found",
                Err(InvocationError::MissingExport(_)) => "missing_export",
                Err(InvocationError::Trap(_)) => "trap",
                Err(InvocationError::Timeout) => "timeout",
                Err(InvocationError::OutOfMemory) => "out_of_memory",
                Err(InvocationError::BadOutput(_)) => "bad_output",
                Err(InvocationError::OutputTooLarge) => "output_too_large",
                Err(InvocationError::Unavailable(_)) => "unavailable",
            };
            self.metrics.plugin_call(plugin, label, started.elapsed());
            result
        })
    }
}

/// Email and SMS delivery, counted.
pub struct MeteredSender {
    inner: Arc<dyn Sender>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for MeteredSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredSender").finish_non_exhaustive()
    }
}

impl MeteredSender {
    pub fn new(inner: Arc<dyn Sender>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

impl Sender for MeteredSender {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            let medium = match message.medium {
                Medium::Email => "email",
                Medium::Sms => "sms",
            };
            let result = self.inner.send(message).await;
            self.metrics.delivery(medium, result.is_ok());
            result
        })
    }

    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            let result = self.inner.deliver(pool_id, request).await;
            self.metrics.delivery("http", result.is_ok());
            result
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

    #[test]
    fn operations_are_named_from_closed_sets() {
        assert_eq!(
            operation_of(
                "POST",
                "/",
                "AWSCognitoIdentityProviderService.InitiateAuth"
            ),
            Operation::Target("InitiateAuth".into())
        );
        assert_eq!(
            operation_of("GET", "/us-east-1_abc/.well-known/jwks.json", ""),
            Operation::Known("GET /{poolId}/.well-known/jwks.json".into())
        );
        assert_eq!(
            operation_of("GET", "/a/b/.well-known/jwks.json", ""),
            Operation::Known("other".into())
        );
        assert_eq!(
            operation_of("POST", "/oauth2/token", ""),
            Operation::Known("POST /oauth2/token".into())
        );
        assert_eq!(
            operation_of("GET", "/secret-path-123", ""),
            Operation::Known("other".into())
        );
        assert_eq!(
            operation_of("BREW", "/", ""),
            Operation::Known("other".into())
        );
        assert_eq!(
            operation_of("POST", "/", "X.a b"),
            Operation::Known("other".into())
        );
    }

    #[test]
    fn made_up_operations_do_not_grow_the_registry() {
        let metrics = Metrics::new();
        for i in 0..(MAX_LABEL_VALUES + 50) {
            metrics.request(
                &Operation::Target(format!("Op{i}")),
                400,
                Some("SerializationException"),
                Duration::ZERO,
            );
            metrics.request(
                &Operation::Target(format!("Unknown{i}")),
                400,
                Some("UnknownOperationException"),
                Duration::ZERO,
            );
        }
        let text = metrics.render(&crate::engine::CoreEngine::Native);
        let operations: HashSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("cognate_requests_total{"))
            .filter_map(|l| l.split("operation=\"").nth(1))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert_eq!(operations.len(), MAX_LABEL_VALUES + 1, "{operations:?}");
        assert!(operations.contains("other"));
        assert!(!operations.contains("Unknown0"));
    }

    #[test]
    fn sign_in_steps_and_results() {
        let op = Operation::Target("InitiateAuth".into());
        assert_eq!(
            sign_in_step(
                &op,
                br#"{"AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{}}"#
            ),
            Some(("initiate", "USER_PASSWORD_AUTH".to_owned()))
        );
        assert_eq!(
            sign_in_step(&op, br#"{"AuthFlow":"MADE_UP"}"#),
            Some(("initiate", "other".to_owned()))
        );
        let token = Operation::Known("POST /oauth2/token".into());
        assert_eq!(
            sign_in_step(&token, b"grant_type=client_credentials&scope=a"),
            Some(("token", "client_credentials".to_owned()))
        );
        assert_eq!(
            sign_in_step(&Operation::Target("SignUp".into()), b"{}"),
            None
        );
        assert_eq!(
            sign_in_result(200, None, br#"{"AuthenticationResult":{}}"#),
            ("tokens".to_owned(), false)
        );
        assert_eq!(
            sign_in_result(200, None, br#"{"ChallengeName":"SMS_MFA"}"#),
            ("challenge".to_owned(), false)
        );
        assert_eq!(
            sign_in_result(
                400,
                Some("NotAuthorizedException"),
                br#"{"__type":"NotAuthorizedException","message":"Password attempts exceeded"}"#
            ),
            ("NotAuthorizedException".to_owned(), true)
        );
        assert_eq!(
            sign_in_result(400, None, br#"{"error":"invalid_grant"}"#),
            ("invalid_grant".to_owned(), false)
        );
    }
}
