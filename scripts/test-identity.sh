#!/usr/bin/env bash
# The identity-pools stage (issue 19): the built `cognate` host with moto's STS in server mode as
# its security token service (`COGNATE_STS_ENDPOINT`), both on free 127.0.0.1 ports and stopped
# by PID, then the boto3 identity-pools journey (tests/clients/python/journey_boto3_identity.py:
# GetId, OpenID tokens checked with PyJWT against Cognate's JWKS, credentials from moto, role
# mappings, developer identities, 50 concurrent GetId) and the AWS SDK for JavaScript v3's
# `fromCognitoIdentityPool` (tests/clients/js/identity-pool.cjs).
#
# Tools: scripts/setup-delivery.sh (moto, pinned venv) and tests/clients/python/setup.sh (boto3,
# PyJWT, pinned venv). Needs the host binary: COGNATE_BIN, default
# $CARGO_TARGET_DIR/debug/cognate. `--engine native|wasm` picks the engine (default wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
engine=wasm
[ "${1:-}" = "--engine" ] && engine="${2:?--engine native|wasm}"

scripts/setup-delivery.sh
eval "$(scripts/setup-delivery.sh --env)"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
bin="${COGNATE_BIN:-$target_dir/debug/cognate}"
[ -x "$bin" ] || { echo "test-identity: $bin is not built (cargo build -p cognate-host)" >&2; exit 1; }

work="$(mktemp -d -t cognate-identity-XXXXXX)"
pids=()
stop() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] || [ "${COGNATE_TEST_KEEP_DATA:-}" = 1 ]; then
    echo "test-identity: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap stop EXIT

free_port() {
  "$DELIVERY_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

moto_port=$(free_port)
"$DELIVERY_PYTHON" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 </dev/null &
pids+=($!)
export COGNATE_STS_URL="http://127.0.0.1:$moto_port"
deadline=$((SECONDS + 60))
until curl -fsS "$COGNATE_STS_URL/moto-api/data.json" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-identity: moto did not start" >&2; cat "$work/moto.log" >&2; exit 1; }
  sleep 0.2
done

export COGNATE_ADMIN_ACCESS_KEY_ID=AKIACOGNATEIDENTITY1
export COGNATE_ADMIN_SECRET_ACCESS_KEY="identity+test+secret+$RANDOM$RANDOM"
port=$(free_port)
mkdir -p "$work/data"
# A user pool of this server (fixed ids) registered as an OpenID Connect provider for identity
# pools, with the server's own address on the upstream-hosts list (its discovery and JWKS are
# fetched over HTTP like any provider's).
export COGNATE_OIDC_UPSTREAM_POOL=us-east-1_OidcUpstr1 COGNATE_OIDC_UPSTREAM_CLIENT=oidcupstreamclient00000001
cat >"$work/cognate.toml" <<TOML
[[pools]]
id = "$COGNATE_OIDC_UPSTREAM_POOL"
create = { PoolName = "oidc-upstream" }
[[pools.clients]]
id = "$COGNATE_OIDC_UPSTREAM_CLIENT"
create = { ClientName = "relying-party", ExplicitAuthFlows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }

[[identity.oidc_providers]]
url = "http://127.0.0.1:$port/$COGNATE_OIDC_UPSTREAM_POOL"
client_ids = ["$COGNATE_OIDC_UPSTREAM_CLIENT"]

[federation]
upstream_hosts = ["127.0.0.1:$port"]
TOML
COGNATE_STS_ENDPOINT="$COGNATE_STS_URL" COGNATE_LOG=info "$bin" serve --config "$work/cognate.toml" \
  --listen "127.0.0.1:$port" --data "$work/data" --cache-dir "$work/cache" --engine "$engine" --no-demo \
  >"$work/host.log" 2>&1 </dev/null &
pids+=($!)
host_pid=$!
deadline=$((SECONDS + 180))
until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
  kill -0 "$host_pid" 2>/dev/null || { echo "test-identity: the host exited:" >&2; cat "$work/host.log" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-identity: the host did not start" >&2; cat "$work/host.log" >&2; exit 1; }
  sleep 0.1
done

export COGNATE_BASE_URL="http://127.0.0.1:$port" COGNATE_OUTBOX_FILE="$work/data/outbox.jsonl"
export COGNATE_TARGET_NAME="host-$engine"
echo "==> identity pools: host ($engine) $COGNATE_BASE_URL, STS (moto) $COGNATE_STS_URL"
status=0
tests/clients/python/run.sh journey_boto3_identity.py journey_boto3_identity_oidc.py || status=$?
COGNATE_JS_JOURNEYS=identity-pools tests/clients/js/run.sh || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the host's log (last 60 lines) ---" >&2
  tail -n 60 "$work/host.log" >&2
fi
exit "$status"
