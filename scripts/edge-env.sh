# Sourced by the edge scripts: the cached tools, wrangler's no-telemetry environment, and
# start_edge/stop_edge for a local Worker under `wrangler dev --local` on 127.0.0.1.
# shellcheck shell=bash
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$("$root/scripts/setup-edge.sh" --env)"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export PATH="$(dirname "$NODE"):$PATH"

# Local development settings: never set for a deployment.
export COGNATE_TEST_KEY="${COGNATE_TEST_KEY:-cognate-local-test-key}"
export COGNATE_ADMIN_ACCESS_KEY_ID="${COGNATE_ADMIN_ACCESS_KEY_ID:-AKIACOGNATETESTADMIN}"
export COGNATE_ADMIN_SECRET_ACCESS_KEY="${COGNATE_ADMIN_SECRET_ACCESS_KEY:-cognate+test+secret+key+0123456789abcdefgh}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_edge PORT PERSIST_DIR LOG: starts the (already built) Worker; sets EDGE_PID. Waits until
# GET /health answers. COGNATE_EDGE_EXTRA_ARGS (words) are added to `wrangler dev`, e.g.
# "--var NAME:VALUE ..." (scripts/test-delivery.sh --edge passes the SES/SNS settings so).
# A port found free can be taken before wrangler binds it (by another process's outbound
# connection, or by the inspector port picked next, which may come out the same): a start that
# fails with "Address already in use" is tried again, with a new inspector port.
start_edge() {
  local port="$1" persist="$2" log="$3" attempt status
  for attempt in 1 2 3; do
    status=0
    start_edge_once "$port" "$persist" "$log" || status=$?
    case "$status" in
      0) return 0 ;;
      2) return 1 ;; # no answer in time: start_edge_once printed the log
    esac
    if [ "$attempt" -lt 3 ] && grep -q "Address already in use" "$log"; then
      echo "wrangler dev found a port in use (attempt $attempt): starting it again" >&2
      sleep $((attempt * 2))
      continue
    fi
    echo "wrangler dev exited before answering; its log:" >&2
    cat "$log" >&2
    return 1
  done
}

# start_edge_once PORT PERSIST_DIR LOG: one try of start_edge: 1 if wrangler exits before it
# answers, 2 if it does not answer within 90 s (stopped, its log printed).
start_edge_once() {
  local port="$1" persist="$2" log="$3" inspector
  inspector="$(free_port)"
  while [ "$inspector" = "$port" ]; do inspector="$(free_port)"; done
  (
    cd "$root/edge"
    COGNATE_EDGE_PREBUILT=1 exec "$NODE" "$WRANGLER_JS" dev --local --test-scheduled \
      --ip 127.0.0.1 --port "$port" --inspector-ip 127.0.0.1 --inspector-port "$inspector" \
      --persist-to "$persist" --show-interactive-dev-session=false --log-level "${EDGE_LOG_LEVEL:-log}" \
      --var "COGNATE_TEST_KEY:$COGNATE_TEST_KEY" --var "COGNATE_DEV_OUTBOX:true" \
      --var "COGNATE_AUDIT_LOG:console" \
      --var "COGNATE_PLUGIN_DELIVERY_HOSTS:${COGNATE_PLUGIN_DELIVERY_HOSTS:-mail.example.com}" \
      --var "COGNATE_UPSTREAM_HOSTS:127.0.0.1:$port${COGNATE_TEST_EXTRA_UPSTREAM_HOSTS:+,$COGNATE_TEST_EXTRA_UPSTREAM_HOSTS}" \
      --var "COGNATE_ADMIN_ACCESS_KEY_ID:$COGNATE_ADMIN_ACCESS_KEY_ID" \
      --var "COGNATE_ADMIN_SECRET_ACCESS_KEY:$COGNATE_ADMIN_SECRET_ACCESS_KEY" \
      ${COGNATE_EDGE_EXTRA_ARGS:-}
  ) >"$log" 2>&1 </dev/null &
  EDGE_PID=$!
  local deadline=$((SECONDS + 90))
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    if ! kill -0 "$EDGE_PID" 2>/dev/null; then
      wait "$EDGE_PID" 2>/dev/null || true
      EDGE_PID=
      return 1
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
      echo "wrangler dev did not answer GET /health within 90 s; its log:" >&2
      cat "$log" >&2
      stop_edge
      return 2
    fi
    sleep 0.2
  done
}

# stop_edge: stops the Worker started by start_edge (its process group: wrangler and workerd).
stop_edge() {
  [ -n "${EDGE_PID:-}" ] || return 0
  kill -TERM "$EDGE_PID" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while kill -0 "$EDGE_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$EDGE_PID" 2>/dev/null || true
  wait "$EDGE_PID" 2>/dev/null || true
  EDGE_PID=
}
