"""fault_point faults through the chaos agent of a real app process."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pydantic
import pytest

from chaos.errors import AgentError
from chaos.faults.base import FaultContext
from chaos.faults.inprocess import FaultPoint, FaultPointParams, clean_leftovers
from chaos.stack.app import AppProcess
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres
from fraiseql.http.chaos_agent import TOKEN_ENV

pytestmark = [pytest.mark.chaos, pytest.mark.integration]


@pytest.fixture(scope="module")
def app(pg_cluster: LocalPostgres) -> Iterator[AppProcess]:
    url = pg_cluster.create_database(f"inprocess_{os.getpid()}")
    asyncio.run(init_database(url, rows=10, progress=None))
    # Read retries off: an injected 40001 on a read must reach the client here, not be
    # absorbed by a retry (tests/integration/test_db_resilience.py covers the retry).
    process = AppProcess({
        "DATABASE_URL": url, TOKEN_ENV: secrets.token_urlsafe(16), "FRAISEQL_READ_RETRY_ATTEMPTS": "0",
    })
    asyncio.run(process.start())
    try:
        yield process
    finally:
        asyncio.run(process.stop())


@pytest.fixture
def ctx(app: AppProcess) -> FaultContext:
    stack = SimpleNamespace(app_url=app.url, agent_token=app.agent_token, app=app)
    return FaultContext(stack=stack, rng=random.Random(3))  # type: ignore[arg-type]


async def _post_count(app: AppProcess) -> dict:
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        # A fresh operation name is a fresh document, so the result cache cannot answer.
        name = f"Q{secrets.token_hex(4)}"
        return (await client.post("/graphql", json={"query": f"query {name} {{ postCount }}"})).json()


async def test_an_error_hook_fires_in_the_app_and_is_removed_on_revert(ctx, app) -> None:
    fault = FaultPoint(FaultPointParams(point="db.execute", error="serialization_failure", times=1))
    await fault.apply(ctx)
    try:
        body = await _post_count(app)
    finally:
        await fault.revert(ctx)
    assert body["errors"][0]["extensions"]["code"] == "SERIALIZATION_FAILURE"
    evidence = await fault.evidence(ctx)
    assert evidence.fired
    assert evidence.details["acted"] == 1 and evidence.details["point_fired"] >= 1
    assert "errors" not in await _post_count(app)  # reverted: the next read succeeds
    await fault.revert(ctx)  # idempotent


async def test_a_hook_that_never_ran_is_not_evidence(ctx) -> None:
    fault = FaultPoint(FaultPointParams(point="jwks.fetch", action="latency", latency_ms=10))
    await fault.apply(ctx)
    await fault.revert(ctx)
    evidence = await fault.evidence(ctx)
    assert not evidence.fired and evidence.details["calls"] == 0


async def test_clean_leftovers_removes_hooks_a_killed_run_left(ctx, app) -> None:
    await FaultPoint(FaultPointParams(point="cache.get", action="corrupt", value="{")).apply(ctx)
    assert await clean_leftovers(ctx) == ["removed 1 fault hook(s) from the app"]
    assert await clean_leftovers(ctx) == []


async def test_without_an_agent_the_fault_says_so() -> None:
    ctx = FaultContext(stack=SimpleNamespace(app_url="http://127.0.0.1:9", agent_token=None, app=None))  # type: ignore[arg-type]
    with pytest.raises(AgentError, match="without a chaos agent"):
        await FaultPoint(FaultPointParams(point="db.execute", error="deadlock")).apply(ctx)
    assert await clean_leftovers(ctx) == []


def test_params_name_the_known_points_and_errors() -> None:
    with pytest.raises(pydantic.ValidationError, match="db.execute"):
        FaultPointParams(point="db.nowhere", error="deadlock")
    with pytest.raises(pydantic.ValidationError, match="serialization_failure"):
        FaultPointParams(point="db.execute")
