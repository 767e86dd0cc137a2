#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]: starts a throwaway PostgreSQL server (Debian's binaries,
# scripts/setup-postgres.sh) in a fresh temporary directory on a free loopback port, runs CMD with
# COGNATE_TEST_POSTGRES set to its URL (a superuser on the `postgres` database: tests create a
# fresh database per server or store from it), then stops the server by PID and removes it.
# It also speaks TLS, with a certificate from a test CA made at start (COGNATE_TEST_POSTGRES_CA).
#
# The server trusts loopback connections and runs without fsync: it holds test data only. As root
# it runs as the `postgres` user (initdb refuses root), in a directory that user owns.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$(scripts/setup-postgres.sh --bin)" || {
  echo "with-postgres: PostgreSQL is not installed (scripts/setup-postgres.sh)" >&2
  exit 1
}
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
dir="$(mktemp -d -t cognate-pg-XXXXXX)"
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U cognate --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  rm -rf "$dir"
  exit 1
}
# TLS for clients that ask (sslmode=require): a test CA made now, and a server certificate it
# signs for 127.0.0.1 (COGNATE_TEST_POSTGRES_CA names the CA for the tests).
tls="$dir/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Cognate test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
  -days 2 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
chmod 600 "$tls/server.key"
[ "$(id -u)" = 0 ] && chown -R postgres: "$tls"
chmod 755 "$tls"
chmod 644 "$tls/ca.pem"

# Unix socket in the temporary directory (never /var/run/postgresql), TCP on loopback only.
"${as_owner[@]}" "$bin/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir" \
  -c ssl=on -c ssl_cert_file="$tls/server.pem" -c ssl_key_file="$tls/server.key" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=400 -c shared_buffers=64MB \
  >"$dir/server.log" 2>&1 </dev/null &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT

deadline=$((SECONDS + 60))
until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U cognate -d postgres; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-postgres: postgres exited before answering; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  [ "$SECONDS" -lt "$deadline" ] || { echo "with-postgres: no answer on :$port" >&2; cat "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done

export COGNATE_TEST_POSTGRES="postgres://cognate@127.0.0.1:$port/postgres"
export COGNATE_TEST_POSTGRES_CA="$tls/ca.pem"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | sed "s/^postgres (PostgreSQL) //") on 127.0.0.1:$port (pid $pid)" >&2
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the PostgreSQL log (last 50 lines) ---" >&2
  tail -n 50 "$dir/server.log" >&2
fi
exit "$status"
