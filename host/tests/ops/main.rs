//! Operating the server (issue 24): metrics, and what later parts add. Each test starts its own
//! server in this process (its own counters, its own config) on loopback, with the Wasm core.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin_cli;
mod audit;
mod breached;
mod harness;
mod keys;
mod limits;
mod metrics;
mod phc;
