"""The schema executed by graphql-core against a real PostgreSQL: view-backed fields,
computed fields, custom queries, cursor pagination, introspection, a mutation."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from graphql import get_introspection_query, graphql
from psycopg.types.json import Jsonb

import fraiseql.types as ft
from fraiseql.db.pool import Database
from fraiseql.db.repository import Repository
from fraiseql.schema import build_schema

pytestmark = pytest.mark.integration

SCHEMA = "fq_schema_exec"
AUTHOR = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "exec-author")), "name": "Ann"}
POST_COUNT = 23


def post_id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"exec-post-{n}"))


def document(n: int) -> dict[str, Any]:
    return {
        "id": post_id(n),
        "title": f"Post {n:02d}",
        "body": f"Body of post number {n}",
        # Ties (n % 4) and NULLs (every fifth) make keyset pagination earn its keep.
        "rank": None if n % 5 == 0 else n % 4,
        "published_at": f"2024-01-{n + 1:02d}T00:00:00+00:00",
        "tags": ["even"] if n % 2 == 0 else ["odd"],
        "author": AUTHOR,
    }


@pytest.fixture(scope="module")
def tables(pg_url: str) -> Iterator[None]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"CREATE TABLE {SCHEMA}.tb_post (id uuid PRIMARY KEY, data jsonb NOT NULL)")
        conn.execute(f"CREATE VIEW {SCHEMA}.v_post AS SELECT id, data FROM {SCHEMA}.tb_post")
        for n in range(POST_COUNT):
            conn.execute(f"INSERT INTO {SCHEMA}.tb_post VALUES (%s, %s)", [post_id(n), Jsonb(document(n))])
        conn.execute(f"""
            CREATE FUNCTION {SCHEMA}.fn_create_post(input jsonb) RETURNS jsonb
            LANGUAGE plpgsql AS $$
            DECLARE new_id uuid := gen_random_uuid(); doc jsonb;
            BEGIN
              IF coalesce(input->>'title', '') = '' THEN
                RETURN jsonb_build_object('status', 'failed:validation',
                                          'message', 'a title is required',
                                          'code', 'EMPTY_TITLE', 'object', null);
              END IF;
              doc := jsonb_build_object('id', new_id, 'title', input->>'title',
                                        'body', input->>'body', 'rank', null,
                                        'published_at', null,
                                        'tags', coalesce(input->'tags', '[]'::jsonb),
                                        'author', jsonb_build_object('id', input->>'author_id',
                                                                     'name', 'Ann'));
              INSERT INTO {SCHEMA}.tb_post VALUES (new_id, doc);
              RETURN jsonb_build_object('status', 'success', 'message', 'created', 'object', doc);
            END $$""")
        yield
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


@pytest.fixture(scope="module")
def api() -> SimpleNamespace:
    registry = ft.Registry()
    r = {"registry": registry}

    @ft.type(**r)
    class Author:
        id: ft.ID
        name: str

    @ft.type(sql_source=f"{SCHEMA}.v_post", **r)
    class Post:
        id: ft.ID
        title: str
        body: str
        rank: int | None
        published_at: datetime.datetime | None
        tags: list[str]
        author: Author

        @ft.field
        def excerpt(self, info, length: int = 4) -> str:
            return self.body[:length]

        @ft.field
        async def published_year(self, info) -> int | None:
            return None if self.published_at is None else self.published_at.year

    ft.list_query(Post, name="posts", **r)
    ft.get_query(Post, name="post", **r)
    ft.connection_query(Post, name="postsConnection", **r)

    @ft.query(**r)
    async def post_count(info, tag: str | None = None) -> int:
        where = None if tag is None else {"tags": {"contains": tag}}
        return await info.context["repository"].count(Post, where)

    @ft.input(**r)
    class CreatePostInput:
        title: str
        body: str
        author_id: ft.ID
        tags: list[str] | None = None

    @ft.type(**r)
    class CreatePostSuccess:
        message: str
        post: Post

    @ft.type(**r)
    class CreatePostError:
        message: str
        code: str

    @ft.mutation(function=f"{SCHEMA}.fn_create_post", invalidates=("tb_post",), **r)
    class CreatePost:
        input: CreatePostInput
        success: CreatePostSuccess
        error: CreatePostError

    return SimpleNamespace(schema=build_schema(registry, max_limit=50))


@pytest.fixture
def run(api: SimpleNamespace, database: Database, tables: None):
    async def execute(document_text: str, variables: dict | None = None) -> dict[str, Any]:
        context = {"db": database, "repository": Repository(database, None),
                   "request_context": None, "user": None, "request": None}
        result = await graphql(api.schema, document_text, context_value=context,
                               variable_values=variables)
        if result.errors:
            return {"errors": [e.message for e in result.errors], "data": result.data}
        return result.data

    return execute


async def test_list_with_filter_order_limit(run) -> None:
    data = await run("""{ posts(where: {tags: {contains: "even"}, rank: {isNull: false}},
                               orderBy: [{field: rank, direction: DESC}, {field: title}],
                               limit: 3, offset: 1) { title rank publishedAt author { name } } }""")
    assert data == {"posts": [
        {"title": "Post 06", "rank": 2, "publishedAt": "2024-01-07T00:00:00+00:00",
         "author": {"name": "Ann"}},
        {"title": "Post 14", "rank": 2, "publishedAt": "2024-01-15T00:00:00+00:00",
         "author": {"name": "Ann"}},
        {"title": "Post 18", "rank": 2, "publishedAt": "2024-01-19T00:00:00+00:00",
         "author": {"name": "Ann"}},
    ]}


async def test_one_by_id_and_computed_fields(run) -> None:
    data = await run("query($id: ID!) { post(id: $id) { title excerpt long: excerpt(length: 9) "
                     "publishedYear } }", {"id": post_id(3)})
    assert data == {"post": {"title": "Post 03", "excerpt": "Body", "long": "Body of p",
                             "publishedYear": 2024}}
    assert await run('{ post(id: "%s") { title } }' % uuid.uuid4()) == {"post": None}


async def test_custom_query_uses_the_repository(run) -> None:
    assert await run('{ all: postCount odd: postCount(tag: "odd") }') == {
        "all": POST_COUNT, "odd": POST_COUNT // 2,
    }


async def test_limit_above_the_maximum_is_an_error(run) -> None:
    result = await run("{ posts(limit: 51) { id } }")
    assert result["errors"] == ["limit must be at most 50, got 51"]


@pytest.mark.parametrize(
    "order_by",
    [
        None,
        [{"field": "rank", "direction": "DESC", "nulls": "LAST"}],
        [{"field": "rank", "nulls": "FIRST"}, {"field": "title", "direction": "DESC"}],
        [{"field": "rank", "direction": "DESC"}],  # NULLs first (PostgreSQL's default for DESC)
        [{"field": "publishedAt", "direction": "DESC"}],
    ],
)
async def test_connection_walks_every_page_once(run, order_by: list | None) -> None:
    query = """query($after: String, $orderBy: [PostOrderByInput!]) {
        postsConnection(first: 4, after: $after, orderBy: $orderBy,
                        where: {title: {startsWith: "Post"}}) {
          edges { cursor node { id title rank } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          totalCount } }"""
    seen: list[str] = []
    after = None
    for _page in range(POST_COUNT):  # bounded: never more pages than rows
        data = (await run(query, {"after": after, "orderBy": order_by}))["postsConnection"]
        assert data["totalCount"] == POST_COUNT
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        edges = data["edges"]
        seen.extend(edge["node"]["id"] for edge in edges)
        if edges:
            assert data["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == POST_COUNT  # no duplicates, no gaps

    # The walk follows the same order as one big list query.
    everything = await run("query($o: [PostOrderByInput!]) { posts(orderBy: $o, limit: 50) { id } }",
                           {"o": (order_by or []) + [{"field": "id"}]})
    assert seen == [p["id"] for p in everything["posts"]]


async def test_connection_argument_errors(run) -> None:
    bad_cursor = await run('{ postsConnection(first: 2, after: "garbage") { totalCount } }')
    assert "malformed cursor" in bad_cursor["errors"][0]
    negative = await run("{ postsConnection(first: -1) { totalCount } }")
    assert negative["errors"] == ["first must not be negative, got -1"]
    too_many = await run("{ postsConnection(first: 51) { totalCount } }")
    assert too_many["errors"] == ["first must be at most 50, got 51"]


async def test_introspection(run) -> None:
    data = await run(get_introspection_query(descriptions=True))
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"Post", "PostWhereInput", "PostOrderByInput", "PostConnection", "PageInfo",
            "CreatePostResult", "DateTime"} <= names


async def test_mutation_success_and_error(run, database: Database) -> None:
    mutation = """mutation($input: CreatePostInput!) { createPost(input: $input) {
        __typename
        ... on CreatePostSuccess { message post { title tags author { id } } }
        ... on CreatePostError { message code } } }"""
    created = await run(mutation, {"input": {"title": "Fresh", "body": "b", "authorId": AUTHOR["id"],
                                             "tags": ["new"]}})
    assert created == {"createPost": {"__typename": "CreatePostSuccess", "message": "created",
                                      "post": {"title": "Fresh", "tags": ["new"],
                                               "author": {"id": AUTHOR["id"]}}}}
    assert await Repository(database).count(f"{SCHEMA}.v_post", {"title": {"eq": "Fresh"}}) == 1

    failed = await run(mutation, {"input": {"title": "", "body": "b", "authorId": AUTHOR["id"]}})
    assert failed == {"createPost": {"__typename": "CreatePostError",
                                     "message": "a title is required", "code": "EMPTY_TITLE"}}
