"""``PermissionCache``: resolutions by (user, tenant, claims), bounded LRU with a TTL.

The cache knows nothing about the database: ``PermissionResolver`` clears it when the
RBAC version changes. The TTL is a second line of defence (and bounds memory held for
users who stopped calling); the version check is what makes a revocation visible.

Example::

    cache = PermissionCache(max_entries=10_000, ttl_s=60.0)
    cache.put(key, resolution, now=time.monotonic())
    cache.get(key, now=time.monotonic())  # the resolution, or None
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from fraiseql.rbac.resolution import Resolution

Key = Hashable


class PermissionCache:
    """Not thread-safe: it lives on one event loop, like the app that owns it."""

    __slots__ = ("max_entries", "ttl_s", "_entries", "hits", "misses", "evictions")

    def __init__(self, max_entries: int = 10_000, ttl_s: float = 60.0) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Key, tuple[Resolution, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: Key, now: float) -> Resolution | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if now - entry[1] > self.ttl_s:
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Key, resolution: Resolution, now: float) -> None:
        self._entries[key] = (resolution, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
