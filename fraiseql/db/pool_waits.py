"""Waits for a pooled connection that an outage ends at once, instead of at the pool timeout.

A request that finds no idle connection waits in psycopg_pool's queue for up to
``pool_timeout_s``. That bound is right for a busy pool (connections come back as
queries finish), and wrong for a server that refuses connections: nothing will come
back, and every waiter would sit out the whole timeout. So each wait is registered here,
and ``end_all`` ends every wait in progress with an error the caller raises instead:
the ``Database`` calls it when one of the pool's connection attempts fails and when its
circuit breaker opens. A busy pool never calls it, so its waits keep the full timeout.

A wait is ended by cancelling its task, which psycopg_pool is built to survive: a
connection handed over at that very moment goes back to the pool, and a wait that got its
connection first keeps it. The cancellation is taken back and the error raised in its
place; a cancellation from elsewhere at the same time still propagates
(``fraiseql.deadlines.Interrupt``: every checkout registers here, and an
``asyncio.timeout`` scope per checkout cost ~20k instructions a request).

Example::

    waits = PoolWaits()
    conn = await waits.run(pool.getconn())        # raises the error end_all gave it
    waits.end_all(lambda: DatabaseUnavailable("The database is not accepting connections"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fraiseql.deadlines import Interrupt
from fraiseql.errors import DatabaseError

T = TypeVar("T")


class _Wait:
    __slots__ = ("interrupt", "error")

    def __init__(self) -> None:
        self.interrupt = Interrupt()
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
        wait = _Wait()
        self._waits.add(wait)
        try:
            return await acquire
        except asyncio.CancelledError:
            if wait.error is None or not wait.interrupt.caused():
                raise  # not ours, or cancelled from elsewhere as well
            raise wait.error from None
        finally:
            wait.interrupt.close()
            self._waits.discard(wait)

    def end_all(self, error: Callable[[], DatabaseError]) -> int:
        """End every wait in progress with a fresh ``error()``; how many there were."""
        if not self._waits:
            return 0
        waits, self._waits = self._waits, set()
        loop = asyncio.get_running_loop()
        for wait in waits:
            wait.error = error()
            # Soon, not now: a wait whose connection was handed over before this is woken
            # first (callbacks run in order), finishes, closes its interrupt and keeps it.
            loop.call_soon(wait.interrupt.fire)
        self.ended += len(waits)
        return len(waits)
