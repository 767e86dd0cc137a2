#!/usr/bin/env bash
# Installs what the PostgreSQL tests need (issue 21), idempotently: Debian's `postgresql`
# package (the server binaries initdb, postgres, pg_ctl; the distribution's packaged cluster is
# never started: scripts/postgres.sh runs a throwaway server in a temporary directory).
# Not needed to run Cognate on SQLite (scripts/run.sh).
# `scripts/setup-postgres.sh --bin` prints the directory holding initdb and postgres.
set -euo pipefail

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  return 1
}

if [ "${1:-}" = "--bin" ]; then
  find_bin
  exit
fi

if ! find_bin >/dev/null; then
  # (Its packaged cluster may start on 5432: unused here, the tests run their own.)
  "$(dirname "$0")/apt-install.sh" postgresql
fi
find_bin >/dev/null || { echo "setup-postgres: initdb not found after install" >&2; exit 1; }
