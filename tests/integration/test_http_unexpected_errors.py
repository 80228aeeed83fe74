"""A resolver that raises something unexpected: INTERNAL_SERVER_ERROR, logged, never leaked.

Real app, real HTTP, real PostgreSQL (the blog example's views); the resolvers below
raise with a message that must stay on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import fraiseql.types as ft
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app
from fraiseql.types import ID

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

SECRET = "password=hunter2 at /srv/app/secrets.py"

registry = ft.Registry()


@ft.type(sql_source="v_post", registry=registry)
class Post:
    id: ID
    title: str

    @ft.field
    def explode(self, info: Any) -> str | None:
        raise ZeroDivisionError(SECRET)


posts = ft.list_query(Post, name="posts", registry=registry)


@ft.query(registry=registry)
async def boom(info: Any) -> int | None:
    raise RuntimeError(SECRET)


@ft.query(registry=registry)
def boom_sync(info: Any) -> str:
    raise KeyError(SECRET)


schema = ft.build_schema(registry)


@pytest.fixture(scope="module")
def server(blog_database_url: str) -> Iterator[RunningServer]:
    app = create_app(schema=schema, database_url=blog_database_url, config=FraiseQLConfig(cache_enabled=False))
    yield from serve_in_thread(app)


def ask(server: RunningServer, query: str) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json={"query": query}, timeout=10)


def assert_nothing_leaked(response: httpx.Response) -> None:
    for fragment in ("hunter2", "secrets.py", "Traceback", "RuntimeError", "KeyError", "ZeroDivisionError", 'File "'):
        assert fragment not in response.text, response.text


@pytest.mark.parametrize(
    ("query", "data", "path"),
    [
        ("{ boom }", {"boom": None}, ["boom"]),
        ("{ boomSync }", None, ["boomSync"]),  # non-null: the null reaches data
        ("{ posts(limit: 1) { id } boom }", "posts-and-null", ["boom"]),  # fast path + graphql-core
        ("{ posts(limit: 1) { title explode } }", "exploded", ["posts", 0, "explode"]),
    ],
    ids=["async-resolver", "sync-non-null", "beside-the-fast-path", "computed-field"],
)
def test_an_unexpected_exception_is_an_internal_error_without_its_text(
    server: RunningServer, caplog: pytest.LogCaptureFixture, query: str, data: Any, path: list[Any]
) -> None:
    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        response = ask(server, query)
    assert response.status_code == 200  # execution ran; the error is a field error
    body = response.json()
    assert body["errors"] == [{
        "message": "Internal server error",
        "locations": body["errors"][0]["locations"],
        "path": path,
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }]
    if data == "posts-and-null":
        assert body["data"]["boom"] is None and len(body["data"]["posts"]) == 1
    elif data == "exploded":
        assert body["data"]["posts"][0]["explode"] is None and body["data"]["posts"][0]["title"]
    else:
        assert body["data"] == data
    assert_nothing_leaked(response)
    # The server keeps what the client may not see: the exception, logged with its traceback.
    logged = [r for r in caplog.records if r.exc_info and SECRET in str(r.exc_info[1])]
    assert logged, [r.getMessage() for r in caplog.records]
