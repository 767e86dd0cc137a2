//! The one entry point: [`Service::handle`] routes every public protocol.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::Error;
use crate::http::{Request, Response};
use crate::ports::Env;
use crate::secret::Secret;

pub use crate::config::{AdminKey, Config};

/// A pool declared as code (config file, demo bootstrap): created at start-up unless a pool with
/// its id exists. `create` is a Cognito `CreateUserPool` request body.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSpec {
    /// A fixed pool id (`<region>_<9 alphanumerics>`); generated when absent.
    pub id: Option<String>,
    pub region: Option<String>,
    pub create: serde_json::Value,
    pub clients: Vec<ClientSpec>,
}

/// An app client declared as code. `create` is a `CreateUserPoolClient` request body (without
/// `UserPoolId`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientSpec {
    /// A fixed client id (26 lower-case alphanumerics); generated when absent.
    pub id: Option<String>,
    pub create: serde_json::Value,
}

/// What applying a [`PoolSpec`] left in the store.
#[derive(Debug, Clone)]
pub struct AppliedPool {
    pub pool_id: String,
    pub pool_name: String,
    /// `(client name, client id, client secret if any)`.
    pub clients: Vec<(String, String, Option<Secret>)>,
    /// False when the pool already existed and nothing was written.
    pub created: bool,
}

/// The identity service. Cheap to share; holds configuration only (state lives in the store).
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) config: Config,
}

impl Service {
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one HTTP request. Never panics; every failure is a response.
    pub async fn handle(&self, request: Request, env: &dyn Env) -> Response {
        let response = self.route(&request, env).await;
        with_cors(&request, response)
    }

    async fn route(&self, request: &Request, env: &dyn Env) -> Response {
        let method = request.method.as_str();
        if method == "OPTIONS" {
            return Response::new(204).with_header("access-control-max-age", "86400");
        }
        let path = request.path.as_str();
        // A user import job's upload URL (CreateUserImportJob's PreSignedUrl).
        if crate::api::is_import_upload(request) {
            return crate::api::import_upload(env, request).await;
        }
        if method == "POST" && (path == "/" || path.is_empty()) {
            if let Some(operation) = crate::api::phc::operation(request) {
                return crate::api::phc::handle(&self.config, env, request, operation).await;
            }
            if let Some(operation) = crate::api::keys::operation(request) {
                return crate::api::keys::handle(&self.config, env, request, operation).await;
            }
            if let Some(operation) = crate::api::plugins::operation(request) {
                return crate::api::plugins::handle(&self.config, env, request, operation).await;
            }
            if let Some(operation) = crate::api::insights::operation(request) {
                return crate::api::insights::handle(&self.config, env, request, operation).await;
            }
            if let Some(operation) = crate::api::identity::operation(request) {
                return crate::api::identity::handle(&self.config, env, request, operation).await;
            }
            return crate::api::handle(&self.config, env, request).await;
        }
        // The identity service's OpenID Connect discovery and keys (identity pools).
        if method == "GET" || method == "HEAD" {
            if path == crate::identity::open_id::DISCOVERY_PATH {
                let body = crate::identity::open_id::discovery(&self.config.base_url);
                return Response::json(200, "application/json", body.to_string().into_bytes())
                    .with_header("cache-control", "public, max-age=300");
            }
            if path == crate::identity::open_id::JWKS_PATH {
                return match crate::identity::open_id::jwks(env).await {
                    Ok(body) => {
                        Response::json(200, "application/json", body.to_string().into_bytes())
                            .with_header("cache-control", "public, max-age=300")
                    }
                    Err(e) => crate::api::error_response(&e),
                };
            }
        }
        if crate::console::is_console_path(path) {
            return crate::console::respond(&self.config, request);
        }
        // OAuth 2.0 / OIDC endpoints and the hosted UI (issue 6).
        if let Some((ctx, path)) = crate::oidc::context(&self.config, env, request).await {
            return if crate::ui::is_ui_path(&path) {
                crate::ui::handle(&ctx, &path).await
            } else {
                crate::oidc::handle(&ctx, &path).await
            };
        }
        if method == "GET" || method == "HEAD" {
            if path == "/health" {
                return health(env).await;
            }
            if let Some(pool_id) = path
                .strip_prefix('/')
                .and_then(|p| p.strip_suffix("/.well-known/jwks.json"))
            {
                return self.jwks(env, pool_id).await;
            }
            if let Some(pool_id) = path
                .strip_prefix('/')
                .and_then(|p| p.strip_suffix("/.well-known/openid-configuration"))
            {
                return crate::oidc::discovery::respond(&self.config, env, pool_id).await;
            }
        }
        let (status, kind) = if path == "/" {
            (405, "MethodNotAllowed")
        } else {
            (404, "NotFound")
        };
        crate::http::AwsError::new(status, kind, "No route for this method and path.")
            .content_type("application/json")
            .response()
    }

    async fn jwks(&self, env: &dyn Env, pool_id: &str) -> Response {
        let found = match crate::pool::load_pool(env, pool_id).await {
            Ok(_) => crate::token::load_key_set(env, pool_id).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(set) => Response::json(
                200,
                "application/json",
                serde_json::to_vec(&crate::token::jwks(&set, env.clock().now_millis()))
                    .unwrap_or_default(),
            )
            // Verifiers cache keys; a short max-age keeps rotation quick.
            .with_header("cache-control", "public, max-age=300"),
            Err(e) => not_found_json(&e),
        }
    }

    /// Runs an operation as the operator, without a signature: for trusted in-process callers
    /// (embedding, bootstrap, benchmarks). `body` is the operation's JSON input.
    pub async fn call_trusted(
        &self,
        env: &dyn Env,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let ctx = crate::api::Ctx {
            config: &self.config,
            env,
            region: self.config.default_region.clone(),
            origin: Default::default(),
        };
        crate::api::dispatch(&ctx, operation, body).await
    }

    /// Creates the pool and clients a [`PoolSpec`] declares, unless the pool exists already.
    pub async fn apply_pool_spec(
        &self,
        env: &dyn Env,
        spec: &PoolSpec,
    ) -> Result<AppliedPool, Error> {
        let region = spec
            .region
            .clone()
            .or_else(|| {
                spec.id
                    .as_deref()
                    .and_then(|id| id.split_once('_'))
                    .map(|(r, _)| r.to_string())
            })
            .unwrap_or_else(|| self.config.default_region.clone());
        let ctx = crate::api::Ctx {
            config: &self.config,
            env,
            region: region.clone(),
            origin: Default::default(),
        };
        if let Some(id) = &spec.id
            && let Ok((existing, _)) = crate::pool::load_pool(env, id).await
        {
            let mut clients = Vec::new();
            for c in &spec.clients {
                if let Some(cid) = &c.id
                    && let Ok((client, _)) = crate::pool::load_pool_client(env, id, cid).await
                {
                    clients.push((client.client_name, client.client_id, client.client_secret));
                }
            }
            return Ok(AppliedPool {
                pool_id: existing.id,
                pool_name: existing.name,
                clients,
                created: false,
            });
        }
        let create: crate::pool::CreatePool = crate::api::input(spec.create.clone())?;
        let record =
            crate::api::pools::create_pool(env, &region, spec.id.as_deref(), create).await?;
        let mut clients = Vec::new();
        for c in &spec.clients {
            let mut body = c.create.clone();
            if let serde_json::Value::Object(map) = &mut body {
                map.insert(
                    "UserPoolId".into(),
                    serde_json::Value::String(record.id.clone()),
                );
            } else {
                return Err(Error::invalid_parameter(
                    "a client spec's `create` must be a table",
                ));
            }
            let client = crate::api::create_client(&ctx, body, c.id.as_deref()).await?;
            clients.push((client.client_name, client.client_id, client.client_secret));
        }
        Ok(AppliedPool {
            pool_id: record.id,
            pool_name: record.name,
            clients,
            created: true,
        })
    }
}

fn not_found_json(error: &Error) -> Response {
    crate::http::AwsError::new(404, "ResourceNotFoundException", &error.message)
        .content_type("application/json")
        .service()
        .response()
}

/// Browsers call the API directly, so every response, errors included, allows any origin, and
/// preflights are answered (DESIGN §4). Tokens travel in bodies, never cookies, so `*` is safe.
fn with_cors(request: &Request, mut response: Response) -> Response {
    response
        .headers
        .push(("access-control-allow-origin".to_string(), "*".to_string()));
    response.headers.push((
        "access-control-expose-headers".to_string(),
        "x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, date".to_string(),
    ));
    if request.method == "OPTIONS" {
        response.headers.push((
            "access-control-allow-methods".to_string(),
            "GET, POST, PUT, OPTIONS".to_string(),
        ));
        response.headers.push((
            "access-control-allow-headers".to_string(),
            "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-content-sha256, x-amz-security-token, amz-sdk-invocation-id, amz-sdk-request".to_string(),
        ));
    }
    response
}

/// `GET /health`: the service answers and its store reads. A store that fails says why, with
/// 503, so a load balancer takes the instance out and an operator sees the cause.
async fn health(env: &dyn Env) -> Response {
    match env.store().get(crate::store::keys::HEALTH_PROBE).await {
        Ok(_) => Response::json(200, "application/json", b"{\"status\":\"ok\"}".to_vec()),
        Err(e) => Response::json(
            503,
            "application/json",
            serde_json::to_vec(
                &serde_json::json!({"status": "unavailable", "store": e.to_string()}),
            )
            .unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
#[path = "service_properties.rs"]
mod properties;

#[cfg(test)]
mod health_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use futures_util::FutureExt as _;

    use super::*;
    use crate::store::{Expect, Page, Store, StoreError, Versioned};
    use crate::testing::TestEnv;

    /// A store whose engine is down.
    struct DownStore;

    impl Store for DownStore {
        fn get<'a>(
            &'a self,
            _: &'a str,
        ) -> crate::future::BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
            crate::ports::boxed(async { Err(StoreError::Unavailable("disk I/O error".into())) })
        }
        fn put<'a>(
            &'a self,
            _: &'a str,
            _: &'a [u8],
            _: Expect,
        ) -> crate::future::BoxFuture<'a, Result<u64, StoreError>> {
            crate::ports::boxed(async { Err(StoreError::Unavailable("disk I/O error".into())) })
        }
        fn delete<'a>(
            &'a self,
            _: &'a str,
            _: Expect,
        ) -> crate::future::BoxFuture<'a, Result<(), StoreError>> {
            crate::ports::boxed(async { Err(StoreError::Unavailable("disk I/O error".into())) })
        }
        fn scan<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a str>,
            _: usize,
        ) -> crate::future::BoxFuture<'a, Result<Page, StoreError>> {
            crate::ports::boxed(async { Err(StoreError::Unavailable("disk I/O error".into())) })
        }
    }

    struct DownEnv(TestEnv);

    impl Env for DownEnv {
        fn store(&self) -> &dyn Store {
            &DownStore
        }
        fn clock(&self) -> &dyn crate::ports::Clock {
            self.0.clock()
        }
        fn random(&self) -> &dyn crate::ports::Random {
            self.0.random()
        }
        fn sender(&self) -> &dyn crate::ports::Sender {
            self.0.sender()
        }
        fn jws(&self) -> &dyn crate::ports::Jws {
            self.0.jws()
        }
        fn passwords(&self) -> &dyn crate::ports::PasswordHasher {
            self.0.passwords()
        }
    }

    #[test]
    fn health_reads_the_store_and_says_when_it_cannot() {
        let ok = health(&TestEnv::new()).now_or_never().unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.body, b"{\"status\":\"ok\"}");
        let down = health(&DownEnv(TestEnv::new())).now_or_never().unwrap();
        assert_eq!(down.status, 503);
        let body: serde_json::Value = serde_json::from_slice(&down.body).unwrap();
        assert_eq!(body["status"], "unavailable");
        assert!(
            body["store"].as_str().unwrap().contains("disk I/O error"),
            "{body}"
        );
    }
}
