#!/usr/bin/env bash
# Installs only what building and running the host needs (scripts/run.sh): the Rust target the
# core's Wasm guest is built for, binaryen's wasm-opt (host/build.rs optimises the guest with
# it), and the C libraries of the `saml` feature (libxmlsec1 & co, scripts/setup-saml.sh
# --libs). Idempotent. Everything the tests need is in scripts/setup.sh.
set -euo pipefail

if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi
# RUSTUP_AUTO_INSTALL=0 on our machines: targets are added explicitly.
installed_targets="$(rustup target list --installed)"
for target in wasm32-unknown-unknown; do
  grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
# wasm-opt, pinned: a different binaryen makes a different guest module (and artifact hash).
BINARYEN_DEB_VERSION=108-1
"$(dirname "$0")/apt-install.sh" "binaryen=$BINARYEN_DEB_VERSION"
# SAML 2.0 identity providers (issue 20): scripts/run.sh builds the host with `--features saml`.
"$(dirname "$0")/setup-saml.sh" --libs
