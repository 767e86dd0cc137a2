"""Known-answer vectors for Cognate's SRP (core/src/srp), computed with pycognito's AWSSRP.

Provenance: pycognito 2024.5.1 (PyPI, as pinned in tests/clients/python/requirements.txt),
CPython 3.11. The client side (A, the key, the signature) is pycognito's own code:
`AWSSRP.calculate_a`, `AWSSRP.get_password_authentication_key`, `AWSSRP.process_challenge`
(the key and message, with our fixed `a`, B, salt and timestamp injected). Its `generate_hash_device`
formula (x from DeviceGroupKey + DeviceKey + ":" + password) gives the device verifier. The
server side (v, B) has no reference implementation in pycognito; it is written out below from
SRP-6a with pycognito's own helpers (`pad_hex`, `hex_hash`, `val_k`), and the check that the
server's S gives pycognito's key is what ties the two together.

Run: core/src/srp/vectors/gen_pycognito.sh (uses the clients' venv from
tests/clients/python/setup.sh) > core/src/srp/vectors/pycognito.json
"""

import base64
import datetime
import hashlib
import hmac
import json

import pycognito
from pycognito import aws_srp
from pycognito.aws_srp import AWSSRP, compute_hkdf, hex_hash, hex_to_long, pad_hex

N = hex_to_long(aws_srp.N_HEX)
G = 2


class NoClient:
    """AWSSRP needs a boto3 client object; these vectors make no calls."""


def srp(pool_id, username, password, a_hex):
    s = AWSSRP(username=username, password=password, pool_id=pool_id,
               client_id="client", client=NoClient())
    s.small_a_value = hex_to_long(a_hex)
    s.large_a_value = s.calculate_a()
    return s


def server(v, b, k):
    big_b = (k * v + pow(G, b, N)) % N
    return big_b


def case(name, pool_id, username, password, salt_hex, a_hex, b_hex, when, secret_block):
    s = srp(pool_id, username, password, a_hex)
    pool_name = pool_id.split("_")[1]
    inner = aws_srp.hash_sha256(f"{pool_name}{username}:{password}".encode("utf-8"))
    x = hex_to_long(hex_hash(pad_hex(salt_hex) + inner))
    v = pow(G, x, N)
    b = hex_to_long(b_hex)
    big_b = server(v, b, s.val_k)
    u = aws_srp.calculate_u(s.large_a_value, big_b)
    # The server's S and key.
    s_server = pow(s.large_a_value * pow(v, u, N), b, N)
    key_server = compute_hkdf(bytearray.fromhex(pad_hex(s_server)),
                              bytearray.fromhex(pad_hex(aws_srp.long_to_hex(u))))
    key = s.get_password_authentication_key(username, password, big_b, salt_hex)
    assert key == key_server, name
    timestamp = AWSSRP.get_cognito_formatted_timestamp(when)
    # pycognito's process_challenge, with our timestamp.
    challenge = {"USERNAME": username, "USER_ID_FOR_SRP": username, "SALT": salt_hex,
                 "SRP_B": aws_srp.long_to_hex(big_b),
                 "SECRET_BLOCK": base64.standard_b64encode(secret_block).decode()}
    real_now = datetime.datetime
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when
    aws_srp.datetime.datetime = Fixed
    try:
        response = s.process_challenge(challenge, {"USERNAME": username})
    finally:
        aws_srp.datetime.datetime = real_now
    assert response["TIMESTAMP"] == timestamp
    return {
        "name": name,
        "pool_id": pool_id,
        "user_id": username,
        "password": password,
        "salt": salt_hex,
        "v": pad_hex(v),
        "a": a_hex,
        "A": aws_srp.long_to_hex(s.large_a_value),
        "b": b_hex,
        "B": aws_srp.long_to_hex(big_b),
        "key": key.hex(),
        "secret_block": challenge["SECRET_BLOCK"],
        "timestamp": timestamp,
        "signature": response["PASSWORD_CLAIM_SIGNATURE"],
    }


def device_case(group, device, password, salt_hex):
    inner = aws_srp.hash_sha256(f"{group}{device}:{password}".encode("utf-8"))
    x = hex_to_long(hex_hash(pad_hex(salt_hex) + inner))
    return {"device_group_key": group, "device_key": device, "password": password,
            "salt": salt_hex, "v": pad_hex(pow(G, x, N))}


cases = [
    case("ascii, salt with the top bit set", "us-east-1_AbCdEf123", "alice", "Passw0rd!",
         pad_hex("c3b1f4e2a5d6978812345678deadbeef"),
         "1f" * 32, "2e" * 32,
         datetime.datetime(2022, 2, 1, 3, 4, 5), b"secret block one"),
    case("unicode password, small salt", "eu-west-2_Zz9", "7d4c2f0e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
         "pässwörd-Ω-1", pad_hex("0123456789abcdef0011223344556677"),
         "a5" * 128, "7f" + "01" * 31,
         datetime.datetime(2026, 12, 16, 23, 59, 9), bytes(range(64))),
]
devices = [device_case("-abcDEF012", "us-east-1_0a1b2c3d-4e5f", "cGFzc3dvcmQ=", pad_hex("9a" * 16))]

print(json.dumps({"generator": "core/src/srp/vectors/gen_pycognito.py",
                  "pycognito": "2024.5.1", "users": cases, "devices": devices}, indent=1))
