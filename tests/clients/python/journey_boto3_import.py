"""boto3 + curl: Cognito's CSV user import as AWS's developer guide walks through it (issue 24).
GetCSVHeader gives the columns; CreateUserImportJob gives a PreSignedUrl (served by Cognate
itself), to which `curl -T users.csv -H 'x-amz-server-side-encryption:aws:kms'` uploads the file;
StartUserImportJob runs it and DescribeUserImportJob reports Succeeded with the counts (bad rows
failed, an existing user skipped); the imported users are RESET_REQUIRED, their sign-in answers
PasswordResetRequiredException, and ForgotPassword + ConfirmForgotPassword let them sign in. A
file whose header names a column the pool does not have is refused with
InvalidParameterException and the job is Failed.
"""

import csv
import io
import os
import subprocess
import tempfile
import time

from journey import (
    check,
    expect_client_error,
    expect_equal,
    run,
    unique,
)

ROLE = "arn:aws:iam::123456789012:role/CognitoImportRole"
NEW_PASSWORD = "Imported-Pass-42!"


def csv_file(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue()


def curl_upload(url, text):
    """`curl -T users.csv -H 'x-amz-server-side-encryption:aws:kms' "$URL"`, as in the guide;
    returns the HTTP status."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "users.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        result = subprocess.run(
            [
                "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "-T", path, "-H", "x-amz-server-side-encryption:aws:kms", url,
            ],
            check=True, capture_output=True, text=True,
        )
    return int(result.stdout)


def wait_finished(admin, pool_id, job_id):
    for _ in range(100):
        job = admin.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
        if job["Status"] not in ("Pending", "InProgress"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import job {job_id} did not finish")


def main(j):
    t = j.target
    admin = t.admin_client()
    public = t.public_client()

    with j.step("CreateUserPool (email auto-verified, a custom attribute) and a client"):
        pool_id = admin.create_user_pool(
            PoolName=unique("py-import"),
            AutoVerifiedAttributes=["email"],
            Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
        client_id = admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName="py-import-app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    with j.step("GetCSVHeader lists the pool's attributes, custom:team, cognito:mfa_enabled, cognito:username"):
        got = admin.get_csv_header(UserPoolId=pool_id)
        expect_equal(got["UserPoolId"], pool_id, "UserPoolId")
        header = got["CSVHeader"]
        expect_equal(header[-2:], ["cognito:mfa_enabled", "cognito:username"], "last columns")
        for column in ("name", "email", "email_verified", "phone_number", "custom:team"):
            check(column in header, f"{column} in {header}")
        check("sub" not in header, f"no sub in {header}")

    with j.step("CreateUserImportJob answers a Created job with a PreSignedUrl on Cognate"):
        job = admin.create_user_import_job(
            JobName="py-import-job", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE
        )["UserImportJob"]
        job_id = job["JobId"]
        expect_equal(job["Status"], "Created", "Status")
        expect_equal(job["JobName"], "py-import-job", "JobName")
        check(job_id.startswith("import-"), f"JobId {job_id}")
        url = job["PreSignedUrl"]
        check(url.startswith(t.base_url), f"PreSignedUrl {url} on {t.base_url}")

    alice, alice_email = unique("alice"), f"{unique('alice')}@example.com"
    bob = unique("bob")
    rows = [
        {"cognito:username": alice, "email": alice_email, "email_verified": "true",
         "cognito:mfa_enabled": "false", "name": "Alice, Imported", "custom:team": "blue"},
        {"cognito:username": bob, "email": f"{bob}@example.com", "email_verified": "TRUE",
         "cognito:mfa_enabled": "FALSE"},
        # no verified auto-verified attribute: failed
        {"cognito:username": unique("carl"), "email": "carl@example.com",
         "email_verified": "false", "cognito:mfa_enabled": "false"},
        # not a boolean: failed
        {"cognito:username": unique("dora"), "email": "dora@example.com",
         "email_verified": "yes", "cognito:mfa_enabled": "false"},
        # the same username again: skipped
        {"cognito:username": alice, "email": "again@example.com", "email_verified": "true",
         "cognito:mfa_enabled": "false"},
    ]

    with j.step("curl -T uploads the CSV to the PreSignedUrl (a tampered URL gets 403)"):
        text = csv_file(header, rows)
        expect_equal(curl_upload(url + "0", text), 403, "status of a tampered URL")
        expect_equal(curl_upload(url, text), 200, "status of the upload")

    with j.step("StartUserImportJob, DescribeUserImportJob until Succeeded: 2 imported, 2 failed, 1 skipped"):
        started = admin.start_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
        check("StartDate" in started, f"StartDate in {started}")
        done = wait_finished(admin, pool_id, job_id)
        expect_equal(done["Status"], "Succeeded", "Status")
        expect_equal(
            (done["ImportedUsers"], done["FailedUsers"], done["SkippedUsers"]), (2, 2, 1), "counts"
        )
        check("CompletionDate" in done and done.get("CompletionMessage"), f"completion in {done}")
        listed = admin.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)["UserImportJobs"]
        expect_equal([x["JobId"] for x in listed], [job_id], "ListUserImportJobs")

    with j.step("the imported users are RESET_REQUIRED with their attributes"):
        user = admin.admin_get_user(UserPoolId=pool_id, Username=alice)
        expect_equal(user["UserStatus"], "RESET_REQUIRED", "UserStatus")
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        expect_equal(attributes.get("name"), "Alice, Imported", "name")
        expect_equal(attributes.get("custom:team"), "blue", "custom:team")
        expect_equal(attributes.get("email_verified"), "true", "email_verified")
        expect_equal(
            admin.admin_get_user(UserPoolId=pool_id, Username=bob)["UserStatus"],
            "RESET_REQUIRED", "bob's UserStatus",
        )

    with j.step("sign-in answers PasswordResetRequiredException; ForgotPassword + ConfirmForgotPassword sign in"):
        expect_client_error(
            "PasswordResetRequiredException", public.initiate_auth,
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": alice, "PASSWORD": NEW_PASSWORD},
        )
        seen = len(t.codes(pool_id, alice_email))
        public.forgot_password(ClientId=client_id, Username=alice)
        code = t.code_after(pool_id, alice_email, seen)
        public.confirm_forgot_password(
            ClientId=client_id, Username=alice, ConfirmationCode=code, Password=NEW_PASSWORD
        )
        tokens = public.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": alice, "PASSWORD": NEW_PASSWORD},
        )["AuthenticationResult"]
        check("AccessToken" in tokens, "tokens after the reset")
        expect_equal(
            admin.admin_get_user(UserPoolId=pool_id, Username=alice)["UserStatus"],
            "CONFIRMED", "UserStatus after the reset",
        )

    with j.step("a header with a column the pool lacks: InvalidParameterException, job Failed"):
        bad = admin.create_user_import_job(
            JobName="py-bad-header", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE
        )["UserImportJob"]
        expect_client_error(
            "PreconditionNotMetException", admin.start_user_import_job,
            UserPoolId=pool_id, JobId=bad["JobId"],
        )
        text = "cognito:username,cognito:mfa_enabled,email,email_verified,favourite_colour\r\n" \
               "eve,false,eve@example.com,true,green\r\n"
        expect_equal(curl_upload(bad["PreSignedUrl"], text), 200, "status of the upload")
        expect_client_error(
            "InvalidParameterException", admin.start_user_import_job,
            UserPoolId=pool_id, JobId=bad["JobId"],
        )
        failed = admin.describe_user_import_job(UserPoolId=pool_id, JobId=bad["JobId"])["UserImportJob"]
        expect_equal(failed["Status"], "Failed", "Status")
        expect_equal(failed["ImportedUsers"], 0, "ImportedUsers")

    with j.step("StopUserImportJob stops a job that has not started"):
        other = admin.create_user_import_job(
            JobName="py-stopped", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE
        )["UserImportJob"]
        stopped = admin.stop_user_import_job(UserPoolId=pool_id, JobId=other["JobId"])["UserImportJob"]
        expect_equal(stopped["Status"], "Stopped", "Status")
        expect_client_error(
            "InvalidParameterException", admin.stop_user_import_job,
            UserPoolId=pool_id, JobId=other["JobId"],
        )


if __name__ == "__main__":
    run("journey_boto3_import", main)
