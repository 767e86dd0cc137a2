#!/usr/bin/env bash
# The load benchmark (issue 23; not part of CI): Cognate (release build, Wasm engine and native
# engine, SQLite) side by side with node oidc-provider (RS256 JWT access tokens), cognito-local and
# fakecloud over HTTP on 127.0.0.1, driven by wrk in interleaved rounds. Prints req/s, p50/p99 and
# requests per server CPU-second, the ratios of issue 23's table, and each path's ratio to its physical
# bound (RS256 signatures/s from host/benches/rsa.rs, argon2id verifications/s from
# host/benches/busy_cores.rs), measured first on one core alone and with every core busy.
#
# Installs what it needs, idempotently and pinned: Debian's wrk; oidc-provider and cognito-local
# (exact npm versions) under ${COGNATE_CACHE:-~/.cache/cognate}, keyed by version, run on the
# project's Node 22 (scripts/setup-edge.sh); fakecloud's Cognito service (crates.io, =0.51.0,
# its Cargo.lock in scripts/bench-load/fakecloud-cognito) served by fakecloud's own dispatcher
# without the other AWS services, whose build would take longer than this benchmark here.
#
# BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_CONNECTIONS (8) tune it; BENCH_SKIP_BOUNDS=1 reuses
# SIGN_PER_S, VERIFY_PER_S, ARGON2_PER_S, SIGN_BUSY_PER_S and ARGON2_BUSY_PER_S from the
# environment instead of measuring them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
WRK_DEBIAN_VERSION=4.1.0-3+b2
OIDC_PROVIDER_VERSION=9.13.3
COGNITO_LOCAL_VERSION=5.3.0
PEERS_ROOT="$CACHE/npm-bench-oidc-provider$OIDC_PROVIDER_VERSION-cognito-local$COGNITO_LOCAL_VERSION"

scripts/apt-install.sh "wrk=$WRK_DEBIAN_VERSION"

scripts/setup-edge.sh
eval "$(scripts/setup-edge.sh --env)"

if [ ! -f "$PEERS_ROOT/.complete" ]; then
  echo "bench-load: installing oidc-provider@$OIDC_PROVIDER_VERSION and cognito-local@$COGNITO_LOCAL_VERSION into $PEERS_ROOT" >&2
  rm -rf "$PEERS_ROOT"
  mkdir -p "$PEERS_ROOT"
  cat >"$PEERS_ROOT/package.json" <<JSON
{"name": "cognate-bench-peers", "private": true, "type": "module",
 "dependencies": {"oidc-provider": "$OIDC_PROVIDER_VERSION", "cognito-local": "$COGNITO_LOCAL_VERSION"}}
JSON
  (cd "$PEERS_ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$PEERS_ROOT/.complete"
fi
# The peer's script beside its node_modules (ES modules resolve packages from their own folder).
cp scripts/bench-load/oidc-peer.mjs "$PEERS_ROOT/oidc-peer.mjs"

echo "bench-load: building the release host" >&2
cargo build --release --locked -p cognate-host --bin cognate
echo "bench-load: building fakecloud's Cognito service (scripts/bench-load/fakecloud-cognito)" >&2
cargo build --release --locked --manifest-path scripts/bench-load/fakecloud-cognito/Cargo.toml

if [ "${BENCH_SKIP_BOUNDS:-}" != 1 ]; then
  echo "bench-load: RS256 on one core (host/benches/rsa.rs) and openssl speed rsa2048" >&2
  rsa_out="$(taskset -c 0 cargo bench --locked -p cognate-host --bench rsa -- --rounds 5)"
  echo "$rsa_out"
  taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null | tail -2
  lc="$(grep '^aws-lc-rs' <<<"$rsa_out")"
  SIGN_PER_S="$(awk '{print $4}' <<<"$lc")"
  VERIFY_PER_S="$(awk '{print $7}' <<<"$lc")"
  echo "bench-load: RS256 signing and argon2id per core, alone and with every core busy (host/benches/busy_cores.rs)" >&2
  busy_out="$(cargo bench --locked -p cognate-host --bench busy_cores -- --rounds 5)"
  echo "$busy_out"
  # The same measurement again before every round of the load (bench_load.py), so the bounds
  # and the paths they bound are measured over the same minutes of a machine whose speed drifts.
  BUSY_CORES_BIN="$(cargo bench --locked -p cognate-host --bench busy_cores --no-run \
    --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "busy_cores":
        print(m["executable"])')"
  export BUSY_CORES_BIN
  # columns: name…, alone µs, alone/s, busy µs, busy/s, ratio (read from the end of the line)
  SIGN_BUSY_PER_S="$(awk '/^RS256 sign/ {print $(NF - 1)}' <<<"$busy_out")"
  ARGON2_PER_S="$(awk '/^argon2id verify/ {print $(NF - 3)}' <<<"$busy_out")"
  ARGON2_BUSY_PER_S="$(awk '/^argon2id verify/ {print $(NF - 1)}' <<<"$busy_out")"
fi
export SIGN_PER_S VERIFY_PER_S ARGON2_PER_S SIGN_BUSY_PER_S ARGON2_BUSY_PER_S

COGNATE_BIN="$CARGO_TARGET_DIR/release/cognate" \
  FAKECLOUD_BIN="$CARGO_TARGET_DIR/release/fakecloud-cognito-bench" NODE22="$NODE" PEERS_ROOT="$PEERS_ROOT" \
  python3 scripts/bench_load.py
