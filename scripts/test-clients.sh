#!/usr/bin/env bash
# The ecosystem's own Cognito clients, each driving a whole user journey against ONE running
# Cognate (host or edge). scripts/test.sh runs it against the host (both engines) and
# scripts/test-edge.sh against the Worker.
#
# The target, from the environment (the same variables the Rust scenarios read):
#   COGNATE_BASE_URL                   e.g. http://127.0.0.1:9229
#   COGNATE_ADMIN_ACCESS_KEY_ID, COGNATE_ADMIN_SECRET_ACCESS_KEY   the admin key pair
#   COGNATE_OUTBOX_FILE                the host's <data>/outbox.jsonl, or
#   COGNATE_OUTBOX_URL + COGNATE_TEST_KEY   the edge's test outbox route
#   COGNATE_TARGET_NAME                a label for the logs (host-wasm, host-native, edge)
#
# `scripts/test-clients.sh` runs every suite; `scripts/test-clients.sh sweep`, `python` or `js` one.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${COGNATE_BASE_URL:?set COGNATE_BASE_URL to the running Cognate}"
: "${COGNATE_ADMIN_ACCESS_KEY_ID:?}" "${COGNATE_ADMIN_SECRET_ACCESS_KEY:?}"
if [ -z "${COGNATE_OUTBOX_FILE:-}" ] && [ -z "${COGNATE_OUTBOX_URL:-}" ]; then
  echo "test-clients: set COGNATE_OUTBOX_FILE or COGNATE_OUTBOX_URL" >&2
  exit 2
fi
export COGNATE_TARGET_NAME="${COGNATE_TARGET_NAME:-$COGNATE_BASE_URL}"

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(sweep python js)
for suite in "${suites[@]}"; do
  printf '\n==> clients (%s): %s\n' "$COGNATE_TARGET_NAME" "$suite"
  "tests/clients/$suite/run.sh"
done
