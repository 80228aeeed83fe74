"""The app's housekeeping: delete what has expired from the database, on a timer.

Two tables grow with use and are read only through "not expired" filters: the shared
result cache (``fraiseql.cache_entries``, rows past their TTL and stale window) and the
idempotency keys (``fraiseql.idempotency``, rows older than 24 hours). Without deletion
they grow without bound. Every ``interval_s`` (with jitter, so workers do not all purge
at the same moment) this task deletes them; a failure is logged and tried again at the
next tick, never fatal (the database may be down: that is what the rest is about).

Example::

    maintenance = Maintenance(db, cache, interval_s=300)
    maintenance.start()
    ...
    await maintenance.stop()
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from fraiseql.db.runtime_schema import purge_idempotency_keys
from fraiseql.errors import FraiseQLError

logger = logging.getLogger("fraiseql.maintenance")


class Maintenance:
    """A background task purging expired cache rows and idempotency keys."""

    def __init__(self, db: Any, cache: Any, interval_s: float) -> None:
        self.db = db
        self.cache = cache
        self.interval_s = interval_s
        self.runs = 0
        self.failures = 0
        self.purged = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> int:
        """One purge of both tables; returns the rows deleted."""
        purged = 0
        if self.cache is not None:
            purged += await self.cache.purge_expired()
        purged += await purge_idempotency_keys(self.db)
        self.runs += 1
        self.purged += purged
        return purged

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s * random.uniform(0.8, 1.2))
            try:
                await self.run_once()
            except (FraiseQLError, OSError) as exc:
                self.failures += 1
                logger.warning("maintenance purge failed (%r); trying again later", exc)
