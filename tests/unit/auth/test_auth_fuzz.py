"""Hypothesis: no token string crashes the verifier, and none is ever accepted."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos.stack.issuer import Keyring, b64url
from fraiseql._fraiseql_rs import JwtError, JwtVerifier

KEYRING = Keyring("https://issuer.fraiseql.test/", "https://api.fraiseql.test")
VERIFIER = JwtVerifier(KEYRING.issuer, [KEYRING.audience], ["RS256", "ES256", "EdDSA"])
for _alg in ("RS256", "ES256", "EdDSA"):
    KEYRING.key_for(_alg)
VERIFIER.set_keys(json.dumps(KEYRING.jwks()).encode())
HONEST = KEYRING.mint(alg="ES256")

segment = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=400),
    st.binary(max_size=300).map(b64url),
    st.builds(lambda d: b64url(json.dumps(d).encode()), st.dictionaries(st.sampled_from(["alg", "kid", "exp", "crit", "iss", "aud"]), st.one_of(st.none(), st.integers(), st.text(max_size=20), st.sampled_from(["RS256", "ES256", "EdDSA", "none", "HS256"])))),
)


def refused(token: str) -> None:
    try:
        VERIFIER.verify(token)
    except JwtError:
        return
    raise AssertionError(f"accepted a fuzzed token: {token!r}")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=600))
def test_arbitrary_text_is_refused(token: str) -> None:
    refused(token)


@settings(max_examples=400, deadline=None)
@given(st.lists(segment, min_size=1, max_size=5).map(".".join))
def test_token_shaped_strings_are_refused(token: str) -> None:
    refused(token)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(HONEST) - 1), st.characters(codec="ascii"))
def test_any_single_character_change_to_an_honest_token_is_refused(position: int, char: str) -> None:
    mutated = HONEST[:position] + char + HONEST[position + 1 :]
    if mutated == HONEST:
        return
    # A change in the last base64 character may only flip unused bits: strict decoding refuses it.
    refused(mutated)
