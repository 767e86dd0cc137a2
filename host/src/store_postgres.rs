//! The PostgreSQL engine: the store for several `cognate` processes on one database (issue 21).
//!
//! One table, `cognate_kv (key BYTEA PRIMARY KEY, value BYTEA, version BIGINT)`, and one sequence
//! that issues versions. Every operation is ONE autocommit statement, so the database's own
//! row locking makes it atomic and linearizable on its key, whichever process sends it:
//!
//! - create-only put: `INSERT ... ON CONFLICT (key) DO NOTHING RETURNING version` (no row back:
//!   the key exists, `Conflict`);
//! - compare-and-set put: `UPDATE ... WHERE key = $1 AND version = $3 RETURNING version`;
//! - unconditional put: `INSERT ... ON CONFLICT (key) DO UPDATE SET ... RETURNING version`;
//! - conditional delete: `DELETE ... WHERE key = $1 AND version = $2`;
//! - prefix scans: an index range on the primary key (`key >= prefix AND key < bound`), never
//!   `LIKE`.
//!
//! Versions come from the sequence `cognate_kv_version`: never issued twice (sequences do not
//! roll back), across keys, deletes, restarts and processes. An update takes its version in the
//! `SET` clause, evaluated after the row is locked, so a key's version only ever grows.
//!
//! Keys are BYTEA: PostgreSQL compares BYTEA bytewise, exactly the order the contract requires
//! (and SQLite's BLOB order), independent of the database's collation.
//!
//! No advisory locks, no explicit transactions, no PostgreSQL-only functions beyond sequences:
//! the statements are the ones CockroachDB and YugabyteDB run too (not tested here). A
//! serialization failure or deadlock (which such databases may report for a single statement)
//! is retried; any other database error is [`StoreError::Unavailable`] with a log line, which the
//! core answers as a retryable 5xx (`InternalErrorException`). A statement that failed never
//! leaves a half-written record: each one commits whole or not at all.
//!
//! The schema is created (or migrated) on the first connection that succeeds, so a host started
//! while the database is down serves errors until it returns, then recovers without a restart.

use std::fmt;
use std::str::FromStr as _;
use std::time::Duration;

use cognate_core::ports::{BoxFuture, boxed};
use cognate_core::store::{MAX_KEY_LEN, MAX_SCAN_LIMIT, check_limits};
use cognate_core::{Expect, Page, Store, StoreError, Versioned};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// The schema version this build writes. A database at a newer version is refused.
pub const SCHEMA_VERSION: i64 = 1;
/// Connections one process keeps at most.
pub const DEFAULT_POOL_SIZE: usize = 16;
/// How long a request waits for a free connection, or for a new one to open.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one statement may take before the request gets a retryable error.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts for a statement the database aborted as a serialization failure or deadlock.
const MAX_ATTEMPTS: u32 = 5;

/// Idempotent: every host runs it at start; racing hosts are fine (a lost race on `CREATE ...
/// IF NOT EXISTS` is a unique violation, retried).
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cognate_kv (
        key BYTEA PRIMARY KEY,
        value BYTEA NOT NULL,
        version BIGINT NOT NULL
    )",
    "CREATE SEQUENCE IF NOT EXISTS cognate_kv_version",
    "CREATE TABLE IF NOT EXISTS cognate_meta (
        name TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    )",
];

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A [`Store`] on a PostgreSQL database, through a pool of connections. Cheap to clone.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// `host:port/dbname`, for logs (never the password).
    target: String,
    schema_ready: std::sync::Arc<tokio::sync::OnceCell<()>>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `host:port/dbname` of a connection config, without user or password.
fn describe(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

/// Splits libpq's `sslrootcert=PATH` off the URL's query (tokio-postgres does not know it).
fn take_root_cert(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut root_cert = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(path) => {
                root_cert = Some(path.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, root_cert)
}

/// The TLS connector for `sslmode=require`: rustls, trusting Mozilla's roots and the
/// `sslrootcert` file if given, and always checking the certificate chain and the host name
/// (libpq's `verify-full`: a database that cannot prove who it is gets no password). Other modes
/// connect in plain text (`prefer`, the default, does not fall back to an unchecked TLS).
fn tls_for(
    config: &tokio_postgres::Config,
    root_cert: Option<&str>,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    if config.get_ssl_mode() != tokio_postgres::config::SslMode::Require {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = root_cert {
        let unreadable = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!("postgres: sslrootcert {path}: {e}"))
        };
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
            roots
                .add(cert.map_err(|e| unreadable(&e))?)
                .map_err(|e| unreadable(&e))?;
        }
    }
    // ring, as the delivery transports' TLS (RS256 signing is aws-lc-rs's, host/src/jws.rs);
    // rustls deprecates the constructor only to point at aws-lc-rs's post-quantum key exchange,
    // which would add that key exchange too.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("postgres: TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)))
}

impl PostgresStore {
    /// A store for the database at `url` (`postgres://user:password@host:port/dbname?...`).
    /// Opens no connection yet: see [`connect`](Self::connect).
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Self::with_pool_size(url, DEFAULT_POOL_SIZE)
    }

    /// [`new`](Self::new) with at most `max_connections` connections.
    pub fn with_pool_size(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let (url, root_cert) = take_root_cert(url.trim());
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| StoreError::Unavailable(format!("postgres: invalid database URL: {e}")))?;
        let tls = tls_for(&config, root_cert.as_deref())?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("cognate");
        }
        // Dead peers (a database host that vanished) are noticed instead of hanging.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let target = describe(&config);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls {
            Some(tls) => Manager::from_config(config, tls, manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| {
                StoreError::Unavailable(format!("postgres: cannot build the pool: {e}"))
            })?;
        Ok(Self {
            pool,
            target,
            schema_ready: std::sync::Arc::default(),
        })
    }

    /// `host:port/dbname`: where the store is, without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Connects and creates or migrates the schema: what a host does at start. An error here
    /// (the database is down) is not final: every operation tries again.
    pub async fn connect(&self) -> Result<(), StoreError> {
        self.client().await.map(drop)
    }

    /// A pooled connection, with the schema in place.
    async fn client(&self) -> Result<Object, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| self.unavailable_because("cannot connect", &e))?;
        if self.schema_ready.initialized() {
            return Ok(client);
        }
        self.schema_ready
            .get_or_try_init(|| self.migrate(&client))
            .await?;
        Ok(client)
    }

    async fn migrate(&self, client: &Object) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.migrate_once(client).await {
                Ok(()) => return Ok(()),
                // Two hosts creating the schema at once: one loses with a unique violation.
                Err(MigrateError::Db(e)) if attempt < MAX_ATTEMPTS && is_race(&e) => {}
                Err(MigrateError::Db(e)) => {
                    return Err(self.unavailable_because("cannot create the schema", &e));
                }
                Err(MigrateError::Refused(why)) => {
                    tracing::error!(target: "cognate::store", database = %self.target, "{why}");
                    return Err(StoreError::Unavailable(format!("postgres: {why}")));
                }
            }
        }
    }

    async fn migrate_once(&self, client: &Object) -> Result<(), MigrateError> {
        for statement in SCHEMA {
            client.batch_execute(statement).await?;
        }
        client
            .execute(
                "INSERT INTO cognate_meta (name, value) VALUES ('schema_version', $1)
                 ON CONFLICT (name) DO NOTHING",
                &[&SCHEMA_VERSION],
            )
            .await?;
        let found: i64 = client
            .query_one(
                "SELECT value FROM cognate_meta WHERE name = 'schema_version'",
                &[],
            )
            .await?
            .try_get(0)?;
        if found > SCHEMA_VERSION {
            return Err(MigrateError::Refused(format!(
                "the database's schema is version {found}, newer than this cognate's \
                 {SCHEMA_VERSION}: upgrade cognate"
            )));
        }
        // Migrations from older versions go here, each one statement guarded by the version.
        tracing::info!(target: "cognate::store", database = %self.target, schema_version = found, "PostgreSQL store ready");
        Ok(())
    }

    /// Logs a database error (with its causes) and turns it into the retryable
    /// [`StoreError::Unavailable`]. The error's text reaches API clients inside
    /// `InternalErrorException`, so it names what failed, not where the database is: the log
    /// line has the details.
    fn unavailable(&self, what: &str, error: &dyn fmt::Display) -> StoreError {
        tracing::warn!(target: "cognate::store", database = %self.target, %error, "postgres: {what}");
        StoreError::Unavailable(format!("postgres: {what} (details in the host's log)"))
    }

    fn unavailable_because(&self, what: &str, error: &dyn std::error::Error) -> StoreError {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        self.unavailable(what, &text)
    }

    /// Runs one statement on a pooled connection, within [`STATEMENT_TIMEOUT`], retrying
    /// serialization failures and deadlocks; its rows.
    async fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::time::timeout(STATEMENT_TIMEOUT, async {
                let client = self.client().await?;
                let rows = match client.prepare_cached(sql).await {
                    Ok(statement) => client.query(&statement, params).await,
                    Err(e) => Err(e),
                };
                Ok::<_, StoreError>(rows)
            })
            .await;
            match result {
                Err(_) => {
                    return Err(self.unavailable(
                        what,
                        &format_args!("no answer within {STATEMENT_TIMEOUT:?}"),
                    ));
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Ok(rows))) => return Ok(rows),
                Ok(Ok(Err(e))) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(target: "cognate::store", error = %e, attempt, "postgres: retrying {what}");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                }
                Ok(Ok(Err(e))) => return Err(self.unavailable_because(what, &e)),
            }
        }
    }

    /// [`query`](Self::query) for at most one row.
    async fn query_opt(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(what, sql, params).await?.into_iter().next())
    }
}

enum MigrateError {
    Db(tokio_postgres::Error),
    Refused(String),
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

fn is_retryable(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn is_race(error: &tokio_postgres::Error) -> bool {
    is_retryable(error)
        || matches!(
            error.code(),
            Some(code) if *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::DUPLICATE_TABLE
                || *code == SqlState::DUPLICATE_OBJECT
        )
}

fn to_version(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored)
        .ok()
        .filter(|v| *v != 0)
        .ok_or_else(|| StoreError::Unavailable(format!("postgres: corrupt version {stored}")))
}

/// A version as the database holds it; one no write could have issued matches nothing.
fn to_stored(version: u64) -> Option<i64> {
    i64::try_from(version).ok()
}

fn scan_sql(inclusive: bool, bounded: bool) -> &'static str {
    match (inclusive, bounded) {
        (true, true) => {
            "SELECT key, value, version FROM cognate_kv WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3"
        }
        (false, true) => {
            "SELECT key, value, version FROM cognate_kv WHERE key > $1 AND key < $2 ORDER BY key LIMIT $3"
        }
        (true, false) => {
            "SELECT key, value, version FROM cognate_kv WHERE key >= $1 ORDER BY key LIMIT $2"
        }
        (false, false) => {
            "SELECT key, value, version FROM cognate_kv WHERE key > $1 ORDER BY key LIMIT $2"
        }
    }
}

const GET_SQL: &str = "SELECT value, version FROM cognate_kv WHERE key = $1";
const GET_MANY_SQL: &str = "SELECT key, value, version FROM cognate_kv WHERE key = ANY($1)";
const PUT_ANY_SQL: &str = "INSERT INTO cognate_kv (key, value, version)
     VALUES ($1, $2, nextval('cognate_kv_version'))
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = nextval('cognate_kv_version')
     RETURNING version";
const PUT_ABSENT_SQL: &str = "INSERT INTO cognate_kv (key, value, version)
     VALUES ($1, $2, nextval('cognate_kv_version'))
     ON CONFLICT (key) DO NOTHING
     RETURNING version";
const PUT_VERSION_SQL: &str =
    "UPDATE cognate_kv SET value = $2, version = nextval('cognate_kv_version')
     WHERE key = $1 AND version = $3
     RETURNING version";
const DELETE_ANY_SQL: &str = "DELETE FROM cognate_kv WHERE key = $1";
const DELETE_VERSION_SQL: &str =
    "DELETE FROM cognate_kv WHERE key = $1 AND version = $2 RETURNING version";
const EXISTS_SQL: &str = "SELECT 1 FROM cognate_kv WHERE key = $1";

impl Store for PostgresStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Versioned>, StoreError>> {
        boxed(async move {
            if key.len() > MAX_KEY_LEN {
                return Ok(None);
            }
            let key = key.as_bytes();
            let row = self.query_opt("get", GET_SQL, &[&key]).await?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let value: Vec<u8> = row.try_get(0).map_err(|e| self.unavailable("get", &e))?;
                    let version: i64 = row.try_get(1).map_err(|e| self.unavailable("get", &e))?;
                    Ok(Some(Versioned {
                        value,
                        version: to_version(version)?,
                    }))
                }
            }
        })
    }

    /// One query (`key = ANY($1)`) for all the keys: one round trip to the database.
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Option<Versioned>>, StoreError>> {
        boxed(async move {
            // Over-long keys can never have been written: not asked for.
            let asked: Vec<&[u8]> = keys
                .iter()
                .filter(|key| key.len() <= MAX_KEY_LEN)
                .map(|key| key.as_bytes())
                .collect();
            if asked.is_empty() {
                return Ok(vec![None; keys.len()]);
            }
            let rows = self.query("get_many", GET_MANY_SQL, &[&asked]).await?;
            let mut found = std::collections::HashMap::with_capacity(rows.len());
            for row in rows {
                let key: Vec<u8> = row
                    .try_get(0)
                    .map_err(|e| self.unavailable("get_many", &e))?;
                let value: Vec<u8> = row
                    .try_get(1)
                    .map_err(|e| self.unavailable("get_many", &e))?;
                let version: i64 = row
                    .try_get(2)
                    .map_err(|e| self.unavailable("get_many", &e))?;
                found.insert(
                    key,
                    Versioned {
                        value,
                        version: to_version(version)?,
                    },
                );
            }
            Ok(keys
                .iter()
                .map(|key| found.get(key.as_bytes()).cloned())
                .collect())
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        boxed(async move {
            check_limits(key, value)?;
            let key = key.as_bytes();
            let row = match expect {
                Expect::Any => self.query_opt("put", PUT_ANY_SQL, &[&key, &value]).await?,
                Expect::Absent => {
                    self.query_opt("create", PUT_ABSENT_SQL, &[&key, &value])
                        .await?
                }
                Expect::Version(want) => {
                    let Some(want) = to_stored(want) else {
                        return Err(StoreError::Conflict);
                    };
                    self.query_opt("compare-and-set", PUT_VERSION_SQL, &[&key, &value, &want])
                        .await?
                }
            };
            // No row back: the expectation did not hold, and nothing was written.
            let row = row.ok_or(StoreError::Conflict)?;
            let version: i64 = row.try_get(0).map_err(|e| self.unavailable("put", &e))?;
            to_version(version)
        })
    }

    fn delete<'a>(&'a self, key: &'a str, expect: Expect) -> BoxFuture<'a, Result<(), StoreError>> {
        boxed(async move {
            if key.len() > MAX_KEY_LEN {
                // Such a key cannot exist: treat it as missing.
                return match expect {
                    Expect::Version(_) => Err(StoreError::Conflict),
                    Expect::Any | Expect::Absent => Ok(()),
                };
            }
            let key = key.as_bytes();
            match expect {
                Expect::Any => {
                    self.query("delete", DELETE_ANY_SQL, &[&key]).await?;
                    Ok(())
                }
                // Deleting what must not exist: nothing to do if it does not, else a conflict.
                Expect::Absent => {
                    let found = self.query_opt("delete", EXISTS_SQL, &[&key]).await?;
                    if found.is_some() {
                        Err(StoreError::Conflict)
                    } else {
                        Ok(())
                    }
                }
                Expect::Version(want) => {
                    let Some(want) = to_stored(want) else {
                        return Err(StoreError::Conflict);
                    };
                    let deleted = self
                        .query("conditional delete", DELETE_VERSION_SQL, &[&key, &want])
                        .await?;
                    if deleted.is_empty() {
                        Err(StoreError::Conflict)
                    } else {
                        Ok(())
                    }
                }
            }
        })
    }

    fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, StoreError>> {
        boxed(async move {
            let limit = limit.clamp(1, MAX_SCAN_LIMIT);
            // Start strictly after the cursor when it lies inside or past the prefix range.
            let (lower, inclusive) = match after {
                Some(cursor) if cursor >= prefix => (cursor, false),
                _ => (prefix, true),
            };
            let lower = lower.as_bytes();
            let upper = cognate_core::store::prefix_upper_bound(prefix.as_bytes());
            let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
            let sql = scan_sql(inclusive, upper.is_some());
            let rows = match &upper {
                Some(upper) => self.query("scan", sql, &[&lower, upper, &fetch]).await?,
                None => self.query("scan", sql, &[&lower, &fetch]).await?,
            };
            let more = rows.len() > limit;
            let mut items = Vec::with_capacity(rows.len().min(limit));
            for row in rows.into_iter().take(limit) {
                let key: Vec<u8> = row.try_get(0).map_err(|e| self.unavailable("scan", &e))?;
                let value: Vec<u8> = row.try_get(1).map_err(|e| self.unavailable("scan", &e))?;
                let version: i64 = row.try_get(2).map_err(|e| self.unavailable("scan", &e))?;
                let key = String::from_utf8(key).map_err(|_| {
                    StoreError::Unavailable("postgres: stored key is not UTF-8".to_owned())
                })?;
                items.push((
                    key,
                    Versioned {
                        value,
                        version: to_version(version)?,
                    },
                ));
            }
            Ok(Page::new(items, more))
        })
    }
}

/// For tests and set-up scripts: creates the database `name` on the server `admin_url` points at
/// (a role allowed to `CREATE DATABASE`) and returns `admin_url` naming it instead.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Unavailable(format!(
            "postgres: database names here are [a-z0-9_]+, got {name:?}"
        )));
    }
    let (plain_url, root_cert) = take_root_cert(admin_url.trim());
    let config = tokio_postgres::Config::from_str(&plain_url)
        .map_err(|e| StoreError::Unavailable(format!("postgres: invalid database URL: {e}")))?;
    let cannot = |e: tokio_postgres::Error| {
        StoreError::Unavailable(format!("postgres: cannot connect: {e}"))
    };
    let (client, driver) = match tls_for(&config, root_cert.as_deref())? {
        Some(tls) => {
            let (client, connection) = config.connect(tls).await.map_err(cannot)?;
            (
                client,
                tokio::spawn(async move { connection.await.map(drop) }),
            )
        }
        None => {
            let (client, connection) = config.connect(NoTls).await.map_err(cannot)?;
            (
                client,
                tokio::spawn(async move { connection.await.map(drop) }),
            )
        }
    };
    let created = client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| StoreError::Unavailable(format!("postgres: cannot create {name}: {e}")));
    drop(client);
    let _ = driver.await;
    created?;
    Ok(with_database(admin_url, name))
}

/// `url` with its database name replaced by `name` (`postgres://u@h:p/old?x` ->
/// `postgres://u@h:p/name?x`).
pub fn with_database(url: &str, name: &str) -> String {
    let url = url.trim();
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", base.get(..authority_end).unwrap_or(base));
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
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
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5/postgres", "x"),
            "postgres://u@127.0.0.1:5/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "y_1"),
            "postgresql://u:p@h/y_1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "z"), "postgres://h:1/z");
    }

    #[test]
    fn urls_are_recognised_and_described_without_credentials() {
        assert!(is_postgres_url("postgres://a@b/c"));
        assert!(is_postgres_url("PostgreSQL://a@b/c"));
        assert!(!is_postgres_url("sqlite"));
        let store = PostgresStore::new("postgres://me:hunter2@db.internal:6543/auth").unwrap();
        assert_eq!(store.target(), "db.internal:6543/auth");
        assert!(!format!("{store:?}").contains("hunter2"));
    }

    #[test]
    fn sslrootcert_is_taken_off_the_url_and_must_be_readable() {
        assert_eq!(
            take_root_cert(
                "postgres://h/db?sslmode=require&sslrootcert=/ca.pem&application_name=x"
            ),
            (
                "postgres://h/db?sslmode=require&application_name=x".to_owned(),
                Some("/ca.pem".to_owned())
            )
        );
        assert_eq!(
            take_root_cert("postgres://h/db?sslrootcert=/ca.pem"),
            ("postgres://h/db".to_owned(), Some("/ca.pem".to_owned()))
        );
        assert_eq!(
            take_root_cert("postgres://h/db"),
            ("postgres://h/db".to_owned(), None)
        );
        // TLS with Mozilla's roots only: a store, no connection yet.
        assert!(PostgresStore::new("postgres://h/db?sslmode=require").is_ok());
        let error =
            PostgresStore::new("postgres://h/db?sslmode=require&sslrootcert=/no/such/ca.pem")
                .unwrap_err();
        assert!(error.to_string().contains("sslrootcert"), "{error}");
        assert!(PostgresStore::new("not a url ::").is_err());
    }
}
