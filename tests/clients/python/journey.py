"""What every Python client journey shares: the target from the environment (the contract of
scripts/test-clients.sh), the outbox where Cognate's messages land, numbered steps, and strict
checks that say what was expected and what came back.

A journey is a function `main(j: Journey)`; `run(name, main)` runs it, prints each step, and
exits 0 with "<name>: N steps passed" or 1 with the step that failed and why.
"""

import json
import os
import sys
import time
import traceback
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

# The region the host and the edge run in by default; pool ids start with it.
REGION = os.environ.get("COGNATE_REGION", "us-east-1")
# Satisfies Cognito's default password policy (8+ characters, upper, lower, digit, symbol).
PASSWORD = "Correct-Horse-9-Battery"
# How long a journey waits for a message to reach the outbox.
OUTBOX_WAIT_SECONDS = 15


class Failure(AssertionError):
    """A check that did not hold: the message says what was expected and what came back."""


def unique(prefix):
    """A name no other run uses: `<prefix>-<12 hex digits>`."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def check(condition, message):
    if not condition:
        raise Failure(message)


def expect_equal(actual, expected, what):
    if actual != expected:
        raise Failure(f"{what}: expected {expected!r}, got {actual!r}")
    return actual


def expect_keys(mapping, expected, what):
    """`mapping` has exactly the members `expected` (botocore drops ResponseMetadata first)."""
    keys = set(mapping) - {"ResponseMetadata"}
    if keys != set(expected):
        raise Failure(
            f"{what}: expected exactly the members {sorted(expected)}, got {sorted(keys)}"
            f" (missing {sorted(set(expected) - keys)}, unexpected {sorted(keys - set(expected))})"
        )


def expect_client_error(code, call, *args, message=None, **kwargs):
    """Runs `call`, which must fail with botocore's ClientError carrying error code `code` (and
    the exact message `message`, if given). Returns the error."""
    from botocore.exceptions import ClientError

    try:
        result = call(*args, **kwargs)
    except ClientError as e:
        got = e.response.get("Error", {})
        if got.get("Code") != code:
            raise Failure(
                f"expected {code}, got {got.get('Code')}: {got.get('Message')!r}"
                f" (HTTP {e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')})"
            ) from None
        if message is not None and got.get("Message") != message:
            raise Failure(f"{code}: expected the message {message!r}, got {got.get('Message')!r}") from None
        return e
    raise Failure(f"expected {code}, but the call succeeded: {result!r}")


class Target:
    """The running Cognate, from the environment (see scripts/test-clients.sh)."""

    def __init__(self):
        self.base_url = require_env("COGNATE_BASE_URL").rstrip("/")
        self.admin_key_id = require_env("COGNATE_ADMIN_ACCESS_KEY_ID")
        self.admin_secret = require_env("COGNATE_ADMIN_SECRET_ACCESS_KEY")
        self.outbox_file = os.environ.get("COGNATE_OUTBOX_FILE") or None
        self.outbox_url = os.environ.get("COGNATE_OUTBOX_URL") or None
        self.test_key = os.environ.get("COGNATE_TEST_KEY") or None
        if not self.outbox_file and not self.outbox_url:
            raise Failure("set COGNATE_OUTBOX_FILE or COGNATE_OUTBOX_URL")

    def issuer(self, pool_id):
        """The issuer of the pool's tokens: `<base>/<poolId>`."""
        return f"{self.base_url}/{pool_id}"

    def jwks_url(self, pool_id):
        return f"{self.issuer(pool_id)}/.well-known/jwks.json"

    @staticmethod
    def botocore_config():
        """No retries: a 5xx or a throttle must show, not be papered over."""
        from botocore.config import Config

        return Config(retries={"total_max_attempts": 1, "mode": "standard"})

    def admin_client(self, service="cognito-idp"):
        """boto3's client of `service` (cognito-idp, or cognito-identity for identity pools)
        signed with the admin key, as an AWS admin script has."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.base_url,
            region_name=REGION,
            aws_access_key_id=self.admin_key_id,
            aws_secret_access_key=self.admin_secret,
            config=self.botocore_config(),
        )

    def public_client(self, service="cognito-idp"):
        """boto3's client of `service` with no credentials at all, as an app has: the public
        operations (SignUp, InitiateAuth, GetUser, ...; GetId, GetCredentialsForIdentity, ...)
        are unsigned in botocore's model."""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        config = self.botocore_config().merge(Config(signature_version=UNSIGNED))
        return boto3.client(service, endpoint_url=self.base_url, region_name=REGION, config=config)

    # -- the outbox --------------------------------------------------------------------------

    def messages(self, pool_id):
        """Every message delivered in `pool_id` so far, oldest first (the host's outbox.jsonl
        lines, or the edge's test route `?pool=<poolId>`)."""
        if self.outbox_file:
            try:
                text = Path(self.outbox_file).read_text()
            except FileNotFoundError:
                return []
            # Only complete lines: the writer may be half-way through the last one.
            text = text[: text.rfind("\n") + 1]
        else:
            url = f"{self.outbox_url}?{urllib.parse.urlencode({'pool': pool_id})}"
            request = urllib.request.Request(url)
            if self.test_key:
                request.add_header("x-cognate-test-key", self.test_key)
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [m for m in lines if m.get("pool_id") == pool_id]

    def codes(self, pool_id, who):
        """The codes delivered to `who` (a username or a destination) in `pool_id`, oldest first."""
        who = who.lower()
        return [
            m["code"]
            for m in self.messages(pool_id)
            if m.get("code")
            and (str(m.get("username", "")).lower() == who or str(m.get("destination", "")).lower() == who)
        ]

    def code_after(self, pool_id, who, seen):
        """The newest code for `who`, once more than `seen` codes have been delivered to them
        (waits a bounded time: the edge may deliver after it answers)."""
        deadline = time.monotonic() + OUTBOX_WAIT_SECONDS
        while True:
            codes = self.codes(pool_id, who)
            if len(codes) > seen:
                return codes[-1]
            if time.monotonic() > deadline:
                raise Failure(
                    f"no new code for {who!r} in pool {pool_id} after {OUTBOX_WAIT_SECONDS} s"
                    f" ({len(codes)} code(s) seen, wanted more than {seen})"
                )
            time.sleep(0.1)


def require_env(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise Failure(f"{name} is not set (see scripts/test-clients.sh)")
    return value


class Journey:
    """Numbered steps: each `with j.step("what"):` block that finishes counts as passed."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.skipped = 0
        self.current = None
        self.target = Target()

    @contextmanager
    def step(self, what):
        self.current = what
        started = time.monotonic()
        yield
        self.passed += 1
        print(f"  ok   {self.passed:2d}. {what} ({time.monotonic() - started:.2f} s)", flush=True)
        self.current = None

    def skip(self, what, why):
        self.skipped += 1
        print(f"  skip     {what}: {why}", flush=True)


def run(name, main):
    """Runs the journey `main(j)`; exits non-zero with the failing step and the reason."""
    print(f"{name}:", flush=True)
    started = time.monotonic()
    try:
        j = Journey(name)
    except Failure as e:
        print(f"{name}: FAILED before the first step: {e}", flush=True)
        sys.exit(1)
    try:
        main(j)
    except Failure as e:
        print(f"  FAIL {j.passed + 1:2d}. {j.current}: {e}", flush=True)
        print(
            f"{name}: FAILED at step {j.passed + 1} ({j.current}); {j.passed} steps passed before it",
            flush=True,
        )
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - anything else a client raised is a failure too
        error = getattr(e, "response", None)
        if isinstance(error, dict) and "Error" in error:
            # botocore's ClientError: the service answered an error the step did not expect.
            where = traceback.extract_tb(e.__traceback__)
            line = next(
                (f for f in reversed(where) if f.filename.endswith(".py") and "journey" in f.filename),
                where[-1],
            )
            print(
                f"  FAIL {j.passed + 1:2d}. {j.current}: {e.operation_name} answered"
                f" {error['Error'].get('Code')}: {error['Error'].get('Message')!r}"
                f" (HTTP {error.get('ResponseMetadata', {}).get('HTTPStatusCode')};"
                f" {Path(line.filename).name}:{line.lineno})",
                flush=True,
            )
        else:
            print(f"  FAIL {j.passed + 1:2d}. {j.current}: an unexpected exception", flush=True)
            traceback.print_exc()
        print(
            f"{name}: FAILED at step {j.passed + 1} ({j.current}); {j.passed} steps passed before it",
            flush=True,
        )
        sys.exit(1)
    skipped = f", {j.skipped} skipped" if j.skipped else ""
    print(f"{name}: {j.passed} steps passed{skipped} ({time.monotonic() - started:.1f} s)", flush=True)
