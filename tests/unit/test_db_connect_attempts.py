"""ConnectWatch: how the pool's connection attempts are told, which failures are outages;
ReconnectingPool: which waits are capped."""

from __future__ import annotations

import port_for
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.pool_async import AddConnection, ShrinkPool

from fraiseql.db.connect_attempts import ConnectWatch, ReconnectingPool
from fraiseql.db.errors import refused_for_capacity
from fraiseql.errors import DatabaseError, DatabaseUnavailable

# What libpq reports (no SQLSTATE on a failed connection), as psycopg 3.3 words it.
REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
SERVER_FULL = [
    pytest.param('... port 5432 failed: FATAL:  sorry, too many clients already', id="max-connections"),
    pytest.param(
        "... failed: FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
        id="reserved-slots",
    ),
    pytest.param('... failed: FATAL:  too many connections for role "app"', id="role-limit"),
    pytest.param('... failed: FATAL:  too many connections for database "blog"', id="database-limit"),
]
NOT_FULL = [
    pytest.param(REFUSED, id="refused"),
    pytest.param("connection timeout expired", id="timeout"),
    pytest.param("... failed: FATAL:  the database system is starting up", id="starting-up"),
    pytest.param("... failed: FATAL:  the database system is shutting down", id="shutting-down"),
    pytest.param('... failed: FATAL:  password authentication failed for user "app"', id="auth"),
]


@pytest.mark.parametrize("message", SERVER_FULL)
def test_a_full_server_is_recognised(message: str) -> None:
    assert refused_for_capacity(psycopg.OperationalError(message))


@pytest.mark.parametrize("message", NOT_FULL)
def test_other_connection_failures_are_not_a_full_server(message: str) -> None:
    assert not refused_for_capacity(psycopg.OperationalError(message))


def test_listeners_hear_successes_and_translated_failures_but_not_a_full_server() -> None:
    watch = ConnectWatch()
    heard: list[DatabaseError | None] = []
    watch.listen(heard.append)
    watch.attempt_failed(psycopg.OperationalError(REFUSED))
    assert watch.failing and isinstance(heard[-1], DatabaseUnavailable)
    watch.attempt_failed(psycopg.OperationalError("FATAL:  sorry, too many clients already"))
    assert len(heard) == 1 and watch.turned_away == 1
    watch.attempt_succeeded()
    assert heard[-1] is None and not watch.failing
    assert watch.snapshot() == {"attempts": 0, "failed": 1, "turned_away": 1, "failing": False}


def test_a_listener_that_raises_does_not_stop_the_others() -> None:
    watch = ConnectWatch()
    heard: list[DatabaseError | None] = []

    def broken(failure: DatabaseError | None) -> None:
        raise RuntimeError("listener bug")

    watch.listen(broken)
    watch.listen(heard.append)
    watch.attempt_succeeded()
    assert heard == [None]


async def test_the_connection_class_reports_a_real_refused_attempt() -> None:
    watch = ConnectWatch()
    heard: list[DatabaseError | None] = []
    watch.listen(heard.append)
    connection_class = watch.connection_class()
    assert issubclass(connection_class, psycopg.AsyncConnection)
    with pytest.raises(psycopg.OperationalError):
        await connection_class.connect(f"postgresql://x@127.0.0.1:{port_for.select_random()}/x", connect_timeout=2)
    assert watch.attempts == 1 and watch.failed == 1
    assert isinstance(heard[0], DatabaseUnavailable)


async def test_only_reconnection_attempts_are_capped_and_zero_keeps_the_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheduled: list[tuple[str, float]] = []

    async def record(self: AsyncConnectionPool, task: object, delay: float) -> None:
        scheduled.append((type(task).__name__, delay))

    monkeypatch.setattr(AsyncConnectionPool, "schedule_task", record)
    capped = ReconnectingPool("", reconnect_max_delay_s=0.25, open=False)
    await capped.schedule_task(AddConnection(capped), 8.0)  # psycopg_pool's 4th backoff
    await capped.schedule_task(ShrinkPool(capped), 300.0)
    uncapped = ReconnectingPool("", reconnect_max_delay_s=0, open=False)
    await uncapped.schedule_task(AddConnection(uncapped), 8.0)
    assert scheduled == [("AddConnection", 0.25), ("ShrinkPool", 300.0), ("AddConnection", 8.0)]
