"""The Rust fast path and graphql-core answer every read identically.

The same documents run against two apps over the same database: one with the fast path,
one with ``fast_path=False`` (everything through graphql-core). graphql-core is the
reference for GraphQL semantics: aliases, fragments, directives, __typename, nulls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

QUERIES = {
    "scalars-and-nesting": "{ posts(limit: 5) { id title body publishedAt tags author { id name email createdAt } "
    "comments { id body createdAt author { name } } } }",
    "aliases-same-field-twice": "{ posts(limit: 3) { a: title b: title id author { n: name m: name } } }",
    "typename-everywhere": "{ __typename posts(limit: 2) { __typename id author { __typename id } "
    "comments { __typename } } }",
    "fragments-and-inline": "query Q { posts(limit: 3) { ...Core ... on Post { author { ...U } } } } "
    "fragment Core on Post { id title } fragment U on User { name }",
    "directives": "query($yes: Boolean!, $no: Boolean!) { posts(limit: 2) { id title @include(if: $yes) "
    "body @skip(if: $yes) tags @include(if: $no) } }",
    "several-roots-and-aliases": "{ first: posts(limit: 1, offset: 0) { id } second: posts(limit: 1, offset: 1) "
    "{ id } users(limit: 2) { id name } }",
    "one-missing": '{ post(id: "00000000-0000-0000-0000-000000000000") { id title } }',
    "where-order-limit": '{ posts(where: {title: {contains: "a"}}, '
    "orderBy: [{field: title, direction: DESC}], limit: 4) { id title } }",
    "mixed-with-custom-resolver": "{ postCount posts(limit: 2) { id } }",
}
VARIABLES = {"directives": {"yes": True, "no": False}}


@pytest.fixture(scope="module")
def servers(blog_database_url: str) -> Iterator[tuple[RunningServer, RunningServer]]:
    no_cache = dict(cache_enabled=False)
    fast_app = create_app(schema=blog.schema, database_url=blog_database_url, config=FraiseQLConfig(**no_cache))
    core_app = create_app(
        schema=blog.schema, database_url=blog_database_url,
        config=FraiseQLConfig(fast_path=False, **no_cache),
    )
    for fast in serve_in_thread(fast_app):
        for core in serve_in_thread(core_app):
            yield fast, core


@pytest.mark.parametrize("name", QUERIES, ids=list(QUERIES))
def test_fast_path_matches_graphql_core(servers: tuple[RunningServer, RunningServer], name: str) -> None:
    payload = {"query": QUERIES[name], "variables": VARIABLES.get(name, {})}
    fast, core = (httpx.post(f"{s.url}/graphql", json=payload, timeout=10) for s in servers)
    assert fast.status_code == core.status_code == 200, (fast.text, core.text)
    fast_body, core_body = fast.json(), core.json()
    assert "errors" not in core_body, core_body
    assert fast_body == core_body
    # Key order is part of the contract: the selection order.
    assert list(json.loads(fast.text)["data"]) == list(json.loads(core.text)["data"])
