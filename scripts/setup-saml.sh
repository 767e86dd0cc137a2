#!/usr/bin/env bash
# Installs what SAML 2.0 needs (issue 20), idempotently.
#   - Building the host with `--features saml` (scripts/run.sh, the SAML tests): samael links
#     Debian's libxmlsec1 (OpenSSL backend) and libxml2 and generates bindings with bindgen:
#     libxmlsec1-dev, libxml2-dev, libssl-dev, pkg-config, libclang-dev (Debian's versions;
#     `--libs` installs only these).
#   - The SAML tests (scripts/test-saml.sh): pysaml2's IdP in a Python virtual environment
#     outside the clone (COGNATE_CACHE, default ~/.cache/cognate), keyed by the hash of
#     tests/saml/requirements.txt (every package pinned, transitive ones included), and
#     Debian's xmlsec1 binary, which pysaml2 signs with.
# `scripts/setup-saml.sh --env` prints SAML_PYTHON (the venv's python) as an assignment.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
REQUIREMENTS=tests/saml/requirements.txt
PYTHON3="${PYTHON3:-python3}"
py_version="$("$PYTHON3" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
pins_hash="$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
VENV="$CACHE/venv-saml-py$py_version-$pins_hash"

if [ "${1:-}" = "--env" ]; then
  echo "SAML_PYTHON=$VENV/bin/python"
  exit 0
fi

scripts/apt-install.sh libxmlsec1-dev libxml2-dev libssl-dev pkg-config libclang-dev
[ "${1:-}" = "--libs" ] && exit 0

scripts/apt-install.sh xmlsec1
if [ ! -f "$VENV/.complete" ]; then
  echo "setup-saml: installing $REQUIREMENTS into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON3" -m venv "$VENV"
  # PyPI only: no local wheel directories a machine may have configured.
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$VENV/bin/python" -m pip install --quiet --no-input -r "$REQUIREMENTS" >&2
  "$VENV/bin/python" -m pip check >&2
  touch "$VENV/.complete"
fi
