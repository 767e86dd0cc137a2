#!/usr/bin/env bash
# Regenerates core/src/srp/vectors/identity-js.json with the clients' pinned
# amazon-cognito-identity-js (tests/clients/js/setup.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
"$root/tests/clients/js/setup.sh" >&2
eval "$("$root/tests/clients/js/setup.sh" --env)"
NODE_PATH="$NODE_PATH" node "$here/gen_identity_js.cjs" > "$here/identity-js.json"
