//! The end-to-end scenarios: one test binary, one module per area, so the AWS SDK and the
//! harness are linked once.
//!
//! Every scenario that needs no server of its own runs against the one shared target
//! ([`cognate_tests::Target::shared`]): started lazily by the first test that asks (or named by
//! `COGNATE_BASE_URL`), shared by every test of this process, stopped when the process exits.
//! The exceptions start their own servers: [`two_hosts`] (two hosts on one PostgreSQL database,
//! one killed mid-test).
//!
//! Ignored tests, and who runs them:
//! - `two_hosts::*`: need `COGNATE_TEST_POSTGRES` (scripts/test-postgres.sh runs them with
//!   `--ignored two_hosts::`);
//! - `edge::*` edge-only tests: need the Worker's test-only routes under `wrangler dev`
//!   (scripts/test-edge.sh runs them with `--include-ignored`), two of them alone at their
//!   moment (after a runtime restart; a panic that resets the isolate).
//!
//! - `saml::*`, `saml_browser::*`: need pysaml2's IdP, a host built with `--features saml` and
//!   the web SDK's helper (scripts/test-saml.sh runs them with `--ignored saml`).
//!
//! Run one area with a filter: `cargo test -p cognate-tests --test e2e -- sign_in::`.

// A test reports failure by panicking, with a message saying what went wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin_auth;
mod admin_users;
mod client_secret;
mod codes;
mod confirmation_link;
mod console_browser;
mod edge;
mod federation;
mod groups;
mod health;
mod hosted_ui_browser;
mod identity_pools;
mod list_users;
mod mfa;
mod negative_http;
mod oauth_triggers;
mod oidc;
mod passkeys;
mod passkeys_browser;
mod saml;
mod saml_browser;
mod self_service;
mod sign_in;
mod srp;
mod tokens_revocation;
mod triggers;
mod two_hosts;
mod uniqueness;
mod user_import;
mod user_pools;
