"""Auth faults against the real stack: the HTTPS issuer failing, keys rotating, floods of
bad tokens. Each test checks the fault's evidence against what really happened."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpx
import pytest

from chaos.faults.auth import (
    JwksOutage,
    JwksOutageParams,
    KeyRotation,
    KeyRotationParams,
    TokenFlood,
    TokenFloodParams,
    clean_leftovers,
)
from chaos.faults.base import FaultContext
from chaos.stack.stack import Stack, StackOptions

from .conftest import hold

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]
KID_COOLDOWN_S = 1.0


@pytest.fixture(scope="module")
def chaos_stack() -> Iterator[Stack]:
    """This module's stack refetches keys for an unknown kid at most once a second, so a
    rotation right after a storm of unknown kids is picked up within the tests' patience."""
    stack = Stack(StackOptions(rows=20, app_env={"FRAISEQL_AUTH_KID_COOLDOWN_S": f"{KID_COOLDOWN_S:g}"}))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(stack.start())
        yield stack
    finally:
        loop.run_until_complete(stack.stop())
        loop.close()



def _checks(evidence) -> dict[str, bool]:
    return {check.name: check.passed for check in evidence.checks}


@pytest.mark.parametrize("kind", ["forged", "expired", "random_kid", "wrong_issuer", "wrong_audience"])
async def test_a_flood_of_bad_tokens_is_refused_and_proves_it(fault_ctx: FaultContext, kind: str) -> None:
    fault = TokenFlood(TokenFloodParams(kind=kind, rate_per_s=40, concurrency=8))
    evidence = await hold(fault, fault_ctx, 2.0)
    traffic = evidence.details["traffic"]
    assert evidence.fired and traffic["answered"] > 20
    assert traffic["by_status"] == {"401": traffic["answered"]}
    assert _checks(evidence) == {"no bad token accepted": True, "refused with the right code": True}


async def test_a_skewed_clock_beyond_the_leeway_is_refused_and_within_it_accepted(
        fault_ctx: FaultContext) -> None:
    ahead = await hold(TokenFlood(TokenFloodParams(kind="skewed", skew_s=600, rate_per_s=20)),
                        fault_ctx, 1.0)
    assert set(ahead.details["traffic"]["by_code"]) == {"TOKEN_NOT_YET_VALID"}
    assert all(_checks(ahead).values())
    near = await hold(TokenFlood(TokenFloodParams(kind="skewed", skew_s=5, rate_per_s=20,
                                                   expect="accepted")), fault_ctx, 1.0)
    assert _checks(near) == {"tokens accepted": True}


async def test_the_check_fails_when_a_bad_token_gets_in(fault_ctx: FaultContext) -> None:
    """The flood's check is real: tokens that are in fact good are reported as let in."""
    fault = TokenFlood(TokenFloodParams(kind="skewed", skew_s=0, rate_per_s=20))  # expects refusal
    evidence = await hold(fault, fault_ctx, 1.0)
    assert _checks(evidence)["no bad token accepted"] is False


async def test_a_random_kid_storm_costs_bounded_jwks_fetches(fault_ctx: FaultContext) -> None:
    issuer = fault_ctx.stack.issuer
    before = issuer.jwks_requests
    fault = TokenFlood(TokenFloodParams(kind="random_kid", rate_per_s=100, concurrency=20,
                                        max_jwks_fetches_per_s=1.5 / KID_COOLDOWN_S))
    evidence = await hold(fault, fault_ctx, 3.0)
    assert evidence.details["traffic"]["answered"] > 100
    assert evidence.details["jwks_requests"] == issuer.jwks_requests - before
    assert _checks(evidence)["JWKS fetches bounded"]


async def test_a_rotated_key_is_picked_up_without_a_restart(fault_ctx: FaultContext) -> None:
    fault = KeyRotation(KeyRotationParams(rate_per_s=20, accept_within_s=2 * KID_COOLDOWN_S + 1))
    evidence = await hold(fault, fault_ctx, 2 * KID_COOLDOWN_S + 3)
    assert evidence.fired and evidence.details["kid"]
    assert evidence.details["jwks_requests"] >= 1  # the unknown kid made the app refetch
    assert _checks(evidence) == {"new-key tokens accepted": True}


@pytest.mark.parametrize("mode", ["status", "malformed"])
async def test_a_jwks_outage_fails_real_fetches_and_is_undone(fault_ctx: FaultContext, mode: str) -> None:
    issuer = fault_ctx.stack.issuer
    fault = JwksOutage(JwksOutageParams(mode=mode, status=500))
    await fault.apply(fault_ctx)
    try:
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=issuer.ca_file)) as client:
            answer = await client.get(issuer.jwks_url)
        evidence = await fault.evidence(fault_ctx)
    finally:
        await fault.revert(fault_ctx)
    if mode == "status":
        assert answer.status_code == 500
    else:
        with pytest.raises(ValueError):
            answer.json()
    assert evidence.fired and evidence.details["jwks_requests_during_outage"] >= 1
    assert issuer.mode == "ok"


async def test_the_cleaner_restores_an_issuer_a_killed_run_left_failing(fault_ctx: FaultContext) -> None:
    fault_ctx.stack.issuer.fail(503)
    assert await clean_leftovers(fault_ctx) == ["issuer set back to normal (was fail, delay 0 s)"]
    assert fault_ctx.stack.issuer.mode == "ok"
    assert await clean_leftovers(fault_ctx) == []
