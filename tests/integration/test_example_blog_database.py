"""The blog example's schema, seed and write functions against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from examples.blog.database import init_database
from examples.blog.seed import user_count
from fraiseql.context import RequestContext
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database

pytestmark = pytest.mark.integration

SMALL_ROWS = 200
_names = itertools.count(1)
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def _fresh_blog_database(cluster: LocalPostgres, rows: int) -> str:
    url = cluster.create_database(f"blog_{os.getpid()}_{next(_names)}")
    asyncio.run(init_database(url, rows=rows, progress=None))
    return url


@pytest.fixture(scope="module")
def blog_url(pg_cluster: LocalPostgres) -> str:
    """One small seeded blog database shared by this module's tests."""
    return _fresh_blog_database(pg_cluster, SMALL_ROWS)


@pytest.fixture
async def blog_db(blog_url: str) -> AsyncIterator[Database]:
    db = Database(blog_url, min_size=1, max_size=4)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


async def _documents(url: str, view: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(f"SELECT data::text FROM {view} ORDER BY id")  # type: ignore[arg-type]
        return [row[0] for row in await cursor.fetchall()]


async def _call(db: Database, function: str, payload: dict[str, Any], ctx: RequestContext | None = None) -> Any:
    return await db.fetch_value(
        f"SELECT {function}(%s::jsonb)",  # type: ignore[arg-type]
        [psycopg.types.json.Jsonb(payload)],
        context=ctx,
    )


async def _any_user_id(db: Database) -> str:
    return str(await db.fetch_value("SELECT id FROM tb_user ORDER BY id LIMIT 1"))


async def _any_post_id(db: Database) -> str:
    return str(await db.fetch_value("SELECT id FROM tb_post ORDER BY id LIMIT 1"))


# --- schema and seed ---------------------------------------------------------------


@pytest.mark.slow
async def test_default_seed_loads_ten_thousand_posts(pg_cluster: LocalPostgres) -> None:
    url = pg_cluster.create_database(f"blog_{os.getpid()}_{next(_names)}")
    counts = await init_database(url, progress=None)
    assert (counts.users, counts.posts) == (1_000, 10_000)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT (SELECT count(*) FROM tb_user), (SELECT count(*) FROM tb_post),"
            " (SELECT count(*) FROM tb_comment), (SELECT count(*) FROM v_post)"
        )
        users, posts, comments, documents = await cursor.fetchone()  # type: ignore[misc]
    assert (users, posts, documents) == (1_000, 10_000, 10_000)
    assert comments == counts.comments
    assert 10_000 <= comments <= 50_000  # 0 to 5 per post


async def test_seed_is_deterministic_across_databases(pg_cluster: LocalPostgres, blog_url: str) -> None:
    other = await asyncio.to_thread(_fresh_blog_database, pg_cluster, SMALL_ROWS)
    assert await _documents(other, "v_post") == await _documents(blog_url, "v_post")
    assert await _documents(other, "v_user") == await _documents(blog_url, "v_user")


async def test_init_database_is_rerunnable(pg_cluster: LocalPostgres) -> None:
    url = await asyncio.to_thread(_fresh_blog_database, pg_cluster, 50)
    first = await _documents(url, "v_post")
    counts = await init_database(url, rows=50, progress=None)
    assert counts.posts == 50 and counts.users == user_count(50)
    assert await _documents(url, "v_post") == first


async def test_init_database_reports_progress(pg_cluster: LocalPostgres) -> None:
    url = pg_cluster.create_database(f"blog_{os.getpid()}_{next(_names)}")
    messages: list[str] = []
    await init_database(url, rows=10, progress=messages.append)
    assert any("seeded 10 posts" in message for message in messages)
    assert "loaded" in messages[-1]


async def test_post_document_has_the_api_shape(blog_db: Database) -> None:
    doc = await blog_db.fetch_value(
        "SELECT data FROM v_post WHERE jsonb_array_length(data->'comments') >= 2"
        " AND data->>'published_at' IS NOT NULL ORDER BY id LIMIT 1"
    )
    assert set(doc) == {"id", "title", "body", "published_at", "tags", "author", "comments"}
    uuid.UUID(doc["id"])
    assert ISO_UTC.match(doc["published_at"])
    assert all(isinstance(tag, str) for tag in doc["tags"])
    assert set(doc["author"]) == {"id", "name", "email", "created_at"}
    assert ISO_UTC.match(doc["author"]["created_at"])
    for comment in doc["comments"]:
        assert set(comment) == {"id", "body", "created_at", "author"}
        assert set(comment["author"]) == {"id", "name", "email", "created_at"}
    created = [comment["created_at"] for comment in doc["comments"]]
    assert created == sorted(created)


async def test_documents_do_not_depend_on_the_session_time_zone(blog_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(blog_url) as conn:
        await conn.execute("SET TimeZone = 'Asia/Kolkata'")
        cursor = await conn.execute("SELECT data::text FROM v_post ORDER BY id")
        shifted = [row[0] for row in await cursor.fetchall()]
    assert shifted == await _documents(blog_url, "v_post")


async def test_post_without_comments_has_an_empty_list(blog_db: Database) -> None:
    comments = await blog_db.fetch_value(
        "SELECT data->'comments' FROM v_post p"
        " WHERE NOT EXISTS (SELECT 1 FROM tb_comment c WHERE c.post_id = p.id) LIMIT 1"
    )
    assert comments == []


# --- write functions ------------------------------------------------------------------


async def test_create_post_returns_the_document(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    result = await _call(
        blog_db, "fn_create_post",
        {"title": "  Hello  ", "body": "World", "author_id": author, "tags": ["a", "b"]},
    )
    assert result["status"] == "success"
    post = result["object"]
    assert (post["title"], post["body"], post["tags"], post["comments"]) == ("Hello", "World", ["a", "b"], [])
    assert post["author"]["id"] == author and post["published_at"] is None
    stored = await blog_db.fetch_value("SELECT data FROM v_post WHERE id = %s", [post["id"]])
    assert stored == post


async def test_create_post_takes_the_author_from_the_request_user(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    result = await _call(blog_db, "fn_create_post", {"title": "Mine", "body": "x"}, RequestContext(user_id=author))
    assert result["status"] == "success"
    assert result["object"]["author"]["id"] == author


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"title": "", "body": "x"}, "invalid_input", "EMPTY_TITLE"),
        ({"title": "   ", "body": "x"}, "invalid_input", "EMPTY_TITLE"),
        ({"title": "t"}, "invalid_input", "MISSING_BODY"),
        ({"title": "t", "body": "x", "tags": "nope"}, "invalid_input", "INVALID_TAGS"),
        ({"title": "t", "body": "x", "tags": [1, 2]}, "invalid_input", "INVALID_TAGS"),
        ({"title": "t", "body": "x", "published_at": "yesterday-ish"}, "invalid_input", "INVALID_TIMESTAMP"),
        ({"title": "t", "body": "x", "author_id": str(uuid.uuid4())}, "not_found", "AUTHOR_NOT_FOUND"),
        ({"title": "t", "body": "x", "author_id": "not-a-uuid"}, "not_found", "AUTHOR_NOT_FOUND"),
        ({"title": "t", "body": "x"}, "not_found", "AUTHOR_NOT_FOUND"),
    ],
    ids=["empty-title", "blank-title", "no-body", "tags-not-list", "tags-not-strings",
         "bad-timestamp", "unknown-author", "malformed-author", "no-author"],
)
async def test_create_post_rejects_bad_input(
    blog_db: Database, payload: dict[str, Any], status: str, code: str
) -> None:
    before = await blog_db.fetch_value("SELECT count(*) FROM tb_post")
    result = await _call(blog_db, "fn_create_post", payload)
    assert result == {"status": status, "message": result["message"], "code": code, "object": None}
    assert await blog_db.fetch_value("SELECT count(*) FROM tb_post") == before


async def test_update_post_changes_only_given_fields(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    created = await _call(blog_db, "fn_create_post", {"title": "Old", "body": "Body", "author_id": author, "tags": ["x"]})
    post_id = created["object"]["id"]
    result = await _call(
        blog_db, "fn_update_post", {"id": post_id, "title": "New", "published_at": "2024-05-01T10:00:00Z"}
    )
    assert result["status"] == "success"
    post = result["object"]
    assert (post["title"], post["body"], post["tags"]) == ("New", "Body", ["x"])
    assert post["published_at"] == "2024-05-01T10:00:00.000000+00:00"


async def test_update_post_treats_null_as_unset(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    created = await _call(blog_db, "fn_create_post", {"title": "Keep", "body": "B", "author_id": author, "tags": ["t"]})
    post_id = created["object"]["id"]
    result = await _call(
        blog_db, "fn_update_post",
        {"id": post_id, "title": None, "body": None, "tags": None, "published_at": None},
    )
    assert result["status"] == "success"
    assert result["object"] == created["object"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"id": str(uuid.uuid4()), "title": "x"}, "POST_NOT_FOUND"),
        ({"id": "garbage"}, "POST_NOT_FOUND"),
        ({"id": None, "title": ""}, "EMPTY_TITLE"),
    ],
    ids=["unknown", "malformed", "empty-title"],
)
async def test_update_post_errors(blog_db: Database, payload: dict[str, Any], code: str) -> None:
    if payload["id"] is None:
        payload = {**payload, "id": await _any_post_id(blog_db)}
    result = await _call(blog_db, "fn_update_post", payload)
    assert (result["code"], result["object"]) == (code, None)
    assert result["status"] != "success"


async def test_delete_post_returns_the_deleted_document(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    created = await _call(blog_db, "fn_create_post", {"title": "Gone", "body": "soon", "author_id": author})
    post_id = created["object"]["id"]
    result = await _call(blog_db, "fn_delete_post", {"id": post_id})
    assert result["status"] == "success" and result["object"] == created["object"]
    assert await blog_db.fetch_value("SELECT count(*) FROM tb_post WHERE id = %s", [post_id]) == 0
    again = await _call(blog_db, "fn_delete_post", {"id": post_id})
    assert (again["status"], again["code"]) == ("not_found", "POST_NOT_FOUND")


async def test_add_comment_appends_to_the_post_document(blog_db: Database) -> None:
    author = await _any_user_id(blog_db)
    post_id = (await _call(blog_db, "fn_create_post", {"title": "C", "body": "b", "author_id": author}))["object"]["id"]
    first = await _call(blog_db, "fn_add_comment", {"post_id": post_id, "body": "one", "author_id": author})
    second = await _call(blog_db, "fn_add_comment", {"post_id": post_id, "body": "two"}, RequestContext(user_id=author))
    assert first["status"] == second["status"] == "success"
    assert set(first["object"]) == {"id", "body", "created_at", "author"}
    doc = await blog_db.fetch_value("SELECT data FROM v_post WHERE id = %s", [post_id])
    assert [comment["id"] for comment in doc["comments"]] == [first["object"]["id"], second["object"]["id"]]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"post_id": None, "body": ""}, "EMPTY_BODY"),
        ({"post_id": str(uuid.uuid4()), "body": "hi"}, "POST_NOT_FOUND"),
        ({"post_id": None, "body": "hi", "author_id": str(uuid.uuid4())}, "AUTHOR_NOT_FOUND"),
    ],
    ids=["empty-body", "unknown-post", "unknown-author"],
)
async def test_add_comment_errors(blog_db: Database, payload: dict[str, Any], code: str) -> None:
    if payload["post_id"] is None:
        payload = {**payload, "post_id": await _any_post_id(blog_db)}
    result = await _call(blog_db, "fn_add_comment", payload)
    assert (result["code"], result["object"]) == (code, None)


# --- the projection tv_post ---------------------------------------------------------


async def _projection_differences(url: str) -> list[str]:
    """Posts whose tv_post document is missing, extra or not v_post's (empty when equal)."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT coalesce(v.id, t.id)::text FROM v_post v FULL JOIN tv_post t USING (id)"
            " WHERE v.data IS DISTINCT FROM t.data"
        )
        return [row[0] for row in await cursor.fetchall()]


async def test_seed_fills_the_projection(blog_url: str) -> None:
    assert await _projection_differences(blog_url) == []
    assert await _documents(blog_url, "tv_post") == await _documents(blog_url, "v_post")


async def test_projection_follows_writes_through_functions_and_plain_sql(
    pg_cluster: LocalPostgres,
) -> None:
    url = await asyncio.to_thread(_fresh_blog_database, pg_cluster, 30)
    async with Database(url, min_size=1, max_size=2) as db:
        author = await _any_user_id(db)
        other = str(await db.fetch_value("SELECT id FROM tb_user ORDER BY id DESC LIMIT 1"))
        post_id = (await _call(db, "fn_create_post", {"title": "P", "body": "b", "author_id": author}))["object"]["id"]
        await _call(db, "fn_add_comment", {"post_id": post_id, "body": "c1", "author_id": other})
        await _call(db, "fn_update_post", {"id": post_id, "title": "P2", "tags": ["t"]})
        await db.fetch_value("UPDATE tb_comment SET body = 'edited' WHERE post_id = %s", [post_id])
        await db.fetch_value("UPDATE tb_user SET name = 'Renamed' WHERE id = %s", [other])
        await db.fetch_value(
            "INSERT INTO tb_post (author_id, title, body) SELECT id, 'plain', 'sql' FROM tb_user LIMIT 3"
        )
        await db.fetch_value("DELETE FROM tb_comment WHERE id IN (SELECT id FROM tb_comment LIMIT 5)")
        await db.fetch_value(
            "DELETE FROM tb_post WHERE id IN (SELECT id FROM tb_post WHERE id <> %s ORDER BY id LIMIT 2)",
            [post_id],
        )
        await db.fetch_value("UPDATE tb_post SET title = title WHERE false")
        doc = await db.fetch_value("SELECT data FROM tv_post WHERE id = %s", [post_id])
        assert doc["title"] == "P2" and doc["comments"][0]["body"] == "edited"
        assert doc["comments"][0]["author"]["name"] == "Renamed"
        deleted = await _call(db, "fn_delete_post", {"id": post_id})
        assert deleted["object"] == doc
    assert await _projection_differences(url) == []


async def test_projection_keeps_concurrent_comments_on_one_post(pg_cluster: LocalPostgres) -> None:
    """Writers that refresh the same post at once queue; none overwrites another's comment."""
    url = await asyncio.to_thread(_fresh_blog_database, pg_cluster, 10)
    async with Database(url, min_size=8, max_size=8) as db:
        author = await _any_user_id(db)
        post_id = await _any_post_id(db)

        async def comment(n: int) -> None:
            async with db.transaction() as conn:
                await conn.execute(
                    "SELECT fn_add_comment(%s::jsonb)",
                    [psycopg.types.json.Jsonb({"post_id": post_id, "body": f"c{n}", "author_id": author})],
                )
                await conn.execute("SELECT pg_sleep(0.01)")  # hold the row lock a while

        await asyncio.gather(*(comment(n) for n in range(16)))
        doc = await db.fetch_value("SELECT data FROM tv_post WHERE id = %s", [post_id])
    assert {f"c{n}" for n in range(16)} <= {c["body"] for c in doc["comments"]}
    assert await _projection_differences(url) == []


async def test_projection_shows_drafts_only_to_their_author_like_the_view(blog_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(blog_url, autocommit=True) as conn:
        row = await (await conn.execute(
            "SELECT author_id::text, (SELECT count(*) FROM tb_post) FROM tb_post"
            " WHERE published_at IS NULL ORDER BY id LIMIT 1"
        )).fetchone()
        assert row is not None
        author, total = row
        await conn.execute("SET ROLE blog_reader")  # policies bind roles that do not own the table
        seen = {}
        for user in ("", author):
            await conn.execute("SELECT set_config('fraiseql.user_id', %s, false)", [user])
            visible = {}
            for source in ("v_post", "tv_post"):
                cursor = await conn.execute(f"SELECT id::text FROM {source} ORDER BY id")  # type: ignore[arg-type]
                visible[source] = [r[0] for r in await cursor.fetchall()]
            table = visible["tv_post"]
            assert table == visible["v_post"]
            seen[user] = len(table)
        await conn.execute("RESET ROLE")
    assert seen[""] < seen[author] < total
