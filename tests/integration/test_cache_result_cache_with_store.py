"""ResultCache over a real PostgresCacheStore: sharing, invalidation, and a store that fails.

Failures are real where they can be (a Database on a closed port, a row of garbage written
into the table) and fault hooks where the contract provides them (``cache.get``,
``cache.set``, ``db.execute``). None of them may reach the caller.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from psycopg import sql

from fraiseql import faults
from fraiseql.cache import PostgresCacheStore, ResultCache
from fraiseql.cache.result_cache import seal
from fraiseql.db.pool import Database

pytestmark = pytest.mark.integration

BODY = b'{"data":{"posts":[{"id":1}]}}'
NO_COOLDOWN = {"store_cooldown_s": 0.0}


@pytest.fixture
async def cache_db(pg_url: str) -> AsyncIterator[Database]:
    db = Database(pg_url, min_size=1, max_size=4, name="cache")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def store(cache_db: Database) -> PostgresCacheStore:
    store = PostgresCacheStore(cache_db)
    await store.ensure()
    return store


@pytest.fixture
async def down_store() -> AsyncIterator[PostgresCacheStore]:
    """A store whose database is a loopback port nobody listens on.

    Its pool would wait 60 s for a connection (``fail_fast`` off: its refused attempts do
    not end the wait): only the cache's own deadline can make a call return promptly.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(
        f"postgresql://postgres@127.0.0.1:{port}/nothing",
        min_size=0,
        connect_timeout_s=1,
        pool_timeout_s=60,
        fail_fast=False,
        name="cache-down",
    )
    await db.open()
    yield PostgresCacheStore(db)
    await db.close()


@pytest.fixture
def tag() -> str:
    return f"tb_{uuid.uuid4().hex[:10]}"


def new_key() -> str:
    return uuid.uuid4().hex


async def stored_value(db: Database, key: str) -> bytes | None:
    value = await db.fetch_value(
        sql.SQL("SELECT value FROM fraiseql.cache_entries WHERE key = %s"), [key]
    )
    return None if value is None else bytes(value)


# -- sharing through the store ---------------------------------------------------------


async def test_a_result_set_by_one_worker_is_served_to_another(store: PostgresCacheStore, tag: str) -> None:
    writer, reader = ResultCache(store=store), ResultCache(store=store)
    key = new_key()
    await writer.set(key, BODY, [tag])
    assert await reader.get(key) == BODY
    assert await reader.get(key) == BODY
    assert reader.stats.hits_store == 1 and reader.stats.hits_local == 1
    assert reader.stats.errors == 0


async def test_invalidate_clears_the_store_for_every_worker(store: PostgresCacheStore, tag: str) -> None:
    writer, mutator = ResultCache(store=store), ResultCache(store=store)
    key, unrelated = new_key(), new_key()
    await writer.set(key, BODY, [tag])
    await writer.set(unrelated, BODY, [tag + "_other"])
    await mutator.invalidate([tag])
    assert await stored_value(store.db, key) is None
    assert await ResultCache(store=store).get(key) is None
    assert await ResultCache(store=store).get(unrelated) == BODY


async def test_the_local_copy_never_outlives_the_store_entry(store: PostgresCacheStore, tag: str) -> None:
    key = new_key()
    await store.set(key, seal(key, BODY), [tag], ttl_s=5)
    reader = ResultCache(ttl_s=3600, store=store)
    assert await reader.get(key) == BODY
    assert reader.local._entries[key].expires_at - reader._clock() <= 5


# -- a store that is down ----------------------------------------------------------------


async def test_a_down_store_is_a_counted_miss_within_the_deadline(down_store: PostgresCacheStore) -> None:
    cache = ResultCache(store=down_store, store_timeout_s=0.2, **NO_COOLDOWN)
    key = new_key()
    # The pool alone would wait 60 s; the bound here only proves the deadline cut it.
    async with asyncio.timeout(30):
        assert await cache.get(key) is None
        await cache.set(key, BODY, ["tb_post"])
        await cache.invalidate(["tb_user"])
    assert cache.stats.errors_get == 1
    assert cache.stats.errors_set == 1
    assert cache.stats.errors_invalidate == 1
    assert cache.stats.misses == 1
    # The local layer keeps working without the store.
    assert await cache.get(key) == BODY
    await cache.close()


async def test_after_a_failure_the_store_is_skipped_for_the_cooldown(down_store: PostgresCacheStore) -> None:
    now = [0.0]
    cache = ResultCache(store=down_store, store_timeout_s=0.2, store_cooldown_s=10, clock=lambda: now[0])
    assert await cache.get(new_key()) is None
    assert await cache.get(new_key()) is None
    assert cache.stats.errors_get == 1 and cache.stats.store_skipped == 1
    now[0] = 11.0  # the cool-down is over: the store is tried again
    assert await cache.get(new_key()) is None
    assert cache.stats.errors_get == 2
    await cache.close()


# -- corrupt entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b'{"data":', id="truncated-json"),
        pytest.param(b'{"errors":[]}', id="no-data-key"),
    ],
)
async def test_a_corrupt_row_is_a_counted_miss_and_is_deleted(
    store: PostgresCacheStore, tag: str, garbage: bytes
) -> None:
    key = new_key()
    await store.db.fetch_rows(
        sql.SQL(
            "INSERT INTO fraiseql.cache_entries (key, value, tables, expires_at)"
            " VALUES (%s, %s, %s, now() + interval '1 minute')"
        ),
        [key, garbage, [tag]],
    )
    cache = ResultCache(store=store)
    assert await cache.get(key) is None
    await cache.drain()
    assert cache.stats.corrupt == 1 and cache.stats.errors_get == 1 and cache.stats.misses == 1
    assert key not in cache.local
    assert await stored_value(store.db, key) is None


# -- fault points ------------------------------------------------------------------------


async def test_cache_get_hook_raising_is_a_counted_miss(store: PostgresCacheStore, tag: str) -> None:
    key = new_key()
    await store.set(key, seal(key, BODY), [tag], ttl_s=60)

    def refuse(payload: Any, context: dict[str, Any]) -> Any:
        raise ConnectionRefusedError("injected")

    faults.install("cache.get", refuse)
    cache = ResultCache(store=store)
    assert await cache.get(key) is None
    assert cache.stats.errors_get == 1
    assert faults.point("cache.get").fired >= 1


async def test_cache_get_hook_sleeping_past_the_deadline_is_a_counted_miss(
    store: PostgresCacheStore, tag: str
) -> None:
    key = new_key()
    await store.set(key, seal(key, BODY), [tag], ttl_s=60)

    async def stall(payload: Any, context: dict[str, Any]) -> Any:
        await asyncio.sleep(60)

    faults.install("cache.get", stall)
    cache = ResultCache(store=store, store_timeout_s=0.2)
    async with asyncio.timeout(30):
        assert await cache.get(key) is None
    assert cache.stats.errors_get == 1
    await cache.close()


async def test_cache_get_hook_corrupting_the_value_is_detected(store: PostgresCacheStore, tag: str) -> None:
    key = new_key()
    await store.set(key, seal(key, BODY), [tag], ttl_s=60)
    faults.install("cache.get", lambda payload, context: payload[: len(payload) // 2])
    cache = ResultCache(store=store)
    assert await cache.get(key) is None
    await cache.drain()
    assert cache.stats.corrupt == 1


async def test_cache_set_hook_raising_keeps_the_local_copy(store: PostgresCacheStore, tag: str) -> None:
    def refuse(payload: Any, context: dict[str, Any]) -> Any:
        raise TimeoutError("injected")

    faults.install("cache.set", refuse)
    cache = ResultCache(store=store)
    key = new_key()
    await cache.set(key, BODY, [tag])
    assert cache.stats.errors_set == 1
    assert await cache.get(key) == BODY
    assert await stored_value(store.db, key) is None


async def test_a_value_corrupted_on_write_is_caught_on_read(store: PostgresCacheStore, tag: str) -> None:
    faults.install("cache.set", lambda payload, context: b"\x00" + payload)
    key = new_key()
    await ResultCache(store=store).set(key, BODY, [tag])
    faults.clear()
    reader = ResultCache(store=store)
    assert await reader.get(key) is None
    assert reader.stats.corrupt == 1


# -- invalidation that does not reach the store --------------------------------------------


async def test_a_failed_invalidation_is_replayed_before_the_store_is_read(
    store: PostgresCacheStore, tag: str
) -> None:
    cache = ResultCache(store=store, **NO_COOLDOWN)
    key = new_key()
    await cache.set(key, BODY, [tag])

    def lose_connection(payload: Any, context: dict[str, Any]) -> Any:
        raise ConnectionResetError("injected")

    handle = faults.install("db.execute", lose_connection)
    await cache.invalidate([tag])
    faults.remove(handle)
    assert cache.stats.errors_invalidate == 1
    assert await stored_value(store.db, key) == seal(key, BODY)  # the stale row is still there...
    assert await cache.get(key) is None  # ...but is never served
    assert await stored_value(store.db, key) is None
    assert not cache._pending_invalidation


async def test_an_invalidation_during_the_store_write_removes_the_row(
    store: PostgresCacheStore, tag: str
) -> None:
    cache = ResultCache(store=store)
    key = new_key()

    async def mutation_commits_meanwhile(payload: Any, context: dict[str, Any]) -> Any:
        await cache.invalidate([tag])

    faults.install("cache.set", mutation_commits_meanwhile)
    await cache.set(key, BODY, [tag])
    faults.clear()
    assert await stored_value(store.db, key) is None
    assert cache.stats.stale_sets_skipped == 1
    assert await cache.get(key) is None


async def test_another_keys_valid_answer_in_the_store_is_refused(store: PostgresCacheStore, tag: str) -> None:
    """Regression guard: a store row holding a valid response sealed for another key (rows
    swapped, a bad migration) must never answer this key."""
    key, other = new_key(), new_key()
    await store.set(key, seal(other, b'{"data":{"posts":[{"id":2}]}}'), [tag], ttl_s=60)
    cache = ResultCache(ttl_s=60, store=store)
    assert await cache.get(key) is None
    assert cache.stats.corrupt == 1


async def test_without_a_local_tier_every_read_goes_to_the_store(store: PostgresCacheStore, tag: str) -> None:
    writer, reader = ResultCache(ttl_s=60, store=store), ResultCache(local_max_entries=0, ttl_s=60, store=store)
    key = new_key()
    await writer.set(key, BODY, [tag])
    assert await reader.get(key) == BODY and await reader.get(key) == BODY
    assert reader.stats.hits_store == 2 and reader.stats.hits_local == 0
