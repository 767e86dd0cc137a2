#!/usr/bin/env bash
# Installs what the federation stage needs, idempotently: node `oidc-provider` (an OpenID
# provider written by someone else, run as an upstream identity provider by
# tests/federation/oidc-provider.mjs), pinned, cached outside the clone in COGNATE_CACHE
# (default ~/.cache/cognate), keyed by version.
# `scripts/setup-federation.sh --env` prints OIDC_PROVIDER_NODE_PATH as a shell assignment.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
OIDC_PROVIDER_VERSION=9.13.3
NPM_ROOT="$CACHE/npm-oidc-provider$OIDC_PROVIDER_VERSION"

if [ "${1:-}" = "--env" ]; then
  echo "OIDC_PROVIDER_NODE_PATH=$NPM_ROOT/node_modules"
  exit 0
fi

if [ ! -f "$NPM_ROOT/.complete" ]; then
  echo "setup-federation: installing oidc-provider@$OIDC_PROVIDER_VERSION into $NPM_ROOT" >&2
  rm -rf "$NPM_ROOT"
  mkdir -p "$NPM_ROOT"
  cat >"$NPM_ROOT/package.json" <<JSON
{"name": "cognate-federation-tools", "private": true, "type": "module",
 "dependencies": {"oidc-provider": "$OIDC_PROVIDER_VERSION"}}
JSON
  (cd "$NPM_ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$NPM_ROOT/.complete"
fi
