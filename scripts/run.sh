#!/usr/bin/env bash
# Builds and starts Cognate: the host server on its embedded SQLite store, with a demo pool.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-run.sh
# `saml`: SAML 2.0 identity providers, verified with libxmlsec1 (issue 20).
exec cargo run --release --locked -p cognate-host --features saml --bin cognate -- serve "$@"
