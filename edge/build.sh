#!/usr/bin/env bash
# Builds the Worker into edge/build/: the Rust crate for wasm32-unknown-unknown (profile `edge`:
# optimised for size but for argon2/blake2/sha2), wasm-bindgen's ES-module glue without the name
# section, the JavaScript entry (js/shim.js), and the trigger plugins bundled with the Worker
# (build/plugins.js and build/plugins/*.wasm, prepared by cognate-plugin-bundle: memory cap and
# CPU metering written into each module). wrangler bundles build/shim.js (main in wrangler.toml)
# with every .wasm as a compiled module.
#
# Plugins: every .wasm/.wat in edge/plugins/ and in the paths listed (space-separated) in
# COGNATE_EDGE_PLUGINS, each registered under its file name and its SHA-256. `./build.sh
# --plugins-only` redoes only that step (scripts/test-edge.sh adds the test plugins after
# checking the production bundle's size).
#
# Does what workers-rs' worker-build does, without its downloads: the tools come from
# scripts/setup-edge.sh's cache (COGNATE_CACHE, default ~/.cache/cognate).
# COGNATE_EDGE_PREBUILT=1 skips the build (wrangler runs this as its build command; CI builds
# once and then starts wrangler several times).
set -euo pipefail
cd "$(dirname "$0")"
if [ "${COGNATE_EDGE_PREBUILT:-}" = 1 ] && [ -f build/index_bg.wasm ]; then
  exit 0
fi
root="$(cd .. && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

bundle_plugins() {
  local inputs=()
  [ -d plugins ] && inputs+=(plugins)
  # shellcheck disable=SC2206
  [ -n "${COGNATE_EDGE_PLUGINS:-}" ] && inputs+=($COGNATE_EDGE_PLUGINS)
  cargo build --locked --quiet -p cognate-plugin-bundle
  "$target_dir/debug/cognate-plugin-bundle" --out "$1" "${inputs[@]}"
}

if [ "${1:-}" = "--plugins-only" ]; then
  [ -f build/index_bg.wasm ] || { echo "build.sh --plugins-only: build the Worker first" >&2; exit 1; }
  bundle_plugins build
  exit 0
fi

"$root/scripts/setup-edge.sh"
eval "$("$root/scripts/setup-edge.sh" --env)"

cargo build --profile edge --locked -p cognate-edge --target wasm32-unknown-unknown
rm -rf build.tmp
mkdir -p build.tmp
# Without the name section: a third of the gzipped upload, and only backtraces read it.
"$WASM_BINDGEN" "$target_dir/wasm32-unknown-unknown/edge/cognate_edge.wasm" \
  --out-dir build.tmp --out-name index --target module --no-typescript \
  --experimental-reset-state-function --force-enable-abort-handler \
  --remove-name-section --remove-producers-section
# wasm-bindgen imports the module with a source-phase import; the bundler takes a plain import.
sed -i 's/^import source /import /' build.tmp/index.js
cp js/shim.js build.tmp/shim.js
bundle_plugins build.tmp
rm -rf build
mv build.tmp build
ls -l build/index_bg.wasm >&2
