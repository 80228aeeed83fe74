"""The pool's own connection attempts: watched, and repeated at a bounded pace.

psycopg_pool connects in the background (to fill the pool, to grow it, to replace a
dead connection) and tells nobody how it went: while the server refuses connections a
request waits in ``getconn`` for the whole pool timeout, and the circuit breaker hears
of the outage only when those waits time out. Two things fix that:

- ``ConnectWatch.connection_class()`` is the ``connection_class`` given to the pool: its
  ``connect`` reports every attempt's outcome to the watch, whose listeners (the
  ``Database``) feed the breaker and end the waits for a pooled connection at once.
  A server that is up but full (53300, too many clients) is not an outage: its attempts
  are counted apart and tell the listeners nothing.
- ``ReconnectingPool`` caps psycopg_pool's wait between reconnection attempts (1 s,
  doubling up to ``reconnect_timeout``: after a 20 s outage the next attempt could be
  15 s away) at ``reconnect_max_delay_s``, so the pool is whole again within about that
  long of the server coming back.

Example::

    watch = ConnectWatch()
    watch.listen(lambda failure: print("down" if failure else "up"))
    pool = ReconnectingPool(url, connection_class=watch.connection_class(),
                            reconnect_max_delay_s=1.0, open=False)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.pool_async import AddConnection, MaintenanceTask

from fraiseql.db.errors import refused_for_capacity, translate
from fraiseql.errors import DatabaseError

logger = logging.getLogger("fraiseql.db")

# A listener hears None for an attempt that connected, or the failure (translated).
AttemptListener = Callable[[DatabaseError | None], None]


class ConnectWatch:
    """Counts the pool's connection attempts and tells its listeners how each one ended."""

    def __init__(self) -> None:
        self.attempts = 0
        self.failed = 0  # attempts that did not reach a server able to take a session
        self.turned_away = 0  # attempts a server that is up but full refused (53300)
        self.failing = False  # the latest verdict was a failure, no success since
        self._listeners: list[AttemptListener] = []

    def listen(self, listener: AttemptListener) -> None:
        self._listeners.append(listener)

    def connection_class(
        self, base: type[psycopg.AsyncConnection[Any]] = psycopg.AsyncConnection
    ) -> type[psycopg.AsyncConnection[Any]]:
        """A subclass of ``base`` whose ``connect`` reports to this watch."""
        watch = self

        class WatchedConnection(base):  # type: ignore[valid-type, misc]
            @classmethod
            async def connect(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                watch.attempts += 1
                try:
                    conn = await super().connect(*args, **kwargs)
                except psycopg.Error as exc:
                    watch.attempt_failed(exc)
                    raise
                watch.attempt_succeeded()
                return conn

        return WatchedConnection

    def attempt_succeeded(self) -> None:
        self.failing = False
        self._tell(None)

    def attempt_failed(self, exc: BaseException) -> None:
        if refused_for_capacity(exc):
            self.turned_away += 1
            return
        self.failed += 1
        self.failing = True
        self._tell(translate(exc))

    def snapshot(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "failed": self.failed,
            "turned_away": self.turned_away,
            "failing": self.failing,
        }

    def _tell(self, failure: DatabaseError | None) -> None:
        # Listeners run inside the pool's worker: one that raises must not break the
        # pool's bookkeeping or the other listeners.
        for listener in self._listeners:
            try:
                listener(failure)
            except Exception:  # noqa: BLE001
                logger.exception("a connection attempt listener failed")


class ReconnectingPool(AsyncConnectionPool[Any]):
    """psycopg_pool's pool with the wait between reconnection attempts capped.

    ``reconnect_max_delay_s`` 0 keeps psycopg_pool's own backoff (1 s, doubling).
    """

    def __init__(self, *args: Any, reconnect_max_delay_s: float = 1.0, **kwargs: Any) -> None:
        self.reconnect_max_delay_s = reconnect_max_delay_s
        super().__init__(*args, **kwargs)

    async def schedule_task(self, task: MaintenanceTask, delay: float) -> None:
        # psycopg_pool reschedules a failed AddConnection here with its backoff delay;
        # nothing else it schedules (the idle-connection shrinker) is touched.
        if self.reconnect_max_delay_s > 0 and isinstance(task, AddConnection):
            delay = min(delay, self.reconnect_max_delay_s)
        await super().schedule_task(task, delay)
