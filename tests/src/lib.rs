//! End-to-end test harness.
//!
//! The scenarios (`tests/e2e/`, one test binary) are written once against a [`Target`]: a base
//! URL plus the means to reach it (admin keys, the outbox where confirmation codes land). Where
//! the target comes from:
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
//! Every scenario of the test process shares one server ([`Target::shared`], started by the
//! first that asks); scenarios create their own pools and users (names from [`unique`]), so they
//! are independent of each other and of the order they run in. A scenario that needs a server
//! of its own (own store, a crash) starts one with [`Target::start_local_on_store`]. A started
//! server is stopped when its target is dropped or the test process exits, however it exits: a
//! small `sh` watchdog holds the read end of a pipe whose write end only this process holds,
//! and stops the server (SIGTERM, then SIGKILL after 10 s) and removes its data directory when
//! that pipe closes. Set `COGNATE_TEST_KEEP_DATA=1` to keep the data directory for inspection.
//!
//! The modules: `target` (the [`Target`] and its SDK and HTTP clients), `server` (the started
//! host, its watchdog and store), `fixtures` (pools, clients, users, unique names), `outbox`
//! (reading delivered codes), `tokens` (JWKS verification, JWT parts), `responses` (SDK results,
//! raw HTTP responses); [`scenarios`] (steps shared by scenarios), [`form_browser`] (the hosted UI
//! as a form-filling browser), [`plugins`] (trigger plugins).

// A test harness reports failure by panicking, with a message saying what went wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub use aws_sdk_cognitoidentityprovider as cognito;

mod fixtures;
pub mod form_browser;
mod identity;
mod outbox;
pub mod passkeys;
// Trigger plugins: example modules and their registration.
pub mod plugins;
mod responses;
pub mod scenarios;
mod server;
pub mod srp;
mod target;
mod tokens;

pub use fixtures::{
    AppClient, attribute, attribute_value, password_flows, secret_hash, standard_pool, unique,
    unique_email,
};
pub use outbox::{BoxFuture, HttpOutbox, JsonLinesOutbox, NoOutbox, Outbox, OutboxMessage};
pub use responses::{RawResponse, bare_error_name, describe, ok, service_error};
pub use server::{fresh_postgres_database, host_binary, postgres_url_with_database};
pub use target::{AdminKeys, Target};
pub use tokens::{Jwks, JwtParts, TokenUse, decode_json_part, encode_json_part, flip_char};

/// The region every SDK client is configured for; pool ids start with `us-east-1_`.
pub const REGION: &str = "us-east-1";
/// The admin key pair the harness gives a server it starts.
pub const TEST_ADMIN_ACCESS_KEY_ID: &str = "AKIACOGNATETESTADMIN";
pub const TEST_ADMIN_SECRET_ACCESS_KEY: &str = "cognate+test+secret+key+0123456789abcdefgh";
/// A password that satisfies Cognito's default policy (8+ characters, upper, lower, digit, symbol).
pub const PASSWORD: &str = "Correct-Horse-9-Battery";
