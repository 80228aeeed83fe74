"""The database under real faults: terminated backends, a restarted and a stopped server,
a black-holed network. Pool health, read retries, the circuit breaker, the client deadline."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Iterator

import psycopg
import pytest

from fraiseql.db.breaker import BreakerState, CircuitBreaker
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database
from fraiseql.db.read_retry import ReadRetry
from fraiseql.errors import CircuitOpenError, DatabaseTimeout, DatabaseUnavailable

from .conftest import PgProxy

pytestmark = pytest.mark.integration

_names = itertools.count(1)


def unique_name() -> str:
    return f"res{os.getpid()}x{next(_names)}"


def terminate_backends(admin_url: str, name: str) -> int:
    """pg_terminate_backend every session of the Database called ``name``; wait until gone."""
    application = f"fraiseql-{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [application],
        ).fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + 10
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application]
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "terminated backends did not exit"
            time.sleep(0.02)
    return int(killed)


async def eventually_ok(db: Database, timeout_s: float = 30.0) -> int:
    """Read until a read succeeds; how many failed first (bounded by ``timeout_s``)."""
    failures = 0
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            assert await db.fetch_value("SELECT 1") == 1
            return failures
        except (DatabaseUnavailable, DatabaseTimeout):
            failures += 1
            assert time.monotonic() < deadline, "the database never came back"
            await asyncio.sleep(0.05)


# -- terminated backends --------------------------------------------------------------


async def test_terminated_connections_are_replaced_before_use(pg_url: str) -> None:
    name = unique_name()
    async with Database(pg_url, min_size=3, max_size=3, name=name) as db:
        await db.pool.wait()
        assert await db.fetch_value("SELECT 1") == 1
        assert terminate_backends(pg_url, name) == 3
        # No retries here: every read succeeds because the pool's check saw the dead ones.
        for _ in range(6):
            assert await db.fetch_value("SELECT 1") == 1


async def test_without_the_check_a_terminated_connection_fails_the_next_read(pg_url: str) -> None:
    name = unique_name()
    async with Database(pg_url, min_size=1, max_size=1, name=name, check=False) as db:
        await db.pool.wait()
        assert terminate_backends(pg_url, name) == 1
        with pytest.raises(DatabaseUnavailable) as caught:
            await db.fetch_value("SELECT 1")
        assert caught.value.extensions.get("sqlstate") in (None, "57P01")


async def test_a_read_is_retried_on_a_new_connection_and_counted(pg_url: str) -> None:
    name = unique_name()
    retry = ReadRetry(attempts=2, budget_s=10.0)
    async with Database(pg_url, min_size=1, max_size=1, name=name, check=False, read_retry=retry) as db:
        await db.pool.wait()
        assert terminate_backends(pg_url, name) == 1
        assert await db.fetch_value("SELECT 1", retry=True) == 1
        assert retry.retries == 1 and retry.gave_up == 0


async def test_a_read_not_marked_retryable_is_not_retried(pg_url: str) -> None:
    name = unique_name()
    retry = ReadRetry(attempts=2, budget_s=10.0)
    async with Database(pg_url, min_size=1, max_size=1, name=name, check=False, read_retry=retry) as db:
        await db.pool.wait()
        terminate_backends(pg_url, name)
        with pytest.raises(DatabaseUnavailable):
            await db.fetch_value("SELECT 1")  # retry=False: a write could hide behind it
        assert retry.retries == 0


async def test_a_statement_timeout_is_not_retried(pg_url: str) -> None:
    retry = ReadRetry(attempts=2, budget_s=10.0)
    async with Database(pg_url, statement_timeout_ms=50, read_retry=retry, name=unique_name()) as db:
        with pytest.raises(DatabaseTimeout):
            await db.fetch_value("SELECT pg_sleep(1)", retry=True)
    assert retry.retries == 0


# -- a throwaway server: restarted, stopped ------------------------------------------


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[LocalPostgres]:
    """A cluster of this module's own, to restart and stop without disturbing the others."""
    with LocalPostgres(dbname="resilience") as cluster:
        yield cluster


async def test_the_pool_recovers_by_itself_after_pg_ctl_restart(own_cluster: LocalPostgres) -> None:
    async with Database(own_cluster.url, min_size=2, max_size=4, pool_timeout_s=10, name=unique_name()) as db:
        await db.pool.wait()
        assert await db.fetch_value("SELECT 1") == 1
        pid_before = await db.fetch_value("SELECT pg_backend_pid()")
        await asyncio.to_thread(own_cluster.restart)
        # The restart closed every pooled connection; the first read after it succeeds
        # (dead connections are replaced before use), on a new backend.
        assert await db.fetch_value("SELECT 1") == 1
        assert await db.fetch_value("SELECT pg_backend_pid()") != pid_before
        assert db.stats().get("connections_errors", 0) == 0


async def test_the_breaker_fails_fast_while_the_server_is_down_and_closes_after(
    own_cluster: LocalPostgres,
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_s=0.2)
    db = Database(own_cluster.url, min_size=1, max_size=2, pool_timeout_s=0.3, breaker=breaker, name=unique_name())
    await db.open()
    try:
        await db.pool.wait()
        await asyncio.to_thread(own_cluster.pg_ctl_stop)
        try:
            for _ in range(2):
                with pytest.raises(DatabaseUnavailable) as caught:
                    await db.fetch_value("SELECT 1")
                assert not isinstance(caught.value, CircuitOpenError)
            assert breaker.state is BreakerState.OPEN
            with pytest.raises(CircuitOpenError) as caught:
                await db.fetch_value("SELECT 1")
            assert caught.value.code == "DATABASE_UNAVAILABLE"
            assert caught.value.to_graphql()["extensions"]["circuit"] == "open"
            assert breaker.rejected >= 1
        finally:
            await asyncio.to_thread(own_cluster.pg_ctl_start)
        await eventually_ok(db)
        assert breaker.state is BreakerState.CLOSED
        assert breaker.opened >= 1 and breaker.closed == 1 and breaker.half_opened >= 1
    finally:
        await db.close()


# -- a black-holed network: the client-side deadline ----------------------------------


async def test_a_swallowed_answer_ends_at_the_client_deadline_and_counts_for_the_breaker(
    pg_proxy: PgProxy, pg_url: str
) -> None:
    url, client, proxy = pg_proxy.through(pg_url), pg_proxy.client, pg_proxy.name
    breaker = CircuitBreaker(failure_threshold=5, reset_s=1)
    async with Database(
        url, min_size=1, max_size=2, statement_timeout_ms=200, statement_grace_ms=200,
        breaker=breaker, name=unique_name(),
    ) as db:
        assert await db.fetch_value("SELECT 1") == 1
        toxic = await client.add_toxic(proxy, "timeout", stream="downstream", attributes={"timeout": 0})
        with pytest.raises(DatabaseTimeout) as caught:
            await db.fetch_value("SELECT 1")
        # The server never timed out (the statement was instant): our own deadline did.
        assert caught.value.extensions == {"clientDeadline": True}
        assert breaker.consecutive_failures == 1
        await client.remove_toxic(proxy, toxic)
        await eventually_ok(db)
