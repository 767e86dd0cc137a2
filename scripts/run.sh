#!/usr/bin/env bash
# Builds and starts Cognate: the host server on its embedded SQLite store, with a demo pool.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-run.sh
exec cargo run --release --locked -p cognate-host --bin cognate -- serve "$@"
