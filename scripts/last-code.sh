#!/usr/bin/env bash
# last-code.sh POOL_ID USER: prints the code in the newest message Cognate "sent" to USER (a
# username or an email/phone destination) in POOL_ID, waiting up to 15 s for one to arrive.
# Where the messages are read from, first that applies:
#   COGNATE_OUTBOX_FILE                    a host's <data dir>/outbox.jsonl
#   COGNATE_OUTBOX_URL (+ COGNATE_TEST_KEY)  the edge's test outbox route (header x-cognate-test-key)
#   ./cognate-data/outbox.jsonl of this clone (where scripts/run.sh keeps it)
set -euo pipefail
[ "$#" -eq 2 ] || { echo "usage: $0 POOL_ID USER" >&2; exit 2; }
default_outbox="$(cd "$(dirname "$0")/.." && pwd)/cognate-data/outbox.jsonl"
exec python3 - "$1" "$2" "$default_outbox" <<'PY'
import json, os, sys, time, urllib.parse, urllib.request

pool_id, who, default_outbox = sys.argv[1], sys.argv[2].lower(), sys.argv[3]
file = os.environ.get("COGNATE_OUTBOX_FILE") or (None if os.environ.get("COGNATE_OUTBOX_URL") else default_outbox)


def lines():
    if file:
        try:
            with open(file) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        text = text[: text.rfind("\n") + 1]  # complete lines only
    else:
        url = os.environ["COGNATE_OUTBOX_URL"] + "?" + urllib.parse.urlencode({"pool": pool_id})
        request = urllib.request.Request(url)
        if os.environ.get("COGNATE_TEST_KEY"):
            request.add_header("x-cognate-test-key", os.environ["COGNATE_TEST_KEY"])
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


deadline = time.monotonic() + 15
while True:
    codes = [
        m["code"]
        for m in lines()
        if m.get("pool_id") == pool_id
        and m.get("code")
        and who in (str(m.get("username", "")).lower(), str(m.get("destination", "")).lower())
    ]
    if codes:
        print(codes[-1])
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(f"last-code: no message with a code for {sys.argv[2]!r} in pool {pool_id} ({file or os.environ['COGNATE_OUTBOX_URL']})")
    time.sleep(0.2)
PY
