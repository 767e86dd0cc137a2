"""boto3 + pycognito + pyotp: software-token MFA (issue 17). An admin turns TOTP MFA on with
boto3; a user signs in with USER_PASSWORD_AUTH, sets up a software token through pycognito
(associate_software_token, verify_software_token with a pyotp code, set_user_mfa_preference),
then signs in again and answers the SOFTWARE_TOKEN_MFA challenge with pycognito's
respond_to_software_token_mfa_challenge; wrong and replayed codes are refused; the admin turns
the user's MFA off again.

pycognito's own `authenticate` is SRP: the journey also signs in that way and catches its
SoftwareTokenMFAChallengeException.
"""

import time

import pyotp
from pycognito import Cognito

from journey import (
    PASSWORD,
    check,
    expect_client_error,
    expect_equal,
    run,
    unique,
)

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]


def main(j):
    t = j.target
    admin = t.admin_client()
    public = t.public_client()

    with j.step("CreateUserPool, SetUserPoolMfaConfig OPTIONAL with software tokens"):
        pool_id = admin.create_user_pool(PoolName=unique("py-mfa"))["UserPool"]["Id"]
        config = admin.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            MfaConfiguration="OPTIONAL",
            SoftwareTokenMfaConfiguration={"Enabled": True},
        )
        expect_equal(config["MfaConfiguration"], "OPTIONAL", "MfaConfiguration")
        expect_equal(config["SoftwareTokenMfaConfiguration"], {"Enabled": True}, "software tokens")
        got = admin.get_user_pool_mfa_config(UserPoolId=pool_id)
        expect_equal(got["MfaConfiguration"], "OPTIONAL", "GetUserPoolMfaConfig")
        client_id = admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName="py-mfa-app", ExplicitAuthFlows=FLOWS
        )["UserPoolClient"]["ClientId"]

    username = unique("py-mfa-user")
    with j.step("AdminCreateUser and a permanent password"):
        admin.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        admin.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True
        )

    def sign_in():
        return public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )

    def app(**kwargs):
        return Cognito(
            pool_id,
            client_id,
            username=username,
            boto3_client_kwargs={"endpoint_url": t.base_url},
            botocore_config=t.botocore_config(),
            **kwargs,
        )

    with j.step("USER_PASSWORD_AUTH without MFA set up: tokens (OPTIONAL pool)"):
        first = sign_in()
        check("AuthenticationResult" in first, f"expected tokens, got {first!r}")
        user = app(access_token=first["AuthenticationResult"]["AccessToken"])

    with j.step("pycognito associate_software_token: a 160-bit base32 secret"):
        secret = user.associate_software_token()
        expect_equal(len(secret), 32, "secret length")
        totp = pyotp.TOTP(secret)

    with j.step("pycognito verify_software_token with a wrong code: EnableSoftwareTokenMFAException"):
        wrong = "000000" if totp.now() != "000000" else "111111"
        expect_client_error("EnableSoftwareTokenMFAException", user.verify_software_token, wrong, "py")

    with j.step("pycognito verify_software_token with pyotp's code"):
        verified_at = time.time()
        check(user.verify_software_token(totp.at(verified_at), "py-phone"), "verify_software_token")

    with j.step("pycognito set_user_mfa_preference (software token preferred); GetUser shows it"):
        user.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        me = public.get_user(AccessToken=user.access_token)
        expect_equal(me["UserMFASettingList"], ["SOFTWARE_TOKEN_MFA"], "UserMFASettingList")
        expect_equal(me["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA", "PreferredMfaSetting")

    with j.step("USER_PASSWORD_AUTH now answers SOFTWARE_TOKEN_MFA"):
        challenge = sign_in()
        expect_equal(challenge.get("ChallengeName"), "SOFTWARE_TOKEN_MFA", "ChallengeName")
        check(challenge.get("Session"), "no Session")
        expect_equal(
            challenge["ChallengeParameters"].get("FRIENDLY_DEVICE_NAME"), "py-phone", "FRIENDLY_DEVICE_NAME"
        )

    signer = app()
    with j.step("respond_to_software_token_mfa_challenge with the verification code: replay refused"):
        expect_client_error(
            "CodeMismatchException",
            signer.respond_to_software_token_mfa_challenge,
            totp.at(verified_at),
            mfa_tokens=challenge,
        )

    with j.step("respond_to_software_token_mfa_challenge with the next code: tokens, verified"):
        next_code = totp.at(verified_at + 30)
        signer.respond_to_software_token_mfa_challenge(next_code, mfa_tokens=challenge)
        expect_equal(signer.id_claims["cognito:username"], username, "ID token cognito:username")
        check(signer.refresh_token, "no refresh token after MFA")

    with j.step("the same code in a new sign-in: CodeMismatchException"):
        again = sign_in()
        expect_client_error(
            "CodeMismatchException",
            app().respond_to_software_token_mfa_challenge,
            next_code,
            mfa_tokens=again,
        )

    with j.step("pycognito authenticate (SRP) raises SoftwareTokenMFAChallengeException"):
        from pycognito.exceptions import SoftwareTokenMFAChallengeException

        srp = app()
        try:
            srp.authenticate(PASSWORD)
        except SoftwareTokenMFAChallengeException:
            pass
        else:
            raise AssertionError("SRP sign-in skipped MFA")

    with j.step("AdminSetUserMFAPreference turns it off; AdminGetUser lists nothing"):
        admin.admin_set_user_mfa_preference(
            UserPoolId=pool_id,
            Username=username,
            SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
        )
        got = admin.admin_get_user(UserPoolId=pool_id, Username=username)
        check("UserMFASettingList" not in got, f"UserMFASettingList still there: {got!r}")
        check("AuthenticationResult" in sign_in(), "sign-in still challenged")


if __name__ == "__main__":
    run("boto3 + pycognito + pyotp: software-token MFA", main)
