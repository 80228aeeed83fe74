"""ResultCache without a store: the local layer, stats, and the stale-set guard; with a
fake store: the store's time budget and cool-down, and what 0 means for each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from fraiseql.cache import ResultCache, is_response
from fraiseql.cache.result_cache import seal
from fraiseql.cache.store import StoredEntry
from fraiseql.errors import CacheError

BODY = b'{"data":{"posts":[]}}'


async def test_miss_then_set_then_local_hit() -> None:
    cache = ResultCache(ttl_s=30)
    assert await cache.get("k") is None
    await cache.set("k", BODY, ["tb_post"])
    assert await cache.get("k") == BODY
    assert cache.stats.misses == 1 and cache.stats.hits_local == 1 and cache.stats.hits == 1


async def test_invalidate_clears_entries_of_the_table_only() -> None:
    cache = ResultCache(ttl_s=30)
    await cache.set("posts", BODY, ["tb_post"])
    await cache.set("users", BODY, ["tb_user"])
    await cache.invalidate(["tb_post"])
    assert await cache.get("posts") is None
    assert await cache.get("users") == BODY
    assert cache.stats.invalidations == 1


async def test_invalidate_of_no_table_is_a_no_op() -> None:
    cache = ResultCache(ttl_s=30)
    await cache.invalidate([])
    assert cache.stats.invalidations == 0


async def test_a_result_computed_before_an_invalidation_is_not_cached() -> None:
    # get (miss) -> a mutation invalidates tb_post -> the reader stores its old result.
    cache = ResultCache(ttl_s=30)
    assert await cache.get("k") is None
    await cache.invalidate(["tb_post"])
    await cache.set("k", BODY, ["tb_post"])
    assert cache.stats.stale_sets_skipped == 1
    assert await cache.get("k") is None
    # The next reader computes after the invalidation: its result is cached.
    await cache.set("k", BODY, ["tb_post"])
    assert await cache.get("k") == BODY


async def test_an_invalidation_of_other_tables_does_not_block_the_set() -> None:
    cache = ResultCache(ttl_s=30)
    assert await cache.get("k") is None
    await cache.invalidate(["tb_user"])
    await cache.set("k", BODY, ["tb_post"])
    assert await cache.get("k") == BODY


async def test_outstanding_misses_are_bounded() -> None:
    cache = ResultCache(local_max_entries=3, ttl_s=30)
    for n in range(10):
        await cache.get(f"k{n}")
    assert len(cache._miss_epochs) == 3


async def test_stats_as_dict_has_totals() -> None:
    cache = ResultCache(ttl_s=30)
    await cache.get("k")
    stats = cache.stats.as_dict()
    assert stats["misses"] == 1 and stats["hits"] == 0 and stats["errors"] == 0


async def test_purge_expired_without_a_store_purges_the_lru() -> None:
    now = [0.0]
    cache = ResultCache(ttl_s=5, clock=lambda: now[0])
    await cache.set("k", BODY, [])
    now[0] = 10.0
    assert await cache.purge_expired() == 1


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b'{"data":null}', id="null-data"),
        pytest.param(b'{"data":{},"errors":[]}', id="with-errors"),
        pytest.param(bytearray(b'{"data":1}'), id="bytearray"),
    ],
)
def test_is_response_accepts(value: object) -> None:
    assert is_response(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\xff\xfe{", id="not-utf8"),
        pytest.param('{"data":1}'.encode("utf-16"), id="utf16-json"),
        pytest.param(b'{"data":', id="truncated"),
        pytest.param(b'{"errors":[]}', id="no-data-key"),
        pytest.param(b'[{"data":1}]', id="not-an-object"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param('{"data":1}', id="str-not-bytes"),
        pytest.param(None, id="none"),
    ],
)
def test_is_response_refuses(value: object) -> None:
    assert not is_response(value)


# -- the store's time budget and cool-down -------------------------------------------------


class FakeStore:
    """A store answering ``get`` after ``delay_s``, failing the first ``failures`` calls."""

    def __init__(self, *, delay_s: float = 0.0, failures: int = 0) -> None:
        self.delay_s = delay_s
        self.failures = failures
        self.calls = 0
        self.rows: dict[str, StoredEntry] = {}

    async def get(self, key: str) -> StoredEntry | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise CacheError("store down")
        await asyncio.sleep(self.delay_s)
        return self.rows.get(key)

    async def set(self, key: str, value: bytes, tables: Sequence[str], ttl_s: float) -> None:
        self.rows[key] = StoredEntry(value, tuple(tables), ttl_s)

    async def delete(self, key: str) -> None:
        self.rows.pop(key, None)

    async def invalidate(self, tables: Sequence[str]) -> int:
        return 0


def stored(store: FakeStore, key: str) -> None:
    store.rows[key] = StoredEntry(seal(key, BODY), ("tb_post",), 30.0)


@pytest.mark.parametrize(("timeout_s", "answered"), [(0.0, True), (0.05, False)], ids=["no-budget", "50ms"])
async def test_a_store_budget_of_zero_waits_for_a_slow_store(timeout_s: float, answered: bool) -> None:
    # The store answers after 0.3 s: past a 50 ms budget, but with none it is waited for.
    store = FakeStore(delay_s=0.3)
    stored(store, "k")
    cache = ResultCache(store=store, store_timeout_s=timeout_s)  # type: ignore[arg-type]
    assert (await cache.get("k")) == (BODY if answered else None)
    assert cache.stats.hits_store == int(answered)
    assert cache.stats.errors_get == int(not answered)
    await cache.close()


@pytest.mark.parametrize(("cooldown_s", "skipped"), [(0.0, 0), (1.0, 1)], ids=["no-cooldown", "1s"])
async def test_a_cooldown_of_zero_tries_the_store_again_right_after_a_failure(
    cooldown_s: float, skipped: int
) -> None:
    now = [0.0]  # the clock never moves: only "no cool-down" lets the second get through
    store = FakeStore(failures=1)
    stored(store, "k")
    cache = ResultCache(store=store, store_cooldown_s=cooldown_s, clock=lambda: now[0])  # type: ignore[arg-type]
    assert await cache.get("k") is None
    assert cache.stats.errors_get == 1
    assert (await cache.get("k")) == (None if skipped else BODY)
    assert cache.stats.store_skipped == skipped and store.calls == 2 - skipped
