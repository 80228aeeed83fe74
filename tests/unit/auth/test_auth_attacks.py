"""The attack suite: forged tokens, each refused with the code that names the attack.

Every case is data: (id, how to build the token, expected code). The verifier allows every
asymmetric algorithm and no HS* (no shared secret), unless a case says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from chaos.stack.issuer import b64url
from fraiseql._fraiseql_rs import JwtError

P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)

ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())


def with_signature(token: str, signature: bytes) -> str:
    return token.rsplit(".", 1)[0] + "." + b64url(signature)


def unsigned(forge, alg_spelling: str) -> str:
    return forge.encode_unsigned({"alg": alg_spelling, "kid": forge.header()["kid"]}) + "."


def hs256_with_rsa_public_key(forge) -> str:
    public_pem = forge.keyring.key_for("RS256").private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = forge.encode_unsigned({"alg": "HS256", "kid": forge.header()["kid"]})
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tampered(forge) -> str:
    token = forge.sign(forge.header(), forge.claims(roles=["reader"]))
    header, _, signature = token.split(".")
    payload = b64url(json.dumps(forge.claims(roles=["admin"])).encode())
    return f"{header}.{payload}.{signature}"


def ecdsa_scalars(forge, r: int, s: int) -> str:
    token = forge.sign(forge.header("ES256"), alg="ES256")
    return with_signature(token, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def ecdsa_der(forge) -> str:
    token = forge.sign(forge.header("ES256"), alg="ES256")
    raw = base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    return with_signature(token, der)


def attacker_jwk() -> dict:
    from jwt.algorithms import RSAAlgorithm

    return {**json.loads(RSAAlgorithm.to_jwk(ATTACKER_RSA.public_key())), "kid": "attacker"}


def with_segment(forge, index: int, value: str) -> str:
    parts = forge.sign(forge.header()).split(".")
    parts[index] = value
    return ".".join(parts)


CASES: list[tuple[str, Callable[..., str], str]] = [
    # alg none, in its spellings, signed or not
    ("alg-none", lambda f: unsigned(f, "none"), "UNSUPPORTED_ALGORITHM"),
    ("alg-None", lambda f: unsigned(f, "None"), "UNSUPPORTED_ALGORITHM"),
    ("alg-NONE", lambda f: unsigned(f, "NONE"), "UNSUPPORTED_ALGORITHM"),
    ("alg-nOnE", lambda f: unsigned(f, "nOnE"), "UNSUPPORTED_ALGORITHM"),
    ("alg-none-with-signature", lambda f: f.sign({"alg": "none"}), "UNSUPPORTED_ALGORITHM"),
    ("alg-empty", lambda f: unsigned(f, ""), "UNSUPPORTED_ALGORITHM"),
    ("alg-lowercase-rs256", lambda f: f.sign({**f.header(), "alg": "rs256"}), "UNSUPPORTED_ALGORITHM"),
    # key confusion
    ("hs256-signed-with-rsa-public-key", hs256_with_rsa_public_key, "UNSUPPORTED_ALGORITHM"),
    ("rs256-naming-an-ec-key", lambda f: f.sign({"alg": "RS256", "kid": f.header("ES256")["kid"]}), "UNSUPPORTED_ALGORITHM"),
    ("es256-naming-an-rsa-key", lambda f: f.sign({"alg": "ES256", "kid": f.header()["kid"]}, alg="ES256"), "UNSUPPORTED_ALGORITHM"),
    ("ps256-signature-labelled-rs256", lambda f: f.sign(f.header(), alg="PS256"), "INVALID_SIGNATURE"),
    # kid is only a lookup key
    ("kid-path-traversal", lambda f: f.sign({"alg": "RS256", "kid": "../../../../etc/passwd"}), "UNKNOWN_KEY"),
    ("kid-sql", lambda f: f.sign({"alg": "RS256", "kid": "' OR '1'='1' --"}), "UNKNOWN_KEY"),
    ("kid-shell", lambda f: f.sign({"alg": "RS256", "kid": "$(touch /tmp/pwned); `id`"}), "UNKNOWN_KEY"),
    ("kid-nul-and-url", lambda f: f.sign({"alg": "RS256", "kid": "https://evil.test/k\u0000"}), "UNKNOWN_KEY"),
    # key-bearing headers are never trusted
    ("jku-attacker-key", lambda f: f.sign({"alg": "RS256", "kid": "attacker", "jku": "https://evil.test/jwks.json"}, key=ATTACKER_RSA), "UNKNOWN_KEY"),
    ("x5u-attacker-key", lambda f: f.sign({"alg": "RS256", "kid": "attacker", "x5u": "https://evil.test/cert.pem"}, key=ATTACKER_RSA), "UNKNOWN_KEY"),
    ("jwk-embedded-with-real-kid", lambda f: f.sign({**f.header(), "jwk": attacker_jwk()}, key=ATTACKER_RSA), "INVALID_SIGNATURE"),
    ("x5c-with-real-kid", lambda f: f.sign({**f.header(), "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]}, key=ATTACKER_RSA), "INVALID_SIGNATURE"),
    ("signed-by-another-key-with-real-kid", lambda f: f.sign(f.header(), key=ATTACKER_RSA), "INVALID_SIGNATURE"),
    # critical extensions
    ("crit-unknown", lambda f: f.sign({**f.header(), "crit": ["x-fraiseql"], "x-fraiseql": 1}), "UNSUPPORTED_CRITICAL_HEADER"),
    ("crit-b64", lambda f: f.sign({**f.header(), "crit": ["b64"], "b64": False}), "UNSUPPORTED_CRITICAL_HEADER"),
    # claims that lie about their types
    ("exp-as-string", lambda f: f.sign(f.header(), f.claims(exp="9999999999")), "INVALID_CLAIMS"),
    ("exp-missing", lambda f: f.sign(f.header(), {k: v for k, v in f.claims().items() if k != "exp"}), "INVALID_CLAIMS"),
    ("nbf-as-string", lambda f: f.sign(f.header(), f.claims(nbf="0")), "INVALID_CLAIMS"),
    ("exp-duplicated", lambda f: f.sign(f.header(), b'{"iss":"x","exp":1,"exp":9999999999}'), "MALFORMED_TOKEN"),
    ("payload-is-an-array", lambda f: f.sign(f.header(), b"[1,2]"), "MALFORMED_TOKEN"),
    # ECDSA psychic signatures and malformed ECDSA
    ("ecdsa-zero-r-s", lambda f: ecdsa_scalars(f, 0, 0), "INVALID_SIGNATURE"),
    ("ecdsa-r-s-equal-order", lambda f: ecdsa_scalars(f, P256_ORDER, P256_ORDER), "INVALID_SIGNATURE"),
    ("ecdsa-zero-s", lambda f: ecdsa_scalars(f, 1, 0), "INVALID_SIGNATURE"),
    ("ecdsa-der-encoded", ecdsa_der, "INVALID_SIGNATURE"),
    ("eddsa-zero-signature", lambda f: with_signature(f.sign(f.header("EdDSA"), alg="EdDSA"), bytes(64)), "INVALID_SIGNATURE"),
    # shape
    ("one-segment", lambda f: f.sign(f.header()).split(".")[0], "MALFORMED_TOKEN"),
    ("two-segments", lambda f: ".".join(f.sign(f.header()).split(".")[:2]), "MALFORMED_TOKEN"),
    ("four-segments", lambda f: f.sign(f.header()) + ".e30", "MALFORMED_TOKEN"),
    ("jwe-five-segments", lambda f: f.sign(f.header()) + ".e30.e30", "MALFORMED_TOKEN"),
    ("empty-token", lambda f: "", "MALFORMED_TOKEN"),
    ("empty-signature", lambda f: with_segment(f, 2, ""), "MALFORMED_TOKEN"),
    ("padded-base64", lambda f: f.sign(f.header()) + "==", "MALFORMED_TOKEN"),
    ("standard-base64-alphabet", lambda f: with_segment(f, 2, "+/+/"), "MALFORMED_TOKEN"),
    ("header-not-json", lambda f: "bm90IGpzb24." + f.sign(f.header()).split(".", 1)[1], "MALFORMED_TOKEN"),
    ("header-duplicate-alg", lambda f: f.sign(b'{"alg":"RS256","alg":"none"}'), "MALFORMED_TOKEN"),
    ("oversized", lambda f: f.sign(f.header(), f.claims(padding="x" * 9000)), "TOKEN_TOO_LARGE"),
    # wrong parties, replays and tampering
    ("wrong-issuer", lambda f: f.sign(f.header(), f.claims(iss="https://evil.test/")), "INVALID_ISSUER"),
    ("issuer-as-list", lambda f: f.sign(f.header(), f.claims(iss=[f.claims()["iss"]])), "INVALID_ISSUER"),
    ("wrong-audience", lambda f: f.sign(f.header(), f.claims(aud="https://other.test")), "INVALID_AUDIENCE"),
    ("audience-list-without-ours", lambda f: f.sign(f.header(), f.claims(aud=["a", "b"])), "INVALID_AUDIENCE"),
    ("expired", lambda f: f.sign(f.header(), f.claims(exp=1)), "TOKEN_EXPIRED"),
    ("tampered-payload", tampered, "INVALID_SIGNATURE"),
]


@pytest.fixture
def forge(forge):
    forge.encode_unsigned = lambda header: f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(forge.claims()).encode())}"
    return forge


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 25
    assert len({case_id for case_id, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("build", "code"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_forged_token_is_refused(make_verifier, forge, build, code: str) -> None:
    verifier = make_verifier()
    token = build(forge)
    for check in (verifier.validate, verifier.verify):
        with pytest.raises(JwtError) as caught:
            check(token)
        assert caught.value.args[0] == code, caught.value.args[1]
    assert verifier.cache_stats()["size"] == 0


def test_hs256_with_public_key_fails_even_when_hs256_is_allowed(make_verifier, forge) -> None:
    verifier = make_verifier(("RS256", "HS256"), hmac_secret=b"s" * 32)
    with pytest.raises(JwtError) as caught:
        verifier.validate(hs256_with_rsa_public_key(forge))
    assert caught.value.args[0] == "INVALID_SIGNATURE"


def test_an_honest_token_passes_the_same_verifier(make_verifier, forge) -> None:
    assert make_verifier().validate(forge.sign(forge.header())).user_id == "user-1"
