#!/usr/bin/env bash
# The admin console's two third-party files come from npm, pinned, and are kept in the
# repository (the core builds them in; no build step, no download at run time):
#   aws4fetch (SigV4 signing in the browser, WebCrypto) -> vendor/aws4fetch.esm.js
#   uplot (the charts)                                 -> vendor/uPlot.iife.min.js, uPlot.min.css
# `scripts/vendor-console.sh` fetches them again at the pinned versions and rewrites them;
# `--check` only verifies that the files in the repository are exactly the packages' files.
set -euo pipefail
cd "$(dirname "$0")/.."

AWS4FETCH_VERSION=1.0.20
UPLOT_VERSION=1.6.32
VENDOR=core/src/console/assets/vendor

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "aws4fetch@$AWS4FETCH_VERSION" "uplot@$UPLOT_VERSION" >/dev/null)
mkdir -p "$work/aws4fetch" "$work/uplot"
tar -xzf "$work/aws4fetch-$AWS4FETCH_VERSION.tgz" -C "$work/aws4fetch"
tar -xzf "$work/uplot-$UPLOT_VERSION.tgz" -C "$work/uplot"

pairs=(
  "aws4fetch/package/dist/aws4fetch.esm.js:aws4fetch.esm.js"
  "aws4fetch/package/LICENSE:aws4fetch.LICENSE"
  "uplot/package/dist/uPlot.iife.min.js:uPlot.iife.min.js"
  "uplot/package/dist/uPlot.min.css:uPlot.min.css"
  "uplot/package/LICENSE:uPlot.LICENSE"
)
status=0
for pair in "${pairs[@]}"; do
  from="$work/${pair%%:*}"
  to="$VENDOR/${pair##*:}"
  if [ "${1:-}" = --check ]; then
    if ! cmp -s "$from" "$to"; then
      echo "vendor-console: $to differs from the npm package's ${pair%%:*}" >&2
      status=1
    fi
  else
    cp "$from" "$to"
  fi
done
[ "${1:-}" = --check ] && [ $status = 0 ] && echo "vendor-console: the vendored files are the npm packages' (aws4fetch $AWS4FETCH_VERSION, uplot $UPLOT_VERSION)"
exit $status
