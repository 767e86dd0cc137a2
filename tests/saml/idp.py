"""A real SAML 2.0 IdP for Cognate's SAML tests: pysaml2's IdP (saml2.server.Server), signing
with Debian's xmlsec1, on 127.0.0.1.

    idp.py --port P --key K --cert C --rogue-key K2 --rogue-cert C2

Endpoints:
  GET  /metadata              the IdP's metadata (entity id = this URL); `?tag=T` is ignored
                              but counted:
  GET  /fetches?tag=T         how many times /metadata?tag=T was fetched (JSON {"fetches": n})
  POST /sp                    registers an SP's metadata XML (the body), as an operator would;
                              `?encrypt=1`: encrypt every assertion for that SP to the encryption
                              certificate of its metadata (XML Encryption: AES-128-CBC, the key
                              by RSA-OAEP)
  GET  /sso/redirect          SP-initiated Web SSO (HTTP-Redirect binding in): the IdP's sign-in
                              page (a form for a browser: username and password; every username
                              exists, the password is PASSWORD below), which posts to
  POST /sso/login             and answers, for a good password, the HTTP-POST binding's
                              auto-submitting form (pysaml2's, `onload` submits it) that carries
                              the signed response to the SP's ACS; the user is
                              <username>@example.com. A wrong password shows the page again.
  GET  /sso/redirect?...&auto=1  the service-level tests' shortcut: no sign-in page, the
                              response for alice@example.com at once
  GET  /idp-initiated?sp=ID   an unsolicited response for the SP (no InResponseTo), for alice
                              or `user=U`, with the `RelayState` given
  GET  /slo/redirect          single logout (HTTP-Redirect binding in): the SP's LogoutRequest must
                              carry a valid RSA-SHA256 redirect signature by the signing
                              certificate of the SP's registered metadata (else 400); it is
                              recorded, and the answer is the HTTP-POST binding's auto-submitting
                              form with a signed LogoutResponse (Success) to the SP's
                              SingleLogoutService, with the RelayState given
  GET  /logouts               the logouts received (JSON list of {"sp", "name_id",
                              "session_index"})
  add `signer=rogue` to /sso/redirect?auto=1 or /idp-initiated to have the response signed by another key under the same
  entity id (an attacker's IdP), `alg=sha1` to have it signed with RSA-SHA1 and SHA-1 digests, `sign=response` or
  `sign=both` to sign the whole Response instead of (or as well as) the assertion.
"""

import argparse
import functools
import html
import json
import http.server
import re
import sys
import threading
import urllib.parse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
import saml2.entity
import saml2.sigver

# pysaml2 encrypts assertions with 3DES-CBC by default; SPs (Cognate among them) take AES.
# Both the template's EncryptionMethod and the session key xmlsec1 generates must say so.
saml2.entity.pre_encryption_part = functools.partial(
    saml2.sigver.pre_encryption_part, msg_enc="http://www.w3.org/2001/04/xmlenc#aes128-cbc"
)
_encrypt_assertion = saml2.sigver.SecurityContext.encrypt_assertion


def _encrypt_assertion_aes(self, statement, enc_key, template, key_type=None, node_xpath=None):
    return _encrypt_assertion(self, statement, enc_key, template, "aes-128", node_xpath)


saml2.sigver.SecurityContext.encrypt_assertion = _encrypt_assertion_aes

# Every user of this IdP signs in with this password on its sign-in page.
PASSWORD = "Idp-Password-1"


def identity(user):
    """The attributes and the NameID of `user` (alice unless the sign-in page named another)."""
    email = "%s@example.com" % user
    attributes = {
        "email": [email],
        "given_name": [user.capitalize()],
        "groups": ["admins", "staff"],
    }
    return attributes, NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email)


def login_page(saml_request, relay_state, error=""):
    """The IdP's sign-in page: the AuthnRequest and RelayState ride along in hidden fields."""
    esc = html.escape
    return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><h1>Test IdP</h1>%s
<form method="post" action="/sso/login">
<input type="hidden" name="SAMLRequest" value="%s">
<input type="hidden" name="RelayState" value="%s">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>""" % (
        '<p id="error">%s</p>' % esc(error) if error else "",
        esc(saml_request, quote=True),
        esc(relay_state or "", quote=True),
    )


def config(base, key, cert, sp_metadata):
    c = IdPConfig()
    c.load(
        {
            "entityid": base + "/metadata",
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (base + "/sso/redirect", BINDING_HTTP_REDIRECT),
                            (base + "/sso/post", BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [(base + "/slo/redirect", BINDING_HTTP_REDIRECT)],
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 15},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "sign_assertion": True,
                    "sign_response": False,
                    "want_authn_requests_signed": False,
                }
            },
            "key_file": key,
            "cert_file": cert,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "metadata": {"inline": sp_metadata},
            "allow_unknown_attributes": True,
        }
    )
    return c


class Idp:
    def __init__(self, base, key, cert, rogue_key, rogue_cert):
        self.base = base
        self.keys = {"idp": (key, cert), "rogue": (rogue_key, rogue_cert)}
        self.sp_metadata = []
        self.servers = {}
        self.fetches = {}
        self.encrypt_for = set()
        self.logouts = []
        # The HTTP server is threaded (a browser and the tests' clients at once), but pysaml2's
        # Server objects and this state are not made for threads: a rebuild that read the SP
        # list before another SP was added could replace the servers after that SP's own
        # rebuild. Each request is handled under this lock, whole.
        self.lock = threading.Lock()
        self.rebuild()

    def register_sp(self, metadata, encrypt):
        if encrypt:
            entity = re.search(r'entityID="([^"]+)"', metadata)
            self.encrypt_for.add(html.unescape(entity.group(1)))
        self.sp_metadata.append(metadata)
        self.rebuild()

    def rebuild(self):
        self.servers = {
            name: Server(config=config(self.base, k, c, self.sp_metadata))
            for name, (k, c) in self.keys.items()
        }

    def metadata(self):
        return create_metadata_string(None, config=self.servers["idp"].config, valid=24)

    def respond(
        self, server, in_response_to, destination, sp_entity_id, relay_state, alg, sign, user="alice"
    ):
        attributes, name_id = identity(user)
        sign_alg, digest_alg = (
            (SIG_RSA_SHA1, DIGEST_SHA1) if alg == "sha1" else (SIG_RSA_SHA256, DIGEST_SHA256)
        )
        response = server.create_authn_response(
            attributes,
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=name_id,
            sign_assertion=sign in (None, "assertion", "both"),
            encrypt_assertion=sp_entity_id in self.encrypt_for,
            encrypt_assertion_self_contained=True,
            sign_response=sign in ("response", "both"),
            sign_alg=sign_alg,
            digest_alg=digest_alg,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        )
        http_args = server.apply_binding(
            BINDING_HTTP_POST, str(response), destination, relay_state, response=True
        )
        return http_args["data"]


def handler_for(idp):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("idp: " + (fmt % args) + "\n")

        def answer(self, status, body, content_type="text/html; charset=utf-8"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def sso(self, server, saml_request, relay_state, alg=None, sign=None, user="alice"):
            """The auto-submitting form with the response to `saml_request` (HTTP-Redirect)."""
            request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
            args = server.response_args(request.message, [BINDING_HTTP_POST])
            return self.answer(
                200,
                idp.respond(
                    server,
                    args["in_response_to"],
                    args["destination"],
                    args["sp_entity_id"],
                    relay_state,
                    alg,
                    sign,
                    user,
                ),
            )

        def slo(self, server, query):
            """A LogoutRequest over HTTP-Redirect: its redirect signature checked against the SP's
            metadata, recorded, and answered with a signed LogoutResponse over HTTP-POST."""
            request = server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
            if "Signature" not in query or "SigAlg" not in query:
                return self.answer(400, "the LogoutRequest is not signed", "text/plain")
            signed = {k: query[k] for k in ("SAMLRequest", "RelayState", "SigAlg", "Signature") if k in query}
            if query["SigAlg"] != SIG_RSA_SHA256 or not request._do_redirect_sig_check(signed):
                return self.answer(400, "the LogoutRequest's signature is not valid", "text/plain")
            message = request.message
            idp.logouts.append(
                {
                    "sp": message.issuer.text,
                    "name_id": message.name_id.text,
                    "session_index": [s.text for s in message.session_index],
                }
            )
            args = server.response_args(message, [BINDING_HTTP_POST])
            response = server.create_logout_response(
                message,
                [BINDING_HTTP_POST],
                sign=True,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            http_args = server.apply_binding(
                BINDING_HTTP_POST,
                str(response),
                args["destination"],
                query.get("RelayState"),
                response=True,
            )
            return self.answer(200, http_args["data"])

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            with idp.lock:
                return self.post(body)

        def do_GET(self):
            with idp.lock:
                return self.get()

        def post(self, body):
            try:
                if self.path.startswith("/sp"):
                    idp.register_sp(body, encrypt=self.path == "/sp?encrypt=1")
                    return self.answer(204, b"")
                if self.path == "/sso/login":
                    form = dict(urllib.parse.parse_qsl(body))
                    user = form.get("username", "")
                    relay_state = form.get("RelayState") or None
                    if form.get("password") != PASSWORD or not user.isalnum():
                        return self.answer(
                            200,
                            login_page(form["SAMLRequest"], relay_state, "Wrong username or password."),
                        )
                    return self.sso(
                        idp.servers["idp"], form["SAMLRequest"], relay_state, user=user
                    )
            except Exception as e:  # a refusal the test can read, not a dropped connection
                return self.answer(400, "%s: %s" % (type(e).__name__, e), "text/plain")
            return self.answer(404, "not found")

        def get(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            server = idp.servers.get(query.get("signer", "idp"))
            try:
                if url.path == "/metadata":
                    tag = query.get("tag", "")
                    idp.fetches[tag] = idp.fetches.get(tag, 0) + 1
                    return self.answer(200, idp.metadata(), "application/samlmetadata+xml")
                if url.path == "/fetches":
                    count = idp.fetches.get(query.get("tag", ""), 0)
                    return self.answer(200, '{"fetches": %d}' % count, "application/json")
                if url.path == "/sso/redirect" and query.get("auto") == "1":
                    return self.sso(
                        server,
                        query["SAMLRequest"],
                        query.get("RelayState"),
                        query.get("alg"),
                        query.get("sign"),
                    )
                if url.path == "/sso/redirect":
                    # The request is checked now, so a bad one is refused before the sign-in.
                    server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
                    return self.answer(
                        200, login_page(query["SAMLRequest"], query.get("RelayState"))
                    )
                if url.path == "/logouts":
                    return self.answer(200, json.dumps(idp.logouts), "application/json")
                if url.path == "/slo/redirect":
                    return self.slo(server, query)
                if url.path == "/idp-initiated":
                    sp = query["sp"]
                    acs = server.metadata.assertion_consumer_service(sp, BINDING_HTTP_POST)
                    destination = acs[0]["location"]
                    return self.answer(
                        200, idp.respond(
                            server,
                            None,
                            destination,
                            sp,
                            query.get("RelayState"),
                            query.get("alg"),
                            query.get("sign"),
                            query.get("user", "alice"),
                        )
                    )
            except Exception as e:  # a refusal the test can read, not a dropped connection
                return self.answer(400, "%s: %s" % (type(e).__name__, e), "text/plain")
            return self.answer(404, "not found", "text/plain")

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--rogue-key", required=True)
    p.add_argument("--rogue-cert", required=True)
    a = p.parse_args()
    base = "http://127.0.0.1:%d" % a.port
    idp = Idp(base, a.key, a.cert, a.rogue_key, a.rogue_cert)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), handler_for(idp))
    print("idp ready on %s" % base, flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
