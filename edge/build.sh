#!/usr/bin/env bash
# Builds the Worker into edge/build/: the Rust crate for wasm32-unknown-unknown (release),
# wasm-bindgen's ES-module glue, and the JavaScript entry (js/shim.js). wrangler bundles
# build/shim.js (main in wrangler.toml) with the .wasm as a compiled module.
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
"$root/scripts/setup-edge.sh"
eval "$("$root/scripts/setup-edge.sh" --env)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked -p cognate-edge --target wasm32-unknown-unknown
rm -rf build.tmp
mkdir -p build.tmp
"$WASM_BINDGEN" "$target_dir/wasm32-unknown-unknown/release/cognate_edge.wasm" \
  --out-dir build.tmp --out-name index --target module --no-typescript \
  --experimental-reset-state-function --force-enable-abort-handler
# wasm-bindgen imports the module with a source-phase import; the bundler takes a plain import.
sed -i 's/^import source /import /' build.tmp/index.js
cp js/shim.js build.tmp/shim.js
rm -rf build
mv build.tmp build
ls -l build/index_bg.wasm >&2
