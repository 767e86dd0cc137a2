"""A relying party that is not a browser: Authlib's OAuth2Session (on requests) over plain
http://127.0.0.1 signs a user in through the hosted UI with the authorization code flow and
PKCE S256, validates the ID token with Authlib (signature against the JWKS, iss, aud, nonce,
at_hash), reads userInfo, refreshes, revokes, and sees the revoked refresh token refused.

The user's side of the hosted UI is a requests.Session (a cookie jar, no JavaScript): it follows
/oauth2/authorize to /login, fills the form (its hidden fields, the CSRF token among them, read
with the standard library's html.parser), and stops at the redirect to the app's callback,
taking `code` and `state` from the Location header without fetching it.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from journey import PASSWORD, Failure, check, expect_equal, run, unique

CALLBACK = "http://localhost:3000/callback"
SCOPES = ["openid", "email", "profile"]


class Forms(HTMLParser):
    """The page's forms: their action and their input fields (name -> value)."""

    def __init__(self, html):
        super().__init__()
        self.forms = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action", ""), "method": attrs.get("method", "get"), "inputs": {}}
            )
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = {
                "type": attrs.get("type", "text"),
                "value": attrs.get("value") or "",
            }


def main(j):
    t = j.target
    admin = t.admin_client()
    issuer = None

    # -- set-up (boto3) ----------------------------------------------------------------------
    with j.step("boto3: a pool, an OAuth app client without a secret, a user with a permanent password"):
        pool_id = admin.create_user_pool(PoolName=unique("py-rp"))["UserPool"]["Id"]
        client = admin.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="py-rp",
            GenerateSecret=False,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=SCOPES,
            AllowedOAuthFlowsUserPoolClient=True,
            CallbackURLs=[CALLBACK],
            SupportedIdentityProviders=["COGNITO"],
        )["UserPoolClient"]
        client_id = client["ClientId"]
        expect_equal(client["AllowedOAuthFlows"], ["code"], "AllowedOAuthFlows")
        expect_equal(sorted(client["AllowedOAuthScopes"]), sorted(SCOPES), "AllowedOAuthScopes")
        username = unique("py-rp-user")
        email = f"{username}@example.com"
        admin.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": "Grace Hopper"},
            ],
            MessageAction="SUPPRESS",
        )
        admin.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True
        )
        user = admin.admin_get_user(UserPoolId=pool_id, Username=username)
        expect_equal(user["UserStatus"], "CONFIRMED", "UserStatus after AdminSetUserPassword Permanent=True")
        sub = {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]

    # -- discovery ---------------------------------------------------------------------------
    with j.step("discovery: <base>/<poolId>/.well-known/openid-configuration"):
        issuer = t.issuer(pool_id)
        found = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=30)
        expect_equal(found.status_code, 200, "discovery status")
        metadata = found.json()
        expect_equal(metadata["issuer"], issuer, "issuer")
        for member in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "revocation_endpoint",
            "jwks_uri",
        ]:
            check(
                metadata.get(member, "").startswith(t.base_url + "/"), f"{member}: {metadata.get(member)!r}"
            )
        check("S256" in metadata["code_challenge_methods_supported"], "S256 is not offered")
        check("code" in metadata["response_types_supported"], "response_type code is not offered")
        check("RS256" in metadata["id_token_signing_alg_values_supported"], "RS256 is not offered")
        check(
            "none" in metadata["token_endpoint_auth_methods_supported"],
            "public clients (auth method none) are not offered",
        )

    rp = OAuth2Session(
        client_id,
        token_endpoint_auth_method="none",
        revocation_endpoint_auth_method="none",
        redirect_uri=CALLBACK,
        scope=" ".join(SCOPES),
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
    )

    # -- the hosted UI, as a cookie jar sees it ----------------------------------------------
    with j.step("authorize with PKCE S256: redirected to the sign-in page"):
        code_verifier = generate_token(64)
        nonce = generate_token(24)
        authorize_url, state = rp.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
        )
        browser = requests.Session()
        hop = browser.get(authorize_url, allow_redirects=False, timeout=30)
        expect_equal(hop.status_code, 302, f"/oauth2/authorize status ({hop.text[:300]!r})")
        login_url = urljoin(authorize_url, hop.headers["Location"])
        expect_equal(urlsplit(login_url).path, "/login", "the authorize redirect's path")

    with j.step("the sign-in page has a form with username, password and a CSRF token"):
        page = browser.get(login_url, allow_redirects=False, timeout=30)
        expect_equal(page.status_code, 200, "sign-in page status")
        forms = Forms(page.text).forms
        expect_equal(len(forms), 1, "forms on the sign-in page")
        form = forms[0]
        expect_equal(form["method"].lower(), "post", "form method")
        expect_equal(form["inputs"].get("username", {}).get("type"), "text", "username field")
        expect_equal(form["inputs"].get("password", {}).get("type"), "password", "password field")
        hidden = {k: v["value"] for k, v in form["inputs"].items() if v["type"] == "hidden"}
        check(
            "_csrf" in hidden and hidden["_csrf"], f"no CSRF token among the hidden fields: {sorted(hidden)}"
        )

    with j.step("sign in: redirected to the callback with code and state (not followed)"):
        fields = dict(hidden, username=username, password=PASSWORD)
        landed = browser.post(
            urljoin(login_url, form["action"]), data=fields, allow_redirects=False, timeout=30
        )
        expect_equal(landed.status_code, 302, f"login POST status ({landed.text[:300]!r})")
        callback = landed.headers["Location"]
        check(callback.startswith(CALLBACK + "?"), f"redirected to {callback!r}, not to {CALLBACK}")
        query = parse_qs(urlsplit(callback).query)
        expect_equal(query.get("state"), [state], "state")
        check(len(query.get("code", [])) == 1, f"no single code in {callback!r}")
        code = query["code"][0]

    # -- tokens ------------------------------------------------------------------------------
    with j.step("token exchange (authorization_code + code_verifier, no client secret)"):
        token = rp.fetch_token(
            metadata["token_endpoint"], code=code, code_verifier=code_verifier, state=state
        )
        for member in ["access_token", "id_token", "refresh_token"]:
            check(token.get(member), f"the token response has no {member}: {sorted(token)}")
        expect_equal((token["token_type"], token["expires_in"]), ("Bearer", 3600), "token_type, expires_in")

    jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json())

    def id_claims(id_token, expected_nonce, access_token):
        """Authlib's validation of an ID token from the code flow: signature (joserfc against
        the JWKS), then CodeIDToken's checks of iss, aud, exp, iat, nonce and at_hash."""
        decoded = jwt.decode(id_token, key=jwks, registry=JWSRegistry(algorithms=["RS256"]))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"essential": True, "value": issuer}},
            {"nonce": expected_nonce, "client_id": client_id, "access_token": access_token},
        )
        claims.validate()
        return claims

    with j.step("Authlib validates the ID token (signature, iss, aud, nonce, at_hash)"):
        claims = id_claims(token["id_token"], nonce, token["access_token"])
        expect_equal(claims["aud"], client_id, "aud")
        expect_equal(claims["nonce"], nonce, "nonce")
        check("at_hash" in claims, f"the ID token has no at_hash: {dict(claims)}")
        expect_equal(
            (claims["sub"], claims["email"], claims["cognito:username"]),
            (sub, email, username),
            "sub, email, cognito:username",
        )
        expect_equal(claims["token_use"], "id", "token_use")

    with j.step("the same ID token fails Authlib's checks with another nonce"):
        try:
            id_claims(token["id_token"], generate_token(24), token["access_token"])
        except InvalidClaimError as e:
            expect_equal(e.claim, "nonce", "the claim Authlib refused")
        else:
            raise Failure("Authlib accepted the ID token with a different nonce")

    with j.step("the access token carries the granted scopes"):
        access = jwt.decode(
            token["access_token"], key=jwks, registry=JWSRegistry(algorithms=["RS256"])
        ).claims
        expect_equal(
            (access["iss"], access["client_id"], access["token_use"]),
            (issuer, client_id, "access"),
            "iss, client_id, token_use",
        )
        expect_equal(sorted(access["scope"].split(" ")), sorted(SCOPES), "scope")

    with j.step("userInfo with the access token"):
        info = rp.get(metadata["userinfo_endpoint"], timeout=30)
        expect_equal(info.status_code, 200, f"userInfo status ({info.text[:300]!r})")
        info = info.json()
        expect_equal(
            (info["sub"], info["email"], info["username"], info["name"]),
            (sub, email, username, "Grace Hopper"),
            "userInfo",
        )

    with j.step("refresh_token grant: a new access token and a valid ID token"):
        refresh_token = token["refresh_token"]
        refreshed = rp.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
        check(refreshed["access_token"] != token["access_token"], "the refresh gave the same access token")
        claims = id_claims(refreshed["id_token"], None, refreshed["access_token"])
        expect_equal(claims["sub"], sub, "refreshed ID token sub")

    with j.step("revocation at /oauth2/revoke, then the refresh token is refused (invalid_grant)"):
        revoked = rp.revoke_token(
            metadata["revocation_endpoint"], token=refresh_token, token_type_hint="refresh_token"
        )
        expect_equal(revoked.status_code, 200, f"revoke status ({revoked.text[:300]!r})")
        try:
            rp.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
        except OAuthError as e:
            expect_equal(e.error, "invalid_grant", "the error refreshing a revoked token")
        else:
            raise Failure("a revoked refresh token was accepted")


if __name__ == "__main__":
    run("Authlib relying party (code + PKCE through the hosted UI)", main)
