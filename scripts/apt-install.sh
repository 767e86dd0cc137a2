#!/usr/bin/env bash
# Installs the Debian packages named that are missing, with sudo unless root; `name=version`
# pins one (installed again when another version is there). Nothing happens, and apt is not
# touched, when all are present. The setup scripts' one way to install from apt.
#   scripts/apt-install.sh chromium chromium-driver "wrk=4.1.0-3+b2"
set -euo pipefail
missing=()
for spec in "$@"; do
  name="${spec%%=*}"
  if [ "$name" = "$spec" ]; then
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$spec")
  else
    [ "$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)" = "${spec#*=}" ] || missing+=("$spec")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "apt-install: installing Debian's ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
