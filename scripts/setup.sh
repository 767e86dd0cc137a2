#!/usr/bin/env bash
# Installs what building and testing Cognate needs. Idempotent: safe to run on every CI run.
# (Running the host needs only scripts/setup-run.sh, which this calls first.)
set -euo pipefail
here="$(dirname "$0")"

"$here/setup-run.sh"

# RUSTUP_AUTO_INSTALL=0 on our machines: components are added explicitly.
installed_components="$(rustup component list --installed 2>/dev/null || true)"
for component in clippy rustfmt; do
  grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done

# -- edge (issue 5): wasm-bindgen-cli, Node 22 and wrangler, cached outside the clone ---------
"$here/setup-edge.sh"

# -- browser tests (hosted UI, web SDK): Debian chromium + chromedriver, playwright-core --------
"$here/setup-browser.sh"

# -- the ecosystem's clients (issue 15): botocore for the model sweep, the Python clients' venv,
#    the JavaScript clients' npm packages; each pinned and cached under ~/.cache/cognate -------
root="$(cd "$here/.." && pwd)"
for suite in sweep python js; do
  "$root/tests/clients/$suite/setup.sh"
done

# -- PostgreSQL store tests (issue 21): Debian's postgresql (scripts/test-postgres.sh) ---------
"$here/setup-postgres.sh"

# -- delivery tests (issue 22): aiosmtpd and moto[server] in a pinned venv ---------------------
"$here/setup-delivery.sh"

# -- SAML (issue 20): libxmlsec1 & co for `--features saml`, xmlsec1 and pysaml2's IdP (pinned venv)
"$here/setup-saml.sh"

# -- federation tests (issue 20): node oidc-provider, pinned, as an upstream OpenID provider --
"$here/setup-federation.sh"
