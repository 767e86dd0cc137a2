"""boto3: choice-based sign-in (issue 18). An admin allows PASSWORD and EMAIL_OTP as first
factors (Policies.SignInPolicy) and passkeys for a relying party (WebAuthnConfiguration); a user
signs in with USER_AUTH: SELECT_CHALLENGE offers exactly PASSWORD, PASSWORD_SRP and EMAIL_OTP,
EMAIL_OTP sends a code (read from the outbox) with a masked destination, a wrong code is
CodeMismatchException, the right one gives tokens and cannot be used twice; PREFERRED_CHALLENGE
PASSWORD signs in straight away; GetUserAuthFactors lists the user's factors; a passkey
registration starts with StartWebAuthnRegistration's creation options.
"""

from journey import (
    PASSWORD,
    check,
    expect_client_error,
    expect_equal,
    run,
    unique,
)

FLOWS = ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
RP_ID = "auth.cognate.test"


def main(j):
    t = j.target
    admin = t.admin_client()
    public = t.public_client()

    with j.step("CreateUserPool with SignInPolicy PASSWORD + EMAIL_OTP + WEB_AUTHN"):
        pool_id = admin.create_user_pool(
            PoolName=unique("py-user-auth"),
            AutoVerifiedAttributes=["email"],
            Policies={
                "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]}
            },
        )["UserPool"]["Id"]
        described = admin.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        expect_equal(
            described["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"],
            ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"],
            "AllowedFirstAuthFactors",
        )
        expect_client_error(
            "InvalidParameterException",
            admin.update_user_pool,
            UserPoolId=pool_id,
            Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP"]}},
        )

    with j.step("SetUserPoolMfaConfig WebAuthnConfiguration, GetUserPoolMfaConfig shows it"):
        admin.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            WebAuthnConfiguration={"RelyingPartyId": RP_ID, "UserVerification": "preferred"},
        )
        got = admin.get_user_pool_mfa_config(UserPoolId=pool_id)
        expect_equal(got["WebAuthnConfiguration"]["RelyingPartyId"], RP_ID, "RelyingPartyId")
        expect_equal(
            got["WebAuthnConfiguration"]["UserVerification"], "preferred", "UserVerification"
        )
        client_id = admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName="py-user-auth-app", ExplicitAuthFlows=FLOWS
        )["UserPoolClient"]["ClientId"]

    username = unique("py-ua-user")
    with j.step("SignUp and ConfirmSignUp with the code from the outbox"):
        public.sign_up(
            ClientId=client_id,
            Username=username,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        code = t.code_after(pool_id, username, 0)
        public.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)

    with j.step("USER_AUTH: SELECT_CHALLENGE offers PASSWORD, PASSWORD_SRP, EMAIL_OTP"):
        select = public.initiate_auth(
            ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": username}
        )
        expect_equal(select["ChallengeName"], "SELECT_CHALLENGE", "ChallengeName")
        expect_equal(
            select["AvailableChallenges"], ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"], "choices"
        )

    with j.step("ANSWER EMAIL_OTP: a code by email, masked destination"):
        seen = len(t.codes(pool_id, username))
        challenge = public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SELECT_CHALLENGE",
            Session=select["Session"],
            ChallengeResponses={"USERNAME": username, "ANSWER": "EMAIL_OTP"},
        )
        expect_equal(challenge["ChallengeName"], "EMAIL_OTP", "ChallengeName")
        parameters = challenge["ChallengeParameters"]
        expect_equal(parameters["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL", "medium")
        check(
            parameters["CODE_DELIVERY_DESTINATION"].startswith(username[0] + "***@"),
            f"a masked destination, got {parameters['CODE_DELIVERY_DESTINATION']!r}",
        )
        code = t.code_after(pool_id, username, seen)

    def answer(value):
        return public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="EMAIL_OTP",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": username, "EMAIL_OTP_CODE": value},
        )

    with j.step("a wrong code: CodeMismatchException; the right one: tokens; again: refused"):
        wrong = "000000" if code != "000000" else "111111"
        expect_client_error("CodeMismatchException", answer, wrong)
        tokens = answer(code)["AuthenticationResult"]
        check("AccessToken" in tokens and "IdToken" in tokens, f"tokens, got {tokens!r}")
        expect_client_error("NotAuthorizedException", answer, code)

    with j.step("PREFERRED_CHALLENGE PASSWORD: tokens straight away"):
        direct = public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_AUTH",
            AuthParameters={
                "USERNAME": username,
                "PREFERRED_CHALLENGE": "PASSWORD",
                "PASSWORD": PASSWORD,
            },
        )
        access = direct["AuthenticationResult"]["AccessToken"]

    with j.step("GetUserAuthFactors, StartWebAuthnRegistration"):
        factors = public.get_user_auth_factors(AccessToken=access)
        expect_equal(factors["Username"], username, "Username")
        expect_equal(
            factors["ConfiguredUserAuthFactors"], ["PASSWORD", "EMAIL_OTP"], "configured factors"
        )
        options = public.start_web_authn_registration(AccessToken=access)[
            "CredentialCreationOptions"
        ]
        expect_equal(options["rp"]["id"], RP_ID, "rp.id")
        check(len(options["challenge"]) >= 43, f"a 32-byte challenge, got {options!r}")
        expect_equal(
            public.list_web_authn_credentials(AccessToken=access)["Credentials"],
            [],
            "no passkey yet",
        )


if __name__ == "__main__":
    run("journey_boto3_user_auth", main)
