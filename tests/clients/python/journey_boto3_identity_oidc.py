"""boto3 `cognito-identity`: an OpenID Connect provider's ID tokens as identity-pool logins.

The upstream provider is a Cognate user pool, named as a plain OpenID Connect provider
(`OpenIdConnectProviderARNs`), not as a Cognito provider: Cognate then verifies its tokens the way
it verifies any provider's, fetching the discovery document and the JWKS over HTTP (the
outbound-HTTP port, with the server's own address on its upstream-hosts list), checking the
audience against the client ids registered for the provider (`[[identity.oidc_providers]]`,
IAM's part in Cognito). scripts/test-identity.sh starts the host with that pool and client
(fixed ids, COGNATE_OIDC_UPSTREAM_POOL / COGNATE_OIDC_UPSTREAM_CLIENT) registered, and moto's STS.
"""

import os

import boto3
import jwt
import requests

from journey import PASSWORD, REGION, check, expect_client_error, expect_equal, run, unique

ACCOUNT = "123456789012"  # moto's default account


def main(j):
    t = j.target
    idp = t.admin_client()
    public_idp = t.public_client()
    admin = t.admin_client("cognito-identity")
    public = t.public_client("cognito-identity")
    sts_url = os.environ["COGNATE_STS_URL"]
    upstream_pool = os.environ["COGNATE_OIDC_UPSTREAM_POOL"]
    upstream_client = os.environ["COGNATE_OIDC_UPSTREAM_CLIENT"]
    name = f"{t.base_url.split('://', 1)[1]}/{upstream_pool}"
    user = unique("oidc")

    def id_token(client_id):
        return public_idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["IdToken"]

    with j.step("a user of the upstream provider (a user pool of this server) and its ID token"):
        idp.admin_create_user(UserPoolId=upstream_pool, Username=user, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=upstream_pool, Username=user, Password=PASSWORD, Permanent=True)
        token = id_token(upstream_client)
        sub = jwt.decode(token, options={"verify_signature": False})["sub"]

    with j.step("an identity pool naming the provider by its IAM ARN, with an authenticated role"):
        ipool = admin.create_identity_pool(
            IdentityPoolName="oidc journey",
            AllowUnauthenticatedIdentities=False,
            OpenIdConnectProviderARNs=[f"arn:aws:iam::{ACCOUNT}:oidc-provider/{name}"],
        )["IdentityPoolId"]
        admin.set_identity_pool_roles(
            IdentityPoolId=ipool, Roles={"authenticated": f"arn:aws:iam::{ACCOUNT}:role/oidc-auth"}
        )

    with j.step("GetId with the provider's ID token: one identity per subject, the login recorded"):
        identity = public.get_id(IdentityPoolId=ipool, Logins={name: token})["IdentityId"]
        expect_equal(public.get_id(IdentityPoolId=ipool, Logins={name: token})["IdentityId"], identity, "again")
        expect_equal(admin.describe_identity(IdentityId=identity)["Logins"], [name], "Logins")

    with j.step("GetOpenIdToken: amr names the provider, the audience and the subject (PyJWT, JWKS)"):
        open_id = public.get_open_id_token(IdentityId=identity, Logins={name: token})["Token"]
        discovery = requests.get(f"{t.base_url}/cognito-identity/.well-known/openid-configuration", timeout=10).json()
        claims = jwt.decode(
            open_id,
            jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(open_id).key,
            algorithms=["RS256"],
            audience=ipool,
            issuer=discovery["issuer"],
        )
        expect_equal(claims["amr"], ["authenticated", name, f"{name}:{upstream_client}:{sub}"], "amr")

    with j.step("GetCredentialsForIdentity: the authenticated role's credentials from the STS"):
        out = public.get_credentials_for_identity(IdentityId=identity, Logins={name: token})
        c = out["Credentials"]
        sts = boto3.client(
            "sts",
            endpoint_url=sts_url,
            region_name=REGION,
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretKey"],
            aws_session_token=c["SessionToken"],
        )
        expect_equal(
            sts.get_caller_identity()["Arn"],
            f"arn:aws:sts::{ACCOUNT}:assumed-role/oidc-auth/CognitoIdentityCredentials",
            "assumed role",
        )

    with j.step("refused: a token for an unregistered client, a forged token, a token without a login"):
        other_client = idp.create_user_pool_client(
            UserPoolId=upstream_pool,
            ClientName=unique("other"),
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        expect_client_error(
            "NotAuthorizedException", public.get_id, IdentityPoolId=ipool, Logins={name: id_token(other_client)}
        )
        header, payload, signature = token.split(".")
        forged = ".".join([header, payload, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
        expect_client_error("NotAuthorizedException", public.get_id, IdentityPoolId=ipool, Logins={name: forged})
        expect_client_error("NotAuthorizedException", public.get_id, IdentityPoolId=ipool)

    with j.step("DeleteIdentityPool"):
        admin.delete_identity_pool(IdentityPoolId=ipool)


if __name__ == "__main__":
    run("boto3 cognito-identity (OpenID Connect provider)", main)
