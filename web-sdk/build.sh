#!/usr/bin/env bash
# Builds the npm package `cognate-web` into web-sdk/pkg: the Rust crate for wasm32 (profile
# `web`: opt-level z, LTO), wasm-bindgen's ES module (--target web) and .d.ts, wasm-opt -Oz, and
# the hand-written package.json and README. Prints the gzipped size of .wasm + JS.
# Needs the tools scripts/setup.sh installs (wasm-bindgen-cli, Node, binaryen from npm).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
eval "$(scripts/setup-edge.sh --env)"
eval "$(scripts/setup-browser.sh --env)"

out=web-sdk/pkg
cargo build -p cognate-web --profile web --target wasm32-unknown-unknown --locked
rm -rf "$out"
"$WASM_BINDGEN" --target web --out-dir "$out" --out-name cognate_web \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/cognate_web.wasm"
if [ -f "$WASM_OPT_JS" ]; then
  # rustc's default wasm32 features: wasm-opt must accept what it emits.
  "$NODE" "$WASM_OPT_JS" -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
    "$out/cognate_web_bg.wasm" -o "$out/cognate_web_bg.wasm.opt"
  mv "$out/cognate_web_bg.wasm.opt" "$out/cognate_web_bg.wasm"
else
  echo "build: binaryen's wasm-opt not found; the module is not post-optimised" >&2
fi
cp web-sdk/package.json web-sdk/README.md "$out/"
# wasm-bindgen writes its own .gitignore ("*") into the package; npm would honour it.
rm -f "$out/.gitignore"

wasm_gz=$(gzip -9c "$out/cognate_web_bg.wasm" | wc -c)
js_gz=$(gzip -9c "$out/cognate_web.js" | wc -c)
# The JS snippets wasm-bindgen copies (src/passkey.js: navigator.credentials) ship too.
snippets_gz=0
while IFS= read -r -d '' snippet; do
  snippets_gz=$((snippets_gz + $(gzip -9c "$snippet" | wc -c)))
done < <(find "$out/snippets" -name '*.js' -print0 2>/dev/null)
js_gz=$((js_gz + snippets_gz))
echo "cognate-web: cognate_web_bg.wasm $wasm_gz B + cognate_web.js and snippets $js_gz B gzipped = $((wasm_gz + js_gz)) B (budget 199680 B)"
# 150 KB until USER_SRP_AUTH's client side (crypto-bigint, ~31 KB gzipped) became signIn's default;
# 190 KB since MFA (~6 KB) and remembered devices (device SRP, ~9 KB) joined it; 195 KB since
# USER_AUTH (first-factor choice, one-time codes) and passkeys (~5 KB with passkey.js) did.
[ $((wasm_gz + js_gz)) -le 199680 ] || { echo "build: over the 195 KB budget" >&2; exit 1; }
