#!/usr/bin/env bash
# with-host.sh CMD [ARGS...]: starts the built `cognate` host (COGNATE_BIN, default
# $CARGO_TARGET_DIR/debug/cognate) on a free loopback port with a fresh data directory, runs CMD
# with the target's variables exported (COGNATE_BASE_URL, the admin key pair,
# COGNATE_OUTBOX_FILE), then stops the server by PID. COGNATE_ENGINE picks the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
bin="${COGNATE_BIN:-$target_dir/debug/cognate}"
[ -x "$bin" ] || { echo "with-host: $bin is not built (cargo build -p cognate-host --bin cognate)" >&2; exit 1; }

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
data="$(mktemp -d -t cognate-host-XXXXXX)"
export COGNATE_ADMIN_ACCESS_KEY_ID="${COGNATE_ADMIN_ACCESS_KEY_ID:-AKIACOGNATETESTADMIN}"
export COGNATE_ADMIN_SECRET_ACCESS_KEY="${COGNATE_ADMIN_SECRET_ACCESS_KEY:-cognate+test+secret+key+0123456789abcdefgh}"
engine="${COGNATE_ENGINE:-wasm}"

"$bin" serve --listen "127.0.0.1:$port" --data "$data" --no-demo >"$data/server.log" 2>&1 </dev/null &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "${COGNATE_TEST_KEEP_DATA:-}" = 1 ] || rm -rf "$data"
}
trap stop EXIT

deadline=$((SECONDS + 120))
until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-host: cognate exited before answering; its log:" >&2
    cat "$data/server.log" >&2
    exit 1
  fi
  [ "$SECONDS" -lt "$deadline" ] || { echo "with-host: no answer on :$port" >&2; cat "$data/server.log" >&2; exit 1; }
  sleep 0.2
done

export COGNATE_BASE_URL="http://127.0.0.1:$port"
export COGNATE_OUTBOX_FILE="$data/outbox.jsonl"
export COGNATE_TARGET_NAME="${COGNATE_TARGET_NAME:-host-$engine}"
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the server's log (last 100 lines) ---" >&2
  tail -n 100 "$data/server.log" >&2
fi
exit "$status"
