"""The in-process layer of the result cache: a bounded LRU with expiry and table tags.

Bounded twice, by entry count and by total bytes (values plus keys), so a few huge
results cannot push memory past the limit. Every entry expires after its own TTL and
carries the tables it was read from, so ``invalidate(["tb_post"])`` drops exactly the
entries a mutation of ``tb_post`` made stale. Time comes from an injectable monotonic
clock, which keeps tests free of sleeps.

With ``stale_s`` > 0 an expired entry is kept ``stale_s`` longer (within the same
bounds): ``get`` no longer returns it, ``get_stale`` does, with its age, for answering
while the database is down. Invalidation drops stale entries like fresh ones.

Not thread-safe: it lives on one event loop, like the rest of a worker.

Example::

    lru = LocalLRU(max_entries=1000, max_bytes=10_000_000, stale_s=300)
    lru.set("k", b'{"data":{}}', tables=["tb_post"], ttl_s=30)
    lru.get("k")                 # b'{"data":{}}'
    lru.get_stale("k")           # (b'{"data":{}}', 0.01): also after the TTL, within stale_s
    lru.invalidate(["tb_post"])  # 1
    lru.get("k")                 # None
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    tables: frozenset[str]
    expires_at: float
    size: int
    stored_at: float  # when the value was read from the database (for its age)


class LocalLRU:
    """Least-recently-used map from key to bytes, bounded in entries and bytes.

    ``max_entries=0`` holds nothing: every read goes to the shared store (one tier, as
    several workers without local copies would see it).
    """

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        *,
        stale_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0 or max_bytes < 1:
            raise ValueError("max_entries must not be negative and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stale_s = stale_s
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._keys_by_table: dict[str, set[str]] = {}
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> bytes | None:
        """The live value for ``key`` (and mark it recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if entry.expires_at <= now:
            if entry.expires_at + self.stale_s <= now:
                self._discard(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    def get_stale(self, key: str) -> tuple[bytes, float] | None:
        """The value for ``key`` and its age in seconds, fresh or up to ``stale_s`` expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if entry.expires_at + self.stale_s <= now:
            self._discard(key)
            return None
        return entry.value, max(0.0, now - entry.stored_at)

    def set(
        self, key: str, value: bytes, tables: Iterable[str], ttl_s: float, *, age_s: float = 0.0
    ) -> bool:
        """Store ``value`` (read ``age_s`` ago); False when it is larger than the whole cache."""
        size = len(value) + len(key)
        self._discard(key)
        if size > self.max_bytes or ttl_s <= 0 or self.max_entries == 0:
            return False
        now = self._clock()
        entry = _Entry(value, frozenset(tables), now + ttl_s, size, now - age_s)
        self._entries[key] = entry
        self.total_bytes += size
        for table in entry.tables:
            self._keys_by_table.setdefault(table, set()).add(key)
        self._evict_over_bounds()
        return True

    def invalidate(self, tables: Iterable[str]) -> int:
        """Drop every entry tagged with any of ``tables``; returns how many went."""
        doomed: set[str] = set()
        for table in tables:
            doomed |= self._keys_by_table.get(table, set())
        for key in doomed:
            self._discard(key)
        return len(doomed)

    def purge_expired(self) -> int:
        """Drop every entry past its TTL and stale window; returns how many went."""
        now = self._clock()
        expired = [
            key for key, entry in self._entries.items() if entry.expires_at + self.stale_s <= now
        ]
        for key in expired:
            self._discard(key)
        return len(expired)

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
        self._keys_by_table.clear()
        self.total_bytes = 0

    def _evict_over_bounds(self) -> None:
        while len(self._entries) > self.max_entries or self.total_bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._discard(oldest)

    def _discard(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.total_bytes -= entry.size
        for table in entry.tables:
            keys = self._keys_by_table.get(table)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_table[table]
