#!/usr/bin/env bash
# The federation stage (issue 20): node `oidc-provider` (scripts/setup-federation.sh, pinned) as
# an upstream OpenID provider on a free 127.0.0.1 port, stopped by PID; the scenario
# federation::a_user_signs_in_through_node_oidc_provider (tests/tests/e2e/federation.rs,
# ignored elsewhere) against the harness's own host, on both engines: Cognate registers with the
# provider, a user signs in through the provider's pages, the app's code is exchanged by the
# `openidconnect` crate. (The scenarios with a Cognate pool as the upstream run with every
# other scenario in `cargo test`.)
#
# `--edge` also runs it against the Worker under `wrangler dev --local` (edge/build.sh,
# scripts/edge-env.sh; the Worker allows its own address and the provider's). The other
# federation scenarios run on the Worker in scripts/test-edge.sh with every other scenario.
#
# Needs the test binaries and the host (cargo test --workspace --no-run builds both).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
edge=0
[ "${1:-}" = "--edge" ] && edge=1

scripts/setup-federation.sh
eval "$(scripts/setup-federation.sh --env)"
export OIDC_PROVIDER_NODE_PATH

work="$(mktemp -d -t cognate-federation-XXXXXX)"
provider_pid=""
stop() {
  local status=$?
  if declare -F stop_edge >/dev/null; then stop_edge; fi
  if [ -n "$provider_pid" ]; then
    kill -TERM "$provider_pid" 2>/dev/null || true
    wait "$provider_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    echo "--- oidc-provider's log ---" >&2
    cat "$work/oidc-provider.log" >&2 || true
  fi
  rm -rf "$work"
}
trap stop EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
node tests/federation/oidc-provider.mjs "$port" >"$work/oidc-provider.log" 2>&1 </dev/null &
provider_pid=$!
issuer="http://127.0.0.1:$port"
deadline=$((SECONDS + 30))
until curl -fsS "$issuer/.well-known/openid-configuration" >/dev/null 2>&1; do
  kill -0 "$provider_pid" 2>/dev/null || { echo "test-federation: oidc-provider exited" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-federation: oidc-provider did not start" >&2; exit 1; }
  sleep 0.1
done
echo "==> federation: node oidc-provider at $issuer (PID $provider_pid)"

export COGNATE_TEST_OIDC_PROVIDER="$issuer"
export COGNATE_TEST_EXTRA_UPSTREAM_HOSTS="127.0.0.1:$port"
for engine in wasm native; do
  echo "==> federation: the oidc-provider scenario, $engine engine"
  COGNATE_ENGINE="$engine" cargo test --workspace --test e2e --locked -- --ignored \
    federation::a_user_signs_in_through_node_oidc_provider
done

if [ "$edge" = 1 ]; then
  # shellcheck source=scripts/edge-env.sh
  source scripts/edge-env.sh
  edge/build.sh
  edge_port="$(free_port)"
  start_edge "$edge_port" "$work/edge-state" "$work/edge.log"
  echo "==> federation on the edge: http://127.0.0.1:$edge_port (PID $EDGE_PID)"
  if ! COGNATE_BASE_URL="http://127.0.0.1:$edge_port" \
    COGNATE_OUTBOX_URL="http://127.0.0.1:$edge_port/__cognate/test/outbox" \
    cargo test --workspace --test e2e --locked -- --ignored \
    federation::a_user_signs_in_through_node_oidc_provider; then
    echo "--- the Worker's log (last 60 lines) ---" >&2
    tail -n 60 "$work/edge.log" >&2
    exit 1
  fi
fi
