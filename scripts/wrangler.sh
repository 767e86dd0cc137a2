#!/usr/bin/env bash
# wrangler (npm, pinned by scripts/setup-edge.sh) under the cached Node 22, with telemetry off.
# Runs from edge/ (where wrangler.toml is): scripts/wrangler.sh deploy, secret put NAME, ...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup-edge.sh"
eval "$("$root/scripts/setup-edge.sh" --env)"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export PATH="$(dirname "$NODE"):$PATH"
cd "$root/edge"
exec "$NODE" "$WRANGLER_JS" "$@"
