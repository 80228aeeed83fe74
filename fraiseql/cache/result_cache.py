"""The result cache: an in-process LRU in front of a shared store, never fatal.

Reads check the local LRU, then the store (filling the LRU on a hit). Writes go to both.
Invalidation by table tag clears both. The store is an optimisation, so every store
failure (refused connection, timeout, a fault hook raising, a corrupt value) becomes a
counted miss, never an exception for the caller:

- each store call has its own deadline (``store_timeout_s``, 200 ms by default); a late
  call is abandoned in the background, so a slow store cannot stall reads (``0``: no
  budget, each call is waited for as long as it takes, within the store's own pool and
  statement timeouts);
- after a failure the store is left alone for ``store_cooldown_s``, so an outage costs
  one timeout per cool-down, not one per request (``0``: no cool-down, every call tries);
- an invalidation that did not reach the store is kept and replayed before the next
  store access; until it succeeds the store is not read, so a missed invalidation can
  never serve a stale result;
- a result whose tables were invalidated between the miss that led to computing it and
  the ``set`` is not cached (the classic read/invalidate race, closed in-process).

Stale reads: with ``max_stale_s`` > 0 entries outlive their TTL by that much (in the LRU,
within its bounds, and in the store until purged), and ``get_stale`` returns them with
their age. The executor asks for them only when the database failed, so an outage
degrades reads to "slightly old" instead of "unavailable"; invalidated entries are gone
and never come back this way.

Example::

    cache = ResultCache(ttl_s=30, store=PostgresCacheStore(cache_db))
    key = cache_key(document, operation_name, variables, context.scope())
    body = await cache.get(key)
    if body is None:
        body = await execute(...)
        await cache.set(key, body, tables=["tb_post", "tb_user"])
    ...
    await cache.invalidate(["tb_post"])   # after a mutation of tb_post commits
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from fraiseql import faults, telemetry
from fraiseql.cache.lru import LocalLRU
from fraiseql.cache.stats import CacheStats
from fraiseql.cache.store import PostgresCacheStore, StoredEntry
from fraiseql.errors import CacheError

T = TypeVar("T")

_GET_POINT = faults.point("cache.get")
_SET_POINT = faults.point("cache.set")

logger = logging.getLogger("fraiseql.cache")


class ResultCache:
    """Two-level cache of response bytes, keyed by ``cache_key`` and tagged by table."""

    def __init__(
        self,
        local_max_entries: int = 10_000,
        local_max_bytes: int = 64 * 1024 * 1024,
        ttl_s: float = 30.0,
        store: PostgresCacheStore | None = None,
        *,
        store_timeout_s: float = 0.2,
        store_cooldown_s: float = 1.0,
        max_stale_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.local = LocalLRU(local_max_entries, local_max_bytes, stale_s=max_stale_s, clock=clock)
        self.store = store
        self.ttl_s = ttl_s
        self.max_stale_s = max_stale_s
        self.store_timeout_s = store_timeout_s
        self.store_cooldown_s = store_cooldown_s
        self.stats = CacheStats()
        self._clock = clock
        self._store_down_until = float("-inf")
        self._pending_invalidation: set[str] = set()
        # Invalidation epochs: a global counter, the epoch each table was last
        # invalidated at, and the epoch at which each outstanding miss happened.
        self._epoch = 0
        self._table_epochs: dict[str, int] = {}
        self._miss_epochs: OrderedDict[str, int] = OrderedDict()
        self._miss_epochs_max = local_max_entries or 1_000  # bounded without a local tier too
        self._background: set[asyncio.Task[Any]] = set()

    async def get(self, key: str) -> bytes | None:
        """The cached response for ``key``, or None (a miss, or a store that failed)."""
        with telemetry.span("cache.get"):
            value = self.local.get(key)
            if value is not None:
                self.stats.hits_local += 1
                telemetry.record_cache("hit_local")
                return value
            self._note_miss(key)
            if self._store_available():
                value = await self._get_from_store(key)
                if value is not None:
                    self._miss_epochs.pop(key, None)
                    self.stats.hits_store += 1
                    telemetry.record_cache("hit_store")
                    return value
            self.stats.misses += 1
            telemetry.record_cache("miss")
            return None

    async def get_stale(self, key: str) -> tuple[bytes, float] | None:
        """The response for ``key`` and its age in seconds, even up to ``max_stale_s``
        past its TTL, or None. For answering while the database fails; counted."""
        if self.max_stale_s <= 0:
            return None
        found = self.local.get_stale(key)
        if found is None and self._store_available():
            found = await self._get_stale_from_store(key)
        if found is not None:
            self.stats.stale_served += 1
            telemetry.record_stale_served()
        return found

    async def set(self, key: str, value: bytes, tables: Iterable[str]) -> None:
        """Cache ``value`` under ``key``, tagged with the tables it was read from."""
        tables = tuple(tables)
        missed_at = self._miss_epochs.pop(key, None)
        # The value was computed after the miss (or, without one, before this call).
        computed_at = self._epoch if missed_at is None else missed_at
        if self._invalidated_since(tables, computed_at):
            self.stats.stale_sets_skipped += 1
            return
        self.local.set(key, value, tables, self.ttl_s)
        if not self._store_available():
            return
        try:
            await self._call_store(self._write_store(key, value, tables, computed_at))
        except Exception as exc:  # noqa: BLE001 - any store failure is a counted skip
            self.stats.errors_set += 1
            self._store_failed("set", exc)

    async def invalidate(self, tables: Iterable[str]) -> None:
        """Drop every result that read any of ``tables``, here and in the store."""
        tables = tuple(tables)
        if not tables:
            return
        self._epoch += 1
        for table in tables:
            self._table_epochs[table] = self._epoch
        self.local.invalidate(tables)
        self.stats.invalidations += 1
        if self.store is None:
            return
        self._pending_invalidation.update(tables)
        if not self._store_available():
            return
        try:
            await self._call_store(self._flush_invalidations())
        except Exception as exc:  # noqa: BLE001
            self.stats.errors_invalidate += 1
            self._store_failed("invalidate", exc)

    async def purge_expired(self) -> int:
        """Drop expired entries locally and in the store (a maintenance task's job).

        Unlike reads and writes, a store failure here raises ``CacheError`` so the
        task that calls it can log it.
        """
        purged = self.local.purge_expired()
        if self.store is not None:
            try:
                purged += await self.store.purge_expired(self.max_stale_s)
            except Exception as exc:
                raise CacheError("could not purge the cache store") from exc
        return purged

    async def drain(self) -> None:
        """Wait for background store work (abandoned calls, deletions of corrupt rows)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        """Cancel background store work and wait until it has stopped."""
        for task in self._background:
            task.cancel()
        await self.drain()

    # -- store access ------------------------------------------------------------

    async def _get_from_store(self, key: str) -> bytes | None:
        assert self.store is not None
        asked_at = self._epoch
        try:
            entry, value = await self._call_store(self._read_store(key))
        except Exception as exc:  # noqa: BLE001
            self.stats.errors_get += 1
            self._store_failed("get", exc)
            return None
        if value is None:
            return None
        value = unseal(key, value)
        if value is None:
            self.stats.errors_get += 1
            self.stats.corrupt += 1
            logger.warning("cache store returned a corrupt value for key %s; deleting it", key)
            self._in_background(self.store.delete(key))
            return None
        if entry is None:  # a fault hook produced a value where the store had none
            return value
        if self._invalidated_since(entry.tables, asked_at):
            return None  # invalidated while we read: the row may predate the mutation
        value = bytes(value)
        self.local.set(
            key, value, entry.tables, min(self.ttl_s, entry.ttl_remaining_s),
            age_s=max(0.0, self.ttl_s - entry.ttl_remaining_s),
        )
        return value

    async def _get_stale_from_store(self, key: str) -> tuple[bytes, float] | None:
        assert self.store is not None
        try:
            entry = await self._call_store(self._read_stale_store(key))
        except Exception as exc:  # noqa: BLE001
            self.stats.errors_get += 1
            self._store_failed("get", exc)
            return None
        value = unseal(key, entry.value) if entry is not None else None
        if entry is None or value is None:
            return None
        return value, max(0.0, self.ttl_s - entry.ttl_remaining_s)

    async def _read_stale_store(self, key: str) -> StoredEntry | None:
        assert self.store is not None
        if self._pending_invalidation:
            await self._flush_invalidations()
        return await self.store.get_stale(key, self.max_stale_s)

    async def _read_store(self, key: str) -> tuple[StoredEntry | None, Any]:
        assert self.store is not None
        if self._pending_invalidation:
            await self._flush_invalidations()
        entry = await self.store.get(key)
        value: Any = entry.value if entry is not None else None
        if _GET_POINT.hooks:
            value = await _GET_POINT.fire(value, key=key)
        return entry, value

    async def _write_store(
        self, key: str, value: bytes, tables: tuple[str, ...], computed_at: int
    ) -> None:
        assert self.store is not None
        if self._pending_invalidation:
            await self._flush_invalidations()
        sealed = seal(key, value)
        if _SET_POINT.hooks:  # after sealing: what a hook does to the bytes must be caught on read
            sealed = await _SET_POINT.fire(sealed, key=key, tables=tables)
        await self.store.set(key, sealed, tables, self.ttl_s)
        # An invalidation that ran while this write was on its way may have deleted
        # before we inserted; take the row out again rather than leave it stale.
        if self._invalidated_since(tables, computed_at):
            self.stats.stale_sets_skipped += 1
            await self.store.delete(key)

    async def _flush_invalidations(self) -> None:
        assert self.store is not None
        tables = set(self._pending_invalidation)
        await self.store.invalidate(sorted(tables))
        self._pending_invalidation -= tables

    async def _call_store(self, operation: Coroutine[Any, Any, T]) -> T:
        """Run one store operation under the store deadline.

        The operation runs as its own task: on the deadline we stop waiting at once and
        cancel it in the background (psycopg's cancellation talks to the server, which
        is exactly what may be slow). ``store_timeout_s`` 0 waits for it without a bound.
        """
        task = asyncio.ensure_future(operation)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.store_timeout_s or None)
        except asyncio.CancelledError:
            self._abandon(task)
            raise
        if not done:
            self._abandon(task)
            raise CacheError(f"cache store did not answer within {self.store_timeout_s}s")
        return task.result()

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        self._track(task)

    def _in_background(self, operation: Coroutine[Any, Any, Any]) -> None:
        self._track(asyncio.ensure_future(self._call_store(operation)))

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("background cache store call failed: %r", task.exception())

    def _store_available(self) -> bool:
        if self.store is None:
            return False
        if self._clock() < self._store_down_until:
            self.stats.store_skipped += 1
            return False
        return True

    def _store_failed(self, operation: str, exc: BaseException) -> None:
        if self._clock() >= self._store_down_until:
            logger.warning(
                "cache store %s failed (%r); skipping the store for %.1fs",
                operation,
                exc,
                self.store_cooldown_s,
            )
        self._store_down_until = self._clock() + self.store_cooldown_s
        telemetry.record_cache("error")

    # -- invalidation epochs -----------------------------------------------------

    def _note_miss(self, key: str) -> None:
        # Keep the oldest outstanding miss: a set after it is checked conservatively.
        if key not in self._miss_epochs:
            self._miss_epochs[key] = self._epoch
            if len(self._miss_epochs) > self._miss_epochs_max:
                self._miss_epochs.popitem(last=False)

    def _invalidated_since(self, tables: Iterable[str], epoch: int) -> bool:
        return any(self._table_epochs.get(table, 0) > epoch for table in tables)


def is_response(value: object) -> bool:
    """True when ``value`` is UTF-8 JSON bytes of an object with a ``data`` key."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return False
    try:
        document = json.loads(bytes(value).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and "data" in document


# A stored value is sealed: a tag, then a keyed digest of (cache key, response), then the
# response. Reading checks the digest against the key asked for, so garbage, a cut-off
# value and, above all, another key's (perfectly valid) response are all refused: a cache
# must never answer one question with another's answer.
SEAL_TAG = b"fq1:"
_DIGEST_BYTES = 16


def _digest(key: str, value: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=_DIGEST_BYTES, person=b"fraiseql.cache")
    digest.update(key.encode())
    digest.update(b"\0")
    digest.update(value)
    return digest.digest()


def seal(key: str, value: bytes) -> bytes:
    """``value`` as stored for ``key`` (see above)."""
    return SEAL_TAG + _digest(key, value) + value


def unseal(key: str, stored: object) -> bytes | None:
    """The response stored for ``key``, or None when ``stored`` is not one sealed for it."""
    if not isinstance(stored, (bytes, bytearray, memoryview)):
        return None
    raw = bytes(stored)
    head = len(SEAL_TAG) + _DIGEST_BYTES
    if len(raw) < head or not raw.startswith(SEAL_TAG):
        return None
    value = raw[head:]
    if not hmac.compare_digest(raw[len(SEAL_TAG):head], _digest(key, value)):
        return None
    return value
