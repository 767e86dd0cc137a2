#!/usr/bin/env bash
# Benchmarks the edge Worker under the local Workers runtime (wrangler dev --local, workerd):
# p50/p90/p99 latency of password and SRP sign-in, refresh and GetUser, and runtime CPU per request.
# A benchmark, never part of the tests. BENCH_N requests per operation (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
scripts/setup-edge.sh
edge/build.sh
# shellcheck source=scripts/edge-env.sh
source scripts/edge-env.sh
scratch="$(mktemp -d -t cognate-edge-bench-XXXXXX)"
trap 'stop_edge; rm -rf "$scratch"' EXIT
port="$(free_port)"
EDGE_LOG_LEVEL=warn start_edge "$port" "$scratch/state" "$scratch/wrangler.log"
pids="$(pgrep -P "$EDGE_PID" workerd | tr '\n' ' ')"
gzip -9 -c edge/build/index_bg.wasm | wc -c | awk '{printf "Worker Wasm: gzip -9 %.1f KiB\n", $1 / 1024}'
# The clients' venv (pycognito drives USER_SRP_AUTH).
tests/clients/python/setup.sh
eval "$(tests/clients/python/setup.sh --env)"
"$PYTHON" scripts/bench_edge.py "http://127.0.0.1:$port" "$COGNATE_TEST_KEY" "${BENCH_N:-50}" $pids
