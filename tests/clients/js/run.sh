#!/usr/bin/env bash
# The JavaScript ecosystem's Cognito clients against one running Cognate (the target in the
# environment: see scripts/test-clients.sh). Installs them first (setup.sh, idempotent), then
# runs main.cjs: amazon-cognito-identity-js under Node, Amplify JS v6 in headless Chromium, and
# aws-jwt-verify on the tokens both got.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

"$here/setup.sh"
eval "$("$here/setup.sh" --env)"
export NODE_PATH CHROMIUM
# The pinned AWS SDK runs on Node 20; it warns that releases after January 2027 need Node 22.
# Whoever bumps it past that switches this to the Node 22 from scripts/setup-edge.sh --env.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node "$here/main.cjs"
