"""Counters of the result cache: how it served, and how its store failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class CacheStats:
    """What the cache did since it was created; every store failure is counted here.

    Example::

        cache.stats.hits_local, cache.stats.errors   # 12, 0
        cache.stats.as_dict()                        # for /metrics or a report
    """

    hits_local: int = 0
    hits_store: int = 0
    misses: int = 0
    errors_get: int = 0  # store read failed or timed out, or the value was corrupt
    errors_set: int = 0  # store write failed or timed out
    errors_invalidate: int = 0  # store invalidation failed (replayed before the next store read)
    corrupt: int = 0  # store values that were not a JSON response (also in errors_get)
    store_skipped: int = 0  # store not tried: it failed moments ago (cool-down)
    stale_sets_skipped: int = 0  # results not cached: their tables were invalidated meanwhile
    invalidations: int = 0
    coalesced: int = 0  # requests that waited for an identical one in flight (no lookup, no query)
    stale_served: int = 0  # responses answered past their TTL while the database failed

    @property
    def hits(self) -> int:
        return self.hits_local + self.hits_store

    @property
    def errors(self) -> int:
        return self.errors_get + self.errors_set + self.errors_invalidate

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "hits": self.hits, "errors": self.errors}
