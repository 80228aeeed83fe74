"""``PermissionResolver``: effective permissions per user and tenant, cached, never stale
for longer than ``max_staleness_ms``, and denied when the database cannot say.

Staleness bound: a cached answer is only served while the RBAC version counter was read
less than ``max_staleness_ms`` ago (measured from when that read was sent). Triggers bump
the counter in the transaction that changes a role, a hierarchy edge, a permission or an
assignment, so a revocation committed at time T is honoured by every request that starts
after T + ``max_staleness_ms`` (default 1 s). A changed version clears the whole cache.

Failure: a database error, a timeout (``timeout_ms``) or a failing ``rbac.resolve`` fault
hook raises ``PermissionSourceUnavailable``; nothing falls back to an older answer.

Example::

    resolver = PermissionResolver(db, max_entries=10_000, ttl_s=60, max_staleness_ms=1000)
    resolution = await resolver.resolve(user)   # a UserContext from the auth provider
    resolution.grants.allows("post:write")
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fraiseql import faults
from fraiseql.rbac.cache import PermissionCache
from fraiseql.rbac.errors import PermissionSourceUnavailable
from fraiseql.rbac.resolution import Resolution, load_resolution, load_version

logger = logging.getLogger("fraiseql.rbac")
_RESOLVE = faults.point("rbac.resolve")
T = TypeVar("T")


class PermissionResolver:
    """Resolves ``UserContext``s into ``Resolution``s through a ``PermissionCache``."""

    def __init__(
        self,
        db: Any,
        *,
        max_entries: int = 10_000,
        ttl_s: float = 60.0,
        max_staleness_ms: int = 1000,
        timeout_ms: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.cache = PermissionCache(max_entries, ttl_s)
        self.max_staleness_s = max_staleness_ms / 1000.0
        self.timeout_s = timeout_ms / 1000.0
        self.clock = clock
        self.version: int | None = None
        self.verified_at = float("-inf")  # when the version read that confirmed the cache was sent
        self.failures = 0
        self.cycles_seen: set[str] = set()
        self._version_lock: asyncio.Lock | None = None

    async def resolve(self, user: Any) -> Resolution:
        """The effective rights of ``user`` (user_id, tenant_id, roles, permissions)."""
        if _RESOLVE.hooks:
            await self._guarded(_RESOLVE.fire(None, user_id=user.user_id, tenant_id=user.tenant_id))
        now = self.clock()
        if now - self.verified_at > self.max_staleness_s:
            await self._guarded(self._refresh_version())
            now = self.clock()
        key = (user.user_id, user.tenant_id, user.roles, user.permissions)
        hit = self.cache.get(key, now)
        if hit is not None:
            return hit
        started = self.clock()
        resolution = await self._guarded(
            load_resolution(self.db, user.user_id, user.tenant_id, user.roles, user.permissions)
        )
        self._adopt(resolution.version, started)
        if resolution.version == self.version:
            # Only an answer from the version the cache stands for may enter it.
            self.cache.put(key, resolution, self.clock())
        self._report_cycles(resolution)
        return resolution

    def invalidate(self) -> None:
        """Forget every cached resolution and force a version read on the next call."""
        self.cache.clear()
        self.verified_at = float("-inf")

    async def _refresh_version(self) -> None:
        if self._version_lock is None:
            self._version_lock = asyncio.Lock()
        async with self._version_lock:
            # Single flight: whoever waited behind the reader finds the cache confirmed.
            if self.clock() - self.verified_at <= self.max_staleness_s:
                return
            started = self.clock()
            self._adopt(await load_version(self.db), started)

    def _adopt(self, version: int, read_at: float) -> None:
        """Record a version read sent at ``read_at``; a new version empties the cache."""
        if self.version is None or version > self.version:
            if self.version is not None:
                self.cache.clear()
            self.version = version
        if version == self.version and read_at > self.verified_at:
            self.verified_at = read_at

    async def _guarded(self, awaitable: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(awaitable, self.timeout_s)
        except PermissionSourceUnavailable:
            self.failures += 1
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the source means deny
            self.failures += 1
            reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise PermissionSourceUnavailable(f"permissions are temporarily unavailable ({reason})") from exc

    def _report_cycles(self, resolution: Resolution) -> None:
        for cycle in resolution.cycles:
            if cycle not in self.cycles_seen:
                self.cycles_seen.add(cycle)
                logger.warning("fraiseql rbac: role hierarchy has a cycle: %s", cycle)
