#!/usr/bin/env bash
# The delivery stage (issue 22): the built `cognate` host sending real mail, SES, SNS and plugin
# deliveries to real servers, all on 127.0.0.1 free ports, all stopped by PID:
#   - aiosmtpd with STARTTLS (a test CA and certificate made now) and AUTH required; recipients
#     `reject*` are refused (550), `slow*` answered after 3 s
#   - moto in server mode as SES v2 and SNS (read back through /moto-api/data.json), behind a
#     proxy that throttles on demand and checks every SigV4 signature with botocore's signer
#   - an HTTP receiver for custom sender plugin deliveries
#   - host A: SMTP + AWS configured, the outbox off; host B: its SMTP relay down at first
# then tests/delivery/test_delivery.py (boto3) drives both. Tools come from
# scripts/setup-delivery.sh (a pinned venv in COGNATE_CACHE).
#
# Needs the host binary: COGNATE_BIN, default $CARGO_TARGET_DIR/debug/cognate (built by
# `cargo test --workspace --no-run`, as scripts/test.sh does).
#
# `scripts/test-delivery.sh --edge` also runs the SES/SNS tests against the Worker (edge/build.sh,
# then `wrangler dev --local` with the same moto and throttling proxy): the same core code,
# sending with `fetch`. SMTP is host-only.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
edge=0
[ "${1:-}" = "--edge" ] && edge=1

scripts/setup-delivery.sh
eval "$(scripts/setup-delivery.sh --env)"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
bin="${COGNATE_BIN:-$target_dir/debug/cognate}"
[ -x "$bin" ] || { echo "test-delivery: $bin is not built (cargo test --workspace --no-run)" >&2; exit 1; }

work="$(mktemp -d -t cognate-delivery-XXXXXX)"
pids=()
stop() {
  local status=$?
  if declare -F stop_edge >/dev/null; then stop_edge; fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] || [ "${COGNATE_TEST_KEEP_DATA:-}" = 1 ]; then
    echo "test-delivery: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap stop EXIT

free_port() {
  "$DELIVERY_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
servers="$PWD/tests/delivery/servers.py"
# start NAME CMD...: runs CMD in the background (its log in $work/NAME.log), waits for `ready`.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 </dev/null &
  pids+=($!)
  local pid=$! deadline=$((SECONDS + 60))
  until grep -q '^ready' "$work/$name.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "test-delivery: $name exited:" >&2; cat "$work/$name.log" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "test-delivery: $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.1
  done
}

export SMTP_USER=cognate SMTP_PASSWORD="smtp-$RANDOM-$RANDOM" SMTP_FROM="Cognate Test <no-reply@cognate.test>"
export CERT_DIR="$work/cert" MAILDIR="$work/mail" RECEIVER_LOG="$work/deliveries" HOST_B_MAILDIR="$work/mail-b"
export SERVERS_PY="$servers"
"$DELIVERY_PYTHON" "$servers" cert "$CERT_DIR"

smtp_port=$(free_port)
start smtp "$DELIVERY_PYTHON" "$servers" smtp "$smtp_port" "$MAILDIR" "$CERT_DIR" "$SMTP_USER" "$SMTP_PASSWORD"
moto_port=$(free_port)
"$DELIVERY_PYTHON" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 </dev/null &
pids+=($!)
export MOTO_URL="http://127.0.0.1:$moto_port"
throttle_port=$(free_port)
start throttle "$DELIVERY_PYTHON" "$servers" throttle "$throttle_port" "$MOTO_URL" delivery-test-secret
export THROTTLE_URL="http://127.0.0.1:$throttle_port"
export RECEIVER_PORT=$(free_port)
start receiver "$DELIVERY_PYTHON" "$servers" receiver "$RECEIVER_PORT" "$RECEIVER_LOG"

# The custom sender plugins: one delivering to the receiver, one to a host off the allow-list.
"$DELIVERY_PYTHON" "$servers" wat "$work/sender-loopback.wat" \
  "{\"delivery\":{\"method\":\"POST\",\"url\":\"http://127.0.0.1:$RECEIVER_PORT/hook?from=cognate\",\"headers\":{\"content-type\":\"application/json\",\"x-example\":\"1\"},\"body\":\"{\\\"template\\\":\\\"welcome\\\"}\"}}"
"$DELIVERY_PYTHON" "$servers" wat "$work/sender-offlist.wat" \
  "{\"delivery\":{\"method\":\"POST\",\"url\":\"http://localhost:$RECEIVER_PORT/hook\",\"headers\":{},\"body\":\"x\"}}"

export COGNATE_ADMIN_ACCESS_KEY_ID=AKIACOGNATEDELIVERY1
export COGNATE_ADMIN_SECRET_ACCESS_KEY="delivery+test+secret+$RANDOM$RANDOM"
cache="$work/wasm-cache"

# host NAME CONFIG: starts `cognate serve` with CONFIG on a free port; sets NAME_URL.
host() {
  local name=$1 config=$2 port
  port=$(free_port)
  mkdir -p "$work/$name-data"
  COGNATE_LOG=info "$bin" serve --config "$config" --listen "127.0.0.1:$port" --data "$work/$name-data" \
    --cache-dir "$cache" --no-demo >"$work/$name.log" 2>&1 </dev/null &
  pids+=($!)
  local pid=$! deadline=$((SECONDS + 120))
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "test-delivery: host $name exited:" >&2; cat "$work/$name.log" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "test-delivery: host $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  printf -v "${name}_url" '%s' "http://127.0.0.1:$port"
}

cat >"$work/a.toml" <<TOML
[plugins]
delivery_hosts = ["127.0.0.1"]
[[plugins.register]]
name = "sender-loopback"
path = "$work/sender-loopback.wat"
[[plugins.register]]
name = "sender-offlist"
path = "$work/sender-offlist.wat"

[delivery]
max_attempts = 3
retry_base_ms = 100
http_timeout_ms = 5000

[delivery.smtp]
host = "127.0.0.1"
port = $smtp_port
tls = "starttls"
username = "$SMTP_USER"
password = "$SMTP_PASSWORD"
from = "$SMTP_FROM"
ca_file = "$CERT_DIR/ca.pem"
timeout_ms = 1000

[delivery.aws]
access_key_id = "AKIDDELIVERYTEST"
secret_access_key = "delivery-test-secret"
ses_endpoint = "$THROTTLE_URL"
sns_endpoint = "$THROTTLE_URL"
TOML
host a "$work/a.toml"

export HOST_B_SMTP_PORT=$(free_port)
cat >"$work/b.toml" <<TOML
[delivery]
max_attempts = 2
retry_base_ms = 50
[delivery.smtp]
host = "127.0.0.1"
port = $HOST_B_SMTP_PORT
tls = "starttls"
username = "$SMTP_USER"
password = "$SMTP_PASSWORD"
from = "$SMTP_FROM"
ca_file = "$CERT_DIR/ca.pem"
timeout_ms = 1000
TOML
host b "$work/b.toml"

# moto answers once its first request does.
deadline=$((SECONDS + 60))
until curl -fsS "$MOTO_URL/moto-api/data.json" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-delivery: moto did not start" >&2; cat "$work/moto.log" >&2; exit 1; }
  sleep 0.2
done

export COGNATE_BASE_URL="$a_url" HOST_A_LOG="$work/a.log" HOST_A_DATA="$work/a-data" HOST_B_URL="$b_url"
echo "==> delivery: host A $a_url (smtp :$smtp_port, ses via :$throttle_port, sns :$moto_port), host B $b_url"
status=0
"$DELIVERY_PYTHON" tests/delivery/test_delivery.py || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- host A's log (last 60 lines) ---" >&2
  tail -n 60 "$work/a.log" >&2
  exit "$status"
fi

if [ "$edge" = 1 ]; then
  # shellcheck source=scripts/edge-env.sh
  source scripts/edge-env.sh
  edge/build.sh
  export COGNATE_EDGE_EXTRA_ARGS="--var COGNATE_DELIVERY_AWS_ACCESS_KEY_ID:AKIDDELIVERYTEST \
    --var COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY:delivery-test-secret \
    --var COGNATE_SES_ENDPOINT:$THROTTLE_URL --var COGNATE_SNS_ENDPOINT:$THROTTLE_URL"
  edge_port=$(free_port)
  start_edge "$edge_port" "$work/edge-state" "$work/edge.log"
  echo "==> delivery on the edge: http://127.0.0.1:$edge_port"
  COGNATE_BASE_URL="http://127.0.0.1:$edge_port" DELIVERY_TARGET=edge \
    "$DELIVERY_PYTHON" tests/delivery/test_delivery.py AwsServices || status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- the Worker's log (last 60 lines) ---" >&2
    tail -n 60 "$work/edge.log" >&2
  fi
fi
echo "==> delivery stage: $((SECONDS - started)) s"
exit "$status"
