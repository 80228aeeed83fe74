"""JwtVerifier (Rust) with real keys: algorithms, claims, leeway, and the user cache."""

from __future__ import annotations

import json
import time

import pytest

from chaos.stack.issuer import ASYMMETRIC_ALGORITHMS as ASYMMETRIC
from chaos.stack.issuer import Keyring
from fraiseql._fraiseql_rs import JwtError, JwtVerifier
from fraiseql.auth import UserContext

ISSUER = "https://issuer.fraiseql.test/"
AUDIENCE = "https://api.fraiseql.test"


def code_of(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(JwtError) as caught:
        verifier.validate(token)
    return caught.value.args[0]


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_every_asymmetric_algorithm_verifies(make_verifier, keyring: Keyring, alg: str) -> None:
    verifier = make_verifier((alg,))
    user = verifier.validate(keyring.mint(alg=alg, roles=["admin"], permissions=["posts:write"]))
    assert isinstance(user, UserContext)
    assert user.user_id == "user-1"
    assert user.roles == {"admin"} and user.permissions == {"posts:write"}


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_only_with_a_configured_secret(keyring: Keyring, alg: str) -> None:
    verifier = JwtVerifier(ISSUER, [AUDIENCE], [alg], hmac_secret=keyring.hmac_secret)
    assert verifier.validate(keyring.mint(alg=alg))["sub"] == "user-1"
    other = JwtVerifier(ISSUER, [AUDIENCE], [alg], hmac_secret=b"x" * 64)
    assert code_of(other, keyring.mint(alg=alg)) == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithms": ["HS256"]}, "need hmac_secret"),
        ({"algorithms": ["HS256"], "hmac_secret": b"short"}, "at least 32 bytes"),
        ({"algorithms": ["RS256"], "hmac_secret": b"x" * 32}, "no HS"),
        ({"algorithms": ["none"]}, "unsupported algorithm"),
        ({"algorithms": []}, "at least one algorithm"),
        ({"algorithms": ["RS256"], "audiences": []}, "audience"),
    ],
)
def test_unsafe_configurations_are_refused(options: dict, message: str) -> None:
    audiences = options.pop("audiences", [AUDIENCE])
    algorithms = options.pop("algorithms")
    with pytest.raises(ValueError, match=message):
        JwtVerifier(ISSUER, audiences, algorithms, **options)


def test_expiry_not_before_and_leeway(make_verifier, keyring: Keyring) -> None:
    now = int(time.time())
    verifier = make_verifier(leeway_s=30)
    assert verifier.verify(keyring.mint(exp=now - 10))  # inside the leeway
    assert code_of(verifier, keyring.mint(exp=now - 60)) == "TOKEN_EXPIRED"
    assert verifier.verify(keyring.mint(nbf=now + 10))
    assert code_of(verifier, keyring.mint(nbf=now + 60)) == "TOKEN_NOT_YET_VALID"
    assert code_of(verifier, keyring.mint(iat=now + 60)) == "TOKEN_NOT_YET_VALID"
    strict = make_verifier(leeway_s=0)
    assert code_of(strict, keyring.mint(exp=now - 2)) == "TOKEN_EXPIRED"


def test_issuer_is_exact_and_audience_is_string_or_list(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier()
    assert code_of(verifier, keyring.mint(iss=ISSUER.rstrip("/"))) == "INVALID_ISSUER"
    assert code_of(verifier, keyring.mint(iss=ISSUER.upper())) == "INVALID_ISSUER"
    assert verifier.verify(keyring.mint(aud=["https://other", AUDIENCE]))
    assert code_of(verifier, keyring.mint(aud=["https://other"])) == "INVALID_AUDIENCE"
    assert code_of(verifier, keyring.mint(aud=AUDIENCE + "/")) == "INVALID_AUDIENCE"


def test_several_accepted_audiences(keyring: Keyring) -> None:
    verifier = JwtVerifier(ISSUER, ["a", "b"], ["RS256"])
    verifier.set_keys(json.dumps(keyring.jwks()).encode())
    assert verifier.verify(keyring.mint(aud="b"))
    assert verifier.verify(keyring.mint(aud=["c", "a"]))


def test_cached_user_is_the_same_object_until_evicted(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier(cache_max_entries=2)
    tokens = [keyring.mint(subject=f"user-{i}") for i in range(3)]
    first = verifier.validate(tokens[0])
    assert verifier.validate(tokens[0]) is first
    verifier.validate(tokens[1])
    verifier.validate(tokens[2])  # evicts tokens[0], the least recently used
    stats = verifier.cache_stats()
    assert stats["size"] == 2 and stats["evictions"] == 1 and stats["hits"] == 1
    again = verifier.validate(tokens[0])
    assert again is not first and again.user_id == "user-0"


def test_cache_entry_never_outlives_exp(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier(leeway_s=0, cache_ttl_s=3600)
    token = keyring.mint(ttl_s=120)
    verifier.validate(token)
    verifier.set_clock_offset(121)  # the clock moves past exp
    assert code_of(verifier, token) == "TOKEN_EXPIRED"
    assert verifier.cache_stats()["expirations"] == 1


def test_cache_ttl_bounds_an_entry(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier(cache_ttl_s=5)
    token = keyring.mint(ttl_s=3600)
    first = verifier.validate(token)
    verifier.set_clock_offset(6)
    assert verifier.validate(token) is not first
    assert verifier.cache_stats()["expirations"] == 1


def test_disabled_cache_verifies_every_time(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier(cache_max_entries=0)
    token = keyring.mint()
    assert verifier.validate(token) is not verifier.validate(token)
    assert verifier.cache_stats()["size"] == 0


def test_removing_a_key_drops_cached_users(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier()
    token = keyring.mint(alg="ES256")
    verifier.validate(token)
    jwks = keyring.jwks()
    es_kid = keyring.key_for("ES256").kid
    jwks["keys"] = [k for k in jwks["keys"] if k["kid"] != es_kid]
    verifier.set_keys(json.dumps(jwks).encode())
    with pytest.raises(JwtError) as caught:
        verifier.validate(token)
    assert caught.value.args == ("UNKNOWN_KEY", caught.value.args[1], es_kid)


def test_a_key_set_without_usable_keys_changes_nothing(make_verifier) -> None:
    verifier = make_verifier()
    kids = verifier.kids
    for document in [b'{"keys": []}', b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', b"{", b"[]"]:
        with pytest.raises(ValueError):
            verifier.set_keys(document)
    assert verifier.kids == kids
    verifier.clear_keys()
    assert verifier.kids == []


def test_factory_errors_propagate_and_are_not_cached(make_verifier, keyring: Keyring) -> None:
    verifier = make_verifier()
    with pytest.raises(Exception, match="sub"):
        verifier.validate(keyring.mint(subject=123))
    assert verifier.cache_stats()["size"] == 0


def test_without_a_factory_validate_returns_the_claims(keyring: Keyring) -> None:
    verifier = JwtVerifier(ISSUER, [AUDIENCE], ["RS256"])
    verifier.set_keys(json.dumps(keyring.jwks()).encode())
    claims = verifier.validate(keyring.mint(nested={"a": [1, 2.5, None, True]}))
    assert claims["nested"] == {"a": [1, 2.5, None, True]}
