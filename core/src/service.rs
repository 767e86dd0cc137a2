//! The one entry point: [`Service::handle`] routes every public protocol.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::Error;
use crate::http::{Request, Response};
use crate::ports::Env;
use crate::secret::Secret;

/// An operator's access key pair for administrative operations (SigV4).
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Service-wide configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public base URL; token issuers are `<base_url>/<poolId>`. No trailing slash.
    pub base_url: String,
    /// The region for requests whose SigV4 credential scope names none.
    pub default_region: String,
    pub admin_keys: Vec<AdminKey>,
}

impl Config {
    pub fn new(base_url: &str, default_region: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            default_region: default_region.to_string(),
            admin_keys: Vec::new(),
        }
    }
    pub fn with_admin_key(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.admin_keys.push(AdminKey {
            access_key_id: access_key_id.to_string(),
            secret_access_key: Secret::new(secret_access_key),
        });
        self
    }
}

/// A pool declared as code (config file, demo bootstrap): created at start-up unless a pool with
/// its id exists. `create` is a Cognito `CreateUserPool` request body.
#[derive(Debug, Clone, Default, serde::Deserialize)]
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
        let _ = env;
        if request.path == "/health" {
            return Response::json(200, "application/json", b"{\"status\":\"ok\"}".to_vec());
        }
        let _ = request;
        Response::new(404)
    }

    /// Creates the pool and clients a [`PoolSpec`] declares, unless the pool exists already.
    pub async fn apply_pool_spec(&self, env: &dyn Env, spec: &PoolSpec) -> Result<AppliedPool, Error> {
        let _ = (env, spec);
        Err(Error::internal("not yet"))
    }
}
