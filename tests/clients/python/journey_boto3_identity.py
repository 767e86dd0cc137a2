"""boto3 `cognito-identity` + PyJWT + moto's STS: identity pools end to end.

An admin creates a user pool and an identity pool (boto3, SigV4 with the admin key); a guest and
a signed-in user get identities, OpenID tokens and AWS credentials through the unsigned public
operations, exactly as the AWS SDKs' credential providers call them. Cognate's OpenID tokens
are verified with PyJWT against the keys its discovery document names (signature, issuer,
audience, claims): moto's AssumeRoleWithWebIdentity does not check the token itself, so this
journey does. Which role the STS gave is read back from moto with `sts:GetCallerIdentity`
signed with the returned credentials.

Needs COGNATE_STS_URL (the STS the host was started with, `COGNATE_STS_ENDPOINT`); without it
the credential steps are skipped. scripts/test-identity.sh starts moto and the host.
"""

import concurrent.futures
import json
import os
import subprocess

import boto3
import jwt
import requests

from journey import PASSWORD, REGION, check, expect_client_error, expect_equal, expect_keys, run, unique

ACCOUNT = "123456789012"  # moto's default account


def role(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def main(j):
    t = j.target
    idp = t.admin_client()
    public_idp = t.public_client()
    admin = t.admin_client("cognito-identity")
    public = t.public_client("cognito-identity")
    # The STS the target was started with (moto): scripts/test-identity.sh and the edge stage set
    # it; tests/clients/python/run.sh runs this journey only then.
    sts_url = os.environ["COGNATE_STS_URL"]

    with j.step("a user pool, an app client and a user (cognito-idp)"):
        pool_id = idp.create_user_pool(
            PoolName=unique("ip-users"),
            Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="ip-app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        for user, tier in (("ida", "gold"), ("ivan", "bronze")):
            idp.admin_create_user(
                UserPoolId=pool_id,
                Username=user,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "custom:tier", "Value": tier}],
            )
            idp.admin_set_user_password(UserPoolId=pool_id, Username=user, Password=PASSWORD, Permanent=True)

    def id_token(user):
        return public_idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["IdToken"]

    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool_id}"

    with j.step("CreateIdentityPool / DescribeIdentityPool / ListIdentityPools (signed)"):
        created = admin.create_identity_pool(
            IdentityPoolName="journey pool",
            AllowUnauthenticatedIdentities=True,
            DeveloperProviderName="login.journey.example",
            CognitoIdentityProviders=[
                {"ProviderName": provider, "ClientId": client_id, "ServerSideTokenCheck": True}
            ],
            IdentityPoolTags={"stage": "test"},
        )
        ipool = created["IdentityPoolId"]
        check(ipool.startswith(REGION + ":"), f"identity pool id {ipool!r}")
        described = admin.describe_identity_pool(IdentityPoolId=ipool)
        described.pop("ResponseMetadata")
        created.pop("ResponseMetadata")
        expect_equal(described, created, "DescribeIdentityPool")
        listed = admin.list_identity_pools(MaxResults=60)["IdentityPools"]
        check({"IdentityPoolId": ipool, "IdentityPoolName": "journey pool"} in listed, f"ListIdentityPools {listed!r}")

    with j.step("unsigned admin calls are refused"):
        expect_client_error("UnrecognizedClientException", public.describe_identity_pool, IdentityPoolId=ipool)

    with j.step("tags"):
        arn = f"arn:aws:cognito-identity:{REGION}:000000000000:identitypool/{ipool}"
        admin.tag_resource(ResourceArn=arn, Tags={"team": "ids"})
        admin.untag_resource(ResourceArn=arn, TagKeys=["stage"])
        expect_equal(admin.list_tags_for_resource(ResourceArn=arn)["Tags"], {"team": "ids"}, "tags")

    with j.step("the AWS CLI: describe-identity-pool (signed) and get-id (--no-sign-request)"):

        def aws(*args, signed):
            env = dict(os.environ)
            if signed:
                env.update(AWS_ACCESS_KEY_ID=t.admin_key_id, AWS_SECRET_ACCESS_KEY=t.admin_secret)
            out = subprocess.run(
                ["aws", "cognito-identity", *args, "--endpoint-url", t.base_url, "--region", REGION, "--output", "json"]
                + ([] if signed else ["--no-sign-request"]),
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            check(out.returncode == 0, f"aws {args[0]}: exit {out.returncode}: {out.stderr.strip()}")
            return json.loads(out.stdout)

        expect_equal(
            aws("describe-identity-pool", "--identity-pool-id", ipool, signed=True)["IdentityPoolName"],
            "journey pool",
            "describe-identity-pool",
        )
        cli_id = aws("get-id", "--identity-pool-id", ipool, signed=False)["IdentityId"]
        check(cli_id.startswith(REGION + ":"), f"get-id {cli_id!r}")

    with j.step("a guest: GetId, GetOpenIdToken (the basic flow, before any role mapping) verified with PyJWT against the published JWKS"):
        guest = public.get_id(IdentityPoolId=ipool)["IdentityId"]
        token = public.get_open_id_token(IdentityId=guest)["Token"]
        discovery = requests.get(f"{t.base_url}/cognito-identity/.well-known/openid-configuration", timeout=10).json()
        expect_equal(discovery["issuer"], f"{t.base_url}/cognito-identity", "issuer")
        keys = jwt.PyJWKClient(discovery["jwks_uri"])
        claims = jwt.decode(
            token,
            keys.get_signing_key_from_jwt(token).key,
            algorithms=["RS256"],
            audience=ipool,
            issuer=discovery["issuer"],
        )
        expect_equal(claims["sub"], guest, "sub")
        expect_equal(claims["amr"], ["unauthenticated"], "amr")
        expect_equal(claims["exp"] - claims["iat"], 600, "lifetime")

    with j.step("roles and a rules mapping (SetIdentityPoolRoles / GetIdentityPoolRoles)"):
        mappings = {
            provider: {
                "Type": "Rules",
                "AmbiguousRoleResolution": "AuthenticatedRole",
                "RulesConfiguration": {
                    "Rules": [
                        {"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold", "RoleARN": role("gold")}
                    ]
                },
            }
        }
        admin.set_identity_pool_roles(
            IdentityPoolId=ipool,
            Roles={"authenticated": role("auth"), "unauthenticated": role("guest")},
            RoleMappings=mappings,
        )
        got = admin.get_identity_pool_roles(IdentityPoolId=ipool)
        expect_equal(got["Roles"], {"authenticated": role("auth"), "unauthenticated": role("guest")}, "Roles")
        expect_equal(got["RoleMappings"], mappings, "RoleMappings")
        # As Cognito documents it: role mappings rule out the basic flow.
        expect_client_error("InvalidParameterException", public.get_open_id_token, IdentityId=guest)

    def caller(credentials):
        sts = boto3.client(
            "sts",
            endpoint_url=sts_url,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return sts.get_caller_identity()["Arn"]

    with j.step("a guest's credentials (GetCredentialsForIdentity -> STS) are the guest role's"):
        out = public.get_credentials_for_identity(IdentityId=guest)
        expect_equal(out["IdentityId"], guest, "IdentityId")
        expect_keys(out["Credentials"], ["AccessKeyId", "SecretKey", "SessionToken", "Expiration"], "Credentials")
        expect_equal(
            caller(out["Credentials"]),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/guest/CognitoIdentityCredentials",
            "assumed role",
        )

    ida = id_token("ida")
    with j.step("the guest signs in: same identity, now authenticated; the gold rule picks the role"):
        out = public.get_credentials_for_identity(IdentityId=guest, Logins={provider: ida})
        expect_equal(
            caller(out["Credentials"]),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/gold/CognitoIdentityCredentials",
            "assumed role",
        )
        expect_equal(public.get_id(IdentityPoolId=ipool, Logins={provider: ida})["IdentityId"], guest, "GetId")
        expect_equal(admin.describe_identity(IdentityId=guest)["Logins"], [provider], "Logins")
        expect_client_error("NotAuthorizedException", public.get_open_id_token, IdentityId=guest)

    with j.step("no rule matches: the authenticated role; with Deny: refused"):
        ivan = id_token("ivan")
        ivan_id = public.get_id(IdentityPoolId=ipool, Logins={provider: ivan})["IdentityId"]
        check(ivan_id != guest, "a second user has a second identity")
        out = public.get_credentials_for_identity(IdentityId=ivan_id, Logins={provider: ivan})
        expect_equal(
            caller(out["Credentials"]),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/auth/CognitoIdentityCredentials",
            "assumed role",
        )
        mappings[provider]["AmbiguousRoleResolution"] = "Deny"
        admin.set_identity_pool_roles(
            IdentityPoolId=ipool,
            Roles={"authenticated": role("auth"), "unauthenticated": role("guest")},
            RoleMappings=mappings,
        )
        expect_client_error(
            "NotAuthorizedException", public.get_credentials_for_identity, IdentityId=ivan_id, Logins={provider: ivan}
        )

    with j.step("a forged token and a revoked one are refused"):
        header, payload, signature = ida.split(".")
        forged = ".".join([header, payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB"), signature])
        expect_client_error("NotAuthorizedException", public.get_id, IdentityPoolId=ipool, Logins={provider: forged})
        idp.admin_user_global_sign_out(UserPoolId=pool_id, Username="ida")
        expect_client_error(
            "NotAuthorizedException",
            public.get_id,
            IdentityPoolId=ipool,
            Logins={provider: ida},
            message="Invalid login token. Token is revoked.",
        )

    with j.step("50 concurrent GetId for one new login: one identity"):
        fresh_user = unique("race")
        idp.admin_create_user(UserPoolId=pool_id, Username=fresh_user, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username=fresh_user, Password=PASSWORD, Permanent=True)
        token = id_token(fresh_user)

        def get_id(_):
            client = t.public_client("cognito-identity")
            return client.get_id(IdentityPoolId=ipool, Logins={provider: token})["IdentityId"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            ids = set(pool.map(get_id, range(50)))
        expect_equal(len(ids), 1, f"distinct identities ({ids})")

    with j.step("developer identities: token, lookup, credentials with the token, merge, unlink"):
        dev = admin.get_open_id_token_for_developer_identity(
            IdentityPoolId=ipool, Logins={"login.journey.example": "dev-1"}, TokenDuration=120
        )
        dev_id = dev["IdentityId"]
        keys = jwt.PyJWKClient(f"{t.base_url}/cognito-identity/.well-known/jwks.json")
        claims = jwt.decode(
            dev["Token"],
            keys.get_signing_key_from_jwt(dev["Token"]).key,
            algorithms=["RS256"],
            audience=ipool,
            issuer=f"{t.base_url}/cognito-identity",
        )
        expect_equal(claims["exp"] - claims["iat"], 120, "TokenDuration")
        expect_equal(
            claims["amr"], ["authenticated", "login.journey.example", f"login.journey.example:{ipool}:dev-1"], "amr"
        )
        found = admin.lookup_developer_identity(IdentityPoolId=ipool, DeveloperUserIdentifier="dev-1")
        expect_equal(found["IdentityId"], dev_id, "LookupDeveloperIdentity")
        expect_equal(found["DeveloperUserIdentifierList"], ["dev-1"], "DeveloperUserIdentifierList")
        out = public.get_credentials_for_identity(
            IdentityId=dev_id, Logins={"cognito-identity.amazonaws.com": dev["Token"]}
        )
        expect_equal(
            caller(out["Credentials"]),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/auth/CognitoIdentityCredentials",
            "assumed role",
        )
        other = admin.get_open_id_token_for_developer_identity(
            IdentityPoolId=ipool, Logins={"login.journey.example": "dev-2"}
        )["IdentityId"]
        expect_client_error(
            "DeveloperUserAlreadyRegisteredException",
            admin.get_open_id_token_for_developer_identity,
            IdentityPoolId=ipool,
            IdentityId=dev_id,
            Logins={"login.journey.example": "dev-2"},
        )
        merged = admin.merge_developer_identities(
            SourceUserIdentifier="dev-2",
            DestinationUserIdentifier="dev-1",
            DeveloperProviderName="login.journey.example",
            IdentityPoolId=ipool,
        )
        expect_equal(merged["IdentityId"], dev_id, "MergeDeveloperIdentities")
        expect_client_error("ResourceNotFoundException", admin.describe_identity, IdentityId=other)
        admin.unlink_developer_identity(
            IdentityId=dev_id,
            IdentityPoolId=ipool,
            DeveloperProviderName="login.journey.example",
            DeveloperUserIdentifier="dev-2",
        )
        expect_equal(
            admin.lookup_developer_identity(IdentityPoolId=ipool, IdentityId=dev_id)["DeveloperUserIdentifierList"],
            ["dev-1"],
            "after unlink",
        )

    with j.step("ListIdentities, DeleteIdentities, DeleteIdentityPool"):
        listed = admin.list_identities(IdentityPoolId=ipool, MaxResults=60)["Identities"]
        check(any(i["IdentityId"] == guest for i in listed), "the guest is listed")
        out = admin.delete_identities(IdentityIdsToDelete=[guest])
        expect_equal(out["UnprocessedIdentityIds"], [], "UnprocessedIdentityIds")
        expect_client_error("ResourceNotFoundException", admin.describe_identity, IdentityId=guest)
        admin.delete_identity_pool(IdentityPoolId=ipool)
        expect_client_error("ResourceNotFoundException", admin.describe_identity_pool, IdentityPoolId=ipool)


if __name__ == "__main__":
    run("boto3 cognito-identity", main)
