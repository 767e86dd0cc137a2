#!/usr/bin/env python3
"""The load benchmark's driver (issue 23); run it through scripts/bench-load.sh, which installs
the tools, builds the release host and measures the physical bounds first.

Starts, on 127.0.0.1 and free ports: Cognate with the Wasm engine, Cognate with the native engine
(both the release binary, SQLite, a fresh data directory each), node oidc-provider (RS256 JWT
access tokens), cognito-local and fakecloud's Cognito service. Sets each up over its own HTTP
API, then drives every path of the table with wrk (BENCH_CONNECTIONS connections, default 8), in
interleaved rounds: for each round, for each path, every server in turn. Reads each server's
CPU time from /proc/<pid>/stat around every wrk run, so a path's figure is requests per server
CPU-second as well as requests per second. Prints medians over the rounds and the ratios of the issue's table; stops every process
it started by its PID.

Environment: COGNATE_BIN (the release binary), FAKECLOUD_BIN (the release binary of
scripts/bench-load/fakecloud-cognito), NODE22 (oidc-provider's Node), PEERS_ROOT (the cached
node_modules' parent), BENCH_ROUNDS (5), BENCH_SECONDS (5 per wrk run), BENCH_CONNECTIONS
(8), BENCH_THREADS (2), SIGN_PER_S and VERIFY_PER_S (aws-lc-rs RS256 on one core, from
host/benches/rsa.rs), ARGON2_PER_S (argon2id verifications per second on one core alone),
SIGN_BUSY_PER_S and ARGON2_BUSY_PER_S (per core with every core busy; both from
host/benches/busy_cores.rs), BUSY_CORES_BIN (that benchmark's executable: when given, it is run
again, one round, before every round of the load, and the argon2id and busy bounds are the
medians of all those measurements, so they come from the same minutes as the paths),
BENCH_JSON (write the medians there as JSON too), BENCH_PATHS and BENCH_SERVERS
(comma-separated: measure only these paths or servers, e.g. `BENCH_PATHS=GetUser
BENCH_SERVERS=cognate-wasm,cognate-native` while working on one path; the full table needs all).
"""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TICKS = os.sysconf("SC_CLK_TCK")
ADMIN_ID = "AKIACOGNATEBENCHLOAD"
ADMIN_SECRET = "cognate+bench+load+secret+0123456789abcdef"
TARGET = "AWSCognitoIdentityProviderService."
PASSWORD = "Passw0rd!bench"

procs = []  # (name, Popen) of everything started, stopped in reverse order by PID
work = tempfile.mkdtemp(prefix="cognate-bench-load-")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name, argv, env=None, cwd=None):
    out = open(os.path.join(work, f"{name}.log"), "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, cwd=cwd)
    procs.append((name, p))
    return p


def stop_all():
    for name, p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def wait_http(name, p, url, deadline_s=120):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"{name} exited early; see {work}/{name}.log:\n"
                             + open(os.path.join(work, f"{name}.log"), errors="replace").read()[-3000:])
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not answer on {url}")


def post(url, body, headers):
    data = body if isinstance(body, bytes) else body.encode()
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cognito(url, op, payload):
    status, body = post(url + "/", json.dumps(payload),
                        {"content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET + op})
    if status != 200:
        raise SystemExit(f"{op} on {url}: {status} {body[:300]!r}")
    return json.loads(body or b"{}")


def cognito_admin(url, op, payload):
    """An admin call signed with SigV4 (curl signs it: no SDK needed)."""
    out = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:cognito-idp",
         "--user", f"{ADMIN_ID}:{ADMIN_SECRET}",
         "-H", "content-type: application/x-amz-json-1.1", "-H", f"x-amz-target: {TARGET}{op}",
         "--data-binary", json.dumps(payload), url + "/"],
        capture_output=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{op} on {url}: {out.stdout[:300]!r} {out.stderr[:300]!r}")
    return json.loads(out.stdout or b"{}")


def cpu_seconds(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def basic(user, secret):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


# ---------------------------------------------------------------------------------------------
# The servers


def start_cognate(engine, binary):
    port = free_port()
    data = os.path.join(work, f"cognate-{engine}")
    env = dict(os.environ, COGNATE_ADMIN_ACCESS_KEY_ID=ADMIN_ID,
               COGNATE_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET, COGNATE_ENGINE=engine)
    env.setdefault("COGNATE_LOG", "info")
    t0 = time.time()
    p = start(f"cognate-{engine}", [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data",
                                     data, "--no-demo"], env=env)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"cognate-{engine}", p, url + "/health")
    started_s = time.time() - t0
    if engine == "wasm":
        # The server answers at once through the linked native core while the Wasm core
        # compiles (issue 23); measure the Wasm engine only once requests run in it.
        log_path = os.path.join(work, f"cognate-{engine}.log")
        deadline = time.time() + 300
        while b"requests now run in the Wasm core" not in open(log_path, "rb").read():
            if time.time() > deadline or p.poll() is not None:
                raise SystemExit(f"cognate-{engine} never ran requests in the Wasm core")
            time.sleep(0.1)
    time.sleep(1.0)
    idle_rss = rss_mb(p.pid)

    pool = cognito_admin(url, "CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"]
    web = cognito_admin(url, "CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "web",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email"], "CallbackURLs": ["https://app.example.com/cb"],
    })["UserPoolClient"]["ClientId"]
    cognito_admin(url, "CreateResourceServer", {
        "UserPoolId": pool, "Identifier": "api", "Name": "API",
        "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}]})
    m2m = cognito_admin(url, "CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "m2m", "GenerateSecret": True,
        "AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ["api/read"]})["UserPoolClient"]
    cognito_admin(url, "AdminCreateUser", {"UserPoolId": pool, "Username": "bench",
                                           "MessageAction": "SUPPRESS",
                                           "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}]})
    cognito_admin(url, "AdminSetUserPassword", {"UserPoolId": pool, "Username": "bench",
                                                "Password": PASSWORD, "Permanent": True})
    tokens = cognito(url, "InitiateAuth", {
        "ClientId": web, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "bench", "PASSWORD": PASSWORD}})["AuthenticationResult"]
    return {
        "name": f"cognate-{engine}", "pid": p.pid, "url": url, "pool": pool, "web": web,
        "m2m": (m2m["ClientId"], m2m["ClientSecret"]), "access": tokens["AccessToken"],
        "refresh": tokens["RefreshToken"], "start_s": started_s, "idle_rss_mb": idle_rss,
    }


def start_oidc_provider(node, peers):
    port = free_port()
    p = start("oidc-provider", [node, os.path.join(peers, "oidc-peer.mjs"), str(port)], cwd=peers)
    url = f"http://127.0.0.1:{port}"
    wait_http("oidc-provider", p, url + "/.well-known/openid-configuration")
    deadline = time.time() + 30
    line = ""
    while time.time() < deadline and not line.startswith("{"):
        for candidate in open(os.path.join(work, "oidc-provider.log"), errors="replace"):
            if candidate.startswith("{"):
                line = candidate
        time.sleep(0.1)
    info = json.loads(line)
    return {"name": "oidc-provider", "pid": p.pid, "url": url,
            "client": (info["client_id"], info["client_secret"]), "refresh": info["refreshToken"]}


def start_cognito_local(node, peers):
    port = free_port()
    cwd = os.path.join(work, "cognito-local")
    os.makedirs(cwd)
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DEBUG="")
    p = start("cognito-local", [node, os.path.join(peers, "node_modules/cognito-local/lib/bin/start.js")],
              env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    wait_http("cognito-local", p, url + "/health")
    pool = cognito(url, "CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"]
    web = cognito(url, "CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "web",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})["UserPoolClient"]["ClientId"]
    # cognito-local's pools take e-mail addresses as usernames.
    user = "bench@example.com"
    cognito(url, "AdminCreateUser", {"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS"})
    cognito(url, "AdminSetUserPassword", {"UserPoolId": pool, "Username": user, "Password": PASSWORD,
                                          "Permanent": True})
    tokens = cognito(url, "InitiateAuth", {
        "ClientId": web, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}})["AuthenticationResult"]
    return {"name": "cognito-local", "pid": p.pid, "url": url, "web": web,
            "access": tokens["AccessToken"], "refresh": tokens["RefreshToken"]}


def start_fakecloud(binary):
    """fakecloud's Cognito service (scripts/bench-load/fakecloud-cognito): in memory, it checks
    no signature on GetUser; set up like cognito-local."""
    port = free_port()
    p = start("fakecloud", [binary, str(port)], env=dict(os.environ, RUST_LOG="off"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while b"ready" not in open(os.path.join(work, "fakecloud.log"), "rb").read():
        if time.time() > deadline or p.poll() is not None:
            raise SystemExit("fakecloud did not start")
        time.sleep(0.05)
    pool = cognito_admin(url, "CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"]
    web = cognito_admin(url, "CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "web",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})["UserPoolClient"]["ClientId"]
    cognito_admin(url, "AdminCreateUser", {"UserPoolId": pool, "Username": "bench", "MessageAction": "SUPPRESS"})
    cognito_admin(url, "AdminSetUserPassword", {"UserPoolId": pool, "Username": "bench", "Password": PASSWORD,
                                                "Permanent": True})
    tokens = cognito(url, "InitiateAuth", {
        "ClientId": web, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "bench", "PASSWORD": PASSWORD}})["AuthenticationResult"]
    return {"name": "fakecloud", "pid": p.pid, "url": url, "web": web,
            "access": tokens["AccessToken"], "refresh": tokens["RefreshToken"]}


# ---------------------------------------------------------------------------------------------
# The paths: (method, path, headers, body) per server


def form(pairs):
    from urllib.parse import urlencode
    return urlencode(pairs)


def request_for(path, server):
    amz = lambda op: {"content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET + op}
    name = server["name"]
    if path == "client_credentials":
        if name == "oidc-provider":
            cid, secret = server["client"]
            return "/token", {"content-type": "application/x-www-form-urlencoded",
                              "authorization": basic(cid, secret)}, form({"grant_type": "client_credentials", "scope": "api"})
        cid, secret = server["m2m"]
        return "/oauth2/token", {"content-type": "application/x-www-form-urlencoded",
                                 "authorization": basic(cid, secret)}, form({"grant_type": "client_credentials", "scope": "api/read"})
    if path == "oauth_refresh_token":
        if name == "oidc-provider":
            cid, secret = server["client"]
            return "/token", {"content-type": "application/x-www-form-urlencoded",
                              "authorization": basic(cid, secret)}, form({"grant_type": "refresh_token", "refresh_token": server["refresh"]})
        return "/oauth2/token", {"content-type": "application/x-www-form-urlencoded"}, form(
            {"grant_type": "refresh_token", "client_id": server["web"], "refresh_token": server["refresh"]})
    if path == "REFRESH_TOKEN_AUTH":
        return "/", amz("InitiateAuth"), json.dumps({"ClientId": server["web"], "AuthFlow": "REFRESH_TOKEN_AUTH",
                                                     "AuthParameters": {"REFRESH_TOKEN": server["refresh"]}})
    if path == "GetUser":
        return "/", amz("GetUser"), json.dumps({"AccessToken": server["access"]})
    if path == "password_sign_in":
        return "/", amz("InitiateAuth"), json.dumps({"ClientId": server["web"], "AuthFlow": "USER_PASSWORD_AUTH",
                                                     "AuthParameters": {"USERNAME": "bench", "PASSWORD": PASSWORD}})
    raise ValueError(path)


def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_script(path, server):
    target, headers, body = request_for(path, server)
    # Checked once before it is measured: a path that fails is not benchmarked.
    status, answer = post(server["url"] + target, body, headers)
    if status != 200:
        raise SystemExit(f"{path} on {server['name']}: {status} {answer[:300]!r}")
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(body)}", f"wrk.path = {lua_string(target)}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    file = os.path.join(work, f"{path}-{server['name']}.lua")
    with open(file, "w") as f:
        f.write("\n".join(lines) + "\n")
    return file


def parse_duration_ms(text):
    # wrk's units (stats.c format_time): us, ms, s, m, h.
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        print(f"bench-load: cannot read wrk's duration {text!r}", file=sys.stderr)
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[unit]


def wrk(server, script, seconds):
    before = cpu_seconds(server["pid"])
    out = subprocess.run(["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s",
                          "--latency", "-s", script, server["url"]],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server["pid"]) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    if errors or sock:
        raise SystemExit(f"wrk against {server['name']} ({script}) saw errors:\n{out}")
    # The latency distribution's own lines ("     50%  367.00us"), not a "+/- Stdev" column
    # that happens to end in 50% (e.g. "74.50%" followed by the next line's first word).
    p50 = parse_duration_ms(re.search(r"^\s*50%\s+(\S+)$", out, re.M).group(1))
    p99 = parse_duration_ms(re.search(r"^\s*99%\s+(\S+)$", out, re.M).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "cpu_s": cpu, "per_cpu_s": requests / cpu if cpu > 0 else float("inf"),
            "cpu_us": cpu * 1e6 / requests if requests else float("nan")}


def measure_bounds(busy_cores_bin):
    """One round of host/benches/busy_cores.rs: per-core RS256 signatures/s with every core busy,
    argon2id verifications/s alone and busy."""
    out = subprocess.run([busy_cores_bin, "--bench", "--rounds", "1"], capture_output=True,
                         text=True, check=True).stdout
    # columns: name…, alone µs, alone/s, busy µs, busy/s, ratio (read from the end of the line)
    fields = {line.split()[0]: line.split() for line in out.splitlines()
              if line.startswith(("RS256 sign", "argon2id verify"))}
    return {"sign_busy": float(fields["RS256"][-2]), "argon2": float(fields["argon2id"][-4]),
            "argon2_busy": float(fields["argon2id"][-2])}


def main():
    binary = os.environ["COGNATE_BIN"]
    node22 = os.environ.get("NODE22", "node")
    peers = os.environ.get("PEERS_ROOT", "")
    sign_per_s = float(os.environ.get("SIGN_PER_S", "nan"))
    verify_per_s = float(os.environ.get("VERIFY_PER_S", "nan"))
    argon2_per_s = float(os.environ.get("ARGON2_PER_S", "nan"))
    sign_busy_per_s = float(os.environ.get("SIGN_BUSY_PER_S", "nan"))
    argon2_busy_per_s = float(os.environ.get("ARGON2_BUSY_PER_S", "nan"))
    busy_cores_bin = os.environ.get("BUSY_CORES_BIN", "")

    paths = {
        "client_credentials": ["cognate-wasm", "cognate-native", "oidc-provider"],
        "oauth_refresh_token": ["cognate-wasm", "cognate-native", "oidc-provider"],
        "REFRESH_TOKEN_AUTH": ["cognate-wasm", "cognate-native", "cognito-local", "fakecloud"],
        "GetUser": ["cognate-wasm", "cognate-native", "cognito-local", "fakecloud"],
        "password_sign_in": ["cognate-wasm", "cognate-native"],
    }
    only_paths = [x for x in os.environ.get("BENCH_PATHS", "").split(",") if x]
    only_servers = [x for x in os.environ.get("BENCH_SERVERS", "").split(",") if x]
    paths = {p: [s for s in names if not only_servers or s in only_servers]
             for p, names in paths.items() if not only_paths or p in only_paths}
    paths = {p: names for p, names in paths.items() if names}
    if not paths:
        raise SystemExit("BENCH_PATHS and BENCH_SERVERS leave nothing to measure")
    wanted = {s for names in paths.values() for s in names}

    servers = {}
    for engine in ("wasm", "native"):
        if f"cognate-{engine}" in wanted:
            servers[f"cognate-{engine}"] = start_cognate(engine, binary)
    if "oidc-provider" in wanted:
        servers["oidc-provider"] = start_oidc_provider(node22, peers)
    if "cognito-local" in wanted:
        servers["cognito-local"] = start_cognito_local(node22, peers)
    if "fakecloud" in wanted:
        servers["fakecloud"] = start_fakecloud(os.environ["FAKECLOUD_BIN"])
    scripts = {(p, s): write_script(p, servers[s]) for p, names in paths.items() for s in names}
    log(f"bench-load: warming up ({len(scripts)} runs of 1 s)")
    for (p, s), script in scripts.items():
        wrk(servers[s], script, 1)
    runs = {key: [] for key in scripts}
    bound_runs = [{"sign_busy": sign_busy_per_s, "argon2": argon2_per_s, "argon2_busy": argon2_busy_per_s}]
    for r in range(ROUNDS):
        log(f"bench-load: round {r + 1} of {ROUNDS}")
        if busy_cores_bin:
            bound_runs.append(measure_bounds(busy_cores_bin))
        for p, names in paths.items():
            for s in names:
                runs[(p, s)].append(wrk(servers[s], scripts[(p, s)], SECONDS))

    def median(values):
        # A figure wrk did not report (NaN) would make the median depend on sort order: left out.
        known = [x for x in values if x == x]
        return statistics.median(known) if known else float("nan")

    if busy_cores_bin:
        sign_busy_per_s, argon2_per_s, argon2_busy_per_s = (
            median([b[k] for b in bound_runs]) for k in ("sign_busy", "argon2", "argon2_busy"))

    med = {key: {m: median([x[m] for x in v]) for m in v[0]} for key, v in runs.items()}
    ratio = lambda p, a, b, m: med[(p, a)][m] / med[(p, b)][m]
    load = os.getloadavg()
    print(f"Load benchmark: {ROUNDS} interleaved rounds of {SECONDS} s per server and path, wrk -t{THREADS} "
          f"-c{CONNECTIONS}, everything on this {os.cpu_count()}-core machine (load average now "
          f"{load[0]:.1f}); medians over the rounds.")
    print()
    print(f"| path | server | req/s | p50 ms | p99 ms | req per server CPU-s | server CPU µs/req |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for p, names in paths.items():
        for s in names:
            m = med[(p, s)]
            print(f"| {p} | {s} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['per_cpu_s']:,.0f} | {m['cpu_us']:.0f} |")
    print()
    print("| ratio | req/s | req per CPU-s |")
    print("|---|---:|---:|")
    for p, a, b in [("client_credentials", "cognate-wasm", "oidc-provider"),
                    ("oauth_refresh_token", "cognate-wasm", "oidc-provider"),
                    ("REFRESH_TOKEN_AUTH", "cognate-wasm", "cognito-local"),
                    ("REFRESH_TOKEN_AUTH", "cognate-wasm", "fakecloud"),
                    ("GetUser", "cognate-wasm", "cognito-local"),
                    ("GetUser", "cognate-wasm", "fakecloud")]:
        if (p, a) not in med or (p, b) not in med:
            continue
        print(f"| {p}: Cognate (Wasm) / {b} | {ratio(p, a, b, 'rps'):.2f}× | {ratio(p, a, b, 'per_cpu_s'):.2f}× |")
    for p in paths:
        if (p, "cognate-wasm") not in med or (p, "cognate-native") not in med:
            continue
        print(f"| {p}: Wasm engine / native engine | {ratio(p, 'cognate-wasm', 'cognate-native', 'rps'):.2f}× | "
              f"{ratio(p, 'cognate-wasm', 'cognate-native', 'per_cpu_s'):.2f}× |")
    print()
    print(f"Physical bounds per core, one core alone: RS256 {sign_per_s:,.0f} signatures/s and "
          f"{verify_per_s:,.0f} verifications/s (aws-lc-rs), argon2id {argon2_per_s:,.1f} verifications/s; "
          f"with every core busy (host/benches/busy_cores.rs): RS256 {sign_busy_per_s:,.0f} signatures/s, "
          f"argon2id {argon2_busy_per_s:,.1f} verifications/s.")
    if busy_cores_bin:
        print(f"argon2id and the busy bounds are medians of {len(bound_runs)} measurements: before the "
              "load and before each round (argon2id alone / busy, RS256 busy, per second: "
              + "; ".join(f"{b['argon2']:.1f} / {b['argon2_busy']:.1f}, {b['sign_busy']:,.0f}" for b in bound_runs)
              + ").")
    print("Each path's requests per server CPU-second against what its unavoidable crypto allows per "
          "CPU-second (1.00 = nothing but the crypto), with the bounds of one core alone and of every "
          "core busy (as under this load):")
    print()
    print("| path | server | bound alone (req per CPU-s) | ratio | bound, cores busy | ratio |")
    print("|---|---|---:|---:|---:|---:|")

    def bounds(sign, argon2):
        return {
            "client_credentials": sign,
            "oauth_refresh_token": sign / 2,
            "REFRESH_TOKEN_AUTH": sign / 2,
            "GetUser": verify_per_s,
            "password_sign_in": 1 / (1 / argon2 + 2 / sign),
        }
    alone, busy = bounds(sign_per_s, argon2_per_s), bounds(sign_busy_per_s, argon2_busy_per_s)
    for p in alone:
        for s in ("cognate-wasm", "cognate-native"):
            if (p, s) not in med:
                continue
            got = med[(p, s)]['per_cpu_s']
            print(f"| {p} | {s} | {alone[p]:,.0f} | {got / alone[p]:.2f} | {busy[p]:,.0f} | {got / busy[p]:.2f} |")
    print()
    for s in ("cognate-wasm", "cognate-native"):
        if s not in servers:
            continue
        print(f"{s}: first answer {servers[s]['start_s'] * 1000:.0f} ms after exec, idle RSS "
              f"{servers[s]['idle_rss_mb']:.0f} MB (before the pool was created)")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as f:
            json.dump({f"{p}|{s}": v for (p, s), v in med.items()}, f, indent=1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        main()
    finally:
        stop_all()
        if os.environ.get("BENCH_KEEP") != "1":
            subprocess.run(["rm", "-rf", work], check=False)
