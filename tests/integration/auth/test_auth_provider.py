"""JWTProvider against the real local HTTPS issuer: algorithms, rotation, outages, storms."""

from __future__ import annotations

import asyncio
import time

import pytest

from chaos.stack.issuer import ALGORITHMS, LocalIssuer
from fraiseql.auth import AuthError, JWTProvider, UserContext


async def refused(provider: JWTProvider, token: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await provider.validate(token)
    return caught.value


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_every_algorithm_end_to_end(issuer: LocalIssuer, alg: str) -> None:
    options = {"hmac_secret": issuer.keyring.hmac_secret} if alg.startswith("HS") else {}
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, algorithms=(alg,), ca_file=issuer.ca_file, **options)
    await provider.start()
    try:
        user = await provider.validate(issuer.mint(alg=alg, roles=["editor"], tenant_id="t-1"))
        assert isinstance(user, UserContext)
        assert (user.user_id, user.roles, user.tenant_id) == ("user-1", {"editor"}, "t-1")
    finally:
        await provider.close()


async def test_claims_checks_over_https(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(leeway=30)
    now = int(time.time())
    assert await provider.validate(issuer.mint(exp=now - 10))
    assert (await refused(provider, issuer.mint(exp=now - 60))).code == "TOKEN_EXPIRED"
    assert (await refused(provider, issuer.mint(nbf=now + 120))).code == "TOKEN_NOT_YET_VALID"
    assert (await refused(provider, issuer.mint(iss="https://127.0.0.1:1/"))).code == "INVALID_ISSUER"
    assert (await refused(provider, issuer.mint(aud="https://other"))).code == "INVALID_AUDIENCE"
    assert await provider.validate(issuer.mint(aud=["https://other", issuer.audience]))


async def test_key_rotation_is_picked_up_without_restart(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(unknown_kid_cooldown_s=0)
    old_token = issuer.mint(alg="ES256")
    assert await provider.validate(old_token)
    new_kid = issuer.rotate("ES256", keep_previous=True)
    new_user = await provider.validate(issuer.mint(alg="ES256", subject="after-rotation"))
    assert new_user.user_id == "after-rotation" and new_kid in provider.fetcher.kids
    assert await provider.validate(old_token)


async def test_retired_key_stops_working_after_refresh(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider()
    token = issuer.mint(alg="ES384")
    await provider.validate(token)
    old_kid = issuer.keyring.key_for("ES384").kid
    issuer.rotate("ES384", keep_previous=False)
    assert await provider.fetcher.refresh()
    error = await refused(provider, token)
    assert error.code == "UNKNOWN_KEY" and old_kid not in provider.fetcher.kids


async def test_outage_with_cached_keys_keeps_valid_tokens_working(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(cache_max_entries=0)  # every call really verifies
    token = issuer.mint()
    await provider.validate(token)
    for fail in (lambda: issuer.fail(503), lambda: issuer.fail(500), issuer.malformed):
        fail()
        assert not await provider.fetcher.refresh()
        assert (await provider.validate(token)).user_id == "user-1"
        assert (await provider.validate(issuer.mint(subject="fresh"))).user_id == "fresh"
    assert provider.fetcher.failures == 3


async def test_outage_past_max_staleness_is_a_clear_error(make_provider, issuer: LocalIssuer) -> None:
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    provider = await make_provider(max_stale_s=60, clock=clock, unknown_kid_cooldown_s=5)
    token = issuer.mint()
    await provider.validate(token)
    issuer.fail(503)
    clock.now = 61
    assert not await provider.fetcher.refresh()
    assert not provider.fetcher.has_keys
    fresh = issuer.mint(subject="someone-new")
    error = await refused(provider, fresh)
    assert (error.code, error.status) == ("JWKS_UNAVAILABLE", 503)
    # A token verified before the keys were given up is still known (user-context cache):
    # an identity provider outage does not sign everybody out.
    assert (await provider.validate(token)).user_id == "user-1"
    issuer.healthy()
    clock.now = 70  # past the cooldown: the next unknown token triggers a fetch and recovers
    assert await provider.validate(fresh)


async def test_slow_issuer_times_out_and_counts_as_an_outage(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(read_timeout_s=0.2)
    issuer.slow(1.0)
    assert not await provider.fetcher.refresh()
    assert "Timeout" in provider.fetcher.last_error
    issuer.healthy()


async def test_random_kid_storm_is_rate_limited(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(unknown_kid_cooldown_s=3600)
    forged = [issuer.mint(kid=f"storm-{i}") for i in range(300)]
    before = issuer.jwks_requests
    results = await asyncio.gather(*(provider.validate(t) for t in forged), return_exceptions=True)
    assert all(isinstance(r, AuthError) and r.code == "UNKNOWN_KEY" for r in results)
    assert issuer.jwks_requests - before <= 1


async def test_key_bearing_headers_never_cause_a_fetch(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(unknown_kid_cooldown_s=3600)
    with LocalIssuer() as attacker:
        attacker_key = attacker.keyring.key_for("RS256")
        header = {"alg": "RS256", "kid": attacker_key.kid, "jku": attacker.jwks_url, "x5u": attacker.jwks_url}
        claims = {"iss": issuer.issuer, "aud": issuer.audience, "sub": "mallory", "exp": int(time.time()) + 60}
        token = attacker.keyring.sign_raw(header, claims)
        error = await refused(provider, token)
        assert error.code == "UNKNOWN_KEY"
        assert attacker.jwks_requests == 0


async def test_cache_hits_and_eviction_through_the_provider(make_provider, issuer: LocalIssuer) -> None:
    provider = await make_provider(cache_max_entries=3)
    tokens = [issuer.mint(subject=f"u{i}") for i in range(5)]
    for token in tokens:
        await provider.validate(token)
    same = await provider.validate(tokens[-1])
    assert same is await provider.validate(tokens[-1])
    stats = provider.cache_stats()
    assert stats["size"] == 3 and stats["evictions"] == 2 and stats["hits"] == 2


async def test_control_api_over_https(issuer: LocalIssuer) -> None:
    import ssl

    import httpx

    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=issuer.ca_file)) as client:
        assert (await client.post(f"{issuer.base_url}/_control/mode", json={"mode": "fail", "status": 502})).status_code == 200
        assert (await client.get(issuer.jwks_url)).status_code == 502
        await client.post(f"{issuer.base_url}/_control/mode", json={"mode": "ok"})
        kid = (await client.post(f"{issuer.base_url}/_control/rotate", json={"alg": "EdDSA"})).json()["kid"]
        jwks = (await client.get(issuer.jwks_url)).json()
        assert kid in {k["kid"] for k in jwks["keys"]}
        token = (await client.post(f"{issuer.base_url}/_control/mint", json={"alg": "EdDSA"})).json()["token"]
        config = (await client.get(f"{issuer.base_url}/.well-known/openid-configuration")).json()
        assert config["jwks_uri"] == issuer.jwks_url
        stats = (await client.get(f"{issuer.base_url}/_control/stats")).json()
        assert stats["jwks_requests"] >= 2
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, algorithms=("EdDSA",), ca_file=issuer.ca_file)
    await provider.start()
    try:
        assert await provider.validate(token)
    finally:
        await provider.close()


async def test_untrusted_certificate_is_refused(issuer: LocalIssuer) -> None:
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url)  # no ca_file
    await provider.start()
    try:
        assert not provider.fetcher.has_keys
        assert "SSL" in provider.fetcher.last_error or "CERTIFICATE" in provider.fetcher.last_error.upper()
        assert (await refused(provider, issuer.mint())).code == "JWKS_UNAVAILABLE"
    finally:
        await provider.close()
