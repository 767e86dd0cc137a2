#!/usr/bin/env bash
# Installs what the browser tests need, idempotently:
#   - Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver), by apt
#   - playwright-core from npm (it drives the system Chromium; it never downloads a browser),
#     cached outside the clone in COGNATE_CACHE (default ~/.cache/cognate), keyed by version
#   - axe-core from npm beside it (the admin console's accessibility check), same cache
#   - binaryen from npm (its wasm-opt, itself Wasm run by Node, shrinks the browser SDK), likewise
# `scripts/setup-browser.sh --env` prints CHROMIUM, CHROMEDRIVER, NODE_PATH and WASM_OPT_JS as
# shell assignments.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
PLAYWRIGHT_VERSION=1.65.1
AXE_CORE_VERSION=4.14.1
NPM_ROOT="$CACHE/npm-playwright-core$PLAYWRIGHT_VERSION-axe-core$AXE_CORE_VERSION"
BINARYEN_VERSION=132.0.0
BINARYEN_ROOT="$CACHE/npm-binaryen$BINARYEN_VERSION"

if [ "${1:-}" = "--env" ]; then
  echo "CHROMIUM=/usr/bin/chromium"
  echo "CHROMEDRIVER=/usr/bin/chromedriver"
  echo "NODE_PATH=$NPM_ROOT/node_modules"
  echo "WASM_OPT_JS=$BINARYEN_ROOT/node_modules/binaryen/bin/wasm-opt"
  exit 0
fi

scripts/apt-install.sh chromium chromium-driver

if [ ! -f "$NPM_ROOT/.complete" ]; then
  echo "setup-browser: installing playwright-core@$PLAYWRIGHT_VERSION and axe-core@$AXE_CORE_VERSION into $NPM_ROOT" >&2
  rm -rf "$NPM_ROOT"
  mkdir -p "$NPM_ROOT"
  cat >"$NPM_ROOT/package.json" <<JSON
{"name": "cognate-browser-tools", "private": true,
 "dependencies": {"playwright-core": "$PLAYWRIGHT_VERSION", "axe-core": "$AXE_CORE_VERSION"}}
JSON
  # playwright-core has no install script and never fetches browsers: we use /usr/bin/chromium.
  (cd "$NPM_ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$NPM_ROOT/.complete"
fi

if [ ! -f "$BINARYEN_ROOT/.complete" ]; then
  echo "setup-browser: installing binaryen@$BINARYEN_VERSION into $BINARYEN_ROOT" >&2
  rm -rf "$BINARYEN_ROOT"
  mkdir -p "$BINARYEN_ROOT"
  cat >"$BINARYEN_ROOT/package.json" <<JSON
{"name": "cognate-binaryen", "private": true,
 "dependencies": {"binaryen": "$BINARYEN_VERSION"}}
JSON
  (cd "$BINARYEN_ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$BINARYEN_ROOT/.complete"
fi
