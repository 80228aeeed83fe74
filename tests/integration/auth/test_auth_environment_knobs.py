"""The FRAISEQL_AUTH_* knobs change what a provider really does against the HTTPS issuer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chaos.stack.issuer import LocalIssuer
from fraiseql.auth import AuthError, JWTProvider
from fraiseql.auth.environment import provider_from_environment


@pytest.fixture
async def from_env(issuer: LocalIssuer) -> AsyncIterator[Callable[..., Any]]:
    """``await from_env(FRAISEQL_AUTH_X="...")``: a started provider, closed afterwards."""
    started: list[JWTProvider] = []

    async def make(**variables: str) -> JWTProvider:
        provider = provider_from_environment({
            "FRAISEQL_AUTH_ISSUER": issuer.issuer,
            "FRAISEQL_AUTH_AUDIENCE": issuer.audience,
            "FRAISEQL_AUTH_JWKS_URL": issuer.jwks_url,
            "FRAISEQL_AUTH_CA_FILE": issuer.ca_file,
            **variables,
        })
        assert provider is not None
        await provider.start()
        started.append(provider)
        return provider

    yield make
    for provider in started:
        await provider.close()


async def code_of(provider: JWTProvider, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        await provider.validate(token)
    return caught.value.code


async def test_user_cache_ttl_zero_verifies_every_request(from_env, issuer: LocalIssuer) -> None:
    token = issuer.mint()
    cached = await from_env()
    await cached.validate(token)
    await cached.validate(token)
    assert (cached.cache_stats()["hits"], cached.cache_stats()["size"]) == (1, 1)
    uncached = await from_env(FRAISEQL_AUTH_USER_CACHE_TTL_S="0")
    first, second = await uncached.validate(token), await uncached.validate(token)
    assert first is not second and first.user_id == second.user_id == "user-1"
    assert (uncached.cache_stats()["hits"], uncached.cache_stats()["size"]) == (0, 0)


async def test_leeway(from_env, issuer: LocalIssuer) -> None:
    token = issuer.mint(exp=int(time.time()) - 10)
    assert (await (await from_env()).validate(token)).user_id == "user-1"  # default leeway 30 s
    strict = await from_env(FRAISEQL_AUTH_LEEWAY_S="0")
    assert await code_of(strict, token) == "TOKEN_EXPIRED"


async def test_a_short_jwks_ttl_is_not_overridden_by_the_servers_max_age(from_env) -> None:
    provider = await from_env(FRAISEQL_AUTH_JWKS_TTL_S="2")  # the issuer says max-age=3600
    fetcher = provider.fetcher
    assert fetcher is not None and fetcher.last_success_at is not None and fetcher.expires_at is not None
    assert fetcher.expires_at - fetcher.last_success_at == pytest.approx(2.0)
    assert fetcher.next_refresh_in_s() <= 1.6  # refreshed at 80% of the lifetime
    default = await from_env()
    assert default.fetcher.expires_at - default.fetcher.last_success_at == pytest.approx(3600.0)


async def test_a_short_server_max_age_needs_a_lower_min_ttl(from_env, issuer: LocalIssuer) -> None:
    issuer.max_age_s = 3
    try:
        clamped = await from_env()  # max-age 3 raised to the default floor of 60 s
        honoured = await from_env(FRAISEQL_AUTH_JWKS_MIN_TTL_S="1")
    finally:
        issuer.max_age_s = 3600
    assert clamped.fetcher.expires_at - clamped.fetcher.last_success_at == pytest.approx(60.0)
    assert honoured.fetcher.expires_at - honoured.fetcher.last_success_at == pytest.approx(3.0)


async def test_max_staleness_drops_the_keys_of_a_failing_issuer(from_env, issuer: LocalIssuer) -> None:
    token = issuer.mint()
    tolerant = await from_env(FRAISEQL_AUTH_USER_CACHE_TTL_S="0")
    strict = await from_env(FRAISEQL_AUTH_USER_CACHE_TTL_S="0", FRAISEQL_AUTH_JWKS_MAX_STALE_S="0.3")
    issuer.fail(503)
    time.sleep(0.4)  # past the strict provider's maximum staleness, whatever the machine's speed
    for provider in (tolerant, strict):
        assert not await provider.fetcher.refresh()
    assert (await tolerant.validate(token)).user_id == "user-1"  # 24 h by default
    assert await code_of(strict, token) == "JWKS_UNAVAILABLE"


async def test_kid_cooldown(from_env, issuer: LocalIssuer) -> None:
    """Cooldown 0: every new unknown kid may refetch; the default (30 s): only the first."""
    eager = await from_env(FRAISEQL_AUTH_KID_COOLDOWN_S="0")
    default = await from_env()
    for provider, expected in ((eager, 3), (default, 1)):
        before = issuer.jwks_requests
        for n in range(3):  # one after another, so single flight does not merge them
            assert await code_of(provider, issuer.mint(kid=f"cooldown-{id(provider)}-{n}")) == "UNKNOWN_KEY"
        assert issuer.jwks_requests - before == expected
