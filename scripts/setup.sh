#!/usr/bin/env bash
# Installs what building and testing Cognate needs. Idempotent: safe to run on every CI run.
set -euo pipefail

# RUSTUP_AUTO_INSTALL=0 on our machines: targets and components are added explicitly.
if command -v rustup >/dev/null 2>&1; then
  installed_targets="$(rustup target list --installed)"
  for target in wasm32-unknown-unknown; do
    grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
  done
  installed_components="$(rustup component list --installed 2>/dev/null || true)"
  for component in clippy rustfmt; do
    grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
  done
else
  echo "setup: rustup not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# -- edge (issue 5): wasm-bindgen-cli, Node 22 and wrangler, cached outside the clone ---------
"$(dirname "$0")/setup-edge.sh"

# -- browser tests (hosted UI, web SDK): Debian chromium + chromedriver, playwright-core --------
"$(dirname "$0")/setup-browser.sh"

# -- PostgreSQL store tests (issue 21): Debian's postgresql (scripts/test-postgres.sh) ---------
"$(dirname "$0")/setup-postgres.sh"
