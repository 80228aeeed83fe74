"""The blog example app end to end: HTTP -> GraphQL -> PostgreSQL views and functions."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import graphql
import httpx
import psycopg
import pytest

from examples.blog import app as blog_app
from examples.blog.database import init_database
from fraiseql.context import RequestContext
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database

pytestmark = pytest.mark.integration

_names = itertools.count(1)

@pytest.fixture(scope="module")
def blog_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"blog_app_{os.getpid()}_{next(_names)}")
    asyncio.run(init_database(url, rows=50, progress=None))
    return url


@pytest.fixture
async def client(blog_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("DATABASE_URL", blog_url)
    app = blog_app.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog.test") as http:
            yield http


async def _graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _scalar(url: str, query: str, params: list[Any] | None = None) -> Any:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (await conn.execute(query, params)).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


async def test_posts_come_with_author_comments_and_excerpt(client: httpx.AsyncClient) -> None:
    data = await _graphql(client, """
        { posts(limit: 3) { id title excerpt(length: 8) author { name email }
                            comments { body author { name } } } }
    """)
    assert len(data["posts"]) == 3
    for post in data["posts"]:
        assert len(post["excerpt"]) <= 8 and post["author"]["email"].endswith("@example.com")


async def test_post_by_id_matches_the_view(client: httpx.AsyncClient, blog_url: str) -> None:
    post_id = str(await _scalar(blog_url, "SELECT id FROM tb_post ORDER BY id LIMIT 1"))
    data = await _graphql(client, "query($id: ID!) { post(id: $id) { id title publishedAt tags } }", id=post_id)
    document = await _scalar(blog_url, "SELECT data FROM v_post WHERE id = %s", [post_id])
    assert data["post"]["id"] == post_id
    assert (data["post"]["title"], data["post"]["tags"]) == (document["title"], document["tags"])


CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename
    ... on CreatePostSuccess { message post { id title author { id } } }
    ... on CreatePostError { message code }
  }
}
"""


async def test_create_post_with_a_key_writes_once(client: httpx.AsyncClient, blog_url: str) -> None:
    author = str(await _scalar(blog_url, "SELECT id FROM tb_user ORDER BY id LIMIT 1"))
    payload = {"title": "Over HTTP", "body": "b", "authorId": author, "idempotencyKey": "app-key-1"}
    first = await _graphql(client, CREATE, input=payload)
    second = await _graphql(client, CREATE, input=payload)
    assert first == second
    assert first["createPost"]["__typename"] == "CreatePostSuccess"
    assert first["createPost"]["post"]["author"]["id"] == author
    assert await _scalar(blog_url, "SELECT count(*) FROM tb_post WHERE title = 'Over HTTP'") == 1


async def test_create_post_error_type_carries_the_code(client: httpx.AsyncClient, blog_url: str) -> None:
    author = str(await _scalar(blog_url, "SELECT id FROM tb_user ORDER BY id LIMIT 1"))
    data = await _graphql(client, CREATE, input={"title": " ", "body": "b", "authorId": author})
    assert data["createPost"]["__typename"] == "CreatePostError"
    assert data["createPost"]["code"] == "EMPTY_TITLE"


async def test_comment_update_and_a_refused_delete(client: httpx.AsyncClient, blog_url: str) -> None:
    author = str(await _scalar(blog_url, "SELECT id FROM tb_user ORDER BY id LIMIT 1"))
    created = await _graphql(client, CREATE, input={"title": "Lifecycle", "body": "b", "authorId": author})
    post_id = created["createPost"]["post"]["id"]
    comment = await _graphql(client, """
        mutation($input: AddCommentInput!) { addComment(input: $input) {
            ... on AddCommentSuccess { comment { body author { id } } } } }
    """, input={"postId": post_id, "body": "first!", "authorId": author})
    assert comment["addComment"]["comment"] == {"body": "first!", "author": {"id": author}}
    updated = await _graphql(client, """
        mutation($input: UpdatePostInput!) { updatePost(input: $input) {
            ... on UpdatePostSuccess { post { title body comments { body } } } } }
    """, input={"id": post_id, "title": "Renamed"})
    assert updated["updatePost"]["post"] == {"title": "Renamed", "body": "b", "comments": [{"body": "first!"}]}
    # deletePost needs post:delete: without FRAISEQL_AUTH_* nobody has it (deleting with an
    # editor's token: tests/integration/test_example_blog_rbac.py).
    refused = await client.post("/graphql", json={"query": """
        mutation($input: DeletePostInput!) { deletePost(input: $input) { __typename } }
    """, "variables": {"input": {"id": post_id}}})
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await _scalar(blog_url, "SELECT count(*) FROM tb_post WHERE id = %s", [post_id]) == 1


async def test_mutations_through_the_schema_resolvers(blog_url: str) -> None:
    """The example's mutations as graphql-core executes them (no HTTP layer)."""
    async with Database(blog_url, min_size=1, max_size=2) as db:
        author = str(await db.fetch_value("SELECT id FROM tb_user ORDER BY id LIMIT 1"))
        context = {"db": db, "request_context": RequestContext(user_id=author)}
        payload = {"title": "Schema path", "body": "body", "authorId": author, "idempotencyKey": "schema-1"}
        results = [
            await graphql.graphql(blog_app.schema, CREATE, context_value=context, variable_values={"input": payload})
            for _ in range(2)
        ]
        assert results[0].errors is None and results[0].data == results[1].data
        post_id = results[0].data["createPost"]["post"]["id"]  # type: ignore[index]
        comment = await graphql.graphql(
            blog_app.schema,
            "mutation($input: AddCommentInput!) { addComment(input: $input) {"
            " ... on AddCommentSuccess { comment { body author { id } } } } }",
            context_value=context, variable_values={"input": {"postId": post_id, "body": "mine"}},
        )
        assert comment.data == {"addComment": {"comment": {"body": "mine", "author": {"id": author}}}}
        assert await db.fetch_value("SELECT count(*) FROM tb_post WHERE title = 'Schema path'") == 1


async def test_cached_reads_of_the_projection_are_cleared_by_mutations(
    client: httpx.AsyncClient, blog_url: str
) -> None:
    """Post reads tv_post; projection_of tags them with v_post's tables (the cache is on)."""
    author = str(await _scalar(blog_url, "SELECT id FROM tb_user ORDER BY id LIMIT 1"))
    query = '{ posts(where: {title: {eq: "Cache me"}}) { title comments { body } } }'
    assert (await _graphql(client, query))["posts"] == []
    created = await _graphql(client, CREATE, input={"title": "Cache me", "body": "b", "authorId": author})
    assert (await _graphql(client, query))["posts"] == [{"title": "Cache me", "comments": []}]
    await _graphql(client, """
        mutation($input: AddCommentInput!) { addComment(input: $input) { __typename } }
    """, input={"postId": created["createPost"]["post"]["id"], "body": "seen", "authorId": author})
    assert (await _graphql(client, query))["posts"] == [{"title": "Cache me", "comments": [{"body": "seen"}]}]


async def test_nested_filters_and_ordering_read_the_projection_like_the_view(
    client: httpx.AsyncClient, blog_url: str
) -> None:
    name = await _scalar(blog_url, "SELECT name FROM tb_user ORDER BY id LIMIT 1")
    data = await _graphql(client, """
        query($name: String!) { posts(where: {author: {name: {eq: $name}}, tags: {isNull: false}},
                                      orderBy: [{field: publishedAt, direction: DESC}, {field: id}]) {
            id author { name } } }
    """, name=name)
    async with await psycopg.AsyncConnection.connect(blog_url) as conn:
        cursor = await conn.execute(
            "SELECT id::text FROM v_post WHERE data->'author'->>'name' = %s"
            " ORDER BY (data->>'published_at')::timestamptz DESC NULLS FIRST, id", [name],
        )
        expected = [row[0] for row in await cursor.fetchall()]
    assert expected and [post["id"] for post in data["posts"]] == expected
    assert {post["author"]["name"] for post in data["posts"]} == {name}
