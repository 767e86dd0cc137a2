#!/usr/bin/env bash
# Installs what the delivery tests (scripts/test-delivery.sh) need, idempotently, into a Python
# virtual environment outside the clone (COGNATE_CACHE, default ~/.cache/cognate), keyed by the
# hash of tests/delivery/requirements.txt (every package pinned, transitive ones included): a
# rerun with the same pins does nothing.
#   - aiosmtpd: a real SMTP server (STARTTLS, AUTH) the host's SMTP transport delivers to
#   - moto[server]: the SES v2 and SNS endpoints, inspected through its /moto-api
#   - cryptography (a moto dependency) generates the test certificate at test time
# `scripts/setup-delivery.sh --env` prints DELIVERY_PYTHON (the venv's python) as an assignment.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
REQUIREMENTS=tests/delivery/requirements.txt
PYTHON3="${PYTHON3:-python3}"
py_version="$("$PYTHON3" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
pins_hash="$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
VENV="$CACHE/venv-delivery-py$py_version-$pins_hash"

if [ "${1:-}" = "--env" ]; then
  echo "DELIVERY_PYTHON=$VENV/bin/python"
  exit 0
fi

if [ ! -f "$VENV/.complete" ]; then
  echo "setup-delivery: installing $REQUIREMENTS into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON3" -m venv "$VENV"
  # PyPI only: no local wheel directories a machine may have configured.
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$VENV/bin/python" -m pip install --quiet --no-input -r "$REQUIREMENTS" >&2
  "$VENV/bin/python" -m pip check >&2
  touch "$VENV/.complete"
fi
