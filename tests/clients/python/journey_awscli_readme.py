"""The AWS CLI (v1, PyPI awscli): README.md's "Try it with the AWS CLI" block, executed exactly as
written, so README cannot drift from the product.

The block is taken from between the `readme-aws-cli` markers and run with `bash -euo pipefail`
from the clone's root, in the environment a reader has after pasting the `export` line the
server prints (the admin key pair and the region), with the venv's `aws` first on PATH. Then
its output and the server's state are checked.
"""

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from journey import REGION, Failure, check, expect_equal, expect_keys, run

ROOT = Path(__file__).resolve().parents[3]
BEGIN = "<!-- readme-aws-cli:begin -->"
END = "<!-- readme-aws-cli:end -->"


def readme_block():
    text = (ROOT / "README.md").read_text()
    found = re.search(re.escape(BEGIN) + r"\s*```sh\n(.*?)```\s*" + re.escape(END), text, re.S)
    if not found:
        raise Failure(f"README.md has no ```sh block between {BEGIN} and {END}")
    return found.group(1)


def json_documents(text):
    """The JSON documents the commands printed, in order (aws prints one per command)."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return documents
        try:
            document, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            raise Failure(
                f"the block printed something that is not JSON at offset {at}: {text[at : at + 200]!r}"
            ) from None
        documents.append(document)


def main(j):
    t = j.target
    with j.step("README.md has the walk-through block"):
        block = readme_block()
        check("aws cognito-idp" in block, f"the block runs no aws command:\n{block}")

    with j.step("the block runs with bash -euo pipefail"):
        env = dict(os.environ)
        env.update(
            # What the `export` line the server prints sets.
            AWS_ACCESS_KEY_ID=t.admin_key_id,
            AWS_SECRET_ACCESS_KEY=t.admin_secret,
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            # No retries: a 5xx must fail the block, not be retried away.
            AWS_MAX_ATTEMPTS="1",
        )
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch, "readme.sh")
            report = Path(scratch, "variables.json")
            script.write_text(block)
            # The block as written, then a report of the variables it set.
            runner = (
                'source "$1"\n'
                'printf \'{"pool_id": "%s", "client_id": "%s", "code": "%s"}\\n\' '
                '"$POOL_ID" "$CLIENT_ID" "$CODE" >"$2"\n'
            )
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", runner, "readme", str(script), str(report)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise Failure(
                    f"the README block exited with {done.returncode}\n"
                    f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
                )
            variables = json.loads(report.read_text())
        documents = json_documents(done.stdout)
        expect_equal(len(documents), 2, f"JSON documents printed (sign-up's and get-user's): {done.stdout}")
        signed_up, user = documents

    pool_id, client_id = variables["pool_id"], variables["client_id"]
    with j.step("create-user-pool and create-user-pool-client gave ids (--query ... --output text)"):
        check(re.fullmatch(REGION + r"_[0-9A-Za-z]+", pool_id), f"POOL_ID is not a pool id: {pool_id!r}")
        check(re.fullmatch(r"[0-9a-z]{26}", client_id), f"CLIENT_ID is not a client id: {client_id!r}")
        check(re.fullmatch(r"\d{6}", variables["code"]), f"CODE is not a 6-digit code: {variables['code']!r}")

    with j.step("sign-up printed Cognito's SignUp answer"):
        expect_keys(signed_up, ["UserConfirmed", "CodeDeliveryDetails", "UserSub"], "sign-up output")
        expect_equal(signed_up["UserConfirmed"], False, "UserConfirmed")
        details = signed_up["CodeDeliveryDetails"]
        expect_equal(details.get("DeliveryMedium"), "EMAIL", "CodeDeliveryDetails.DeliveryMedium")
        expect_equal(details.get("AttributeName"), "email", "CodeDeliveryDetails.AttributeName")
        check(
            details.get("Destination") not in (None, "alice@example.com"),
            f"CodeDeliveryDetails.Destination must be masked: {details.get('Destination')!r}",
        )

    with j.step("get-user printed alice with her attributes"):
        expect_keys(user, ["Username", "UserAttributes"], "get-user output")
        expect_equal(user["Username"], "alice", "Username")
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        expect_equal(
            attributes,
            {"email": "alice@example.com", "email_verified": "true", "sub": signed_up["UserSub"]},
            "UserAttributes",
        )

    admin = t.admin_client()
    with j.step("the server holds the pool, the client and the confirmed user (boto3)"):
        pool = admin.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        expect_equal(pool["Name"], "mypool", "pool name")
        expect_equal(pool["AutoVerifiedAttributes"], ["email"], "AutoVerifiedAttributes")
        client = admin.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
        expect_equal(client["ClientName"], "web", "client name")
        expect_equal(
            sorted(client["ExplicitAuthFlows"]),
            ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
            "ExplicitAuthFlows",
        )
        alice = admin.admin_get_user(UserPoolId=pool_id, Username="alice")
        expect_equal(alice["UserStatus"], "CONFIRMED", "alice's UserStatus")
        expect_equal(alice["Enabled"], True, "alice's Enabled")


if __name__ == "__main__":
    run("aws-cli (README walk-through)", main)
