#!/usr/bin/env bash
# The browser SDK's tests, as CI runs them (scripts/test.sh calls this after the host build):
#   1. builds the package (web-sdk/build.sh, which also checks the 195 KB gzipped budget);
#   2. starts the host on a free loopback port with a config file declaring the test pool and
#      app client (fixed ids, see tests/browser.rs) and the custom-auth example plugin, and the
#      loopback helper (tests/helper.mjs: web-sdk/ as static files, the outbox at /outbox);
#   3. runs tests/browser.rs with wasm-bindgen-test in headless Chromium (chromedriver);
#   4. runs tests/example.mjs: playwright-core drives the example page in /usr/bin/chromium
#      (sign-up, sign-in, the hosted UI round trip) and saves target/browser/web-sdk-example.png;
#   5. runs tests/passkeys.mjs: passkeys and USER_AUTH with Chromium's virtual authenticator.
# Both servers are stopped by PID on exit, and the scratch directory removed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
eval "$(scripts/setup-edge.sh --env)"
eval "$(scripts/setup-browser.sh --env)"
export NODE_PATH

cognate_bin="${COGNATE_BIN:-$CARGO_TARGET_DIR/debug/cognate}"
plugin="$CARGO_TARGET_DIR/wasm32-unknown-unknown/plugin/cognate_example_custom_auth.wasm"
[ -x "$cognate_bin" ] || cargo build -p cognate-host --bin cognate --locked
[ -f "$plugin" ] || cargo build --profile plugin --target wasm32-unknown-unknown --locked \
  -p cognate-example-custom-auth

web-sdk/build.sh

scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

free_port() {
  "$NODE" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
host_port="$(free_port)"
helper_port="$(free_port)"
endpoint="http://127.0.0.1:$host_port"
helper="http://127.0.0.1:$helper_port"

cat >"$scratch/cognate.toml" <<TOML
listen = "127.0.0.1:$host_port"
data = "$scratch/data"
demo = false

[[admin_keys]]
access_key_id = "AKIAWEBSDKTESTADMIN1"
secret_access_key = "web-sdk-test-secret-key-0123456789abcdef"

[[pools]]
id = "us-east-1_WebSdkT01"
create = { PoolName = "web-sdk-tests", AutoVerifiedAttributes = ["email"], LambdaConfig = { DefineAuthChallenge = "custom-auth", CreateAuthChallenge = "custom-auth", VerifyAuthChallengeResponse = "custom-auth" } }
[[pools.clients]]
id = "websdktestclient0000000001"
create = { ClientName = "web", ExplicitAuthFlows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"], AllowedOAuthFlowsUserPoolClient = true, AllowedOAuthFlows = ["code"], AllowedOAuthScopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"], SupportedIdentityProviders = ["COGNITO"], CallbackURLs = ["$helper/examples/index.html"] }

[[plugins.register]]
name = "custom-auth"
path = "$plugin"
TOML

# moto's STS for the identity-pool test (fetchAuthSession's credentials).
scripts/setup-delivery.sh
eval "$(scripts/setup-delivery.sh --env)"
moto_port="$(free_port)"
"$DELIVERY_PYTHON" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$scratch/moto.log" 2>&1 </dev/null &
pids+=("$!")

COGNATE_STS_ENDPOINT="http://127.0.0.1:$moto_port" \
  "$cognate_bin" serve --config "$scratch/cognate.toml" >"$scratch/host.log" 2>&1 &
pids+=("$!")
"$NODE" web-sdk/tests/helper.mjs "$helper_port" "$scratch/data/outbox.jsonl" "$PWD/web-sdk" \
  >"$scratch/helper.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 300); do
  curl -fsS "$endpoint/health" >/dev/null 2>&1 && curl -fsS "$helper/package.json" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$endpoint/health" >/dev/null || { cat "$scratch/host.log" >&2; exit 1; }
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$moto_port/moto-api/data.json" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$moto_port/moto-api/data.json" >/dev/null || { cat "$scratch/moto.log" >&2; exit 1; }

status=0
# WEB_SDK_ONLY=passkeys runs step 5 alone (the package must be built, as above).
if [ "${WEB_SDK_ONLY:-}" = passkeys ]; then
  "$NODE" web-sdk/tests/passkeys.mjs "$helper" "$endpoint" AKIAWEBSDKTESTADMIN1 \
    web-sdk-test-secret-key-0123456789abcdef || { tail -n 50 "$scratch/host.log" >&2; exit 1; }
  exit 0
fi
COGNATE_WEB_TEST_ENDPOINT="$endpoint" COGNATE_WEB_TEST_HELPER="$helper" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$(dirname "$WASM_BINDGEN")/wasm-bindgen-test-runner" \
  CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 \
  cargo test -p cognate-web --target wasm32-unknown-unknown --locked || status=$?

if [ "$status" = 0 ]; then
  mkdir -p "$CARGO_TARGET_DIR/browser"
  "$NODE" web-sdk/tests/example.mjs "$helper" "$endpoint" "$CARGO_TARGET_DIR/browser/web-sdk-example.png" \
    || status=$?
fi
if [ "$status" = 0 ]; then
  # Passkeys and USER_AUTH with the DevTools virtual authenticator (page on http://localhost).
  "$NODE" web-sdk/tests/passkeys.mjs "$helper" "$endpoint" AKIAWEBSDKTESTADMIN1 \
    web-sdk-test-secret-key-0123456789abcdef || status=$?
fi
if [ "$status" != 0 ]; then
  echo "--- host log" >&2; tail -n 50 "$scratch/host.log" >&2
fi
exit "$status"
