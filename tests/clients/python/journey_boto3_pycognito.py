"""boto3 + pycognito + PyJWT: an admin sets a pool up with boto3; a user signs up, confirms,
signs in, refreshes, edits attributes, joins a group, resets the password and signs out
everywhere through pycognito (boto3 underneath), and the tokens are verified against the pool's
JWKS with PyJWT.

pycognito and Cognate: `Cognito(..., boto3_client_kwargs={"endpoint_url": BASE})` is all it
takes. pycognito 2024.5.1 derives the issuer it checks and the JWKS it fetches from that
endpoint (`user_pool_url` = `<endpoint_url>/<poolId>`, keys from
`<user_pool_url>/.well-known/jwks.json`), which is exactly Cognate's issuer; without an
endpoint it uses AWS's `https://cognito-idp.<region>.amazonaws.com/<poolId>`. The endpoint must
have no trailing slash (the issuer check compares strings). Keys can also be handed over in the
environment variable `COGNITO_JWKS` (a JWKS as JSON) or by setting `pool_jwk`. Still hard-coded
to AWS: `AWSSRP.confirm_device`, `update_device_status` and `forget_device` (device tracking)
post with requests to `https://cognito-idp.<region>.amazonaws.com/` whatever the endpoint.
"""


import jwt
import requests
from pycognito import Cognito

from journey import (
    PASSWORD,
    REGION,
    Failure,
    check,
    expect_client_error,
    expect_equal,
    expect_keys,
    run,
    unique,
)

NEW_PASSWORD = "Another-Horse-7-Staple"
FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
]


def main(j):
    t = j.target
    admin = t.admin_client()
    public = t.public_client()

    # -- admin set-up (boto3) ----------------------------------------------------------------
    with j.step("CreateUserPool (email auto-verified)"):
        pool = admin.create_user_pool(PoolName=unique("py-pool"), AutoVerifiedAttributes=["email"])[
            "UserPool"
        ]
        pool_id = pool["Id"]
        check(pool_id.startswith(REGION + "_"), f"pool id {pool_id!r}")
        expect_equal(pool["AutoVerifiedAttributes"], ["email"], "AutoVerifiedAttributes")

    with j.step("CreateUserPoolClient without a secret, four auth flows"):
        client = admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName="py-app", GenerateSecret=False, ExplicitAuthFlows=FLOWS
        )["UserPoolClient"]
        client_id = client["ClientId"]
        check("ClientSecret" not in client, f"a client without a secret got one: {client!r}")
        expect_equal(sorted(client["ExplicitAuthFlows"]), FLOWS, "ExplicitAuthFlows")

    with j.step("CreateGroup"):
        group = admin.create_group(
            UserPoolId=pool_id, GroupName="editors", Precedence=1, Description="Editors"
        )["Group"]
        expect_equal((group["GroupName"], group["Precedence"]), ("editors", 1), "group")

    # -- sign-up (pycognito) -----------------------------------------------------------------
    username = unique("py-user")
    email = f"{username}@example.com"

    def app(**kwargs):
        """What an app holds: pycognito pointed at Cognate, with no AWS credentials."""
        return Cognito(
            pool_id,
            client_id,
            username=username,
            boto3_client_kwargs={"endpoint_url": t.base_url},
            botocore_config=t.botocore_config(),
            **kwargs,
        )

    user = app()
    with j.step("pycognito register: the user is created unconfirmed, the code is emailed"):
        user.set_base_attributes(email=email, name="Ada Lovelace")
        signed_up = user.register(username, PASSWORD)
        expect_keys(signed_up, ["UserConfirmed", "CodeDeliveryDetails", "UserSub"], "SignUp answer")
        expect_equal(signed_up["UserConfirmed"], False, "UserConfirmed")
        details = signed_up["CodeDeliveryDetails"]
        expect_equal(
            (details["DeliveryMedium"], details["AttributeName"]), ("EMAIL", "email"), "CodeDeliveryDetails"
        )
        check(details["Destination"] != email, f"Destination must be masked: {details['Destination']!r}")
        code = t.code_after(pool_id, username, 0)
        sub = signed_up["UserSub"]

    with j.step("register again: UsernameExistsException"):
        expect_client_error("UsernameExistsException", user.register, username, PASSWORD)

    with j.step("register with a weak password: InvalidPasswordException"):
        weak = app()
        weak.set_base_attributes(email=f"weak-{email}")
        expect_client_error("InvalidPasswordException", weak.register, unique("py-weak"), "password")

    with j.step("confirm_sign_up with a wrong code: CodeMismatchException"):
        wrong = "000000" if code != "000000" else "111111"
        expect_client_error("CodeMismatchException", user.confirm_sign_up, wrong, username=username)

    with j.step("confirm_sign_up with the emailed code: CONFIRMED, email verified"):
        user.confirm_sign_up(code, username=username)
        got = admin.admin_get_user(UserPoolId=pool_id, Username=username)
        expect_equal(got["UserStatus"], "CONFIRMED", "UserStatus")
        attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
        expect_equal(attributes.get("email_verified"), "true", "email_verified")
        expect_equal(attributes.get("sub"), sub, "sub")

    # -- sign-in -----------------------------------------------------------------------------
    with j.step("pycognito admin_authenticate (ADMIN_NO_SRP_AUTH); pycognito verifies the tokens"):
        operator = Cognito(
            pool_id,
            client_id,
            username=username,
            access_key=t.admin_key_id,
            secret_key=t.admin_secret,
            boto3_client_kwargs={"endpoint_url": t.base_url},
            botocore_config=t.botocore_config(),
        )
        operator.admin_authenticate(PASSWORD)
        expect_equal(operator.token_type, "Bearer", "token_type")
        expect_equal(operator.id_claims["cognito:username"], username, "ID token cognito:username")
        expect_equal(operator.access_claims["client_id"], client_id, "access token client_id")
        check(operator.refresh_token, "admin_authenticate gave no refresh token")

    with j.step("InitiateAuth with a wrong password: NotAuthorizedException"):
        expect_client_error(
            "NotAuthorizedException",
            public.initiate_auth,
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": "Wrong-Horse-9-Battery"},
            message="Incorrect username or password.",
        )

    with j.step("boto3 InitiateAuth USER_PASSWORD_AUTH"):
        signed_in = public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )
        expect_keys(signed_in, ["AuthenticationResult", "ChallengeParameters"], "InitiateAuth answer")
        expect_equal(signed_in["ChallengeParameters"], {}, "ChallengeParameters")
        result = signed_in["AuthenticationResult"]
        expect_keys(
            result,
            ["AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"],
            "AuthenticationResult",
        )
        expect_equal((result["ExpiresIn"], result["TokenType"]), (3600, "Bearer"), "ExpiresIn, TokenType")

    with j.step("pycognito authenticate (USER_SRP_AUTH)"):
        srp = app()
        srp.authenticate(PASSWORD)
        expect_equal(srp.id_claims["cognito:username"], username, "ID token cognito:username")
        check(srp.refresh_token, "SRP sign-in gave no refresh token")

    # -- tokens against the JWKS (PyJWT) -----------------------------------------------------
    issuer = t.issuer(pool_id)
    with j.step("PyJWT verifies the ID token against the pool's JWKS"):
        keys = jwt.PyJWKClient(t.jwks_url(pool_id), cache_keys=False)
        id_token = result["IdToken"]
        claims = jwt.decode(
            id_token,
            keys.get_signing_key_from_jwt(id_token).key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=issuer,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
        expect_equal(claims["token_use"], "id", "token_use")
        expect_equal(claims["sub"], sub, "sub")
        expect_equal(claims["cognito:username"], username, "cognito:username")
        expect_equal((claims["email"], claims["email_verified"]), (email, True), "email, email_verified")

    with j.step("PyJWT verifies the access token (iss, token_use, client_id)"):
        access_token = result["AccessToken"]
        claims = jwt.decode(
            access_token,
            keys.get_signing_key_from_jwt(access_token).key,
            algorithms=["RS256"],
            issuer=issuer,
            options={"require": ["iss", "exp", "iat", "sub"]},
        )
        expect_equal(claims["token_use"], "access", "token_use")
        expect_equal(claims["client_id"], client_id, "client_id")
        expect_equal(claims["username"], username, "username")
        expect_equal(claims["scope"], "aws.cognito.signin.user.admin", "scope")
        check("aud" not in claims, f"an access token has no aud in Cognito: {claims!r}")

    with j.step("the JWKS is served as pycognito fetches it, and the ID token is not an access token"):
        jwks = requests.get(t.jwks_url(pool_id), timeout=15)
        expect_equal(jwks.status_code, 200, "JWKS status")
        for key in jwks.json()["keys"]:
            expect_equal(
                (key["kty"], key["alg"], key["use"]), ("RSA", "RS256", "sig"), f"key {key.get('kid')}"
            )
        user = app(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result["RefreshToken"],
        )
        user.verify_tokens()
        try:
            user.verify_token(result["IdToken"], "access_token", "access")
        except Exception as e:  # pycognito's TokenVerificationException
            expect_equal(
                type(e).__name__, "TokenVerificationException", "refusing an ID token as access token"
            )
        else:
            raise Failure("pycognito accepted an ID token as an access token")

    # -- refresh -----------------------------------------------------------------------------
    with j.step("pycognito renew_access_token (REFRESH_TOKEN_AUTH)"):
        before = user.access_token
        user.renew_access_token()
        check(
            user.access_token and user.access_token != before, "renew_access_token kept the old access token"
        )
        expect_equal(user.refresh_token, result["RefreshToken"], "refresh token (no rotation by default)")
        expect_equal(user.access_claims["username"], username, "renewed access token username")

    # -- attributes --------------------------------------------------------------------------
    with j.step("pycognito get_user"):
        me = user.get_user()
        expect_equal(
            (me.email, me.name, me.email_verified, me.sub), (email, "Ada Lovelace", True, sub), "get_user"
        )

    with j.step("pycognito update_profile, and the change is there"):
        user.update_profile({"name": "Ada King", "locale": "en-GB"})
        got = public.get_user(AccessToken=user.access_token)
        expect_equal(got["Username"], username, "Username")
        attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
        expect_equal(
            (attributes.get("name"), attributes.get("locale")), ("Ada King", "en-GB"), "name, locale"
        )

    # -- groups ------------------------------------------------------------------------------
    with j.step("AdminAddUserToGroup; the next tokens carry cognito:groups"):
        admin.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="editors")
        groups = admin.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
        expect_equal([g["GroupName"] for g in groups], ["editors"], "AdminListGroupsForUser")
        user.renew_access_token()
        expect_equal(user.access_claims.get("cognito:groups"), ["editors"], "access token cognito:groups")
        expect_equal(user.id_claims.get("cognito:groups"), ["editors"], "ID token cognito:groups")

    # -- password reset ----------------------------------------------------------------------
    with j.step("pycognito initiate_forgot_password: a code is emailed"):
        seen = len(t.codes(pool_id, username))
        user.initiate_forgot_password()
        reset_code = t.code_after(pool_id, username, seen)

    with j.step("confirm_forgot_password with a wrong code: CodeMismatchException"):
        wrong = "000000" if reset_code != "000000" else "111111"
        expect_client_error("CodeMismatchException", user.confirm_forgot_password, wrong, NEW_PASSWORD)

    with j.step("confirm_forgot_password; the old password fails, the new one signs in"):
        user.confirm_forgot_password(reset_code, NEW_PASSWORD)
        expect_client_error(
            "NotAuthorizedException",
            public.initiate_auth,
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )
        again = public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": NEW_PASSWORD},
        )["AuthenticationResult"]
        user = app(
            id_token=again["IdToken"], access_token=again["AccessToken"], refresh_token=again["RefreshToken"]
        )
        user.verify_tokens()

    # -- global sign-out ---------------------------------------------------------------------
    with j.step("pycognito logout (GlobalSignOut): refresh and access tokens are refused"):
        refresh_token, access_token = user.refresh_token, user.access_token
        user.logout()
        expect_client_error(
            "NotAuthorizedException",
            public.initiate_auth,
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        expect_client_error("NotAuthorizedException", public.get_user, AccessToken=access_token)


if __name__ == "__main__":
    run("boto3 + pycognito + PyJWT", main)
