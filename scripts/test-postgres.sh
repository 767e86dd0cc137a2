#!/usr/bin/env bash
# The PostgreSQL stage (issue 21): against a throwaway PostgreSQL server (scripts/with-postgres.sh)
#   1. the storage contract suite on PostgreSQL, natively and through the Wasm core's store
#      imports, plus two stores on one database, a restart, a database that is down then back,
#      and the suite over verified TLS (sslmode=require, a test CA);
#   2. the end-to-end scenarios against a host on PostgreSQL (a fresh database per server);
#   3. two hosts on one database: racing sign-ups, refresh-token replay across hosts, a plugin
#      registered on one host running on the other, a deleted user on the other host.
# Run after (or without) scripts/test.sh: it builds only what is missing, with the same target dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "postgres: setup (Debian's postgresql)"
scripts/setup-postgres.sh

step "postgres: build the server, the test binaries and the example plugins the scenarios load"
# `--workspace`, as scripts/test.sh: the same feature set, so its build is reused as is. The
# host's integration test makes cargo build the host's binary (target/debug/cognate) too.
cargo test --workspace --test store_contract_postgres --test e2e --no-run --locked
cargo build --profile plugin --target wasm32-unknown-unknown --locked \
  -p cognate-example-pre-sign-up -p cognate-example-pre-token-generation \
  -p cognate-example-custom-auth -p cognate-example-user-migration \
  -p cognate-example-custom-message -p cognate-example-custom-sender \
  -p cognate-example-echo-event

# Everything below runs against one throwaway server; each test makes its own database on it.
scripts/with-postgres.sh bash -euo pipefail -c '
  step() { printf "\n==> %s\n" "$*"; }

  step "postgres: the storage contract, native and through the Wasm store imports"
  cargo test --workspace --test store_contract_postgres --locked -- --ignored

  step "postgres: two hosts on one database"
  cargo test --workspace --test e2e --locked -- --ignored two_hosts::

  step "postgres: the end-to-end scenarios against a host on PostgreSQL"
  # Every scenario module but two_hosts (above); the ignored edge-only ones stay ignored.
  COGNATE_TEST_STORE="$COGNATE_TEST_POSTGRES" cargo test --workspace --test e2e --locked -- \
    --skip two_hosts::
'
