"""A storm of tokens with random kids over several cooldown windows, against the real
HTTPS issuer: the JWKS endpoint sees at most one fetch per window, plus the first."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
import uuid

from chaos.stack.issuer import LocalIssuer
from fraiseql.auth import AuthError
from fraiseql.auth.environment import provider_from_environment

COOLDOWN_S = 0.4
WINDOWS = 4  # the storm lasts at least this many cooldowns
BURST = 60  # tokens sent at once, again and again


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def random_kid_token(issuer: LocalIssuer) -> str:
    """A well-formed RS256 token naming a kid no key set has (its signature is junk:
    the kid is looked up first, and an unknown kid is all this storm is about)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": f"storm-{uuid.uuid4().hex}"}
    claims = {"iss": issuer.issuer, "aud": issuer.audience, "sub": "mallory", "exp": int(time.time()) + 300}
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(b"\x00" * 256)])


async def test_random_kid_storm_fetches_at_most_once_per_cooldown_window(issuer: LocalIssuer) -> None:
    provider = provider_from_environment({
        "FRAISEQL_AUTH_ISSUER": issuer.issuer,
        "FRAISEQL_AUTH_AUDIENCE": issuer.audience,
        "FRAISEQL_AUTH_JWKS_URL": issuer.jwks_url,
        "FRAISEQL_AUTH_CA_FILE": issuer.ca_file,
        "FRAISEQL_AUTH_KID_COOLDOWN_S": str(COOLDOWN_S),
    })
    assert provider is not None
    genuine = issuer.mint(alg="RS256")  # the issuer publishes a key on first use
    before = issuer.jwks_requests
    await provider.start()  # the initial fetch
    assert issuer.jwks_requests - before == 1
    sent = 0
    try:
        storm_started = time.monotonic()
        while time.monotonic() - storm_started < WINDOWS * COOLDOWN_S:
            burst = [random_kid_token(issuer) for _ in range(BURST)]
            results = await asyncio.gather(*(provider.validate(t) for t in burst), return_exceptions=True)
            assert all(isinstance(r, AuthError) and r.code == "UNKNOWN_KEY" for r in results), results[:3]
            sent += len(burst)
            await asyncio.sleep(0.02)  # ~3,000 unknown kids a second is storm enough
        storm_s = time.monotonic() - storm_started
        assert (await provider.validate(genuine)).user_id == "user-1"  # real tokens still pass
    finally:
        await provider.close()
    storm_fetches = issuer.jwks_requests - before - 1
    # Refetches start at least COOLDOWN_S apart, so a storm of storm_s seconds allows
    # floor(storm_s / COOLDOWN_S) + 1 of them, however slowly this machine ran it.
    allowed = math.floor(storm_s / COOLDOWN_S) + 1
    assert 2 <= storm_fetches <= allowed, (storm_fetches, allowed, sent)
    assert sent >= WINDOWS * BURST  # it was a storm: hundreds of unknown kids, a handful of fetches
    assert provider.fetcher is not None and provider.fetcher.failures == 0
