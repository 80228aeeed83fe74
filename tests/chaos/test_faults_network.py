"""Network faults against the real stack: real Toxiproxy, real PostgreSQL, the app's process."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest

from chaos.faults import FaultContext, clean_leftovers
from chaos.faults.network import Latency, LatencyParams, ProxyDown, ProxyDownParams, ResetPeer, ResetPeerParams
from chaos.stack.base import wait_until

pytestmark = pytest.mark.chaos

_offsets = itertools.count(0)


async def read_post(app_url: str) -> tuple[float, dict]:
    """One uncached read through the app (a new offset each time): seconds taken, body."""
    query = "query($o: Int) { posts(limit: 1, offset: $o) { id title } }"
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{app_url}/graphql", json={"query": query, "variables": {"o": next(_offsets) % 50}})
    return time.perf_counter() - started, response.json()


def codes(body: dict) -> set[str]:
    return {error.get("extensions", {}).get("code") for error in body.get("errors", [])}


async def test_latency_on_postgres_slows_a_real_query(fault_ctx: FaultContext) -> None:
    stack = fault_ctx.stack
    baseline_s, body = await read_post(stack.app_url)
    assert "errors" not in body
    fault = Latency(LatencyParams(target="postgres", latency_ms=300, direction="downstream"))
    await fault.apply(fault_ctx)
    try:
        slowed_s, body = await read_post(stack.app_url)
    finally:
        await fault.revert(fault_ctx)
    assert "errors" not in body
    assert slowed_s > 0.3 and slowed_s > baseline_s
    evidence = await fault.evidence(fault_ctx)
    assert evidence.fired, evidence.details
    assert evidence.details["present_while_applied"] and evidence.details["removed_on_revert"]
    assert evidence.details["bytes_upstream"] > 0
    assert (await stack.toxiproxy.proxy("postgres")).toxics == ()


async def test_reset_peer_fails_requests_with_database_unavailable_then_recovers(fault_ctx: FaultContext) -> None:
    stack = fault_ctx.stack
    fault = ResetPeer(ResetPeerParams(target="postgres", direction="both"))
    await fault.apply(fault_ctx)
    try:
        _, body = await read_post(stack.app_url)
    finally:
        await fault.revert(fault_ctx)
    assert "DATABASE_UNAVAILABLE" in codes(body), body
    assert (await fault.evidence(fault_ctx)).fired

    async def answers() -> bool:
        return "errors" not in (await read_post(stack.app_url))[1]

    await wait_until(answers, 20, "the app to recover after reset_peer was removed")


async def test_proxy_down_then_up(fault_ctx: FaultContext) -> None:
    stack = fault_ctx.stack
    fault = ProxyDown(ProxyDownParams(target="postgres"))
    await fault.apply(fault_ctx)
    try:
        assert not (await stack.toxiproxy.proxy("postgres")).enabled
        _, body = await read_post(stack.app_url)
    finally:
        await fault.revert(fault_ctx)
    assert "DATABASE_UNAVAILABLE" in codes(body), body
    evidence = await fault.evidence(fault_ctx)
    assert evidence.fired, evidence.details
    assert evidence.details["enabled_on_revert"]
    assert (await stack.toxiproxy.proxy("postgres")).enabled

    async def answers() -> bool:
        return "errors" not in (await read_post(stack.app_url))[1]

    await wait_until(answers, 20, "the app to recover after the proxy came back")


async def test_evidence_is_false_when_the_fault_was_never_applied(fault_ctx: FaultContext) -> None:
    evidence = await Latency(LatencyParams(latency_ms=100)).evidence(fault_ctx)
    assert not evidence.fired
    assert evidence.details["present_while_applied"] is False


async def test_revert_is_idempotent_and_safe_without_apply(fault_ctx: FaultContext) -> None:
    fault = Latency(LatencyParams(target="cache", latency_ms=50, direction="both"))
    await fault.revert(fault_ctx)
    await fault.apply(fault_ctx)
    await fault.revert(fault_ctx)
    await fault.revert(fault_ctx)
    assert (await fault_ctx.stack.toxiproxy.proxy("cache")).toxics == ()


async def test_jwks_toxic_carries_the_probe_over_tls(fault_ctx: FaultContext) -> None:
    fault = Latency(LatencyParams(target="jwks", latency_ms=20))
    await fault.apply(fault_ctx)
    await wait_until(lambda: fault._seen.probe_ms, 10, "one JWKS probe through the proxy")
    await fault.revert(fault_ctx)
    evidence = await fault.evidence(fault_ctx)
    assert evidence.fired, evidence.details
    assert evidence.details["probe_failures"] == 0


async def test_clean_leftovers_removes_toxics_and_enables_proxies(fault_ctx: FaultContext) -> None:
    client = fault_ctx.stack.toxiproxy
    await client.add_toxic("cache", "latency", attributes={"latency": 10}, name="left-by-a-killed-run")
    await client.set_enabled("jwks", False)
    cleaned = await clean_leftovers(fault_ctx)
    assert "network: removed toxic left-by-a-killed-run from proxy cache" in cleaned
    assert "network: re-enabled proxy jwks" in cleaned
    proxies = await client.proxies()
    assert all(p.enabled and not p.toxics for p in proxies.values())
