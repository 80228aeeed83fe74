"""Introspection hiding over real HTTP: off by default, and on, mixed with data fields.

The callers' rights come from their tokens (the local HTTPS issuer); the full tour with
database roles is tests/integration/test_example_blog_rbac.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos.stack.issuer import LocalIssuer
from examples.blog import app as blog
from fraiseql.auth import JWTProvider
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

MUTATIONS = "{ __schema { mutationType { fields { name } } } }"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        running.mint(alg="RS256")
        yield running


def serve(issuer: LocalIssuer, url: str, hide: bool) -> Iterator[RunningServer]:
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, ca_file=issuer.ca_file)
    app = create_app(schema=blog.schema, database_url=url, auth=provider, config=FraiseQLConfig(cache_enabled=False),
                     hide_unauthorized_in_introspection=hide)
    yield from serve_in_thread(app)


@pytest.fixture(scope="module")
def hiding(issuer: LocalIssuer, blog_database_url: str) -> Iterator[RunningServer]:
    yield from serve(issuer, blog_database_url, hide=True)


@pytest.fixture(scope="module")
def showing(issuer: LocalIssuer, blog_database_url: str) -> Iterator[RunningServer]:
    yield from serve(issuer, blog_database_url, hide=False)


def ask(server: RunningServer, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def mutation_names(body: dict[str, Any]) -> set[str]:
    return {f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]}


def test_by_default_introspection_shows_everything_to_everyone(showing: RunningServer) -> None:
    assert "deletePost" in mutation_names(ask(showing, MUTATIONS))


def test_hiding_follows_the_tokens_rights(hiding: RunningServer, issuer: LocalIssuer) -> None:
    assert "deletePost" not in mutation_names(ask(hiding, MUTATIONS))
    assert "deletePost" not in mutation_names(ask(hiding, MUTATIONS, issuer.mint(permissions=["post:read"])))
    assert "deletePost" in mutation_names(ask(hiding, MUTATIONS, issuer.mint(permissions=["post:*"])))


def test_introspection_beside_data_fields_keeps_both_and_their_order(hiding: RunningServer) -> None:
    query = "{ first: posts(limit: 1) { id } __typename __schema { mutationType { name } } postCount }"
    body = ask(hiding, query)
    assert list(body["data"]) == ["first", "__typename", "__schema", "postCount"]
    assert len(body["data"]["first"]) == 1 and body["data"]["__typename"] == "Query"
    assert body["data"]["__schema"] == {"mutationType": {"name": "Mutation"}}
    assert body["data"]["postCount"] > 0 and "errors" not in body


def test_type_lookups_and_get_requests_are_hidden_too(hiding: RunningServer, issuer: LocalIssuer) -> None:
    query = '{ __type(name: "DeletePostSuccess") { name } }'
    assert ask(hiding, query)["data"] == {"__type": None}
    allowed = issuer.mint(permissions=["post:delete"])
    assert ask(hiding, query, allowed)["data"] == {"__type": {"name": "DeletePostSuccess"}}
    response = httpx.get(f"{hiding.url}/graphql", params={"query": '{ __type(name: "Query") { fields { name } } }'})
    names = {f["name"] for f in response.json()["data"]["__type"]["fields"]}
    assert "posts" in names and "me" not in names


def test_a_hidden_operation_is_still_refused_not_unknown(hiding: RunningServer) -> None:
    """Hiding is not secrecy: validation runs on the full schema (docs/rbac.md)."""
    response = httpx.post(f"{hiding.url}/graphql", timeout=10, json={
        "query": 'mutation { deletePost(input: {id: "00000000-0000-0000-0000-000000000000"}) { __typename } }',
    })
    assert response.status_code == 401
    assert json.loads(response.text)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
