"""Every operation of Cognito's own service model, fed malformed input.

The model is botocore's (the one the AWS CLI and boto3 validate against): for each of the
user-pools API's operations, and each of the identity-pools API's, this sends

  - `{}` and the same body with every member `null` (Cognito treats `null` as absent, so the two
    must get the same answer),
  - every member of the wrong JSON type (SerializationException or InvalidParameterException),
  - oversized strings, an unknown member, and a body of plausible values for every member,

signed with SigV4 where Cognito requires it, against a running Cognate (COGNATE_BASE_URL and
the admin key pair, as for scripts/test-clients.sh). Whatever the answer, it must be an AWS JSON
1.1 answer: a 2xx, or a 4xx whose body names the exception in `__type` and whose
`x-amzn-errortype` header agrees. Never a 5xx, never a connection dropped.
"""

import json
import os
import sys
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BASE = os.environ["COGNATE_BASE_URL"].rstrip("/")
REGION = "us-east-1"
CREDENTIALS = Credentials(
    os.environ["COGNATE_ADMIN_ACCESS_KEY_ID"], os.environ["COGNATE_ADMIN_SECRET_ACCESS_KEY"]
)
SESSION = botocore.session.get_session()

failures = []
counts = {"requests": 0, "operations": 0}


def send(service, target_prefix, operation, body, signed, raw=None):
    """POSTs one call; returns (status, parsed body or None, x-amzn-errortype)."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{target_prefix}.{operation}",
    }
    if signed:
        request = AWSRequest(method="POST", url=BASE + "/", data=data, headers=headers)
        SigV4Auth(CREDENTIALS, service, REGION).add_auth(request)
        headers = dict(request.headers.items())
    request = urllib.request.Request(BASE + "/", data=data, headers=headers, method="POST")
    counts["requests"] += 1
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, error_type = response.status, response.read(), None
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
        error_type = error.headers.get("x-amzn-errortype")
    except Exception as error:  # a dropped connection, an unparseable answer
        return 599, {"transport error": repr(error)[:300]}, None
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return status, parsed, error_type


def check(label, status, parsed, error_type, allowed=None):
    """The answer is AWS JSON 1.1: 2xx, or 4xx with a matching `__type`; with `allowed`, a 4xx
    naming one of those exceptions. Returns `__type`."""
    if status >= 500:
        failures.append(f"{label}: HTTP {status} {parsed}")
        return None
    if status < 300:
        if allowed is not None:
            failures.append(f"{label}: succeeded, expected one of {sorted(allowed)}")
        return None
    kind = parsed.get("__type") if isinstance(parsed, dict) else None
    if not kind:
        failures.append(f"{label}: HTTP {status} without __type: {parsed}")
        return None
    if not error_type or error_type.split(":")[0] != kind:
        failures.append(f"{label}: x-amzn-errortype {error_type!r} does not name {kind}")
    if allowed is not None and kind not in allowed:
        failures.append(f"{label}: {kind} ({parsed.get('message')}), expected one of {sorted(allowed)}")
    return kind


def wrong_value(shape):
    """A JSON value of the wrong type for `shape`."""
    return {
        "string": 12345,
        "blob": 12345,
        "integer": "not a number",
        "long": "not a number",
        "boolean": "not a boolean",
        "timestamp": {"not": "a time"},
        "list": "not a list",
        "map": ["not", "a", "map"],
        "structure": "not an object",
    }.get(shape.type_name, [])


class Values:
    """Plausible values; strings named like ids are the sweep pool's real ones."""

    def __init__(self, known):
        self.known = known

    def of(self, name, shape, depth=0):
        kind = shape.type_name
        if kind == "string":
            if name in self.known:
                return self.known[name]
            if shape.enum:
                return shape.enum[0]
            return "x" * max(1, shape.metadata.get("min", 1))
        if kind in ("integer", "long"):
            return max(1, shape.metadata.get("min", 1))
        if kind == "boolean":
            return True
        if kind == "blob":
            return "eA=="
        if kind == "timestamp":
            return 1700000000
        if kind == "list":
            return [] if depth > 3 else [self.of(name, shape.member, depth + 1)]
        if kind == "map":
            return {} if depth > 3 else {"k": self.of("", shape.value, depth + 1)}
        if kind == "structure":
            if depth > 3:
                return {}
            return {
                member: self.of(member, member_shape, depth + 1)
                for member, member_shape in shape.members.items()
                if member in shape.required_members or depth == 0
            }
        return None


def sweep(service, values):
    model = SESSION.get_service_model(service)
    prefix = model.metadata["targetPrefix"]
    operations = sorted(model.operation_names, key=lambda o: (o.startswith(("Delete", "AdminDelete")), o))
    for operation in operations:
        counts["operations"] += 1
        op = model.operation_model(operation)
        shape = op.input_shape
        members = dict(shape.members) if shape else {}
        required = set(shape.required_members) if shape else set()
        signed = op.auth_type != "none" and "smithy.api#noAuth" not in (op.auth or [])
        label = f"{service} {operation}"

        def call(what, body, allowed=None, raw=None):
            status, parsed, error_type = send(service, prefix, operation, body, signed, raw)
            return check(f"{label} [{what}]", status, parsed, error_type, allowed)

        empty = call("{}", {})
        nulls = call("all null", {m: None for m in members})
        if empty != nulls:
            failures.append(f"{label}: {{}} answered {empty}, all-null answered {nulls}")
        if empty == "UnknownOperationException":
            continue  # Not served (yet): a clear 400 is all that is asked.
        if required and empty is None:
            failures.append(f"{label}: {{}} succeeded though {sorted(required)} are required")
        call("not JSON", None, {"SerializationException"}, raw=b"{not json")
        call("array body", None, {"SerializationException"}, raw=b"[]")
        plausible = values.of("", shape) if shape else {}
        for member, member_shape in members.items():
            if getattr(member_shape, "is_document_type", False):
                continue  # any JSON value is a document
            body = dict(plausible)
            body[member] = wrong_value(member_shape)
            call(f"{member} wrong type", body, {"SerializationException", "InvalidParameterException"})
        big = {m: ("y" * 70000 if s.type_name == "string" else plausible.get(m)) for m, s in members.items()}
        call("oversized strings", {k: v for k, v in big.items() if v is not None})
        call("unknown member", dict(plausible, CognateSweepUnknownMember=1))
        call("plausible", plausible)


def main():
    # A pool, a client and a user the plausible bodies name, so calls reach deep into handlers.
    prefix = "AWSCognitoIdentityProviderService"

    def admin(operation, body):
        status, parsed, _ = send("cognito-idp", prefix, operation, body, True)
        if status != 200:
            sys.exit(f"sweep set-up: {operation} answered {status} {parsed}")
        return parsed

    pool = admin("CreateUserPool", {"PoolName": "sweep"})["UserPool"]["Id"]
    client = admin("CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "sweep"})[
        "UserPoolClient"
    ]["ClientId"]
    admin(
        "AdminCreateUser",
        {"UserPoolId": pool, "Username": "sweeper", "MessageAction": "SUPPRESS"},
    )
    values = Values(
        {"UserPoolId": pool, "ClientId": client, "Username": "sweeper", "USERNAME": "sweeper"}
    )
    sweep("cognito-idp", values)
    sweep("cognito-identity", values)
    print(
        f"sweep: {counts['operations']} operations, {counts['requests']} requests, "
        f"{len(failures)} failures"
    )
    for failure in failures:
        print("  FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
