#!/usr/bin/env bash
# The SAML stage (issue 20): pysaml2's IdP (tests/saml/idp.py) on a free 127.0.0.1 port,
# signing with RSA keys generated here (the IdP's, and a rogue one under the same entity id),
# stopped by PID; then clippy for the host with `--features saml` and the Rust tests of the
# host's verifier (samael over libxmlsec1) and the core's checks (tests/saml/saml.rs): genuine
# SP- and IdP-initiated responses accepted once, forged ones refused.
#
# Tools: scripts/setup-saml.sh (Debian's libxmlsec1-dev & co, xmlsec1, pysaml2 in a pinned venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

scripts/setup-saml.sh
eval "$(scripts/setup-saml.sh --env)"

work="$(mktemp -d -t cognate-saml-XXXXXX)"
pids=()
stop() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] || [ "${COGNATE_TEST_KEEP_DATA:-}" = 1 ]; then
    echo "test-saml: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap stop EXIT

# Build first (the IdP's assertions live 15 minutes; a cold build may take longer).
echo "==> saml: clippy and build of the host with --features saml"
cargo clippy -p cognate-host --features saml --all-targets --locked -- -D warnings
cargo test -p cognate-host --features saml --test saml --locked --no-run

for name in idp rogue; do
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=cognate-test-saml-$name" \
    -keyout "$work/$name.key" -out "$work/$name.crt" 2>/dev/null
done

port="$("$SAML_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$SAML_PYTHON" -W ignore tests/saml/idp.py --port "$port" --key "$work/idp.key" --cert "$work/idp.crt" \
  --rogue-key "$work/rogue.key" --rogue-cert "$work/rogue.crt" >"$work/idp.log" 2>&1 </dev/null &
pids+=($!)
idp_pid=$!
export SAML_IDP_URL="http://127.0.0.1:$port"
deadline=$((SECONDS + 60))
until curl -fsS "$SAML_IDP_URL/metadata" >/dev/null 2>&1; do
  kill -0 "$idp_pid" 2>/dev/null || { echo "test-saml: the IdP exited:" >&2; cat "$work/idp.log" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "test-saml: the IdP did not start" >&2; cat "$work/idp.log" >&2; exit 1; }
  sleep 0.2
done

echo "==> saml: pysaml2's IdP at $SAML_IDP_URL; the host's verifier and the core's checks"
status=0
cargo test -p cognate-host --features saml --test saml --locked || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the IdP's log (last 40 lines) ---" >&2
  tail -n 40 "$work/idp.log" >&2
fi
exit "$status"
