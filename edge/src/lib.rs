//! # cognate-edge
//!
//! Cognate on Cloudflare Workers: the same core ([`cognate_core::Service`]) the host runs,
//! compiled into the Worker's Wasm. This crate only adapts: it translates the runtime's
//! requests to the core's and back, and provides the ports:
//!
//! | port | edge implementation |
//! |---|---|
//! | `Store` | SQLite-backed Durable Objects, 16 shards by key hash ([`store`]), pool records cached in Workers KV ([`cache`]) |
//! | `Jws` | WebCrypto RS256 ([`platform::WebCryptoJws`]) |
//! | `PasswordHasher` | argon2id compiled to Wasm ([`cognate_core::password::Argon2Hasher`]) |
//! | `Random`, `Clock` | `crypto.getRandomValues`, `Date.now()` |
//! | `Sender` | the development outbox or a log line ([`outbox`]) |
//! | `Triggers` | plugin modules bundled at deploy time, run through the JS WebAssembly API ([`plugins`]) |
//! | `PluginRegistry` | the bundled modules, names registered in the store ([`plugins`]) |
//! | `WebAuthnVerifier` | WebCrypto signatures, ciborium/coset parsing ([`webauthn`]) |
//!
//! Configuration comes from the Worker's bindings (see `edge/wrangler.toml`): the Durable
//! Object namespace `STORE`, the KV namespace `CACHE`, and the variables or secrets
//! `COGNATE_ADMIN_ACCESS_KEY_ID`, `COGNATE_ADMIN_SECRET_ACCESS_KEY` (SigV4 admin key),
//! `COGNATE_SIGNING_KEY` (optional PKCS#8 RSA key new pools sign with),
//! `COGNATE_PLUGIN_DELIVERY_HOSTS` (hosts custom sender plugins may deliver to), `COGNATE_BASE_URL`
//! (issuer base; default: the request's origin), `COGNATE_REGION`, `COGNATE_CACHE_TTL`;
//! `COGNATE_DELIVERY_AWS_ACCESS_KEY_ID`, `COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY` (optional
//! `COGNATE_DELIVERY_AWS_SESSION_TOKEN`, `COGNATE_SES_ENDPOINT`, `COGNATE_SNS_ENDPOINT`): the
//! credentials SES and SNS messages are signed with (see `outbox`).
//!
//! ```no_run
//! // The Worker's entry point is `fetch`, exported to the runtime by `#[event(fetch)]`;
//! // everything it does is `cognate_edge::handle`:
//! # async fn demo(req: worker::Request, env: worker::Env) -> worker::Result<worker::Response> {
//! cognate_edge::handle(req, env).await
//! # }
//! ```
//!
//! ## Security
//! - Signing keys, client secrets and admin keys never go to KV: signing keys live in the
//!   Durable Objects (or a Worker secret), admin keys in Worker secrets.
//! - KV only caches pool records and JWKS documents; users, codes, refresh tokens and
//!   counters are always read from the Durable Objects, so stale KV cannot resurrect them.
//! - The test-only routes under `/__cognate/test/` answer 404 unless the variable
//!   `COGNATE_TEST_KEY` is set (only local development sets it) and the request carries it in
//!   `x-cognate-test-key`.
//! - Password hashing is OWASP-grade argon2id (m=19456 KiB, t=2): ~50-90 ms of CPU, above the
//!   Workers Free plan's 10 ms; deploy on a paid plan with `limits.cpu_ms` raised.

use cognate_core::password::Argon2Hasher;
use cognate_core::ports::{
    BoxFuture, InvocationError, Message, PluginInfo, PluginRegistry, RegistryError, Sts, StsAnswer,
    Triggers, boxed,
};
use cognate_core::{
    Clock, Config, Env, Error, Jws, PasswordHasher, Random, Sender, Service, Store,
};
use worker::send::SendFuture;

pub mod cache;
pub mod http;
pub mod outbox;
pub mod platform;
pub mod plugins;
pub mod store;
pub mod testing;
pub mod webauthn;

pub use store::StoreShard;

use std::sync::Arc;

use cache::CachedStore;
use cognate_core::decoded::KeptRecords;
use platform::{WebCryptoJws, WorkerClock, WorkerRandom};
use store::DoStore;

/// The Durable Object namespace binding of the store shards.
pub const STORE_BINDING: &str = "STORE";
/// The KV namespace binding of the read cache.
pub const CACHE_BINDING: &str = "CACHE";

/// Every port, for one request.
pub struct EdgeEnv {
    store: CachedStore<DoStore>,
    clock: WorkerClock,
    random: WorkerRandom,
    jws: WebCryptoJws,
    passwords: Argon2Hasher,
    keep_outbox: bool,
    /// Hosts custom sender plugins may deliver to (`COGNATE_PLUGIN_DELIVERY_HOSTS`).
    delivery_hosts: Vec<String>,
    /// SES and SNS credentials and endpoints (`COGNATE_DELIVERY_AWS_*`), if configured.
    aws: Option<outbox::EdgeAws>,
    /// Identity pools' STS (`COGNATE_STS_ENDPOINT`, default `https://sts.amazonaws.com`).
    sts_endpoint: String,
    /// Hosts of upstream identity providers (`COGNATE_UPSTREAM_HOSTS`, comma-separated:
    /// `idp.example.com`, `*.example.com`, `127.0.0.1:8443`).
    upstream_hosts: Vec<String>,
    /// The isolate's decoded pools, clients and keys, shared by its requests.
    decoded: Arc<KeptRecords>,
}

std::thread_local! {
    /// One table per isolate (a Worker's isolate runs one thread).
    static KEPT_RECORDS: Arc<KeptRecords> = Arc::default();
}

impl core::fmt::Debug for EdgeEnv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EdgeEnv")
            .field("store", &self.store)
            .field("keep_outbox", &self.keep_outbox)
            .finish()
    }
}

impl Env for EdgeEnv {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    fn clock(&self) -> &dyn Clock {
        &self.clock
    }
    fn random(&self) -> &dyn Random {
        &self.random
    }
    fn sender(&self) -> &dyn Sender {
        self
    }
    fn jws(&self) -> &dyn Jws {
        &self.jws
    }
    fn passwords(&self) -> &dyn PasswordHasher {
        &self.passwords
    }
    fn triggers(&self) -> &dyn Triggers {
        self
    }
    fn plugins(&self) -> &dyn PluginRegistry {
        self
    }
    fn sts(&self) -> &dyn Sts {
        self
    }
    fn http(&self) -> &dyn cognate_core::ports::Http {
        self
    }
    fn webauthn(&self) -> &dyn cognate_core::ports::WebAuthnVerifier {
        &webauthn::EdgeWebAuthn
    }
    fn decoded_records(&self) -> &dyn cognate_core::ports::DecodedRecords {
        &*self.decoded
    }
}

/// Outbound HTTP to upstream identity providers: `fetch` (no redirects followed, a timeout, a
/// capped answer) to the hosts on `COGNATE_UPSTREAM_HOSTS` only.
impl cognate_core::ports::Http for EdgeEnv {
    fn request<'a>(
        &'a self,
        request: cognate_core::ports::HttpRequest,
    ) -> BoxFuture<'a, Result<cognate_core::ports::HttpResponse, Error>> {
        boxed(SendFuture::new(async move {
            if !cognate_core::ports::host_allowed(&request.url, &self.upstream_hosts) {
                return Err(cognate_core::ports::http_refused(&request.url));
            }
            outbox::fetch_http(&request).await.map_err(|why| {
                Error::new(
                    cognate_core::error::ErrorKind::ExternalService,
                    format!("The upstream request failed ({why})."),
                )
            })
        }))
    }
}

/// Identity pools' STS: the core's `AssumeRoleWithWebIdentity` form, posted with `fetch` (a
/// timeout, a capped answer) to the configured endpoint only.
impl Sts for EdgeEnv {
    fn post<'a>(&'a self, form: &'a str) -> BoxFuture<'a, Result<StsAnswer, Error>> {
        boxed(SendFuture::new(async move {
            let request = cognate_core::ports::DeliveryRequest {
                method: "POST".into(),
                url: self.sts_endpoint.clone(),
                headers: [(
                    "content-type".to_string(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_string(),
                )]
                .into_iter()
                .collect(),
                body: form.to_string(),
            };
            match outbox::fetch(&request).await {
                Ok((status, _, body)) => Ok(StsAnswer { status, body }),
                Err(why) => Err(Error::new(
                    cognate_core::error::ErrorKind::ExternalService,
                    format!("The security token service is unavailable ({why})."),
                )),
            }
        }))
    }
}

impl Triggers for EdgeEnv {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        plugins::invoke(self.store.inner(), plugin, event)
    }
}

/// The `CognatePlugins.*` admin API's registry (the core routes, authorises and renders it):
/// the modules bundled at deploy time, names registered in the store ([`plugins`]).
impl PluginRegistry for EdgeEnv {
    fn register<'a>(
        &'a self,
        name: Option<&'a str>,
        module: &'a [u8],
    ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>> {
        boxed(SendFuture::new(plugins::register(
            self.store.inner(),
            name,
            module,
        )))
    }
    fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>> {
        boxed(SendFuture::new(plugins::list(self.store.inner())))
    }
    fn delete<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>> {
        boxed(SendFuture::new(plugins::delete(
            self.store.inner(),
            reference,
        )))
    }
}

impl Sender for EdgeEnv {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(SendFuture::new(async move {
            // SES / SNS when the pool asks for them and the operator configured credentials;
            // else the development outbox (if on). SMTP is host-only.
            if let (Some(aws), false) = (&self.aws, message.route.is_server()) {
                return outbox::send_aws(&self.clock, aws, &message).await;
            }
            outbox::deliver(
                &self.store,
                &self.clock,
                &self.random,
                self.keep_outbox,
                message,
            )
            .await
        }))
    }

    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: cognate_core::ports::DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(SendFuture::new(outbox::deliver_request(
            &self.store,
            &self.clock,
            &self.random,
            self.keep_outbox,
            &self.delivery_hosts,
            pool_id,
            request,
        )))
    }
}

/// A variable or secret, if set and not empty.
pub fn setting(env: &worker::Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|v| v.to_string()))
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The ports for one request, from the Worker's bindings.
pub fn edge_env(env: &worker::Env) -> worker::Result<EdgeEnv> {
    let namespace = env.durable_object(STORE_BINDING)?;
    // KV is optional: without the binding every read goes to the Durable Objects.
    let kv = env.kv(CACHE_BINDING).ok();
    let ttl = setting(env, "COGNATE_CACHE_TTL")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60);
    Ok(EdgeEnv {
        store: CachedStore::new(DoStore::new(namespace), kv, ttl),
        clock: WorkerClock,
        random: WorkerRandom,
        jws: WebCryptoJws::new(setting(env, "COGNATE_SIGNING_KEY")),
        passwords: Argon2Hasher,
        keep_outbox: setting(env, "COGNATE_DEV_OUTBOX").is_some_and(|v| v == "true"),
        delivery_hosts: setting(env, "COGNATE_PLUGIN_DELIVERY_HOSTS")
            .map(|hosts| {
                hosts
                    .split(',')
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        aws: match (
            setting(env, "COGNATE_DELIVERY_AWS_ACCESS_KEY_ID"),
            setting(env, "COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(access_key_id), Some(secret)) => Some(outbox::EdgeAws {
                credentials: cognate_core::sigv4::Credentials {
                    access_key_id,
                    secret_access_key: cognate_core::Secret::new(secret),
                    session_token: setting(env, "COGNATE_DELIVERY_AWS_SESSION_TOKEN")
                        .map(cognate_core::Secret::new),
                },
                ses_endpoint: setting(env, "COGNATE_SES_ENDPOINT"),
                sns_endpoint: setting(env, "COGNATE_SNS_ENDPOINT"),
            }),
            _ => None,
        },
        sts_endpoint: setting(env, "COGNATE_STS_ENDPOINT")
            .unwrap_or_else(|| "https://sts.amazonaws.com".to_owned()),
        upstream_hosts: setting(env, "COGNATE_UPSTREAM_HOSTS")
            .map(|hosts| {
                hosts
                    .split(',')
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        decoded: KEPT_RECORDS.with(Arc::clone),
    })
}

/// The service configuration: base URL (the `COGNATE_BASE_URL` variable, else the request's
/// origin), default region, admin key.
pub fn service(env: &worker::Env, origin: &str) -> Service {
    let base = setting(env, "COGNATE_BASE_URL").unwrap_or_else(|| origin.to_owned());
    let region = setting(env, "COGNATE_REGION").unwrap_or_else(|| "us-east-1".to_owned());
    let mut config = Config::new(&base, &region);
    if let (Some(id), Some(secret)) = (
        setting(env, "COGNATE_ADMIN_ACCESS_KEY_ID"),
        setting(env, "COGNATE_ADMIN_SECRET_ACCESS_KEY"),
    ) {
        config = config.with_admin_key(&id, &secret);
    }
    // Identity pools' OpenID Connect providers, as IAM registers them (JSON list of
    // {"url", "client_ids"}); a malformed value registers none, and their logins are refused.
    if let Some(json) = setting(env, "COGNATE_IDENTITY_OIDC_PROVIDERS") {
        match serde_json::from_str(&json) {
            Ok(providers) => config.oidc_providers = providers,
            Err(e) => worker::console_error!("COGNATE_IDENTITY_OIDC_PROVIDERS is not valid: {e}"),
        }
    }
    Service::new(config)
}

/// Handles one request: test-only routes, the JWKS cache, then the core.
pub async fn handle(req: worker::Request, env: worker::Env) -> worker::Result<worker::Response> {
    let url = req.url()?;
    let origin = url.origin().ascii_serialization();
    if url.path().starts_with(testing::PREFIX) {
        return testing::handle(req, &env, &origin).await;
    }
    let edge = edge_env(&env)?;
    let service = service(&env, &origin);
    let request = match http::to_core(req).await? {
        Ok(request) => request,
        Err(refused) => return http::from_core(refused),
    };
    if let Some(pool_id) = http::jwks_pool(&request) {
        return http::jwks_cached(&service, &edge, &env, request, &pool_id).await;
    }
    // The audit stream (`COGNATE_AUDIT_LOG=console`): the core's line for each security-relevant
    // request, to the Worker's log (`wrangler tail`, Workers Logs, Logpush).
    let audited = (setting(&env, "COGNATE_AUDIT_LOG").as_deref() == Some("console"))
        .then(|| cognate_core::audit::RequestSnapshot::of(&request));
    let response = service.handle(request, &edge).await;
    if let Some(line) = audited.and_then(|snapshot| {
        use cognate_core::ports::Env as _;
        snapshot.event(&response, edge.clock().now_millis())
    }) {
        worker::console_log!("{line}");
    }
    http::from_core(response)
}

/// The Cron Trigger (`[triggers] crons` in wrangler.toml, every 10 minutes): removes expired
/// authorization codes, hosted-UI and challenge sessions and refresh tokens
/// (`cognate_core::janitor::sweep`, with the core's grace period), as the host's janitor does,
/// so the Durable Objects do not grow forever.
#[worker::event(scheduled)]
async fn scheduled(
    _event: worker::ScheduledEvent,
    env: worker::Env,
    _ctx: worker::ScheduleContext,
) {
    let edge = match edge_env(&env) {
        Ok(edge) => edge,
        Err(e) => {
            worker::console_error!("janitor: no store: {e}");
            return;
        }
    };
    match cognate_core::janitor::sweep(&edge).await {
        Ok(report) => worker::console_log!(
            "janitor: examined {} records, removed {}",
            report.examined,
            report.removed
        ),
        Err(e) => worker::console_error!("janitor: the sweep failed: {e}"),
    }
}

#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    _ctx: worker::Context,
) -> worker::Result<worker::Response> {
    handle(req, env).await
}
