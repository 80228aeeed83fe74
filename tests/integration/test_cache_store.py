"""PostgresCacheStore and view_tables against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from psycopg import sql

from fraiseql.cache import PostgresCacheStore, UnknownRelation, view_tables
from fraiseql.db.pool import Database

pytestmark = pytest.mark.integration

BODY = b'{"data":{"posts":[{"id":1}]}}'


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
def tag() -> str:
    """A table tag no other test uses, so tests can share the cache table."""
    return f"tb_{uuid.uuid4().hex[:10]}"


def new_key() -> str:
    return uuid.uuid4().hex


async def row_exists(db: Database, key: str) -> bool:
    return bool(
        await db.fetch_value(
            sql.SQL("SELECT count(*) FROM fraiseql.cache_entries WHERE key = %s"), [key]
        )
    )


# -- PostgresCacheStore --------------------------------------------------------------


async def test_ensure_is_idempotent_and_concurrent_safe(store: PostgresCacheStore) -> None:
    await asyncio.gather(store.ensure(), store.ensure(), store.ensure())
    persistence = await store.db.fetch_value(
        sql.SQL("SELECT relpersistence FROM pg_class WHERE oid = 'fraiseql.cache_entries'::regclass")
    )
    assert persistence == "u"  # UNLOGGED


async def test_store_roundtrip_and_upsert(store: PostgresCacheStore, tag: str) -> None:
    key = new_key()
    assert await store.get(key) is None
    await store.set(key, BODY, [tag, "tb_user"], ttl_s=60)
    entry = await store.get(key)
    assert entry is not None
    assert entry.value == BODY and entry.tables == (tag, "tb_user")
    assert 0 < entry.ttl_remaining_s <= 60
    await store.set(key, b'{"data":2}', [tag], ttl_s=60)
    entry = await store.get(key)
    assert entry is not None and entry.value == b'{"data":2}' and entry.tables == (tag,)


async def test_expired_entries_are_ignored_then_purged(store: PostgresCacheStore, tag: str) -> None:
    expired, live = new_key(), new_key()
    await store.set(expired, BODY, [tag], ttl_s=-1)  # already past its expiry
    await store.set(live, BODY, [tag], ttl_s=60)
    assert await store.get(expired) is None
    assert await row_exists(store.db, expired)
    assert await store.purge_expired() >= 1
    assert not await row_exists(store.db, expired)
    assert await store.get(live) is not None


async def test_invalidate_deletes_entries_sharing_any_tag(store: PostgresCacheStore, tag: str) -> None:
    other = tag + "_other"
    both, only_tag, only_other = new_key(), new_key(), new_key()
    await store.set(both, BODY, [tag, other], ttl_s=60)
    await store.set(only_tag, BODY, [tag], ttl_s=60)
    await store.set(only_other, BODY, [other], ttl_s=60)
    assert await store.invalidate([tag, tag + "_unused"]) == 2
    assert await store.get(both) is None and await store.get(only_tag) is None
    assert await store.get(only_other) is not None
    assert await store.invalidate([]) == 0


# -- view_tables ----------------------------------------------------------------------


@pytest.fixture
async def blog_schema(cache_db: Database) -> AsyncIterator[str]:
    schema = f"s_{uuid.uuid4().hex[:10]}"
    statements = [
        "CREATE SCHEMA {s}",
        "CREATE TABLE {s}.tb_user (id int PRIMARY KEY, name text)",
        "CREATE TABLE {s}.tb_post (id int PRIMARY KEY, author_id int, title text)",
        "CREATE TABLE {s}.tb_comment (id int PRIMARY KEY, post_id int, body text)",
        "CREATE TABLE {s}.tb_unrelated (id int)",
        "CREATE VIEW {s}.v_user AS SELECT id, jsonb_build_object('name', name) AS data FROM {s}.tb_user",
        "CREATE VIEW {s}.v_post AS SELECT p.id, jsonb_build_object('title', p.title, 'author', u.data)"
        " AS data FROM {s}.tb_post p JOIN {s}.v_user u ON u.id = p.author_id",
        "CREATE VIEW {s}.v_post_full AS SELECT p.id, p.data || jsonb_build_object('comments',"
        " (SELECT count(*) FROM {s}.tb_comment c WHERE c.post_id = p.id)) AS data FROM {s}.v_post p",
        "CREATE MATERIALIZED VIEW {s}.mv_post_count AS SELECT count(*) AS n FROM {s}.tb_post",
        "CREATE VIEW {s}.v_stats AS SELECT n FROM {s}.mv_post_count",
        "CREATE VIEW {s}.v_constant AS SELECT 1 AS one",
    ]
    async with cache_db.transaction() as conn:
        for statement in statements:
            await conn.execute(sql.SQL(statement).format(s=sql.Identifier(schema)))
    yield schema
    async with cache_db.transaction() as conn:
        await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def test_view_tables_follows_views_of_views(cache_db: Database, blog_schema: str) -> None:
    tables = await view_tables(cache_db, f"{blog_schema}.v_post_full")
    assert tables == {"tb_post", "tb_user", "tb_comment"}


async def test_view_tables_of_a_simple_view(cache_db: Database, blog_schema: str) -> None:
    assert await view_tables(cache_db, f"{blog_schema}.v_user") == {"tb_user"}


async def test_materialised_views_are_tags_and_are_followed(cache_db: Database, blog_schema: str) -> None:
    assert await view_tables(cache_db, f"{blog_schema}.v_stats") == {"mv_post_count", "tb_post"}


async def test_a_table_is_its_own_tag(cache_db: Database, blog_schema: str) -> None:
    assert await view_tables(cache_db, f"{blog_schema}.tb_post") == {"tb_post"}


async def test_a_view_reading_no_table_has_no_tags(cache_db: Database, blog_schema: str) -> None:
    assert await view_tables(cache_db, f"{blog_schema}.v_constant") == frozenset()


async def test_an_unknown_relation_is_an_error(cache_db: Database) -> None:
    with pytest.raises(UnknownRelation):
        await view_tables(cache_db, "v_does_not_exist")


async def test_a_name_is_a_parameter_not_sql(cache_db: Database) -> None:
    with pytest.raises(UnknownRelation):
        await view_tables(cache_db, "pg_class'); DROP TABLE x; --")


async def test_stale_entries_are_read_within_the_window_and_purged_after_it(
    store: PostgresCacheStore, tag: str
) -> None:
    recent, ancient = new_key(), new_key()
    await store.set(recent, BODY, [tag], ttl_s=-5)  # expired 5 s ago
    await store.set(ancient, BODY, [tag], ttl_s=-500)  # expired 500 s ago
    entry = await store.get_stale(recent, max_stale_s=60)
    assert entry is not None and entry.value == BODY and -6 < entry.ttl_remaining_s <= -5
    assert await store.get_stale(ancient, max_stale_s=60) is None
    await store.purge_expired(grace_s=60)
    assert await row_exists(store.db, recent) and not await row_exists(store.db, ancient)


async def test_maintenance_purges_expired_cache_rows_and_old_idempotency_keys(
    store: PostgresCacheStore, tag: str
) -> None:
    from fraiseql.cache import ResultCache
    from fraiseql.db.runtime_schema import ensure_runtime_schema
    from fraiseql.http.maintenance import Maintenance

    db = store.db
    await ensure_runtime_schema(db)
    old, fresh = new_key(), new_key()
    async with db.transaction() as conn:
        for key, age in ((old, "25 hours"), (fresh, "1 hour")):
            await conn.execute(
                "INSERT INTO fraiseql.idempotency (mutation, key, input_hash, result, created_at)"
                " VALUES ('fn_test', %s, 'h', '{}', now() - %s::interval)",
                [key, age],
            )
    expired = new_key()
    await store.set(expired, BODY, [tag], ttl_s=-1)
    maintenance = Maintenance(db, ResultCache(ttl_s=30, store=store), interval_s=300)
    assert await maintenance.run_once() >= 2
    assert not await row_exists(db, expired)
    keys = await db.fetch_rows("SELECT key FROM fraiseql.idempotency WHERE key = ANY(%s)", [[old, fresh]])
    assert keys == [(fresh,)]
    assert maintenance.runs == 1
