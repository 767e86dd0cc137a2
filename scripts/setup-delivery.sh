#!/usr/bin/env bash
# Installs what the delivery tests (scripts/test-delivery.sh) need, idempotently, into a Python
# virtual environment outside the clone (COGNATE_CACHE, default ~/.cache/cognate), keyed by the
# pinned versions: a rerun does nothing.
#   - aiosmtpd: a real SMTP server (STARTTLS, AUTH) the host's SMTP transport delivers to
#   - moto[server]: the SES v2 and SNS endpoints, inspected through its /moto-api
#   - cryptography (a moto dependency) generates the test certificate at test time
# `scripts/setup-delivery.sh --env` prints DELIVERY_PYTHON (the venv's python) as an assignment.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${COGNATE_CACHE:-$HOME/.cache/cognate}"
AIOSMTPD_VERSION=1.4.6
MOTO_VERSION=5.2.6
VENV="$CACHE/venv-delivery-aiosmtpd$AIOSMTPD_VERSION-moto$MOTO_VERSION"

if [ "${1:-}" = "--env" ]; then
  echo "DELIVERY_PYTHON=$VENV/bin/python"
  exit 0
fi

if [ ! -f "$VENV/.complete" ]; then
  echo "setup-delivery: installing aiosmtpd==$AIOSMTPD_VERSION and moto[server]==$MOTO_VERSION into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "aiosmtpd==$AIOSMTPD_VERSION" "moto[server]==$MOTO_VERSION" >&2
  touch "$VENV/.complete"
fi
