//! End-to-end test harness.
//!
//! The scenarios in `tests/*.rs` are written once against a [`Target`]: a base URL plus the means
//! to reach it (admin keys, the outbox where confirmation codes land). Where the target comes from:
//!
//! - `COGNATE_BASE_URL` set: an already-running server (the edge under a local Workers runtime,
//!   or a host started by hand). Admin keys come from `COGNATE_ADMIN_ACCESS_KEY_ID` /
//!   `COGNATE_ADMIN_SECRET_ACCESS_KEY`; codes from the JSON-lines file named by
//!   `COGNATE_OUTBOX_FILE` if set, else from the JSON lines served at `COGNATE_OUTBOX_URL`
//!   (`?pool=<poolId>` appended; the edge's test route, sent `x-cognate-test-key:
//!   $COGNATE_TEST_KEY`). A harness that reads codes some other way builds its target
//!   with [`Target::remote`] and its own [`Outbox`].
//! - otherwise: the `cognate` host binary (`COGNATE_BIN`, else `target/<profile>/cognate` next
//!   to the test executable), started on a free loopback port with a fresh data directory.
//!   `COGNATE_ENGINE=native` (or `wasm`, the server's default) picks how that server runs the
//!   core; CI runs every scenario on both. `COGNATE_TEST_STORE=postgres://...` (a role that may
//!   create databases, e.g. the one scripts/with-postgres.sh exports as `COGNATE_TEST_POSTGRES`)
//!   runs that server on PostgreSQL: a fresh database is created on that server for every server
//!   started, passed as `--store`. [`Target::start_local_on_store`] starts a server on a given
//!   store, so several servers can share one database.
//!
//! Each test binary shares one started server ([`Target::shared`]); scenarios create their own
//! pools and users (names from [`unique`]), so they are independent of each other and of the
//! order they run in. The server is stopped when the test binary exits, however it exits: a
//! small `sh` watchdog holds the read end of a pipe whose write end only this process holds,
//! and stops the server (SIGTERM, then SIGKILL after 10 s) and removes its data directory when
//! that pipe closes. Set `COGNATE_TEST_KEEP_DATA=1` to keep the data directory for inspection.

// A test harness reports failure by panicking, with a message saying what went wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::future::Future;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::timeout::TimeoutConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, SdkError};
use aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpOutput;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, AuthFlowType, AuthenticationResultType,
    ExplicitAuthFlowsType, PasswordPolicyType, SchemaAttributeType, StringAttributeConstraintsType,
    UserPoolPolicyType, VerifiedAttributeType,
};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
pub mod form_browser;
pub mod scenarios;
// Trigger plugins: example modules and their registration.
pub mod plugins;

/// The region every SDK client is configured for; pool ids start with `us-east-1_`.
pub const REGION: &str = "us-east-1";
/// The admin key pair the harness gives a server it starts.
pub const TEST_ADMIN_ACCESS_KEY_ID: &str = "AKIACOGNATETESTADMIN";
pub const TEST_ADMIN_SECRET_ACCESS_KEY: &str = "cognate+test+secret+key+0123456789abcdefgh";
/// A password that satisfies Cognito's default policy (8+ characters, upper, lower, digit, symbol).
pub const PASSWORD: &str = "Correct-Horse-9-Battery";
/// How long to wait for a started server to answer `GET /health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for a message to appear in the outbox.
const OUTBOX_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Target
// ---------------------------------------------------------------------------------------------

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
    base_url: String,
    admin: AdminKeys,
    outbox: Box<dyn Outbox>,
    /// The server this harness started, if it started one; stopped on drop.
    server: Option<LocalServer>,
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

    // -- outbox -------------------------------------------------------------------------------

    /// Every message delivered for `pool_id` to `who` (a username or a destination address,
    /// compared case-insensitively), oldest first. Does not wait.
    pub async fn messages(&self, pool_id: &str, who: &str) -> Vec<OutboxMessage> {
        let all = match self.outbox.messages(pool_id).await {
            Ok(all) => all,
            Err(e) => panic!("cannot read the outbox: {e}"),
        };
        all.into_iter()
            .filter(|m| m.pool_id == pool_id && m.is_for(who))
            .collect()
    }

    /// The code in the newest message for `who` in `pool_id`, waiting (bounded) for one.
    pub async fn latest_code(&self, pool_id: &str, who: &str) -> String {
        self.code_after(pool_id, who, 0).await
    }

    /// The code in the newest message for `who`, waiting (bounded) until more than `seen`
    /// messages with a code exist: after a resend, pass the count from before it.
    pub async fn code_after(&self, pool_id: &str, who: &str, seen: usize) -> String {
        let deadline = Instant::now() + OUTBOX_TIMEOUT;
        loop {
            let codes = self.codes(pool_id, who).await;
            if codes.len() > seen
                && let Some(code) = codes.last()
            {
                return code.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "no new code for {who:?} in pool {pool_id} after {OUTBOX_TIMEOUT:?} \
                     ({} code(s) seen, wanted more than {seen})",
                    codes.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The codes delivered to `who` in `pool_id`, oldest first. Does not wait.
    pub async fn codes(&self, pool_id: &str, who: &str) -> Vec<String> {
        self.messages(pool_id, who)
            .await
            .into_iter()
            .filter_map(|m| m.code)
            .collect()
    }

    // -- tokens -------------------------------------------------------------------------------

    /// The pool's published keys, `GET <base>/<poolId>/.well-known/jwks.json`.
    pub async fn jwks(&self, pool_id: &str) -> Jwks {
        let url = format!("{}/{pool_id}/.well-known/jwks.json", self.base_url);
        let response = self.http().get(&url).send().await;
        let response = match response {
            Ok(r) => r,
            Err(e) => panic!("GET {url}: {e}"),
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status.as_u16(), 200, "GET {url}: {text}");
        let keys: JwkSet = match serde_json::from_str(&text) {
            Ok(keys) => keys,
            Err(e) => panic!("GET {url}: not a JWK set ({e}): {text}"),
        };
        Jwks {
            issuer: self.issuer(pool_id),
            keys,
        }
    }

    // -- fixtures -----------------------------------------------------------------------------

    /// Creates a pool named `<prefix>-<unique>` after `customize` adds its settings; returns its id.
    pub async fn create_pool(
        &self,
        prefix: &str,
        customize: impl FnOnce(CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder,
    ) -> String {
        let builder = self
            .admin_client()
            .create_user_pool()
            .pool_name(unique(prefix));
        let output = customize(builder).send().await;
        let output = ok(output, "CreateUserPool");
        let pool = output
            .user_pool
            .expect("CreateUserPool returned no UserPool");
        pool.id.expect("CreateUserPool returned a pool without Id")
    }

    /// The usual pool: Cognito's default password policy spelt out, email auto-verified, a
    /// `custom:tier` string attribute.
    pub async fn create_standard_pool(&self, prefix: &str) -> String {
        self.create_pool(prefix, standard_pool).await
    }

    /// Creates an app client after `customize` adds its settings.
    pub async fn create_client(
        &self,
        pool_id: &str,
        customize: impl FnOnce(CreateUserPoolClientFluentBuilder) -> CreateUserPoolClientFluentBuilder,
    ) -> AppClient {
        let builder = self
            .admin_client()
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(unique("client"));
        let output = ok(customize(builder).send().await, "CreateUserPoolClient");
        let client = output
            .user_pool_client
            .expect("CreateUserPoolClient returned no UserPoolClient");
        AppClient {
            pool_id: pool_id.to_owned(),
            id: client.client_id.expect("client without ClientId"),
            secret: client.client_secret,
        }
    }

    /// Every pool's `(id, name)`, following `NextToken` to the end.
    pub async fn all_pools(&self) -> Vec<(String, String)> {
        let admin = self.admin_client();
        let mut pools = Vec::new();
        let mut next_token: Option<String> = None;
        for _ in 0..10_000 {
            let output = ok(
                admin
                    .list_user_pools()
                    .max_results(60)
                    .set_next_token(next_token.take())
                    .send()
                    .await,
                "ListUserPools",
            );
            pools.extend(output.user_pools().iter().map(|p| {
                (
                    p.id().unwrap_or_default().to_owned(),
                    p.name().unwrap_or_default().to_owned(),
                )
            }));
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => return pools,
            }
        }
        panic!("ListUserPools never stopped returning NextToken");
    }

    /// A client without a secret allowing password, refresh and admin password sign-in.
    pub async fn create_password_client(&self, pool_id: &str) -> AppClient {
        self.create_client(pool_id, password_flows).await
    }

    /// A standard pool and a password client in it.
    pub async fn standard_setup(&self, prefix: &str) -> AppClient {
        let pool_id = self.create_standard_pool(prefix).await;
        self.create_password_client(&pool_id).await
    }

    /// `SignUp` with an email attribute through the public client (with `SECRET_HASH` when the
    /// client has a secret).
    pub async fn sign_up(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
        email: &str,
    ) -> SignUpOutput {
        let request = self
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(username)
            .password(password)
            .user_attributes(attribute("email", email))
            .set_secret_hash(client.secret_hash(username));
        ok(request.send().await, "SignUp")
    }

    /// Signs up and confirms with the code from the outbox; returns the code used.
    pub async fn sign_up_confirmed(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
        email: &str,
    ) -> String {
        self.sign_up(client, username, password, email).await;
        let code = self.latest_code(&client.pool_id, username).await;
        let confirm = self
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(username)
            .confirmation_code(&code)
            .set_secret_hash(client.secret_hash(username));
        ok(confirm.send().await, "ConfirmSignUp");
        code
    }

    /// `InitiateAuth` `USER_PASSWORD_AUTH`, expecting tokens.
    pub async fn password_sign_in(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> AuthenticationResultType {
        let output = ok(
            self.password_auth(client, username, password).send().await,
            "InitiateAuth USER_PASSWORD_AUTH",
        );
        output
            .authentication_result
            .expect("InitiateAuth returned no AuthenticationResult")
    }

    /// An `InitiateAuth` `USER_PASSWORD_AUTH` request, ready to send (with `SECRET_HASH` when
    /// the client has a secret).
    pub fn password_auth(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> cognito::operation::initiate_auth::builders::InitiateAuthFluentBuilder {
        let mut request = self
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password);
        if let Some(hash) = client.secret_hash(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        request
    }
}

fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!("COGNATE_BASE_URL is set, so {name} must be set too (the server's admin key pair)")
    })
}

/// An app client as the scenarios need it.
#[derive(Debug, Clone)]
pub struct AppClient {
    pub pool_id: String,
    pub id: String,
    pub secret: Option<String>,
}

impl AppClient {
    /// `SECRET_HASH` for `username`, if this client has a secret.
    pub fn secret_hash(&self, username: &str) -> Option<String> {
        self.secret
            .as_deref()
            .map(|secret| secret_hash(secret, username, &self.id))
    }
}

/// Cognito's `SECRET_HASH`: base64(HMAC-SHA256(key = client secret, message = username + client id)).
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    use hmac::{KeyInit, Mac as _};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    Base64::encode_string(&mac.finalize().into_bytes())
}

/// Cognito's default password policy, email auto-verified, and a `custom:tier` attribute.
pub fn standard_pool(builder: CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder {
    builder
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(8)
                        .require_uppercase(true)
                        .require_lowercase(true)
                        .require_numbers(true)
                        .require_symbols(true)
                        .build(),
                )
                .build(),
        )
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .schema(
            SchemaAttributeType::builder()
                .name("tier")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .min_length("1")
                        .max_length("32")
                        .build(),
                )
                .build(),
        )
}

/// Explicit auth flows: password, refresh and admin password sign-in.
pub fn password_flows(
    builder: CreateUserPoolClientFluentBuilder,
) -> CreateUserPoolClientFluentBuilder {
    builder
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
}

/// A user attribute.
pub fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute with a name")
}

/// The value of `name` among `attributes`.
pub fn attribute_value<'a>(attributes: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

/// A name no other scenario (in this or another test binary, now or in an earlier run against
/// the same remote target) uses: `<prefix>-<pid><time><counter>`, lowercase alphanumerics.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{:x}{:x}{n}",
        std::process::id(),
        nanos % 0xffff_ffff
    )
}

/// A unique email address at example.com.
pub fn unique_email(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

// ---------------------------------------------------------------------------------------------
// SDK results
// ---------------------------------------------------------------------------------------------

/// The success value, or a panic naming the operation and the whole error chain.
pub fn ok<T, E, R>(result: Result<T, SdkError<E, R>>, what: &str) -> T
where
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what} failed: {}", DisplayErrorContext(&e)),
    }
}

/// The modelled (or unhandled) service error; panics if the call succeeded or never got an
/// answer from the service (dispatch failure, timeout, unparsable response).
pub fn service_error<T, E, R>(result: Result<T, SdkError<E, R>>, what: &str) -> E
where
    T: fmt::Debug,
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    match result {
        Ok(value) => panic!("{what} succeeded but should have failed: {value:?}"),
        Err(SdkError::ServiceError(context)) => context.into_err(),
        Err(e) => panic!(
            "{what} should have failed with a service error, got: {}",
            DisplayErrorContext(&e)
        ),
    }
}

/// `DisplayErrorContext` of an error, for assertion messages.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    DisplayErrorContext(error).to_string()
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------------

/// A response read whole.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl RawResponse {
    async fn read(response: reqwest::Result<reqwest::Response>) -> RawResponse {
        let response = match response {
            Ok(r) => r,
            Err(e) => panic!("request failed without a response: {e}"),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        RawResponse {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The body's `__type`, reduced to the bare exception name (`a.b#NameException` →
    /// `NameException`), falling back to the `x-amzn-errortype` header.
    pub fn error_type(&self) -> Option<String> {
        let from_body = self
            .json()
            .and_then(|v| v.get("__type").and_then(Value::as_str).map(bare_error_name));
        from_body.or_else(|| self.header("x-amzn-errortype").map(bare_error_name))
    }

    /// The body's `message` (or `Message`).
    pub fn message(&self) -> Option<String> {
        let json = self.json()?;
        json.get("message")
            .or_else(|| json.get("Message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Display for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body: String = self.body.chars().take(2000).collect();
        write!(f, "HTTP {} {:?} {body}", self.status, self.headers)
    }
}

/// `com.amazonaws...#NameException` or `NameException:http://...` → `NameException`.
pub fn bare_error_name(raw: &str) -> String {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash
        .split(':')
        .next()
        .unwrap_or(after_hash)
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// Which token a JWT is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    pub fn claim(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

/// A pool's JWKS and issuer: verifies tokens as any relying party would.
#[derive(Debug, Clone)]
pub struct Jwks {
    pub issuer: String,
    pub keys: JwkSet,
}

impl Jwks {
    /// Verifies an ID token for `client_id`: RS256 under the key named by `kid`, `iss`,
    /// `exp`, `aud` = client id, `token_use` = `id`. Returns its claims.
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        self.verify(token, TokenUse::Id, client_id)
    }

    /// Verifies an access token for `client_id`: as for ID tokens, with `client_id` in place
    /// of `aud` and `token_use` = `access`.
    pub fn verify_access_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        self.verify(token, TokenUse::Access, client_id)
    }

    pub fn verify(
        &self,
        token: &str,
        token_use: TokenUse,
        client_id: &str,
    ) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        if header.alg != Algorithm::RS256 {
            return Err(format!("alg is {:?}, not RS256", header.alg));
        }
        let kid = header.kid.ok_or("the token's header has no kid")?;
        let jwk = self
            .keys
            .find(&kid)
            .ok_or_else(|| format!("no key with kid {kid:?} in the JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWK {kid:?}: {e}"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match token_use {
            TokenUse::Id => validation.set_audience(&[client_id]),
            // Access tokens carry `client_id`, not `aud`; checked below.
            TokenUse::Access => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| format!("verification failed: {e}"))?;
        let claims = data.claims;
        let claimed_use = claims.get("token_use").and_then(Value::as_str);
        if claimed_use != Some(token_use.claim()) {
            return Err(format!(
                "token_use is {claimed_use:?}, expected {:?}",
                token_use.claim()
            ));
        }
        if token_use == TokenUse::Access {
            let claimed_client = claims.get("client_id").and_then(Value::as_str);
            if claimed_client != Some(client_id) {
                return Err(format!(
                    "client_id is {claimed_client:?}, expected {client_id:?}"
                ));
            }
        }
        Ok(claims)
    }
}

/// A JWT's three parts.
#[derive(Debug, Clone)]
pub struct JwtParts {
    pub header: String,
    pub payload: String,
    pub signature: String,
}

impl JwtParts {
    pub fn split(token: &str) -> JwtParts {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "not a JWS compact serialisation: {token}");
        JwtParts {
            header: parts[0].to_owned(),
            payload: parts[1].to_owned(),
            signature: parts[2].to_owned(),
        }
    }

    pub fn join(&self) -> String {
        format!("{}.{}.{}", self.header, self.payload, self.signature)
    }

    pub fn header_json(&self) -> Map<String, Value> {
        decode_json_part(&self.header)
    }

    pub fn payload_json(&self) -> Map<String, Value> {
        decode_json_part(&self.payload)
    }
}

/// Decodes one base64url JSON part of a JWT.
pub fn decode_json_part(part: &str) -> Map<String, Value> {
    let bytes = Base64UrlUnpadded::decode_vec(part).expect("a JWT part is base64url");
    serde_json::from_slice(&bytes).expect("a JWT part is a JSON object")
}

/// Encodes a JSON object as one base64url JWT part.
pub fn encode_json_part(value: &Map<String, Value>) -> String {
    let bytes = serde_json::to_vec(value).expect("JSON serialises");
    Base64UrlUnpadded::encode_string(&bytes)
}

/// `s` with the character at `index` replaced by a different base64url character.
pub fn flip_char(s: &str, index: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let c = chars[index];
    chars[index] = if c == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

/// A boxed future, `Send` so scenarios may run on any runtime flavour.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a target's outgoing messages (confirmation codes, ...) can be read. The host writes
/// them to `<data dir>/outbox.jsonl` ([`JsonLinesOutbox`]); another target supplies its own.
pub trait Outbox: Send + Sync + fmt::Debug {
    /// Every message sent so far for `pool_id` (others may be included), oldest first.
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>>;
}

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub pool_id: String,
    pub username: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    pub destination: String,
    /// What it is for, e.g. `SignUp`, `ResendCode`.
    pub purpose: String,
    pub subject: String,
    pub body: String,
    /// The code it carries, if any.
    pub code: Option<String>,
}

impl OutboxMessage {
    /// Parses one outbox line: `{pool_id, username, medium, destination, purpose, subject,
    /// body, code}`.
    pub fn from_json(value: &Value) -> Result<OutboxMessage, String> {
        let text = |field: &str| -> String {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let pool_id = text("pool_id");
        if pool_id.is_empty() {
            return Err(format!("outbox line without pool_id: {value}"));
        }
        let code = Some(text("code")).filter(|c| !c.is_empty());
        Ok(OutboxMessage {
            pool_id,
            username: text("username"),
            medium: text("medium"),
            destination: text("destination"),
            purpose: text("purpose"),
            subject: text("subject"),
            body: text("body"),
            code,
        })
    }

    /// Whether this message is addressed to `who`: its username or its destination.
    pub fn is_for(&self, who: &str) -> bool {
        self.username.eq_ignore_ascii_case(who) || self.destination.eq_ignore_ascii_case(who)
    }
}

/// An outbox in a JSON-lines file (the host's `<data dir>/outbox.jsonl`).
#[derive(Debug, Clone)]
pub struct JsonLinesOutbox {
    path: PathBuf,
}

impl JsonLinesOutbox {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Outbox for JsonLinesOutbox {
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async move {
            let text = match tokio::fs::read_to_string(&self.path).await {
                Ok(text) => text,
                // Nothing sent yet.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(format!("{}: {e}", self.path.display())),
            };
            let mut messages = Vec::new();
            // Only complete lines: the writer may be half-way through the last one.
            let complete = match text.rfind('\n') {
                Some(end) => &text[..end],
                None => "",
            };
            for line in complete.lines().filter(|l| !l.trim().is_empty()) {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{}: bad line ({e}): {line}", self.path.display()))?;
                let message = OutboxMessage::from_json(&value)?;
                if message.pool_id == pool_id {
                    messages.push(message);
                }
            }
            Ok(messages)
        })
    }
}

// -- edge: an outbox served over HTTP ----------------------------------------------------------

/// An outbox served as JSON lines over HTTP (the edge Worker's test-only route
/// `GET /__cognate/test/outbox?pool=<poolId>`), authenticated with `x-cognate-test-key`.
#[derive(Clone)]
pub struct HttpOutbox {
    url: String,
    test_key: Option<String>,
}

impl fmt::Debug for HttpOutbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOutbox")
            .field("url", &self.url)
            .field("test_key", &self.test_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HttpOutbox {
    pub fn new(url: &str, test_key: Option<String>) -> Self {
        Self {
            url: url.to_owned(),
            test_key,
        }
    }
}

impl Outbox for HttpOutbox {
    fn messages<'a>(
        &'a self,
        pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| e.to_string())?;
            let mut request = client.get(&self.url).query(&[("pool", pool_id)]);
            if let Some(key) = &self.test_key {
                request = request.header("x-cognate-test-key", key);
            }
            let response = request
                .send()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("GET {}: HTTP {status}: {text}", self.url));
            }
            let mut messages = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let value: Value = serde_json::from_str(line)
                    .map_err(|e| format!("{}: bad line ({e}): {line}", self.url))?;
                let message = OutboxMessage::from_json(&value)?;
                if message.pool_id == pool_id {
                    messages.push(message);
                }
            }
            Ok(messages)
        })
    }
}

/// A target whose messages cannot be read: scenarios that need a code fail saying so.
#[derive(Debug, Clone, Copy)]
pub struct NoOutbox;

impl Outbox for NoOutbox {
    fn messages<'a>(
        &'a self,
        _pool_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>, String>> {
        Box::pin(async {
            Err(
                "this target has no readable outbox: set COGNATE_OUTBOX_FILE or \
                 COGNATE_OUTBOX_URL, or build the target with Target::remote and an Outbox for it"
                    .to_owned(),
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The local server
// ---------------------------------------------------------------------------------------------

/// The watchdog: runs the server with fd 3 open on a pipe from this process; when the pipe
/// closes (this process dropped the target or exited, in any way), it stops the server and
/// removes the scratch directory. `$1` is the scratch directory, the rest the server command.
const WATCHDOG: &str = r#"
dir="$1"; shift
exec 3<&0
"$@" 3<&- </dev/null &
pid=$!
echo "$pid" >"$dir/server.pid"
(
  read -r _ <&3
  kill -TERM "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  [ -n "$COGNATE_TEST_KEEP_DATA" ] || rm -rf "$dir"
) &
exec 3<&-
wait "$pid"
"#;

/// A `cognate serve` child process, stopped when dropped.
struct LocalServer {
    addr: SocketAddr,
    scratch: PathBuf,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// The watchdog shell and the pipe that keeps the server alive.
    process: Mutex<Option<(Child, ChildStdin)>>,
}

impl fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl LocalServer {
    fn start(store: Option<&str>) -> Result<LocalServer, String> {
        let binary = host_binary()?;
        // Another process may take the free port between our probe and the server's bind:
        // try again on a fresh port if the server exits before it is healthy.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::start_once(&binary, store) {
                Ok(server) => return Ok(server),
                Err(StartError::Exited(message)) => failures.push(message),
                Err(StartError::Fatal(message)) => return Err(message),
            }
        }
        Err(failures.join("\n---\n"))
    }

    fn start_once(binary: &Path, store: Option<&str>) -> Result<LocalServer, StartError> {
        let scratch = tempfile::Builder::new()
            .prefix("cognate-e2e-")
            .tempdir()
            .map_err(|e| StartError::Fatal(format!("cannot create a temporary directory: {e}")))?
            .keep();
        let data_dir = scratch.join("data");
        let log_path = scratch.join("server.log");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| StartError::Fatal(format!("{}: {e}", data_dir.display())))?;
        let log = std::fs::File::create(&log_path)
            .map_err(|e| StartError::Fatal(format!("{}: {e}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError::Fatal(format!("{}: {e}", log_path.display())))?;
        let addr = free_port().map_err(StartError::Fatal)?;

        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("cognate-watchdog")
            .arg(&scratch)
            .arg(binary)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data")
            .arg(&data_dir)
            .arg("--no-demo");
        if let Some(store) = store {
            command.arg("--store").arg(store);
        }
        let spawned = command
            // Custom sender plugins' deliveries (the example posts to mail.example.com).
            .env("COGNATE_PLUGIN_DELIVERY_HOSTS", "mail.example.com")
            // Every server shares one cache of the compiled Wasm core (compiling it takes
            // seconds); `COGNATE_ENGINE` (wasm or native), if set, passes through to the server.
            .env(
                "COGNATE_CACHE_DIR",
                std::env::var_os("COGNATE_CACHE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| engine_cache_dir(binary)),
            )
            .env("COGNATE_ADMIN_ACCESS_KEY_ID", TEST_ADMIN_ACCESS_KEY_ID)
            .env(
                "COGNATE_ADMIN_SECRET_ACCESS_KEY",
                TEST_ADMIN_SECRET_ACCESS_KEY,
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&scratch);
                return Err(StartError::Fatal(format!(
                    "cannot run sh for {}: {e}",
                    binary.display()
                )));
            }
        };
        let Some(stdin) = child.stdin.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Fatal(
                "the watchdog has no stdin pipe".to_owned(),
            ));
        };
        let server = LocalServer {
            addr,
            scratch,
            data_dir,
            log_path,
            process: Mutex::new(Some((child, stdin))),
        };

        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if health_ok(addr) {
                return Ok(server);
            }
            if let Some(status) = server.exit_status() {
                let message = format!(
                    "{} serve --listen {addr} exited ({status}) before GET /health answered 200; \
                     its output:\n{}",
                    binary.display(),
                    server.log()
                );
                drop(server);
                return Err(StartError::Exited(message));
            }
            if Instant::now() > deadline {
                let message = format!(
                    "{} serve --listen {addr}: GET /health did not answer 200 within {STARTUP_TIMEOUT:?}; \
                     its output:\n{}",
                    binary.display(),
                    server.log()
                );
                drop(server);
                return Err(StartError::Fatal(message));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The watchdog's exit status, if the server has exited.
    fn exit_status(&self) -> Option<std::process::ExitStatus> {
        let mut guard = self.process.lock().unwrap_or_else(|e| e.into_inner());
        let (child, _) = guard.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// SIGKILL to the server itself (not the watchdog), then waits for the watchdog to see it.
    fn kill_hard(&self) {
        let pid = std::fs::read_to_string(self.scratch.join("server.pid"))
            .expect("the watchdog wrote no server.pid");
        let status = Command::new("kill")
            .arg("-KILL")
            .arg(pid.trim())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -KILL {} failed", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.exit_status().is_none() {
            assert!(Instant::now() < deadline, "the killed server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let taken = self
            .process
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((mut child, stdin)) = taken else {
            return;
        };
        // Closing the pipe tells the watchdog to stop the server (it escalates to SIGKILL).
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if std::env::var_os("COGNATE_TEST_KEEP_DATA").is_some() {
            eprintln!("cognate-tests: kept {}", self.scratch.display());
        }
    }
}

enum StartError {
    /// The server exited early; another port may work.
    Exited(String),
    Fatal(String),
}

/// The host binary: `COGNATE_BIN`, else `cognate` in the test executable's profile directory
/// (`target/<profile>/deps/<test>-<hash>` → `target/<profile>/cognate`).
pub fn host_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("COGNATE_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("COGNATE_BIN={} is not a file", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected test executable path {}", exe.display()))?;
    let binary = profile_dir.join(format!("cognate{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "the host binary {} does not exist: run `cargo build -p cognate-host` (same profile) \
             before the end-to-end tests, or set COGNATE_BIN, or COGNATE_BASE_URL for a running server",
            binary.display()
        ))
    }
}

/// The compiled Wasm core's cache for test servers: beside the host binary, so it lives as long
/// as the build that made it.
fn engine_cache_dir(binary: &Path) -> PathBuf {
    binary
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("cognate-test-cache")
}

/// The store for a server this harness starts: `None` (the server's default, SQLite in its
/// data directory) unless `COGNATE_TEST_STORE` names a PostgreSQL server, on which a fresh
/// database is created for it.
fn test_store() -> Result<Option<String>, String> {
    match std::env::var("COGNATE_TEST_STORE") {
        Ok(url) if !url.trim().is_empty() && !url.trim().eq_ignore_ascii_case("sqlite") => {
            fresh_postgres_database(url.trim()).map(Some)
        }
        _ => Ok(None),
    }
}

/// Creates a new, empty database on the PostgreSQL server `admin_url` points at (its role must
/// be allowed to create databases) and returns the URL naming it.
pub fn fresh_postgres_database(admin_url: &str) -> Result<String, String> {
    let name = unique("cognate_test")
        .to_ascii_lowercase()
        .replace('-', "_");
    let admin_url = admin_url.to_owned();
    // Its own thread and runtime: callers may be inside a runtime, where blocking on another
    // would panic.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect to COGNATE_TEST_STORE: {e}"))?;
            let driver = tokio::spawn(connection);
            let created = client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .map_err(|e| format!("cannot create database {name}: {e}"));
            drop(client);
            let _ = driver.await;
            created
        })?;
        Ok(postgres_url_with_database(&admin_url, &name))
    })
    .join()
    .map_err(|_| "the database creation thread panicked".to_owned())?
}

/// `url` naming the database `name` instead of its own.
pub fn postgres_url_with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A loopback address with a port nothing listens on right now.
fn free_port() -> Result<SocketAddr, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))
}

/// `GET /health` answered 200, over a plain socket (no async runtime needed).
fn health_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => read += n,
        }
    }
    head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200")
}

#[cfg(test)]
mod tests {
    //! The harness's own helpers, checked without a server.

    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    use serde_json::json;

    const ISSUER: &str = "http://127.0.0.1:9229/us-east-1_AbCdEf123";
    const CLIENT: &str = "abcdefghijklmnopqrstuvwxyz";

    fn new_key() -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key")
    }

    fn jwks_of(key: &rsa::RsaPrivateKey, kid: &str) -> Jwks {
        let n = Base64UrlUnpadded::encode_string(&key.n().to_bytes_be());
        let e = Base64UrlUnpadded::encode_string(&key.e().to_bytes_be());
        let keys = serde_json::from_value(json!({"keys": [
            {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": n, "e": e}
        ]}))
        .expect("JWK set");
        Jwks {
            issuer: ISSUER.to_owned(),
            keys,
        }
    }

    fn sign(key: &rsa::RsaPrivateKey, kid: &str, claims: &Value) -> String {
        let der = key.to_pkcs1_der().expect("DER");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes()))
            .expect("sign")
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn id_claims() -> Value {
        json!({"sub": "s", "iss": ISSUER, "aud": CLIENT, "token_use": "id",
               "iat": now(), "exp": now() + 3600})
    }

    fn access_claims() -> Value {
        json!({"sub": "s", "iss": ISSUER, "client_id": CLIENT, "token_use": "access",
               "iat": now(), "exp": now() + 3600})
    }

    #[test]
    fn jwks_verify_accepts_good_tokens_and_refuses_bad_ones() {
        let key = new_key();
        let jwks = jwks_of(&key, "k1");
        let id = sign(&key, "k1", &id_claims());
        let access = sign(&key, "k1", &access_claims());
        jwks.verify_id_token(&id, CLIENT).expect("good ID token");
        jwks.verify_access_token(&access, CLIENT)
            .expect("good access token");

        assert!(
            jwks.verify_access_token(&id, CLIENT).is_err(),
            "ID token as access"
        );
        assert!(
            jwks.verify_id_token(&access, CLIENT).is_err(),
            "access token as ID"
        );
        assert!(
            jwks.verify_id_token(&id, "otherclient").is_err(),
            "wrong aud"
        );
        assert!(
            jwks.verify_access_token(&access, "otherclient").is_err(),
            "wrong client_id"
        );

        let mut claims = id_claims();
        claims["iss"] = json!("http://elsewhere/us-east-1_AbCdEf123");
        assert!(
            jwks.verify_id_token(&sign(&key, "k1", &claims), CLIENT)
                .is_err(),
            "wrong iss"
        );
        let mut claims = id_claims();
        claims["exp"] = json!(now() - 3600);
        assert!(
            jwks.verify_id_token(&sign(&key, "k1", &claims), CLIENT)
                .is_err(),
            "expired"
        );
        assert!(
            jwks.verify_id_token(&sign(&key, "k2", &id_claims()), CLIENT)
                .is_err(),
            "unknown kid"
        );
        let other = new_key();
        assert!(
            jwks.verify_id_token(&sign(&other, "k1", &id_claims()), CLIENT)
                .is_err(),
            "other key"
        );

        let mut parts = JwtParts::split(&id);
        let mut header = parts.header_json();
        header.insert("alg".into(), json!("none"));
        parts.header = encode_json_part(&header);
        parts.signature = String::new();
        assert!(
            jwks.verify_id_token(&parts.join(), CLIENT).is_err(),
            "alg none"
        );

        let mut parts = JwtParts::split(&id);
        parts.signature = flip_char(&parts.signature, parts.signature.len() / 2);
        assert!(
            jwks.verify_id_token(&parts.join(), CLIENT).is_err(),
            "flipped signature"
        );
    }

    #[test]
    fn secret_hash_matches_an_independent_computation() {
        // base64(HMAC-SHA256(key "secret", "user" + "client")), computed with Python's hmac.
        assert_eq!(
            secret_hash("secret", "user", "client"),
            "wvW87lzZoI+qQCVGmWVBJLlucdJ65huAVP1z+0MgA6E="
        );
    }

    #[test]
    fn error_names_are_reduced_to_the_exception() {
        assert_eq!(
            bare_error_name("NotAuthorizedException"),
            "NotAuthorizedException"
        );
        assert_eq!(
            bare_error_name("com.amazonaws.cognito#NotAuthorizedException"),
            "NotAuthorizedException"
        );
        assert_eq!(
            bare_error_name(
                "NotAuthorizedException:http://internal.amazon.com/coral/com.amazonaws.cognito/"
            ),
            "NotAuthorizedException"
        );
    }

    #[test]
    fn flip_char_changes_exactly_one_character() {
        assert_eq!(flip_char("xAy", 1), "xBy");
        assert_eq!(flip_char("xzy", 1), "xAy");
    }

    #[tokio::test]
    async fn the_jsonl_outbox_reads_complete_lines_of_one_pool() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("outbox.jsonl");
        let line = |pool: &str, user: &str, code: &str| {
            json!({"pool_id": pool, "username": user, "medium": "EMAIL",
                   "destination": format!("{user}@example.com"), "purpose": "SignUp",
                   "subject": "Your code", "body": format!("Your code is {code}"), "code": code})
            .to_string()
        };
        let text = format!(
            "{}\n{}\n{}\n{{\"pool_id\": \"p1\", \"usern",
            line("p1", "ann", "111111"),
            line("p2", "ann", "222222"),
            line("p1", "Ann", "333333"),
        );
        std::fs::write(&path, text).expect("write");
        let outbox = JsonLinesOutbox::new(path.clone());
        let messages = outbox.messages("p1").await.expect("messages");
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[1].code.as_deref(), Some("333333"));
        assert!(messages[1].is_for("ann"));
        assert!(messages[1].is_for("ANN@example.com"));
        assert!(!messages[1].is_for("bob"));

        let missing = JsonLinesOutbox::new(dir.path().join("none.jsonl"));
        assert!(missing.messages("p1").await.expect("no file").is_empty());
        std::fs::write(&path, "not json\n").expect("write");
        assert!(outbox.messages("p1").await.is_err());
    }
}
