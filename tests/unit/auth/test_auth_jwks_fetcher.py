"""JWKSFetcher edge cases against respx: failures keep the last good keys, nothing is
followed or read past its limit, fetches are single-flight and rate-limited."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx

from chaos.stack.issuer import Keyring
from fraiseql import faults
from fraiseql._fraiseql_rs import JwtVerifier
from fraiseql.auth.jwks_fetcher import JWKSFetcher, cache_ttl_s, check_jwks_url

URL = "https://issuer.fraiseql.test/.well-known/jwks.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(keyring: Keyring) -> bytes:
    return json.dumps(keyring.jwks()).encode()


@pytest.fixture
async def fetcher(keyring: Keyring, clock: FakeClock):
    verifier = JwtVerifier(keyring.issuer, [keyring.audience], ["RS256"])
    fetcher = JWKSFetcher(
        URL, install=verifier.set_keys, drop=verifier.clear_keys, clock=clock,
        unknown_kid_cooldown_s=30, negative_ttl_s=60, max_stale_s=3600, max_bytes=64 * 1024,
    )
    fetcher.verifier = verifier  # type: ignore[attr-defined]
    yield fetcher
    await fetcher.close()


@pytest.mark.parametrize(
    ("url", "insecure", "ok"),
    [
        ("https://id.example.com/jwks", False, True),
        ("http://id.example.com/jwks", False, False),
        ("http://id.example.com/jwks", True, False),
        ("http://127.0.0.1:8080/jwks", False, False),
        ("http://127.0.0.1:8080/jwks", True, True),
        ("http://[::1]:8080/jwks", True, True),
        ("http://localhost/jwks", True, True),
        ("ftp://id.example.com/jwks", True, False),
        ("https:///jwks", False, False),
    ],
)
def test_only_https_or_explicit_loopback_http(url: str, insecure: bool, ok: bool) -> None:
    if ok:
        check_jwks_url(url, insecure)
    else:
        with pytest.raises(ValueError):
            check_jwks_url(url, insecure)


def test_cache_control_max_age_is_clamped() -> None:
    assert cache_ttl_s("public, max-age=600", 3600, 60) == 600
    assert cache_ttl_s("max-age=5", 3600, 60) == 60
    assert cache_ttl_s("max-age=999999", 3600, 60) == 3600
    assert cache_ttl_s(None, 3600, 60) == 3600
    assert cache_ttl_s("no-store", 3600, 60) == 3600


@respx.mock
async def test_success_installs_keys_and_reads_cache_control(fetcher, jwks, clock) -> None:
    respx.get(URL).respond(200, content=jwks, headers={"cache-control": "max-age=600"})
    assert await fetcher.refresh()
    assert fetcher.kids and set(fetcher.verifier.kids) == fetcher.kids
    assert fetcher.expires_at == clock.now + 600


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(503, json={"error": "down"}),
        httpx.Response(404),
        httpx.Response(200, content=b'{"keys": [ '),
        httpx.Response(200, content=b"<html>login</html>"),
        httpx.Response(200, json={"keys": []}),
        httpx.Response(302, headers={"location": "https://evil.test/jwks.json"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("no route"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "503", "404", "truncated-json", "html", "no-keys", "redirect", "read-timeout", "connect-timeout", "refused"],
)
@respx.mock
async def test_failures_keep_the_last_good_keys(fetcher, jwks, failure) -> None:
    route = respx.get(URL)
    route.respond(200, content=jwks)
    assert await fetcher.refresh()
    good = fetcher.kids
    if isinstance(failure, Exception):
        route.side_effect = failure
    else:
        route.side_effect = None
        route.return_value = failure
    evil = respx.get("https://evil.test/jwks.json").respond(200, content=b'{"keys": []}')
    assert not await fetcher.refresh()
    assert fetcher.kids == good and set(fetcher.verifier.kids) == good
    assert fetcher.failures == 1 and fetcher.last_error
    assert not evil.called


@respx.mock
async def test_huge_bodies_are_refused(fetcher, jwks) -> None:
    route = respx.get(URL)
    route.respond(200, content=b" " * (65 * 1024) + jwks)
    assert not await fetcher.refresh()

    async def endless():
        for _ in range(100):
            yield b" " * 4096

    route.side_effect = lambda request: httpx.Response(200, content=endless())
    assert not await fetcher.refresh()
    assert "over" in fetcher.last_error
    assert fetcher.kids == frozenset()


@respx.mock
async def test_single_flight(fetcher, jwks) -> None:
    async def slow(request):
        await asyncio.sleep(0.05)
        return httpx.Response(200, content=jwks)

    route = respx.get(URL).mock(side_effect=slow)
    results = await asyncio.gather(*(fetcher.refresh() for _ in range(20)))
    assert all(results)
    assert route.call_count == 1 and fetcher.fetches == 1


@respx.mock
async def test_unknown_kid_storm_fetches_once_per_cooldown(fetcher, jwks, clock) -> None:
    route = respx.get(URL).respond(200, content=jwks)
    await fetcher.refresh()
    for i in range(500):
        assert not await fetcher.refresh_for_kid(f"random-{i}")
    assert route.call_count == 2  # the initial fetch plus one for the storm
    clock.now += 31
    for i in range(500, 1000):
        assert not await fetcher.refresh_for_kid(f"random-{i}")
    assert route.call_count == 3


@respx.mock
async def test_missing_kid_is_negatively_cached_past_the_cooldown(fetcher, jwks, clock) -> None:
    route = respx.get(URL).respond(200, content=jwks)
    await fetcher.refresh()
    assert not await fetcher.refresh_for_kid("gone")
    clock.now += 45  # cooldown over, negative entry still valid
    assert not await fetcher.refresh_for_kid("gone")
    assert route.call_count == 2
    clock.now += 30
    assert not await fetcher.refresh_for_kid("gone")
    assert route.call_count == 3


@respx.mock
async def test_new_kid_after_rotation_is_picked_up(fetcher, keyring, clock) -> None:
    route = respx.get(URL).respond(200, content=json.dumps(keyring.jwks()).encode())
    await fetcher.refresh()
    new_kid = keyring.rotate("RS256")
    route.respond(200, content=json.dumps(keyring.jwks()).encode())
    assert await fetcher.refresh_for_kid(new_kid)
    assert new_kid in fetcher.verifier.kids


@respx.mock
async def test_keys_are_dropped_past_max_staleness(fetcher, jwks, clock) -> None:
    route = respx.get(URL).respond(200, content=jwks)
    await fetcher.refresh()
    route.respond(503)
    clock.now += 3000
    assert not await fetcher.refresh()
    assert fetcher.has_keys  # stale but within the limit
    clock.now += 700
    assert not await fetcher.refresh()
    assert not fetcher.has_keys and fetcher.verifier.kids == []


@respx.mock
async def test_fetches_go_through_the_fault_point(fetcher, jwks) -> None:
    route = respx.get(URL).respond(200, content=jwks)
    point = faults.point("jwks.fetch")
    fired = point.fired

    def refuse(payload, context):
        assert context["url"] == URL
        raise httpx.ConnectError("injected")

    handle = faults.install("jwks.fetch", refuse)
    try:
        assert not await fetcher.refresh()
    finally:
        faults.remove(handle)
    assert point.fired == fired + 1 and not route.called
    handle = faults.install("jwks.fetch", lambda payload, context: b'{"keys": ')
    try:
        assert not await fetcher.refresh()
        assert "ValueError" in fetcher.last_error
    finally:
        faults.remove(handle)
    assert await fetcher.refresh()


async def test_background_refresh_runs_and_stops(keyring, jwks) -> None:
    verifier = JwtVerifier(keyring.issuer, [keyring.audience], ["RS256"])
    with respx.mock:
        route = respx.get(URL).respond(200, content=jwks, headers={"cache-control": "max-age=1"})
        fetcher = JWKSFetcher(URL, install=verifier.set_keys, drop=verifier.clear_keys, ttl_s=0.05, min_ttl_s=0.01)
        await fetcher.start()
        for _ in range(200):
            if route.call_count >= 3:
                break
            await asyncio.sleep(0.01)
        await fetcher.close()
        calls = route.call_count
        assert calls >= 3
        await asyncio.sleep(0.1)
        assert route.call_count == calls
