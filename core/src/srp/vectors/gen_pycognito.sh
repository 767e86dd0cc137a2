#!/usr/bin/env bash
# Regenerates core/src/srp/vectors/pycognito.json with the clients' pinned pycognito
# (tests/clients/python/setup.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
"$root/tests/clients/python/setup.sh"
eval "$("$root/tests/clients/python/setup.sh" --env)"
"$PYTHON" "$here/gen_pycognito.py" > "$here/pycognito.json"
