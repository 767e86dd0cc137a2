"""Latency of the hot paths of the edge Worker under the local Workers runtime (workerd).

Sequential requests (one at a time, so latency is not queueing) of InitiateAuth
USER_PASSWORD_AUTH, USER_SRP_AUTH (both calls, driven by pycognito's AWSSRP when this runs in the
clients' venv), InitiateAuth REFRESH_TOKEN_AUTH and GetUser; reports p50/p90/p99 and the
runtime's CPU time per request (workerd processes' user+system time over the run, divided by the
request count: includes the runtime's own overhead). First, the edge's signing bound: RS256
signatures and verifications through the Worker's Jws port (WebCrypto, the `rs256` test route),
in runtime CPU per operation, and the share of refresh's CPU its two signatures take. Usage: bench_edge.py BASE_URL TEST_KEY N PIDS...
"""
import json
import os
import statistics
import sys
import time
import urllib.request

base, test_key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pids = [int(p) for p in sys.argv[4:]]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds():
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def call(op, body):
    req = urllib.request.Request(
        base + "/",
        data=json.dumps(body).encode(),
        headers={
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": f"AWSCognitoIdentityProviderService.{op}",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{op}: HTTP {e.code}: {e.read()[:300]!r}")


def test_route(method, route):
    req = urllib.request.Request(
        f"{base}/__cognate/test/{route}", method=method, headers={"x-cognate-test-key": test_key}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read().decode()


demo = json.loads(test_route("POST", "demo"))
pool, client = demo["pool_id"], demo["client_id"]
user = f"bench{int(time.time() * 1000)}"
password = "Bench-Passw0rd!"
call("SignUp", {"ClientId": client, "Username": user, "Password": password,
                "UserAttributes": [{"Name": "email", "Value": f"{user}@example.com"}]})
code = None
for line in test_route("GET", f"outbox?pool={pool}").splitlines():
    m = json.loads(line)
    if m["username"] == user:
        code = m["code"]
call("ConfirmSignUp", {"ClientId": client, "Username": user, "ConfirmationCode": code})


def measure(name, fn):
    fn()  # warm: caches, imported keys, compiled code
    times = []
    cpu0 = cpu_seconds()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    cpu = (cpu_seconds() - cpu0) / n * 1000
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{name:<28} n={n:<4} p50 {statistics.median(times):7.2f} ms  p90 {q(0.9):7.2f} ms"
          f"  p99 {q(0.99):7.2f} ms  runtime CPU/request {cpu:6.1f} ms")
    return cpu


auth = {"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": user, "PASSWORD": password}}
tokens = call("InitiateAuth", auth)["AuthenticationResult"]
refresh = {"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
           "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}
def health():
    with urllib.request.urlopen(base + "/health", timeout=60) as r:
        r.read()


measure("GET /health (baseline)", health)

cpu0 = cpu_seconds()
t0 = time.perf_counter()
test_route("POST", "argon2?n=20")
argon_cpu = (cpu_seconds() - cpu0) / 20 * 1000
argon_wall = (time.perf_counter() - t0) / 20 * 1000
print(f"{'argon2id hash m=19456 t=2':<28} n=20   wall {argon_wall:7.2f} ms/hash     runtime CPU/hash {argon_cpu:6.1f} ms")
# The edge's signing bound: RS256 through the Worker's Jws port (WebCrypto), one isolate. The
# first call generates the key; the rounds after it are timed by the runtime's CPU time.
test_route("POST", "rs256?n=1&op=sign")
rs256_us = {}
for op, rounds in (("sign", 400), ("verify", 4000)):
    cpu0 = cpu_seconds()
    answer = json.loads(test_route("POST", f"rs256?n={rounds}&op={op}"))
    if answer.get("verified") != rounds:
        raise SystemExit(f"rs256 {op}: {answer}")
    rs256_us[op] = (cpu_seconds() - cpu0) / rounds * 1e6
    print(f"{'RS256 ' + op + ' (WebCrypto)':<28} n={rounds:<5} runtime CPU/op {rs256_us[op]:7.1f} µs"
          f"  ({1e6 / rs256_us[op]:,.0f}/s per core)")
measure("InitiateAuth (password)", lambda: call("InitiateAuth", auth))


class Boto:
    """What pycognito's AWSSRP calls on a boto3 client, over this script's `call`."""

    def initiate_auth(self, **kw):
        return call("InitiateAuth", kw)

    def respond_to_auth_challenge(self, **kw):
        return call("RespondToAuthChallenge", kw)


try:
    from pycognito.aws_srp import AWSSRP
except ImportError:
    print("USER_SRP_AUTH: skipped (pycognito not importable: run with the clients' venv python)")
else:
    def srp_sign_in():
        tokens = AWSSRP(username=user, password=password, pool_id=pool, client_id=client,
                        client=Boto()).authenticate_user()
        assert "AuthenticationResult" in tokens, tokens

    measure("USER_SRP_AUTH (both calls)", srp_sign_in)
refresh_cpu_ms = measure("InitiateAuth (refresh)", lambda: call("InitiateAuth", refresh))
print(f"  refresh: two RS256 signatures are {2 * rs256_us['sign'] / 1000:.2f} ms of it "
      f"({2 * rs256_us['sign'] / 1000 / refresh_cpu_ms:.2f} of its runtime CPU)")
measure("GetUser", lambda: call("GetUser", {"AccessToken": tokens["AccessToken"]}))
