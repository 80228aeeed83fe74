"""The database under real faults: terminated backends, a restarted and a stopped server,
a black-holed network. Pool health, read retries, the circuit breaker, the client deadline."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Iterator

import psycopg
import psycopg_pool
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


@pytest.mark.parametrize("fail_fast", [True, False], ids=["fail-fast", "off"])
async def test_a_stopped_server_fails_reads_without_the_pool_timeout_and_the_breaker_closes_after(
    own_cluster: LocalPostgres, fail_fast: bool
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_s=0.2)
    # With fail_fast, a pool timeout far beyond the test's own bound: only the pool's failed
    # connection attempts can end these reads. Without it, each read waits the pool out.
    db = Database(
        own_cluster.url, min_size=1, max_size=2, pool_timeout_s=60 if fail_fast else 0.5,
        fail_fast=fail_fast, fail_fast_after_s=0, breaker=breaker, name=unique_name(),
    )
    await db.open()
    try:
        await db.pool.wait()
        await asyncio.to_thread(own_cluster.pg_ctl_stop)
        try:
            failures: list[DatabaseUnavailable] = []
            async with asyncio.timeout(30):
                for _ in range(3):
                    with pytest.raises(DatabaseUnavailable) as caught:
                        await db.fetch_value("SELECT 1")
                    failures.append(caught.value)
            timed_out = [isinstance(error.__cause__, psycopg_pool.PoolTimeout) for error in failures]
            # The breaker heard the refused attempts either way; fail_fast acted on them.
            assert db.connect_watch.failed >= 1 and breaker.opened >= 1
            if fail_fast:
                assert not any(timed_out) and db.waits.ended >= 1
                assert isinstance(failures[-1], CircuitOpenError)
                assert failures[-1].to_graphql()["extensions"]["circuit"] == "open"
            else:
                assert db.waits.ended == 0 and any(timed_out)
        finally:
            await asyncio.to_thread(own_cluster.pg_ctl_start)
        await eventually_ok(db)
        assert breaker.state is BreakerState.CLOSED
        assert breaker.closed >= 1 and breaker.half_opened >= 1
    finally:
        await db.close()


async def test_a_busy_pool_still_waits_the_pool_timeout_and_opens_no_circuit(pg_url: str) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_s=30)
    async with Database(pg_url, min_size=1, max_size=1, pool_timeout_s=0.3, breaker=breaker, name=unique_name()) as db:
        async with db.connection() as held:  # the pool's only connection, busy
            await held.execute("SELECT 1")
            results = await asyncio.gather(
                *(db.fetch_value("SELECT 1") for _ in range(4)), return_exceptions=True
            )
        assert all(isinstance(result, DatabaseUnavailable) for result in results), results
        # Each one waited until the pool gave up: a busy pool is not an outage.
        assert all(isinstance(result.__cause__, psycopg_pool.PoolTimeout) for result in results)  # type: ignore[union-attr]
        assert breaker.state is BreakerState.CLOSED and breaker.opened == 0
        assert db.waits.ended == 0 and db.connect_watch.failed == 0
        assert await db.fetch_value("SELECT 1") == 1


async def test_a_full_server_is_not_an_outage_its_refusals_are_counted_apart(
    pg_cluster: LocalPostgres, pg_url: str
) -> None:
    # A role allowed one session (superusers ignore connection limits): the pool's second
    # connection is refused with "too many connections for role" (53300).
    role = unique_name()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
    try:
        url = pg_cluster.url.replace("postgres@", f"{role}@", 1)
        breaker = CircuitBreaker(failure_threshold=1, reset_s=30)
        async with Database(url, min_size=1, max_size=2, pool_timeout_s=0.5, breaker=breaker, name=unique_name()) as db:
            await db.pool.wait()
            async with db.connection() as held:  # the role's only session, busy
                await held.execute("SELECT 1")
                async with asyncio.timeout(30):
                    while db.connect_watch.turned_away == 0:  # the pool tries to grow
                        with pytest.raises(DatabaseUnavailable) as caught:
                            await db.fetch_value("SELECT 1")
                        assert isinstance(caught.value.__cause__, psycopg_pool.PoolTimeout)
            assert db.connect_watch.failed == 0 and db.waits.ended == 0
            assert breaker.state is BreakerState.CLOSED and breaker.opened == 0
            assert await db.fetch_value("SELECT 1") == 1
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role]
            )
            admin.execute(f"DROP ROLE {role}")


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


# -- a disabled proxy: connections refused, pooled ones closed -------------------------


async def test_a_disabled_proxy_ends_every_waiting_read_fast_and_the_pool_refills_after(
    pg_proxy: PgProxy, pg_url: str
) -> None:
    client, proxy = pg_proxy.client, pg_proxy.name
    breaker = CircuitBreaker(failure_threshold=5, reset_s=0.5)
    # pool_timeout_s 60: every read below must end long before the pool would give up.
    async with Database(
        pg_proxy.through(pg_url), min_size=2, max_size=3, pool_timeout_s=60,
        reconnect_max_delay_s=0.2, breaker=breaker, name=unique_name(),
    ) as db:
        await db.pool.wait()
        assert await db.fetch_value("SELECT 1") == 1
        await client.set_enabled(proxy, False)
        try:
            async with asyncio.timeout(30):
                # More reads than connections: most of them wait for one.
                results = await asyncio.gather(
                    *(db.fetch_value("SELECT 1", retry=True) for _ in range(8)), return_exceptions=True
                )
                assert all(isinstance(result, DatabaseUnavailable) for result in results), results
                assert not any(isinstance(result.__cause__, psycopg_pool.PoolTimeout) for result in results)  # type: ignore[union-attr]
                assert breaker.opened >= 1
                # The pool keeps trying at the capped pace, about 5 tries a second for each
                # of its 3 connections; psycopg_pool's own backoff (1 s, doubling) would
                # have made 15 tries in 15 s and 18 before this bound of 30 s.
                while db.connect_watch.failed < 30:
                    await asyncio.sleep(0.05)
        finally:
            await client.set_enabled(proxy, True)
        await eventually_ok(db, timeout_s=20)
        assert breaker.state is BreakerState.CLOSED
        assert db.connect_watch.failing is False


@pytest.mark.parametrize(("grace_s", "answered"), [(30.0, True), (0.0, False)], ids=["grace", "no-grace"])
async def test_a_blip_shorter_than_the_grace_is_waited_out(
        own_cluster: LocalPostgres, grace_s: float, answered: bool) -> None:
    """Regression: every wait ended at the first failed reconnection, so a restart of a
    second failed every request that needed a connection during it. The server is down
    for about a second while a read waits for a connection."""
    db = Database(own_cluster.url, min_size=1, max_size=1, pool_timeout_s=30,
                  fail_fast_after_s=grace_s, name=unique_name())
    await db.open()
    try:
        assert await db.fetch_value("SELECT 1") == 1
        await asyncio.to_thread(own_cluster.pg_ctl_stop)
        read = asyncio.create_task(db.fetch_value("SELECT 1"))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(own_cluster.pg_ctl_start)
        if answered:
            assert await read == 1
        else:
            with pytest.raises(DatabaseUnavailable):
                await read
    finally:
        await db.close()
