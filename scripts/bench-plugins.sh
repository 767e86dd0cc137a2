#!/usr/bin/env bash
# Trigger plugin benchmarks: builds the example the benchmark runs, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
scripts/setup.sh
cargo build --profile plugin --target wasm32-unknown-unknown --locked -p cognate-example-pre-token-generation
cargo bench -p cognate-host --bench plugins --locked
