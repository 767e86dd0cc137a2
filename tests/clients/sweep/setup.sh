#!/usr/bin/env bash
# A venv with botocore (the Cognito service models and SigV4) for the sweep, cached by version.
# `setup.sh --env` prints PYTHON=<the venv's python>.
set -euo pipefail
BOTOCORE_VERSION=1.44.18
CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
VENV="$CACHE/py-sweep-botocore$BOTOCORE_VERSION"
if [ "${1:-}" = "--env" ]; then
  echo "PYTHON=$VENV/bin/python"
  exit 0
fi
if [ ! -f "$VENV/.complete" ]; then
  echo "sweep: installing botocore==$BOTOCORE_VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "botocore==$BOTOCORE_VERSION" >&2
  touch "$VENV/.complete"
fi
