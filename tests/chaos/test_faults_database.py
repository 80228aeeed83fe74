"""Database faults against a real PostgreSQL: each one fires, proves it, and is reverted."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest

from chaos.faults.base import CLEANERS, FaultContext
from chaos.faults.database import (
    ExhaustConnections,
    clean_leftovers,
    LockTable,
    RestartPostgres,
    Sqlstate,
    TerminateBackends,
    sqlstate_draw,
)
from examples.blog import app as blog
from examples.blog.database import init_database
from fraiseql.config import FraiseQLConfig
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database
from fraiseql.errors import DatabaseUnavailable
from fraiseql.http import create_app
from tests.integration.conftest import serve_in_thread

pytestmark = [pytest.mark.chaos, pytest.mark.integration]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalPostgres]:
    """A cluster of our own: these faults restart it and fill its connection slots."""
    with LocalPostgres(dbname="chaos_db", settings={"max_connections": "30"}) as pg:
        asyncio.run(init_database(pg.url, rows=20, progress=None))
        yield pg


@pytest.fixture
def ctx(cluster: LocalPostgres) -> FaultContext:
    stack = SimpleNamespace(admin_db_url=cluster.url, postgres=SimpleNamespace(cluster=cluster))
    return FaultContext(stack=stack, rng=random.Random(7))  # type: ignore[arg-type]


async def _scalar(url: str, query: str, params: Any = None, app_name: str = "test") -> Any:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, application_name=app_name) as conn:
        row = await (await conn.execute(query, params)).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


async def _chaos_sessions(url: str) -> int:
    return await _scalar(
        url, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fraiseql-chaos%'"
    )


async def _no_chaos_sessions(url: str) -> bool:
    return await _chaos_sessions(url) == 0


async def _until(predicate, what: str, attempts: int = 100) -> None:
    for _ in range(attempts):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_lock_table_holds_a_lock_that_app_writes_wait_behind(ctx, cluster) -> None:
    fault = LockTable(LockTable.Params(type="lock_table", table="tb_post", mode="EXCLUSIVE"))
    await fault.apply(ctx)
    try:
        async with Database(cluster.url, name="main") as db:
            write = asyncio.ensure_future(db.fetch_value("UPDATE tb_post SET title = title WHERE false"))
            await _until(lambda: _evidence_over(fault, ctx, "max_waiting", 1), "a waiting session")
            assert not write.done()
            await fault.revert(ctx)
            await write  # released by the revert
    finally:
        await fault.revert(ctx)
    evidence = await fault.evidence(ctx)
    assert evidence.fired and evidence.details["granted"] and evidence.details["max_waiting"] >= 1
    await _until(lambda: _no_chaos_sessions(cluster.url), "chaos sessions to end", attempts=400)
    await fault.revert(ctx)  # idempotent


async def _evidence_over(fault, ctx, key: str, at_least: int) -> bool:
    return (await fault.evidence(ctx)).details[key] >= at_least


async def test_terminate_backends_ends_the_apps_sessions_not_the_harness(ctx, cluster) -> None:
    harness = await psycopg.AsyncConnection.connect(cluster.url, application_name="fraiseql-chaos-bystander")
    try:
        async with Database(cluster.url, name="main", min_size=2) as db:
            await _until(lambda: _app_sessions(cluster.url, 2), "the app's pool to open")
            fault = TerminateBackends(TerminateBackends.Params(type="terminate_backends"))
            await fault.apply(ctx)
            await fault.revert(ctx)
            evidence = await fault.evidence(ctx)
            assert evidence.fired and evidence.details["terminated"] >= 2
            assert await (await harness.execute("SELECT 1")).fetchone() == (1,)  # still alive
            await _until(lambda: _answers(db), "the app's pool to recover")
    finally:
        await harness.close()


async def _answers(db: Database) -> bool:
    try:
        return await db.fetch_value("SELECT 1") == 1
    except DatabaseUnavailable:  # a pooled connection the fault ended, discarded on use
        return False


async def _app_sessions(url: str, at_least: int) -> bool:
    count = await _scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraiseql-main'")
    return count >= at_least


async def test_terminate_backends_repeats_until_reverted(ctx, cluster) -> None:
    fault = TerminateBackends(TerminateBackends.Params(type="terminate_backends", every_s=0.05))
    await fault.apply(ctx)
    try:
        await _until(lambda: _evidence_over(fault, ctx, "rounds", 3), "three rounds")
    finally:
        await fault.revert(ctx)
    rounds = (await fault.evidence(ctx)).details["rounds"]
    await asyncio.sleep(0.2)
    assert (await fault.evidence(ctx)).details["rounds"] == rounds


async def test_exhaust_connections_fills_the_server_until_reverted(ctx, cluster) -> None:
    fault = ExhaustConnections(ExhaustConnections.Params(type="exhaust_connections"))
    await fault.apply(ctx)
    try:
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            await _scalar(cluster.url, "SELECT 1", app_name="fraiseql-main")
        await _until(lambda: _evidence_over(fault, ctx, "too_many_clients", 1), "the refusal in the log")
    finally:
        await fault.revert(ctx)
    evidence = await fault.evidence(ctx)
    assert evidence.fired and evidence.details["held"] >= 20 and evidence.details["max_connections"] == 30
    assert await _scalar(cluster.url, "SELECT 1") == 1
    await _until(lambda: _no_chaos_sessions(cluster.url), "chaos sessions to end", attempts=400)


async def test_restart_postgres_changes_the_postmaster_start_time(ctx, cluster) -> None:
    fault = RestartPostgres(RestartPostgres.Params(type="restart_postgres"))
    await fault.apply(ctx)
    await fault.revert(ctx)
    evidence = await fault.evidence(ctx)
    assert evidence.fired
    assert evidence.details["started_before"] != evidence.details["started_after"]
    assert await _scalar(cluster.url, "SELECT 1") == 1


INSERT = "INSERT INTO tb_post (author_id, title, body) SELECT id, %s, 'b' FROM tb_user LIMIT 1 RETURNING id"


async def test_sqlstate_trigger_raises_for_the_app_counts_and_is_dropped(ctx, cluster) -> None:
    fault = Sqlstate(Sqlstate.Params(type="sqlstate", sqlstate="40P01", rate=1.0, seed=1))
    await fault.apply(ctx)
    try:
        with pytest.raises(psycopg.errors.DeadlockDetected):
            await _scalar(cluster.url, INSERT, ["blocked"], app_name="fraiseql-main")
        await _scalar(cluster.url, INSERT, ["harness"], app_name="fraiseql-chaos-check")  # exempt
        live = await fault.evidence(ctx)
        assert live.fired and (live.details["calls"], live.details["raised"]) == (1, 1)
    finally:
        await fault.revert(ctx)
    await _scalar(cluster.url, INSERT, ["after"], app_name="fraiseql-main")
    assert (await fault.evidence(ctx)).details["raised"] == 1
    assert await _scalar(cluster.url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'fraiseql_chaos%'") == 0
    await fault.revert(ctx)  # idempotent


def _seed_failing_first_then_passing(rate: float) -> int:
    """A seed whose first draw fails a write and whose second lets the retry through."""
    return next(s for s in range(1000) if sqlstate_draw(s, 1) < rate <= sqlstate_draw(s, 2))


async def test_a_mutation_under_serialization_failures_is_retried_and_writes_once(ctx, cluster) -> None:
    seed = _seed_failing_first_then_passing(0.5)
    fault = Sqlstate(Sqlstate.Params(type="sqlstate", sqlstate="40001", rate=0.5, seed=seed, on=("INSERT",)))
    app = create_app(schema=blog.schema, database_url=cluster.url, config=FraiseQLConfig(cache_enabled=False))
    author = str(await _scalar(cluster.url, "SELECT id FROM tb_user ORDER BY id LIMIT 1"))
    title = f"retried {uuid.uuid4()}"
    query = "mutation($input: CreatePostInput!) { createPost(input: $input) { __typename } }"
    variables = {"input": {"title": title, "body": "b", "authorId": author, "idempotencyKey": title}}
    await fault.apply(ctx)
    try:
        for running in serve_in_thread(app):
            async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
                body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    finally:
        await fault.revert(ctx)
    assert body == {"data": {"createPost": {"__typename": "CreatePostSuccess"}}}
    assert (await fault.evidence(ctx)).details == {
        "calls": 2, "raised": 1, "sqlstate": "40001", "rate": 0.5, "seed": seed,
    }
    assert await _scalar(cluster.url, "SELECT count(*) FROM tb_post WHERE title = %s", [title]) == 1


async def test_clean_leftovers_ends_sessions_and_drops_triggers_of_a_killed_run(ctx, cluster) -> None:
    left = Sqlstate(Sqlstate.Params(type="sqlstate", rate=1.0, seed=1))
    await left.apply(ctx)  # never reverted, as after SIGKILL
    holder = LockTable(LockTable.Params(type="lock_table"))
    await holder.apply(ctx)
    # Its sampler opens a second session in a task of its own; cleaning before that session
    # exists would let it appear afterwards (a killed run has both sessions by then).
    await _until(lambda: _evidence_over(holder, ctx, "samples", 1), "the lock's sampler session")
    cleaned = await clean_leftovers(ctx)
    assert "terminated 2 fraiseql-chaos session(s)" in cleaned
    assert any("dropped trigger" in line for line in cleaned)
    await _scalar(cluster.url, INSERT, ["after clean"], app_name="fraiseql-main")
    # A terminated backend leaves pg_stat_activity a moment after the signal.
    await _until(lambda: _no_chaos_sessions(cluster.url), "chaos sessions to end", attempts=400)
    await holder.revert(ctx)  # safe on a session the cleaner already ended
    assert await clean_leftovers(ctx) == []
    assert CLEANERS["database"] is clean_leftovers
