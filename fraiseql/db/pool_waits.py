"""Waits for a pooled connection that an outage ends at once, instead of at the pool timeout.

A request that finds no idle connection waits in psycopg_pool's queue for up to
``pool_timeout_s``. That bound is right for a busy pool (connections come back as
queries finish), and wrong for a server that refuses connections: nothing will come
back, and every waiter would sit out the whole timeout. So each wait is registered here,
and ``end_all`` ends every wait in progress with an error the caller raises instead:
the ``Database`` calls it when one of the pool's connection attempts fails and when its
circuit breaker opens. A busy pool never calls it, so its waits keep the full timeout.

A wait is ended by cancelling it (``asyncio.timeout`` rescheduled to now), which
psycopg_pool is built to survive: a connection handed over at that very moment goes back
to the pool, and a wait that got its connection first keeps it.

Example::

    waits = PoolWaits()
    conn = await waits.run(pool.getconn())        # raises the error end_all gave it
    waits.end_all(lambda: DatabaseUnavailable("The database is not accepting connections"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fraiseql.errors import DatabaseError

T = TypeVar("T")


class _Wait:
    __slots__ = ("scope", "error")

    def __init__(self, scope: asyncio.Timeout) -> None:
        self.scope = scope
        self.error: DatabaseError | None = None


class PoolWaits:
    """The waits for a pooled connection in progress (one registry per pool)."""

    def __init__(self) -> None:
        self._waits: set[_Wait] = set()
        self.ended = 0  # waits ended early, for the stats

    def __len__(self) -> int:
        return len(self._waits)

    async def run(self, acquire: Awaitable[T]) -> T:
        """``await acquire``, unless ``end_all`` ends it first: then raise its error."""
        wait: _Wait | None = None
        try:
            async with asyncio.timeout(None) as scope:
                wait = _Wait(scope)
                self._waits.add(wait)
                try:
                    return await acquire
                finally:
                    self._waits.discard(wait)
        except TimeoutError:
            if wait is None or wait.error is None:
                raise  # not ours: whatever timed out inside ``acquire``
            raise wait.error from None

    def end_all(self, error: Callable[[], DatabaseError]) -> int:
        """End every wait in progress with a fresh ``error()``; how many there were."""
        if not self._waits:
            return 0
        waits, self._waits = self._waits, set()
        now = asyncio.get_running_loop().time()
        for wait in waits:
            wait.error = error()
            wait.scope.reschedule(now)
        self.ended += len(waits)
        return len(waits)
