#!/usr/bin/env bash
# Every operation of Cognito's own service model (botocore), fed malformed input: see sweep.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh"
eval "$("$here/setup.sh" --env)"
exec "$PYTHON" "$here/sweep.py"
