"""GraphQL over real HTTP against the blog example: protocol, limits, bad input, outages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import port_for
import psycopg
import pytest

from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

LIMITS = FraiseQLConfig(
    max_body_bytes=20_000, max_query_depth=6, max_query_complexity=200, max_aliases=10,
    max_batch_size=3,
)


@pytest.fixture(scope="module")
def server(blog_database_url: str) -> Iterator[RunningServer]:
    app = create_app(schema=blog.schema, database_url=blog_database_url, config=LIMITS)
    yield from serve_in_thread(app)


def post(server: RunningServer, payload: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json=payload, timeout=10, **kwargs)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# -- the protocol ---------------------------------------------------------------------


def test_query_over_post_returns_data_built_by_the_fast_path(server: RunningServer) -> None:
    response = post(server, {"query": "{ posts(limit: 2) { id title author { name } } }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    posts = response.json()["data"]["posts"]
    assert len(posts) == 2 and all(set(p) == {"id", "title", "author"} for p in posts)


def test_graphql_response_json_media_type_is_honoured(server: RunningServer) -> None:
    response = post(
        server, {"query": "{ postCount }"}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["data"]["postCount"] > 0


def test_get_query_with_variables(server: RunningServer, blog_database_url: str) -> None:
    with psycopg.connect(blog_database_url) as conn:
        post_id = str(conn.execute("SELECT id FROM tb_post ORDER BY id LIMIT 1").fetchone()[0])
    response = httpx.get(
        f"{server.url}/graphql",
        params={"query": "query($id: ID!) { post(id: $id) { id } }", "variables": json.dumps({"id": post_id})},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"post": {"id": post_id}}}


def test_mutation_over_get_is_405(server: RunningServer) -> None:
    response = httpx.get(
        f"{server.url}/graphql",
        params={"query": 'mutation { deletePost(input: {id: "x"}) { __typename } }'},
    )
    assert response.status_code == 405
    assert codes(response) == ["METHOD_NOT_ALLOWED"]


def test_batch_answers_each_request_in_order(server: RunningServer) -> None:
    response = post(server, [{"query": "{ postCount }"}, {"query": "{ users(limit: 1) { id } }"}])
    assert response.status_code == 200
    first, second = response.json()
    assert first["data"]["postCount"] > 0 and len(second["data"]["users"]) == 1


def test_graphiql_page_for_browsers(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "GraphiQL" in response.text


def test_health_and_ready(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/ready").json()
    assert ready["status"] == "ready" and ready["breaker"]["state"] == "closed"


# -- bad input: 4xx with a code, nothing leaked -----------------------------------------

BAD_REQUESTS = {
    "malformed-json": (b'{"query": "{ posts { id } }"', "application/json", 400, "BAD_REQUEST"),
    "not-an-object": (b'"{ posts { id } }"', "application/json", 400, "BAD_REQUEST"),
    "no-query": (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
    "variables-not-object": (b'{"query": "{ postCount }", "variables": [1]}', "application/json", 400, "BAD_REQUEST"),
    "invalid-graphql": (b'{"query": "{ posts { id "}', "application/json", 400, "GRAPHQL_PARSE_FAILED"),
    "unknown-field": (b'{"query": "{ posts { nope } }"}', "application/json", 400, "GRAPHQL_VALIDATION_FAILED"),
    "wrong-variable-type": (
        b'{"query": "query($n: Int) { posts(limit: $n) { id } }", "variables": {"n": "ten"}}',
        "application/json", 400, "BAD_USER_INPUT",
    ),
    "unsupported-media-type": (b"query=x", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    "oversized-body": (
        json.dumps({"query": "{ postCount }", "pad": "x" * 30_000}).encode(), "application/json", 413,
        "PAYLOAD_TOO_LARGE",
    ),
    "batch-too-large": (json.dumps([{"query": "{ postCount }"}] * 4).encode(), "application/json", 400, "BATCH_TOO_LARGE"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_requests_get_a_status_and_a_code(server: RunningServer, case: str) -> None:
    body, content_type, status, code = BAD_REQUESTS[case]
    response = httpx.post(f"{server.url}/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    if code is not None:
        assert codes(response)[0] == code
        assert "Traceback" not in response.text


def test_too_many_aliases_is_400(server: RunningServer) -> None:
    many_aliases = "{ " + " ".join(f"a{i}: postCount" for i in range(11)) + " }"
    response = post(server, {"query": many_aliases})
    assert response.status_code == 400 and codes(response) == ["TOO_MANY_ALIASES"]


def test_too_complex_is_400_even_through_fragments(server: RunningServer) -> None:
    fields = " ".join(f"f{i}: title" for i in range(8))
    query = "{ posts { ...P } } fragment P on Post { " + fields + " comments { " + \
        " ".join(f"c{i}: body" for i in range(1)) + " } }"
    wide = "{ " + " ".join(f"p{i}: posts {{ ...W }}" for i in range(9)) + " } fragment W on Post { " + \
        " ".join(["id", "title", "body", "tags", "publishedAt"] * 5) + " }"
    assert post(server, {"query": query}).status_code == 200
    response = post(server, {"query": wide})
    assert response.status_code == 400 and codes(response) == ["QUERY_TOO_COMPLEX"]


def test_a_query_deeper_than_the_limit_is_400(blog_database_url: str) -> None:
    app = create_app(schema=blog.schema, database_url=blog_database_url,
                     config=FraiseQLConfig(max_query_depth=3))
    for running in serve_in_thread(app):
        response = post(running, {"query": "{ posts { comments { author { name } } } }"})
        assert response.status_code == 400
        assert codes(response) == ["QUERY_TOO_DEEP"]


def test_validation_errors_keep_every_message_and_location(server: RunningServer) -> None:
    response = post(server, {"query": "{ posts { nope also } }"})
    errors = response.json()["errors"]
    assert len(errors) == 2
    assert all(e["locations"] and e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)


# -- the database is down: 503 with a code, quickly ---------------------------------------


def test_database_down_gives_503_with_a_code_and_no_hang() -> None:
    closed_port = port_for.select_random()
    app = create_app(
        schema=blog.schema,
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port}/nothing",
        config=FraiseQLConfig(pool_timeout_s=0.5, connect_timeout_s=1, cache_enabled=False),
    )
    for running in serve_in_thread(app):
        response = httpx.post(f"{running.url}/graphql", json={"query": "{ posts { id } }"}, timeout=15)
        assert response.status_code == 503
        assert codes(response) == ["DATABASE_UNAVAILABLE"]
        assert response.json()["data"] is None
        # The pool's failed connection attempts at start-up may have opened the circuit
        # already: then Retry-After is its time left, else the configured retry_after_s.
        extensions = response.json()["errors"][0]["extensions"]
        assert response.headers["retry-after"] == str(extensions.get("retryAfterS", 1))
        # The graphql-core path (a custom resolver) reports the same way.
        response = httpx.post(f"{running.url}/graphql", json={"query": "{ postCount }"}, timeout=15)
        assert response.status_code == 503 and codes(response) == ["DATABASE_UNAVAILABLE"]
        assert httpx.get(f"{running.url}/health").status_code == 200
        assert httpx.get(f"{running.url}/ready").status_code == 503


def test_mutation_then_read_sees_the_write_through_the_cache(server: RunningServer, blog_database_url: str) -> None:
    with psycopg.connect(blog_database_url) as conn:
        author = str(conn.execute("SELECT id FROM tb_user ORDER BY id LIMIT 1").fetchone()[0])
    count_query = {"query": "{ posts(where: {title: {startsWith: \"cache-probe\"}}) { id } }"}
    before = post(server, count_query).json()["data"]["posts"]
    assert post(server, count_query).json()["data"]["posts"] == before  # served again (cache)
    key = str(uuid.uuid4())
    mutation = {
        "query": "mutation($i: CreatePostInput!) { createPost(input: $i) { __typename } }",
        "variables": {"i": {"title": "cache-probe", "body": "b", "authorId": author, "idempotencyKey": key}},
    }
    assert post(server, mutation).json()["data"]["createPost"]["__typename"] == "CreatePostSuccess"
    after = post(server, count_query).json()["data"]["posts"]
    assert len(after) == len(before) + 1
