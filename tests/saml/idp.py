"""A real SAML 2.0 IdP for Cognate's SAML tests: pysaml2's IdP (saml2.server.Server), signing
with Debian's xmlsec1, on 127.0.0.1.

    idp.py --port P --key K --cert C --rogue-key K2 --rogue-cert C2

Endpoints (the user is always signed in as alice; there is no login page):
  GET  /metadata              the IdP's metadata (entity id = this URL)
  POST /sp                    registers an SP's metadata XML (the body), as an operator would
  GET  /sso/redirect          SP-initiated Web SSO (HTTP-Redirect binding in): answers the
                              HTTP-POST binding's auto-submitting form to the SP's ACS
  GET  /idp-initiated?sp=ID   an unsolicited response for the SP (no InResponseTo)
  add `signer=rogue` to either to have the response signed by another key under the same
  entity id (an attacker's IdP), `alg=sha1` to have it signed with RSA-SHA1 and SHA-1 digests, `sign=response` or
  `sign=both` to sign the whole Response instead of (or as well as) the assertion.
"""

import argparse
import http.server
import sys
import urllib.parse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

IDENTITY = {
    "email": ["alice@example.com"],
    "given_name": ["Alice"],
    "groups": ["admins", "staff"],
}
NAME_ID = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text="alice@example.com")


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
        self.rebuild()

    def rebuild(self):
        self.servers = {
            name: Server(config=config(self.base, k, c, self.sp_metadata))
            for name, (k, c) in self.keys.items()
        }

    def metadata(self):
        return create_metadata_string(None, config=self.servers["idp"].config, valid=24)

    def respond(self, server, in_response_to, destination, sp_entity_id, relay_state, alg, sign):
        sign_alg, digest_alg = (
            (SIG_RSA_SHA1, DIGEST_SHA1) if alg == "sha1" else (SIG_RSA_SHA256, DIGEST_SHA256)
        )
        response = server.create_authn_response(
            IDENTITY,
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=NAME_ID,
            sign_assertion=sign in (None, "assertion", "both"),
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

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            if self.path == "/sp":
                idp.sp_metadata.append(body)
                idp.rebuild()
                return self.answer(204, b"")
            return self.answer(404, "not found")

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            server = idp.servers.get(query.get("signer", "idp"))
            try:
                if url.path == "/metadata":
                    return self.answer(200, idp.metadata(), "application/samlmetadata+xml")
                if url.path == "/sso/redirect":
                    request = server.parse_authn_request(
                        query["SAMLRequest"], BINDING_HTTP_REDIRECT
                    )
                    args = server.response_args(request.message, [BINDING_HTTP_POST])
                    return self.answer(
                        200,
                        idp.respond(
                            server,
                            args["in_response_to"],
                            args["destination"],
                            args["sp_entity_id"],
                            query.get("RelayState"),
                            query.get("alg"),
                            query.get("sign"),
                        ),
                    )
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
