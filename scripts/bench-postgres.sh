#!/usr/bin/env bash
# Sign-up, password sign-in, refresh and GetUser per second: one host on SQLite, one host on
# PostgreSQL and two hosts on one PostgreSQL database, side by side in one run
# (tests/src/bin/bench-store.rs), against a throwaway PostgreSQL (scripts/with-postgres.sh).
# BENCH_USERS and BENCH_CONCURRENCY tune it; COGNATE_ENGINE picks the hosts' engine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
scripts/setup-postgres.sh
cargo build -p cognate-host --bin cognate --locked
cargo build -p cognate-tests --bin bench-store --locked
# The harness finds the host binary beside the bench binary (same profile).
COGNATE_BIN="${COGNATE_BIN:-$CARGO_TARGET_DIR/debug/cognate}" \
  scripts/with-postgres.sh "$CARGO_TARGET_DIR/debug/bench-store"
