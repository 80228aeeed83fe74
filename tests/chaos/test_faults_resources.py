"""Resource and concurrency faults against the real stack: side traffic, slow clients,
a killed app, many writers on one row, hogs inside the app's process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chaos.faults.base import FaultContext
from chaos.faults.resources import (
    ConcurrentRequests,
    ConcurrentRequestsParams,
    CpuHog,
    CpuHogParams,
    KillApp,
    KillAppParams,
    MemoryPressure,
    MemoryPressureParams,
    RequestBurst,
    RequestBurstParams,
    RowContention,
    RowContentionParams,
    SlowClients,
    SlowClientsParams,
)
from chaos.faults.traffic import SideTraffic, TrafficStats, graphql_body

from .conftest import hold

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(180)]



async def _answers(url: str) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.post(f"{url}/graphql", json={"query": "{ postCount }"})).status_code


async def test_side_traffic_is_bounded_and_counts_what_came_back(chaos_stack) -> None:
    traffic = SideTraffic(chaos_stack.app_url, lambda n: ({}, graphql_body("{ postCount }")),
                          concurrency=5, max_requests=30)
    traffic.start()
    stats = await traffic.finished()
    assert stats.sent == 30 and stats.answered == 30 and stats.by_status == {"200": 30}


def test_side_traffic_refuses_a_target_that_is_not_loopback() -> None:
    with pytest.raises(Exception, match="not a loopback address"):
        SideTraffic("http://192.0.2.1:80", lambda n: ({}, {}))


def test_a_5xx_without_a_graphql_error_is_counted_as_bare() -> None:
    stats = TrafficStats()
    stats.record(503, {"errors": [{"message": "x", "extensions": {"code": "OVERLOADED"}}]}, 1.0, None)
    stats.record(502, None, 1.0, None)
    assert stats.bare_5xx == 1 and stats.by_code == {"OVERLOADED": 1}


async def test_a_request_burst_sends_at_its_rate(fault_ctx: FaultContext) -> None:
    evidence = await hold(RequestBurst(RequestBurstParams(rate_per_s=100, concurrency=20)), fault_ctx, 2.0)
    sent = evidence.details["traffic"]["sent"]
    assert evidence.fired and 100 <= sent <= 260


async def test_concurrent_requests_come_in_waves(fault_ctx: FaultContext) -> None:
    evidence = await hold(ConcurrentRequests(ConcurrentRequestsParams(requests=200)), fault_ctx, 1.0)
    traffic = evidence.details["traffic"]
    assert evidence.fired and traffic["sent"] % 200 == 0 and traffic["sent"] >= 200
    assert {c.name: c.passed for c in evidence.checks} == {"no bare 5xx": True}


async def test_slow_clients_hold_connections_while_others_are_served(fault_ctx: FaultContext) -> None:
    fault = SlowClients(SlowClientsParams(clients=20, byte_interval_ms=100))
    await fault.apply(fault_ctx)
    try:
        await asyncio.sleep(1.0)
        assert await _answers(fault_ctx.stack.app_url) == 200
        evidence = await fault.evidence(fault_ctx)
    finally:
        await fault.revert(fault_ctx)
    assert evidence.fired and evidence.details["connections"] >= 20


async def test_many_writers_on_one_row_leave_it_as_an_acknowledged_write(fault_ctx: FaultContext) -> None:
    fault = RowContention(RowContentionParams(writers=20))
    evidence = await hold(fault, fault_ctx, 2.0)
    checks = {c.name: c for c in await fault.settle(fault_ctx)}
    assert evidence.fired and evidence.details["traffic"]["labels"]["acknowledged"] > 20
    assert checks["row holds an acknowledged write"].passed, checks["row holds an acknowledged write"].message
    assert checks["every write answered"].passed


async def test_a_killed_app_is_started_again_on_its_address(fault_ctx: FaultContext) -> None:
    app = fault_ctx.stack.app
    url, pid = app.url, app.worker_pids()[0]
    fault = KillApp(KillAppParams(restart_after_s=0.5))
    await fault.apply(fault_ctx)
    try:
        await asyncio.sleep(0.1)
        assert app.exited()
        await asyncio.sleep(3.0)
        evidence = await fault.evidence(fault_ctx)
    finally:
        await fault.revert(fault_ctx)
    assert evidence.details["killed_pid"] == pid and evidence.details["replaced"]
    assert {c.name: c.passed for c in await fault.settle(fault_ctx)} == {"worker replaced": True}
    assert app.url == url and await _answers(url) == 200


async def test_a_cpu_hog_burns_cpu_in_the_app_until_reverted(fault_ctx: FaultContext) -> None:
    evidence = await hold(CpuHog(CpuHogParams(threads=1)), fault_ctx, 1.5)
    assert evidence.fired and evidence.details["resource"]["cpu_s"] > 0.2


async def test_memory_pressure_holds_memory_and_gives_it_back(fault_ctx: FaultContext) -> None:
    fault = MemoryPressure(MemoryPressureParams(mb=200))
    evidence = await hold(fault, fault_ctx, 0.5)
    assert evidence.fired and evidence.details["resource"]["bytes"] >= 200 * 2**20
    assert evidence.details["process_now"]["rss_bytes"] > evidence.details["process_before"]["rss_bytes"]
    assert all(c.passed for c in await fault.settle(fault_ctx))
