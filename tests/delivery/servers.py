"""The real servers the delivery stage (scripts/test-delivery.sh) runs on 127.0.0.1.

    python servers.py cert DIR
        a test CA and a certificate for 127.0.0.1/localhost signed by it: DIR/ca.pem,
        DIR/server.pem, DIR/server.key (made at test time, never checked in)
    python servers.py smtp PORT MAILDIR CERTDIR USER PASSWORD
        aiosmtpd with STARTTLS required and AUTH (PLAIN, LOGIN) required; each message received
        is written to MAILDIR/<n>.eml. Recipients starting with `reject` are refused for good
        (550), recipients starting with `slow` are answered after 3 s.
    python servers.py receiver PORT LOGDIR
        an HTTP receiver for custom sender plugin deliveries: each request is written to
        LOGDIR/<n>.json ({method, path, headers, body}) and answered 200.
    python servers.py throttle PORT UPSTREAM SECRET
        a proxy in front of moto: forwards every request to UPSTREAM, except that while its
        counter is above zero it answers SES's throttling error (429 TooManyRequestsException)
        and counts down. `POST /__throttle?n=N` sets the counter. It also checks each request's
        SigV4 signature with botocore's signer (an independent implementation) and the secret
        key SECRET; `GET /__signatures` answers {"good": n, "bad": [reasons]}.

    python servers.py wat OUT ANSWER
        a trigger plugin (WAT) that answers ANSWER to every event (like tests/src/plugins.rs's
        constant_plugin): the custom sender plugins of the stage.

Each server prints `ready` on stdout once it listens.
"""

import asyncio
import warnings
import datetime
import http.server
import ipaddress
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.request


def make_cert(out):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cognate test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    with open(os.path.join(out, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(out, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(out, "server.key"), "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def smtp(port, maildir, certdir, user, password):
    # aiosmtpd warns about its own use of a deprecated attribute.
    warnings.filterwarnings("ignore", message="Session.login_data")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    os.makedirs(maildir, exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(
        os.path.join(certdir, "server.pem"), os.path.join(certdir, "server.key")
    )
    counter = {"n": 0}
    # The login each session authenticated as.
    auth_logins = {}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("reject"):
                return "550 5.1.1 mailbox unavailable"
            if address.startswith("slow"):
                await asyncio.sleep(3)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            counter["n"] += 1
            path = os.path.join(maildir, f"{counter['n']:05d}.eml")
            with open(path + ".tmp", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            # The session as the server saw it, for the test's assertions.
            with open(path + ".session.json", "w") as f:
                json.dump(
                    {
                        "mail_from": envelope.mail_from,
                        "rcpt_tos": envelope.rcpt_tos,
                        "tls": session.ssl is not None,
                        "authenticated": session.authenticated,
                        "login": auth_logins.get(id(session)),
                    },
                    f,
                )
            os.rename(path + ".tmp", path)
            return "250 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        if ok:
            auth_logins[id(session)] = auth_data.login.decode()
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
        auth_exclude_mechanism=["CRAM-MD5"],
    )
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def receiver(port, logdir):
    os.makedirs(logdir, exist_ok=True)
    lock = threading.Lock()
    counter = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock:
                counter["n"] += 1
                path = os.path.join(logdir, f"{counter['n']:05d}.json")
            with open(path + ".tmp", "w") as f:
                json.dump(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    },
                    f,
                )
            os.rename(path + ".tmp", path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_PUT = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def check_signature(method, path, headers, body, secret):
    """Recomputes the request's SigV4 signature with botocore; None when it matches."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("authorization", "")
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        authorization,
    )
    if not match:
        return f"unexpected Authorization header {authorization[:80]!r}"
    key_id, _, region, service, signed, signature = match.groups()
    signed_headers = {name: headers[name] for name in signed.split(";") if name in headers}
    request = AWSRequest(method=method, url=f"http://{headers['host']}{path}", data=body, headers=signed_headers)
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(key_id, secret, headers.get("x-amz-security-token")), service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if auth.signed_headers(auth.headers_to_sign(request)) != signed:
        return f"signed headers {signed} != {auth.signed_headers(auth.headers_to_sign(request))}"
    return None if expected == signature else f"signature mismatch for {service} {path}"


def throttle(port, upstream, secret):
    state = {"n": 0, "good": 0, "bad": []}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/__signatures":
                with lock:
                    body = json.dumps({"good": state["good"], "bad": state["bad"]}).encode()
                return self.answer(200, {"content-type": "application/json"}, body)
            self.answer(404, {}, b"")

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if not self.path.startswith("/__"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                problem = check_signature(self.command, self.path, headers, body, secret)
                with lock:
                    if problem:
                        state["bad"].append(problem)
                    else:
                        state["good"] += 1
            if self.path.startswith("/__throttle"):
                with lock:
                    state["n"] = int(self.path.split("n=", 1)[1])
                return self.answer(200, {}, b"{}")
            with lock:
                throttled = state["n"] > 0
                if throttled:
                    state["n"] -= 1
            if throttled:
                return self.answer(
                    429,
                    {"x-amzn-ErrorType": "TooManyRequestsException", "content-type": "application/json"},
                    b'{"message":"Maximum sending rate exceeded."}',
                )
            request = urllib.request.Request(
                upstream + self.path,
                data=body,
                method="POST",
                headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as r:
                    self.answer(r.status, dict(r.headers), r.read())
            except urllib.error.HTTPError as e:
                self.answer(e.code, dict(e.headers), e.read())

        def answer(self, status, headers, body):
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def wat(out, answer):
    data = "".join(
        chr(b) if (0x21 <= b <= 0x7E and b not in (0x22, 0x5C)) or b == 0x20 else f"\\{b:02x}"
        for b in answer.encode()
    )
    module = f"""(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  (global $next (mut i32) (i32.const 8192))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.div_u (local.get $len) (i32.const 65536)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "handle") (param i32 i32) (result i64)
    (i64.const {len(answer.encode())})))
"""
    with open(out, "w") as f:
        f.write(module)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "cert":
        make_cert(args[0])
    elif command == "smtp":
        smtp(int(args[0]), args[1], args[2], args[3], args[4])
    elif command == "receiver":
        receiver(int(args[0]), args[1])
    elif command == "wat":
        wat(args[0], args[1])
    elif command == "throttle":
        throttle(int(args[0]), args[1], args[2])
    else:
        sys.exit(f"unknown command {command}")
