#!/usr/bin/env bash
# Installs the JavaScript clients the js journeys drive, idempotently, into a cache directory
# outside the clone (COGNATE_CACHE, default ~/.cache/cognate) keyed by their versions and the
# lock file: a rerun does nothing. package.json pins each exactly, package-lock.json every
# transitive package (`npm ci`):
#   - amazon-cognito-identity-js (runs under Node)
#   - aws-jwt-verify (verifies the tokens)
#   - aws-amplify v6 (bundled by esbuild into a page that runs in headless Chromium)
#   - esbuild (its platform binary, @esbuild/linux-x64, is an npm package too)
#   - @aws-sdk/client-cognito-identity-provider (the SigV4-signed admin set-up)
#   - @aws-sdk/credential-providers (`fromCognitoIdentityPool`, identity pools)
# plus playwright-core and Debian's chromium from scripts/setup-browser.sh. Node: the machine's.
# `tests/clients/js/setup.sh --env` prints NODE_PATH (these clients and playwright-core) and
# CHROMIUM as shell assignments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
versions="$(node -e 'const d = require(process.argv[1]).dependencies;
  process.stdout.write(Object.entries(d).map(([n, v]) => `${n.replace(/^@.*\//, "")}${v}`).join("-"))' "$here/package.json")"
lock="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-12)"
NPM_ROOT="$CACHE/npm-clients-$versions-$lock"

if [ "${1:-}" = "--env" ]; then
  eval "$("$root/scripts/setup-browser.sh" --env)"
  echo "NODE_PATH=$NPM_ROOT/node_modules:$NODE_PATH"
  echo "CHROMIUM=$CHROMIUM"
  exit 0
fi

"$root/scripts/setup-browser.sh"

if [ ! -f "$NPM_ROOT/.complete" ]; then
  echo "setup (js clients): installing into $NPM_ROOT" >&2
  rm -rf "$NPM_ROOT"
  mkdir -p "$NPM_ROOT"
  cp "$here/package.json" "$here/package-lock.json" "$NPM_ROOT/"
  # esbuild's install script only checks its platform package; nothing is downloaded from
  # anywhere but the npm registry.
  (cd "$NPM_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$NPM_ROOT/.complete"
fi
