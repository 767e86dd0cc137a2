#!/usr/bin/env bash
# The edge stage of the test suite (scripts/test.sh runs it): builds the Worker once, checks
# the bundle budget (of the production bundle: no test plugins), adds the test plugins (the
# examples and the scenarios' WAT modules, prepared by cognate-plugin-bundle), starts it under
# `wrangler dev --local` (workerd) on a free loopback port, runs the SAME end-to-end scenarios
# as against the host plus the edge-only ones (tests/tests/e2e/edge.rs, ignored elsewhere: run
# here with --include-ignored), restarts the runtime on the same persisted state and checks it
# survived, then stops it by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

step() { printf '\n==> edge: %s\n' "$*"; }

step "tools (cached in ${COGNATE_CACHE:-~/.cache/cognate})"
scripts/setup-edge.sh

step "build the Worker (wasm32-unknown-unknown, profile edge, wasm-bindgen, edge/plugins/)"
edge/build.sh
# shellcheck source=scripts/edge-env.sh
source scripts/edge-env.sh

scratch="$(mktemp -d -t cognate-edge-XXXXXX)"
moto_pid=
trap 'stop_edge; [ -z "$moto_pid" ] || { kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null; }; rm -rf "$scratch"' EXIT

# upload_kib LABEL: the gzipped upload wrangler reports for the built Worker, in KiB.
upload_kib() {
  local dry_run upload_line
  dry_run="$(cd edge && COGNATE_EDGE_PREBUILT=1 "$NODE" "$WRANGLER_JS" deploy --dry-run --outdir "$scratch/dist-$1" 2>&1)" || {
    echo "$dry_run" >&2
    return 1
  }
  upload_line="$(grep -o 'Total Upload: .*' <<<"$dry_run" | head -1)"
  echo "$1: $upload_line" >&2
  sed -E 's/.*gzip: ([0-9.]+) KiB.*/\1/' <<<"$upload_line"
}

# Cloudflare's limit on a Worker's compressed size: 3 MB on the Workers Free plan (10 MB paid)
# since late 2024 (developers.cloudflare.com/workers/platform/limits/#worker-size); it was 1 MB.
step "bundle budget: the gzipped upload (production bundle) fits the Workers Free plan's 3 MB"
gzip_kib="$(upload_kib production)"
python3 -c 'import sys; kib = float(sys.argv[1]); sys.exit(0 if kib < 3072 else 1)' "$gzip_kib" || {
  echo "the gzipped Worker is $gzip_kib KiB, over the Free plan's 3 MB" >&2
  exit 1
}

step "test plugins: the examples and the scenarios' WAT modules, bundled with the Worker"
cargo build --profile plugin --target wasm32-unknown-unknown --locked \
  -p cognate-example-pre-sign-up -p cognate-example-pre-token-generation \
  -p cognate-example-custom-auth -p cognate-example-user-migration \
  -p cognate-example-custom-message -p cognate-example-custom-sender \
  -p cognate-example-echo-event
# The scenarios, and write-test-plugins (a binary of the same package, so built with them),
# with the feature set of `cargo test --workspace`: after scripts/test.sh nothing is rebuilt.
cargo test --workspace --test e2e --no-run --locked
"$CARGO_TARGET_DIR/debug/write-test-plugins" "$scratch/test-plugins"
COGNATE_EDGE_PLUGINS="$(echo "$CARGO_TARGET_DIR"/wasm32-unknown-unknown/plugin/cognate_example_*.wasm) $scratch/test-plugins" \
  edge/build.sh --plugins-only
# Reported, not enforced: test-only plugins are never deployed.
upload_kib "with test plugins" >/dev/null

step "moto's STS on loopback: identity pools' credentials (COGNATE_STS_ENDPOINT)"
scripts/setup-delivery.sh
eval "$(scripts/setup-delivery.sh --env)"
moto_port="$(free_port)"
"$DELIVERY_PYTHON" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$scratch/moto.log" 2>&1 </dev/null &
moto_pid=$!
export COGNATE_STS_URL="http://127.0.0.1:$moto_port"
export COGNATE_EDGE_EXTRA_ARGS="${COGNATE_EDGE_EXTRA_ARGS:-} --var COGNATE_STS_ENDPOINT:$COGNATE_STS_URL"
deadline=$((SECONDS + 60))
until curl -fsS "$COGNATE_STS_URL/moto-api/data.json" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-edge: moto did not start" >&2; cat "$scratch/moto.log" >&2; exit 1; }
  sleep 0.2
done

step "start the Worker under wrangler dev --local"
port="$(free_port)"
persist="$scratch/state"
start_edge "$port" "$persist" "$scratch/wrangler.log"
echo "listening on 127.0.0.1:$port (wrangler PID $EDGE_PID)"
export COGNATE_BASE_URL="http://127.0.0.1:$port"
export COGNATE_OUTBOX_URL="$COGNATE_BASE_URL/__cognate/test/outbox"
export COGNATE_EDGE_STATE_FILE="$scratch/restart-state.json"

step "end-to-end scenarios against the Worker (the host's, plus the edge-only ones)"
# Every scenario, the ignored edge-only ones included, except those that need PostgreSQL
# (scripts/test-postgres.sh) or node oidc-provider (scripts/test-federation.sh --edge runs it
# against the Worker), the SAML sign-ins (pysaml2's IdP and a host built with `--features saml`:
# scripts/test-saml.sh; the Worker refuses SAML providers, which federation:: checks), the admin
# console's walk (the Worker leaves the console out: the edge test
# the_worker_says_it_does_not_serve_the_console checks that), and the two edge ones run alone
# below, each at its moment.
if ! cargo test --workspace --test e2e --locked --no-fail-fast -- --include-ignored \
  --skip two_hosts:: \
  --skip saml:: \
  --skip saml_browser:: \
  --skip federation::a_user_signs_in_through_node_oidc_provider \
  --skip edge::a_rust_panic_fails_one_request_and_the_worker_recovers \
  --skip edge::state_survives_a_runtime_restart; then
  echo "--- the runtime's log (last 200 lines) ---" >&2
  tail -n 200 "$scratch/wrangler.log" >&2
  exit 1
fi

step "the audit stream in the Worker's log (COGNATE_AUDIT_LOG=console): events with ids, never a password"
python3 - "$scratch/wrangler.log" <<'PY'
import json, sys
lines = []
for raw in open(sys.argv[1], errors="replace"):
    at = raw.find("{")
    if at >= 0 and '"time_millis"' in raw:
        try:
            line = json.loads(raw[at:].strip())
        except ValueError:
            continue
        if isinstance(line, dict) and "event" in line:
            lines.append(line)
events = {(l.get("event"), l.get("outcome")) for l in lines}
for wanted in [("sign_in", "success"), ("sign_in", "failure"), ("admin_action", "success"),
               ("password_change", "success"), ("token_revocation", "success")]:
    assert wanted in events, f"no {wanted} line among {len(lines)}: {sorted(events)}"
assert any(l.get("admin_key_id") for l in lines), "no admin key id"
assert any(l.get("username") and l.get("pool_id") for l in lines), "no user and pool ids"
leaked = [l for l in lines if "Correct-Horse-9-Battery" in json.dumps(l)]
assert not leaked, leaked[:1]
print(f"{len(lines)} audit lines, {len(events)} kinds of event")
PY

step "the ecosystem's own clients against the Worker (scripts/test-clients.sh)"
COGNATE_TARGET_NAME=edge scripts/test-clients.sh

step "the web SDK's passkeys and USER_AUTH in Chromium against the Worker (web-sdk/tests/passkeys.mjs)"
web-sdk/build.sh
eval "$(scripts/setup-browser.sh --env)"
export NODE_PATH
sdk_port="$(free_port)"
"$NODE" web-sdk/tests/helper.mjs "$sdk_port" /dev/null "$PWD/web-sdk" >"$scratch/sdk-helper.log" 2>&1 </dev/null &
sdk_helper_pid=$!
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$sdk_port/package.json" >/dev/null 2>&1 && break; sleep 0.1; done
sdk_status=0
"$NODE" web-sdk/tests/passkeys.mjs "http://127.0.0.1:$sdk_port" "$COGNATE_BASE_URL" \
  "$COGNATE_ADMIN_ACCESS_KEY_ID" "$COGNATE_ADMIN_SECRET_ACCESS_KEY" || sdk_status=$?
kill "$sdk_helper_pid" 2>/dev/null; wait "$sdk_helper_pid" 2>/dev/null || true
[ "$sdk_status" = 0 ] || { tail -n 100 "$scratch/wrangler.log" >&2; exit 1; }

step "a Rust panic fails one request and the Worker recovers (alone: it resets the isolate)"
cargo test --workspace --test e2e --locked -- --ignored --exact edge::a_rust_panic_fails_one_request_and_the_worker_recovers

step "restart the runtime on the same persisted state"
stop_edge
start_edge "$port" "$persist" "$scratch/wrangler-restarted.log"
if ! cargo test --workspace --test e2e --locked -- --ignored --exact edge::state_survives_a_runtime_restart; then
  tail -n 200 "$scratch/wrangler-restarted.log" >&2
  exit 1
fi
stop_edge
step "edge: all green"
