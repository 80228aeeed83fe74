"""Fixtures for the auth unit tests: real keys (no server), verifiers, a token forger."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from chaos.stack.issuer import ASYMMETRIC_ALGORITHMS, Keyring
from fraiseql._fraiseql_rs import JwtVerifier
from fraiseql.auth.user_context import UserContextFactory

ISSUER = "https://issuer.fraiseql.test/"
AUDIENCE = "https://api.fraiseql.test"


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    ring = Keyring(ISSUER, AUDIENCE)
    for alg in ASYMMETRIC_ALGORITHMS:
        ring.key_for(alg)
    return ring


@pytest.fixture
def make_verifier(keyring: Keyring) -> Callable[..., JwtVerifier]:
    """``make_verifier(algorithms=..., **JwtVerifier options)`` with the keyring's keys."""

    def make(algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS, **options: Any) -> JwtVerifier:
        options.setdefault("user_factory", UserContextFactory())
        audiences = options.pop("audiences", [AUDIENCE])
        verifier = JwtVerifier(keyring.issuer, audiences, list(algorithms), **options)
        verifier.set_keys(json.dumps(keyring.jwks()).encode())
        return verifier

    return make


class Forger:
    """Tokens built field by field, including ones no library would produce."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
        return {**base, **overrides}

    def header(self, alg: str = "RS256", **extra: Any) -> dict[str, Any]:
        return {"alg": alg, "kid": self.keyring.key_for(alg).kid, **extra}

    def sign(self, header: dict[str, Any] | bytes, payload: Any = None, *, alg: str = "RS256", key: Any = None) -> str:
        return self.keyring.sign_raw(header, self.claims() if payload is None else payload, alg=alg, key=key)


@pytest.fixture
def forge(keyring: Keyring) -> Forger:
    return Forger(keyring)
