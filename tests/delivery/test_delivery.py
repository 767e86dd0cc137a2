"""Delivery end to end (issue 22), driven with boto3 against running Cognate hosts that
scripts/test-delivery.sh starts next to real servers: aiosmtpd (STARTTLS + AUTH), moto in server
mode (SES v2, SNS; read back through /moto-api/data.json), a throttling proxy in front of moto's
SES, and an HTTP receiver for custom sender plugin deliveries.

Environment (set by the script):
  COGNATE_BASE_URL, COGNATE_ADMIN_ACCESS_KEY_ID, COGNATE_ADMIN_SECRET_ACCESS_KEY   host A
  HOST_A_LOG, HOST_A_DATA        its log file and data directory
  MAILDIR                        where host A's SMTP server writes received mail
  SMTP_USER                      the SMTP account host A authenticates as
  SMTP_FROM                      host A's From address
  MOTO_URL, THROTTLE_URL         moto, and the proxy in front of it (host A's SES and SNS), which
                                 throttles on demand and checks signatures with botocore
  RECEIVER_LOG, RECEIVER_PORT    the plugin delivery receiver
  HOST_B_URL, HOST_B_SMTP_PORT, HOST_B_MAILDIR, CERT_DIR, SERVERS_PY
                                 host B, whose SMTP relay is down until a test starts it
"""

import email
import email.policy
import glob
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.request
import uuid

import boto3
import botocore.exceptions

ENV = os.environ
REGION = "us-east-1"
SES_IDENTITY = "sender@example.com"
SOURCE_ARN = f"arn:aws:ses:{REGION}:123456789012:identity/{SES_IDENTITY}"
# Every code and temporary password the tests saw: none may appear in a log line.
SEEN_SECRETS = []


def client(base):
    return boto3.client(
        "cognito-idp",
        endpoint_url=base,
        region_name=REGION,
        aws_access_key_id=ENV["COGNATE_ADMIN_ACCESS_KEY_ID"],
        aws_secret_access_key=ENV["COGNATE_ADMIN_SECRET_ACCESS_KEY"],
    )


IDP = client(ENV["COGNATE_BASE_URL"])


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def make_pool(idp=IDP, **settings):
    settings.setdefault("AutoVerifiedAttributes", ["email"])
    pool = idp.create_user_pool(PoolName=unique("delivery"), **settings)["UserPool"]
    app = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], app["ClientId"]


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("the call succeeded")


def wait_for(find, what, seconds=15):
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {seconds} s")
        time.sleep(0.05)


def mails_to(maildir, address):
    found = []
    for path in sorted(glob.glob(os.path.join(maildir, "*.eml"))):
        with open(path, "rb") as f:
            mail = email.message_from_bytes(f.read(), policy=email.policy.default)
        if address in str(mail["To"]):
            with open(path + ".session.json") as f:
                found.append((mail, json.load(f)))
    return found


def mail_to(address, maildir=None):
    maildir = maildir or ENV["MAILDIR"]
    return wait_for(lambda: mails_to(maildir, address), f"mail to {address}")[-1]


def text_of(mail):
    return mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def code_in(text):
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no code in {text!r}"
    SEEN_SECRETS.append(match.group(1))
    return match.group(1)


def moto_models(service, model):
    with urllib.request.urlopen(ENV["MOTO_URL"] + "/moto-api/data.json", timeout=10) as r:
        return json.load(r).get(service, {}).get(model, [])


def sent_emails_to(address):
    return [m for m in moto_models("ses", "Message") if address in json.dumps(m.get("destinations"))]


def sms_to(number):
    return [m for m in moto_models("sns", "SMS") if m.get("phone_number") == number]


def throttle(n):
    request = urllib.request.Request(ENV["THROTTLE_URL"] + f"/__throttle?n={n}", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def deliveries():
    out = []
    for path in sorted(glob.glob(os.path.join(ENV["RECEIVER_LOG"], "*.json"))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def sign_up(client_id, username, email_address=None, phone=None, idp=IDP):
    attributes = []
    if email_address:
        attributes.append({"Name": "email", "Value": email_address})
    if phone:
        attributes.append({"Name": "phone_number", "Value": phone})
    return idp.sign_up(
        ClientId=client_id, Username=username, Password="Passw0rd!x", UserAttributes=attributes
    )


class Smtp(unittest.TestCase):
    def test_a_newcomer_gets_the_confirmation_mail_over_starttls_with_auth(self):
        pool, app = make_pool(
            EmailConfiguration={
                "EmailSendingAccount": "COGNITO_DEFAULT",
                "ReplyToEmailAddress": "help@example.com",
            }
        )
        user, address = unique("ann"), f"{unique('ann')}@example.com"
        out = sign_up(app, user, address)
        self.assertEqual(out["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL")
        mail, session = mail_to(address)
        self.assertEqual(session["tls"], True, "STARTTLS")
        self.assertEqual(session["authenticated"], True, "AUTH")
        self.assertEqual(session["login"], ENV["SMTP_USER"])
        self.assertEqual(session["rcpt_tos"], [address])
        self.assertEqual(str(mail["From"]), ENV["SMTP_FROM"])
        self.assertEqual(str(mail["Reply-To"]), "help@example.com")
        self.assertEqual(str(mail["Subject"]), "Your verification code")
        self.assertEqual(mail.get_content_type(), "text/plain")
        code = code_in(text_of(mail))
        self.assertEqual(text_of(mail).strip(), f"Your verification code is {code}.")
        IDP.confirm_sign_up(ClientId=app, Username=user, ConfirmationCode=code)
        tokens = IDP.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": "Passw0rd!x"},
        )["AuthenticationResult"]
        self.assertIn("AccessToken", tokens)
        # A real transport is configured: the development outbox is not used.
        outbox = os.path.join(ENV["HOST_A_DATA"], "outbox.jsonl")
        self.assertEqual(os.path.getsize(outbox) if os.path.exists(outbox) else 0, 0)

    def test_the_pool_template_in_html_and_for_password_resets(self):
        pool, app = make_pool(
            VerificationMessageTemplate={
                "EmailSubject": "Welcome to Example",
                "EmailMessage": "<p>Hello &amp; welcome!</p><p>Your code: <b>{####}</b></p>",
            }
        )
        described = IDP.describe_user_pool(UserPoolId=pool)["UserPool"]
        self.assertEqual(described["VerificationMessageTemplate"]["DefaultEmailOption"], "CONFIRM_WITH_CODE")
        self.assertEqual(
            described["EmailVerificationMessage"],
            "<p>Hello &amp; welcome!</p><p>Your code: <b>{####}</b></p>",
        )
        self.assertEqual(described["EmailVerificationSubject"], "Welcome to Example")
        user, address = unique("html"), f"{unique('html')}@example.com"
        sign_up(app, user, address)
        mail, _ = mail_to(address)
        self.assertEqual(str(mail["Subject"]), "Welcome to Example")
        self.assertEqual(mail.get_content_type(), "multipart/alternative")
        html = mail.get_body(preferencelist=("html",)).get_content()
        code = code_in(text_of(mail))
        self.assertIn(f"<b>{code}</b>", html)
        self.assertEqual(text_of(mail).strip(), f"Hello & welcome!\nYour code: {code}")
        IDP.confirm_sign_up(ClientId=app, Username=user, ConfirmationCode=code)
        # A password reset code comes with the same (verification) template, as in Cognito.
        IDP.forgot_password(ClientId=app, Username=user)
        reset = wait_for(lambda: mails_to(ENV["MAILDIR"], address)[1:], "the reset mail")[-1][0]
        self.assertEqual(str(reset["Subject"]), "Welcome to Example")
        reset_code = code_in(text_of(reset))
        IDP.confirm_forgot_password(
            ClientId=app, Username=user, ConfirmationCode=reset_code, Password="N3w-Passw0rd!"
        )

    def test_the_invitation_template_with_username_and_temporary_password(self):
        pool, app = make_pool(
            AdminCreateUserConfig={
                "InviteMessageTemplate": {
                    "EmailSubject": "Your Example account",
                    "EmailMessage": "Hi {username}, sign in with {####} and choose a password.",
                    "SMSMessage": "Hi {username}, your password is {####}",
                }
            }
        )
        user, address = unique("inv"), f"{unique('inv')}@example.com"
        IDP.admin_create_user(
            UserPoolId=pool,
            Username=user,
            UserAttributes=[{"Name": "email", "Value": address}],
            DesiredDeliveryMediums=["EMAIL"],
        )
        mail, _ = mail_to(address)
        self.assertEqual(str(mail["Subject"]), "Your Example account")
        match = re.fullmatch(
            rf"Hi {user}, sign in with (\S+) and choose a password\.", text_of(mail).strip()
        )
        self.assertIsNotNone(match, text_of(mail))
        password = match.group(1)
        SEEN_SECRETS.append(password)
        challenge = IDP.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )
        self.assertEqual(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED")

    def test_a_refusing_server_answers_code_delivery_failure(self):
        pool, app = make_pool()
        user = unique("rej")
        code = error_code(lambda: sign_up(app, user, f"reject-{unique('x')}@example.com"))
        self.assertEqual(code, "CodeDeliveryFailureException")
        # The user is whole (created, unconfirmed), not half-created: Cognito's behaviour.
        self.assertEqual(IDP.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"], "UNCONFIRMED")

    def test_a_slow_server_times_out_and_answers_code_delivery_failure(self):
        pool, app = make_pool()
        code = error_code(lambda: sign_up(app, unique("slow"), f"slow-{unique('x')}@example.com"))
        self.assertEqual(code, "CodeDeliveryFailureException")

    def test_one_destination_is_not_flooded(self):
        pool, app = make_pool()
        user, address = unique("flood"), f"{unique('flood')}@example.com"
        sign_up(app, user, address)
        for _ in range(9):
            IDP.resend_confirmation_code(ClientId=app, Username=user)
        self.assertEqual(
            error_code(lambda: IDP.resend_confirmation_code(ClientId=app, Username=user)),
            "LimitExceededException",
        )
        wait_for(lambda: len(mails_to(ENV["MAILDIR"], address)) >= 10, "ten mails")
        self.assertEqual(len(mails_to(ENV["MAILDIR"], address)), 10)


class AwsServices(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ses = boto3.client(
            "ses",
            endpoint_url=ENV["MOTO_URL"],
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ses.verify_email_identity(EmailAddress=SES_IDENTITY)

    def ses_pool(self):
        return make_pool(
            EmailConfiguration={
                "EmailSendingAccount": "DEVELOPER",
                "SourceArn": SOURCE_ARN,
                "From": f"Example <{SES_IDENTITY}>",
                "ReplyToEmailAddress": "help@example.com",
            }
        )

    def test_a_developer_pool_sends_through_ses(self):
        pool, app = self.ses_pool()
        user, address = unique("ses"), f"{unique('ses')}@example.com"
        sign_up(app, user, address)
        sent = wait_for(lambda: sent_emails_to(address), "an SES message")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["source"], f"Example <{SES_IDENTITY}>")
        self.assertEqual(sent[0]["subject"], "Your verification code")
        code = code_in(sent[0]["body"])
        self.assertEqual(mails_to(ENV["MAILDIR"], address), [], "nothing went over SMTP")
        IDP.confirm_sign_up(ClientId=app, Username=user, ConfirmationCode=code)

    def test_ses_throttling_is_retried_then_answered_as_cognito(self):
        pool, app = self.ses_pool()
        user, address = unique("thr"), f"{unique('thr')}@example.com"
        throttle(2)  # two throttled attempts, the third goes through
        sign_up(app, user, address)
        self.assertEqual(len(sent_emails_to(address)), 1)
        throttle(100)
        other, other_address = unique("thr"), f"{unique('thr')}@example.com"
        try:
            code = error_code(lambda: sign_up(app, other, other_address))
        finally:
            throttle(0)
        self.assertEqual(code, "CodeDeliveryFailureException")
        self.assertEqual(sent_emails_to(other_address), [])
        self.assertEqual(IDP.admin_get_user(UserPoolId=pool, Username=other)["UserStatus"], "UNCONFIRMED")
        IDP.resend_confirmation_code(ClientId=app, Username=other)
        code = code_in(wait_for(lambda: sent_emails_to(other_address), "the resent message")[0]["body"])
        IDP.confirm_sign_up(ClientId=app, Username=other, ConfirmationCode=code)

    def test_sms_goes_through_sns(self):
        pool, app = make_pool(
            AutoVerifiedAttributes=["phone_number"],
            SmsVerificationMessage="Example code: {####}",
            SmsConfiguration={
                "SnsCallerArn": "arn:aws:iam::123456789012:role/cognito-sms",
                "ExternalId": "example-external-id",
                "SnsRegion": REGION,
            },
        )
        user, phone = unique("sms"), "+1555" + str(uuid.uuid4().int)[:7]
        out = sign_up(app, user, phone=phone)
        self.assertEqual(out["CodeDeliveryDetails"]["DeliveryMedium"], "SMS")
        sms = wait_for(lambda: sms_to(phone), "an SMS")
        self.assertEqual(len(sms), 1)
        code = code_in(sms[0]["message"])
        self.assertEqual(sms[0]["message"], f"Example code: {code}")
        IDP.confirm_sign_up(ClientId=app, Username=user, ConfirmationCode=code)

    def test_zz_every_aws_call_was_signed_as_botocore_signs(self):
        with urllib.request.urlopen(ENV["THROTTLE_URL"] + "/__signatures", timeout=5) as r:
            signatures = json.load(r)
        self.assertEqual(signatures["bad"], [])
        self.assertGreaterEqual(signatures["good"], 5)

    @unittest.skipIf(
        ENV.get("DELIVERY_TARGET") == "edge", "the local Worker keeps a development outbox"
    )
    def test_sms_without_sms_configuration_is_not_silently_dropped(self):
        pool, app = make_pool(AutoVerifiedAttributes=["phone_number"])
        phone = "+1555" + str(uuid.uuid4().int)[:7]
        code = error_code(lambda: sign_up(app, unique("nosns"), phone=phone))
        self.assertEqual(code, "CodeDeliveryFailureException")
        self.assertEqual(sms_to(phone), [])


class PluginDeliveries(unittest.TestCase):
    def sender_pool(self, plugin):
        return make_pool(
            LambdaConfig={
                "CustomEmailSender": {
                    "LambdaVersion": "V1_0",
                    "LambdaArn": f"arn:aws:lambda:us-east-1:123456789012:function:{plugin}",
                },
                "KMSKeyID": "arn:aws:kms:us-east-1:123456789012:key/example",
            }
        )

    def test_the_plugin_delivery_reaches_an_allowed_host(self):
        pool, app = self.sender_pool("sender-loopback")
        before = len(deliveries())
        user, address = unique("plug"), f"{unique('plug')}@example.com"
        sign_up(app, user, address)
        got = wait_for(lambda: deliveries()[before:], "a plugin delivery")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["method"], "POST")
        self.assertEqual(got[0]["path"], "/hook?from=cognate")
        self.assertEqual(got[0]["headers"]["content-type"], "application/json")
        self.assertEqual(got[0]["headers"]["x-example"], "1")
        self.assertEqual(json.loads(got[0]["body"]), {"template": "welcome"})
        self.assertEqual(mails_to(ENV["MAILDIR"], address), [], "the plugin replaces the mail")

    def test_a_host_off_the_allow_list_is_refused(self):
        pool, app = self.sender_pool("sender-offlist")
        before = len(deliveries())
        code = error_code(lambda: sign_up(app, unique("off"), f"{unique('off')}@example.com"))
        self.assertEqual(code, "UnexpectedLambdaException")
        self.assertEqual(deliveries()[before:], [])


class SmtpDown(unittest.TestCase):
    """Host B's relay is down: sign-up answers CodeDeliveryFailureException, the user stays
    consistent, and once the relay is up a resent code arrives."""

    def test_relay_down_then_up(self):
        idp = client(ENV["HOST_B_URL"])
        pool, app = make_pool(idp)
        user, address = unique("down"), f"{unique('down')}@example.com"
        self.assertEqual(
            error_code(lambda: sign_up(app, user, address, idp=idp)), "CodeDeliveryFailureException"
        )
        self.assertEqual(idp.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"], "UNCONFIRMED")
        server = subprocess.Popen(
            [
                sys.executable,
                ENV["SERVERS_PY"],
                "smtp",
                ENV["HOST_B_SMTP_PORT"],
                ENV["HOST_B_MAILDIR"],
                ENV["CERT_DIR"],
                ENV["SMTP_USER"],
                ENV["SMTP_PASSWORD"],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            self.assertEqual(server.stdout.readline().strip(), b"ready")
            idp.resend_confirmation_code(ClientId=app, Username=user)
            mail, _ = mail_to(address, ENV["HOST_B_MAILDIR"])
            idp.confirm_sign_up(ClientId=app, Username=user, ConfirmationCode=code_in(text_of(mail)))
        finally:
            server.terminate()
            server.wait(timeout=10)
            server.stdout.close()


class ZzLogs(unittest.TestCase):
    """Runs last (unittest orders classes by name): no code seen above is in host A's log."""

    def test_no_code_or_password_in_the_log(self):
        self.assertGreater(len(SEEN_SECRETS), 5)
        with open(ENV["HOST_A_LOG"]) as f:
            log = f.read()
        self.assertIn("message delivered", log)
        for secret in SEEN_SECRETS:
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
