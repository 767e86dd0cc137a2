//! [`Target`]: the server under test (started here or located from the environment) and the
//! SDK and raw HTTP clients that reach it.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::timeout::TimeoutConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

use crate::outbox::{HttpOutbox, JsonLinesOutbox, NoOutbox, Outbox};
use crate::responses::RawResponse;
use crate::server::{LocalServer, test_store};
use crate::{REGION, TEST_ADMIN_ACCESS_KEY_ID, TEST_ADMIN_SECRET_ACCESS_KEY, cognito};

/// The access key pair that signs administrative requests.
#[derive(Clone)]
pub struct AdminKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A server under test: where it is, how to sign admin calls, where its codes go.
#[derive(Debug)]
pub struct Target {
    pub(crate) base_url: String,
    pub(crate) admin: AdminKeys,
    pub(crate) outbox: Box<dyn Outbox>,
    /// The server this harness started, if it started one; stopped on drop.
    pub(crate) server: Option<LocalServer>,
}

static SHARED: OnceLock<Result<Target, String>> = OnceLock::new();

impl Target {
    /// The target this test binary's scenarios run against, started (or located) on first use.
    ///
    /// Runtime-independent: each `#[tokio::test]` has its own runtime, so the server is started
    /// synchronously and the target holds no runtime-bound state (clients are made per call).
    pub fn shared() -> &'static Target {
        match SHARED.get_or_init(Target::from_env) {
            Ok(target) => target,
            Err(message) => panic!("{message}"),
        }
    }

    /// `COGNATE_BASE_URL` if set, else a freshly started host.
    pub fn from_env() -> Result<Target, String> {
        match std::env::var("COGNATE_BASE_URL") {
            Ok(base_url) if !base_url.trim().is_empty() => {
                let admin = AdminKeys {
                    access_key_id: required_env("COGNATE_ADMIN_ACCESS_KEY_ID")?,
                    secret_access_key: required_env("COGNATE_ADMIN_SECRET_ACCESS_KEY")?,
                };
                let outbox: Box<dyn Outbox> = match std::env::var_os("COGNATE_OUTBOX_FILE") {
                    Some(path) => Box::new(JsonLinesOutbox::new(PathBuf::from(path))),
                    // edge: the Worker's test-only outbox route.
                    None => match std::env::var("COGNATE_OUTBOX_URL") {
                        Ok(url) if !url.trim().is_empty() => Box::new(HttpOutbox::new(
                            url.trim(),
                            std::env::var("COGNATE_TEST_KEY").ok(),
                        )),
                        _ => Box::new(NoOutbox),
                    },
                };
                Ok(Target::remote(base_url.trim(), admin, outbox))
            }
            _ => Target::start_local(),
        }
    }

    /// A server someone else runs, with that harness's way of reading delivered messages.
    pub fn remote(base_url: &str, admin: AdminKeys, outbox: Box<dyn Outbox>) -> Target {
        Target {
            base_url: base_url.trim_end_matches('/').to_owned(),
            admin,
            outbox,
            server: None,
        }
    }

    /// Starts the host binary on a free loopback port with a fresh data directory. The server
    /// is stopped when the returned target is dropped (or when this process exits).
    pub fn start_local() -> Result<Target, String> {
        Self::start_local_with(test_store()?)
    }

    /// Starts the host binary on `store` (`--store`: a PostgreSQL URL, or `sqlite`), with its
    /// own port and data directory: several such servers on one database are one deployment.
    pub fn start_local_on_store(store: &str) -> Result<Target, String> {
        Self::start_local_with(Some(store.to_owned()))
    }

    fn start_local_with(store: Option<String>) -> Result<Target, String> {
        let server = LocalServer::start(store.as_deref())?;
        Ok(Target {
            base_url: format!("http://{}", server.addr),
            admin: AdminKeys {
                access_key_id: TEST_ADMIN_ACCESS_KEY_ID.to_owned(),
                secret_access_key: TEST_ADMIN_SECRET_ACCESS_KEY.to_owned(),
            },
            outbox: Box::new(JsonLinesOutbox::new(server.data_dir.join("outbox.jsonl"))),
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The issuer of `pool_id`'s tokens: `<base>/<poolId>`.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.base_url)
    }

    pub fn admin_keys(&self) -> &AdminKeys {
        &self.admin
    }

    /// Kills the started server with SIGKILL (no graceful shutdown: a crash) and waits until
    /// it is gone. Panics when this harness did not start the server.
    pub fn kill_server(&self) {
        let server = self
            .server
            .as_ref()
            .expect("kill_server: not a server this harness started");
        server.kill_hard();
    }

    /// The started server's log (stdout and stderr), if this harness started one.
    pub fn server_log(&self) -> Option<String> {
        self.server.as_ref().map(LocalServer::log)
    }

    // -- clients ------------------------------------------------------------------------------

    /// An SDK client signing with the configured admin keys.
    pub fn admin_client(&self) -> cognito::Client {
        self.client_with_keys(&self.admin.access_key_id, &self.admin.secret_access_key)
    }

    /// An SDK client whose credentials are bogus. Cognito models its public operations
    /// (`SignUp`, `InitiateAuth`, `GetUser`, ...) as unauthenticated, so the SDK does not sign
    /// them and they must work; administrative calls made with it must be refused.
    pub fn public_client(&self) -> cognito::Client {
        self.client_with_keys("AKIAPUBLICCLIENTBOGUS", "not-a-real-secret-at-all")
    }

    /// An SDK client with no credentials provider at all: only unauthenticated operations can
    /// be sent with it.
    pub fn anonymous_client(&self) -> cognito::Client {
        cognito::Client::from_conf(self.sdk_config().build())
    }

    /// An SDK client signing with an access key id the server does not know.
    pub fn unknown_key_client(&self) -> cognito::Client {
        self.client_with_keys("AKIAUNKNOWNTESTKEY00", &self.admin.secret_access_key)
    }

    /// An SDK client signing with the right access key id and the wrong secret.
    pub fn wrong_secret_client(&self) -> cognito::Client {
        self.client_with_keys(
            &self.admin.access_key_id,
            "wrong+secret+key+0123456789abcdefghijklmn",
        )
    }

    /// An SDK client signing with the given key pair.
    pub fn client_with_keys(&self, access_key_id: &str, secret: &str) -> cognito::Client {
        let credentials = Credentials::new(access_key_id, secret, None, None, "cognate-tests");
        cognito::Client::from_conf(self.sdk_config().credentials_provider(credentials).build())
    }

    fn sdk_config(&self) -> cognito::config::Builder {
        // Plain HTTP (no TLS): the target is on loopback.
        let http = aws_smithy_http_client::Builder::new().build_http();
        cognito::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.base_url.clone())
            .http_client(http)
            // A scenario asserts what one request does: no retries hiding or repeating it.
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
    }

    /// A raw HTTP client, for requests no SDK would send.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest client")
    }

    /// An unsigned AWS JSON 1.1 call: `POST /` with `X-Amz-Target:
    /// AWSCognitoIdentityProviderService.<operation>`.
    pub async fn call_raw(&self, operation: &str, body: &Value) -> RawResponse {
        let target = format!("AWSCognitoIdentityProviderService.{operation}");
        self.post_raw(
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
            ],
            body.to_string().into_bytes(),
        )
        .await
    }

    /// `POST /` with exactly these headers and body.
    pub async fn post_raw(&self, headers: &[(&str, &str)], body: Vec<u8>) -> RawResponse {
        let mut request = self.http().post(format!("{}/", self.base_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        RawResponse::read(request.body(body).send().await).await
    }
}

fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!("COGNATE_BASE_URL is set, so {name} must be set too (the server's admin key pair)")
    })
}
