#!/usr/bin/env bash
# Installs the Python clients the journeys drive (requirements.txt: awscli v1, boto3, pycognito,
# PyJWT, Authlib, requests, every one pinned with ==) from PyPI into a venv in the cache,
# ${COGNATE_CACHE:-~/.cache/cognate}/py-clients-<python version>-<hash of requirements.txt>:
# a rerun with the same pins does nothing. Progress goes to stderr.
# `setup.sh --env` prints VENV, PYTHON and AWS (the venv's `aws`) as shell assignments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
PYTHON3="${PYTHON3:-python3}"
py_version="$("$PYTHON3" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
pins_hash="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
VENV="$CACHE/py-clients-py$py_version-$pins_hash"

if [ "${1:-}" = "--env" ]; then
  echo "VENV=$VENV"
  echo "PYTHON=$VENV/bin/python"
  echo "AWS=$VENV/bin/aws"
  exit 0
fi

if [ ! -f "$VENV/.complete" ]; then
  echo "setup (python clients): installing requirements.txt into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON3" -m venv "$VENV"
  # PyPI only: no local wheel directories a machine may have configured.
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$VENV/bin/python" -m pip install --quiet --no-input -r "$here/requirements.txt" >&2
  "$VENV/bin/python" -m pip check >&2
  touch "$VENV/.complete"
fi
