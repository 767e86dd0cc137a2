#!/usr/bin/env bash
# The SAML stage (issue 20): pysaml2's IdP (tests/saml/idp.py) on a free 127.0.0.1 port,
# signing with RSA keys generated here (the IdP's, and a rogue one under the same entity id),
# stopped by PID; then clippy for the host with `--features saml` and the Rust tests of the
# host's verifier (samael over libxmlsec1) and the core's checks (tests/saml/saml.rs): genuine
# SP- and IdP-initiated responses accepted once, forged ones refused. Then the browser walks
# (tests/tests/e2e/saml_browser.rs driving tests/browser/saml.cjs in headless Chromium) against
# the harness's own host built with `--features saml`, on both engines: the app's
# /oauth2/authorize with identity_provider=, the hosted sign-in page's provider button, and the
# web SDK's signInWithRedirect({ provider: { custom } }) on its example page (web-sdk/build.sh,
# served by web-sdk/tests/helper.mjs), each through the IdP's sign-in page and its
# auto-submitting HTTP-POST form; the apps' codes exchanged by `openidconnect`; and the checks of
# MetadataFile/MetadataURL at Create/UpdateIdentityProvider, IdP-initiated sign-in, encrypted
# assertions and single logout (tests/tests/e2e/saml.rs).
#
# `scripts/test-saml.sh FILTER` runs only the end-to-end tests whose name contains FILTER (e.g.
# `saml::encrypted`), after the verifier's tests; COGNATE_SAML_ENGINES (default "wasm native")
# picks the engines.
#
# Tools: scripts/setup-saml.sh (Debian's libxmlsec1-dev & co, xmlsec1, pysaml2 in a pinned venv),
# scripts/setup-browser.sh (Chromium, playwright-core), scripts/setup-edge.sh (Node, for the
# web SDK's build and helper).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
filter="${1:-saml}"

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
# Like every cargo command of the tests (scripts/test.sh), these select `--workspace` and the
# test profile: the features are the main build's plus saml, so what that build compiled is
# reused and only the host and what saml adds are compiled here. The saml test's build also
# builds the host binary it runs, with saml, into $CARGO_TARGET_DIR/debug/cognate.
echo "==> saml: clippy and build of the host with --features saml"
SAML_CARGO=(--workspace --features cognate-host/saml --locked)
cargo clippy "${SAML_CARGO[@]}" --all-targets -- -D warnings
cargo test "${SAML_CARGO[@]}" --test saml --no-run
cognate_bin="$CARGO_TARGET_DIR/debug/cognate"
echo "==> saml: the end-to-end tests and the web SDK"
cargo test --workspace --test e2e --locked --no-run
web-sdk/build.sh
eval "$(scripts/setup-edge.sh --env)"
eval "$(scripts/setup-browser.sh --env)"

# idp, rogue: the IdP's signing keys; sp-encryption and sp-signing: the server's SAML key pairs
# (EncryptedResponses, IDPSignout), which the harness's host reads from COGNATE_SAML_ENCRYPTION_*
# and COGNATE_SAML_SIGNING_*.
for name in idp rogue sp-encryption sp-signing; do
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
cargo test "${SAML_CARGO[@]}" --test saml || status=$?

if [ "$status" -eq 0 ]; then
  helper_port="$("$SAML_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  NODE_PATH="$NODE_PATH" "$NODE" web-sdk/tests/helper.mjs "$helper_port" "$work/no-outbox.jsonl" "$PWD/web-sdk" \
    >"$work/helper.log" 2>&1 </dev/null &
  pids+=($!)
  helper="http://127.0.0.1:$helper_port"
  deadline=$((SECONDS + 30))
  until curl -fsS "$helper/package.json" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "test-saml: the web SDK helper did not start" >&2; exit 1; }
    sleep 0.1
  done
  for engine in ${COGNATE_SAML_ENGINES:-wasm native}; do
    echo "==> saml: Chromium through the hosted UI and the web SDK to pysaml2's IdP, $engine engine"
    COGNATE_SAML_ENCRYPTION_KEY="$work/sp-encryption.key" \
      COGNATE_SAML_ENCRYPTION_CERTIFICATE="$work/sp-encryption.crt" \
      COGNATE_SAML_SIGNING_KEY="$work/sp-signing.key" \
      COGNATE_SAML_SIGNING_CERTIFICATE="$work/sp-signing.crt" \
      COGNATE_ENGINE="$engine" COGNATE_BIN="$cognate_bin" SAML_IDP_URL="$SAML_IDP_URL" \
      COGNATE_TEST_EXTRA_UPSTREAM_HOSTS="127.0.0.1:$port" COGNATE_WEB_TEST_HELPER="$helper" \
      cargo test --workspace --test e2e --locked -- --ignored "$filter" || { status=$?; break; }
  done
fi
if [ "$status" -ne 0 ]; then
  echo "--- the IdP's log (last 40 lines) ---" >&2
  tail -n 40 "$work/idp.log" >&2
fi
exit "$status"
