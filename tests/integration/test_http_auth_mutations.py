"""Protected mutations over real HTTP with real tokens from the local HTTPS issuer.

Each mutation calls the blog example's ``fn_create_post``; a refused one must answer
401/403 with its code and leave no row behind, and (counted at the ``db.execute`` fault
point, which every statement the runtime sends passes) send no SQL at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

import fraiseql.types as ft
from chaos.stack.issuer import LocalIssuer
from fraiseql import faults
from fraiseql.auth import JWTProvider, requires_auth, requires_permission, requires_role
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app
from fraiseql.types import ID

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

registry = ft.Registry()


@ft.type(sql_source="v_post", registry=registry)
class Post:
    id: ID
    title: str

    @ft.field
    @requires_role("auditor")
    def audit_trail(self, info: Any) -> str:
        return "seen"


posts = ft.list_query(Post, name="posts", registry=registry)


@ft.input(registry=registry)
class NewPost:
    title: str
    body: str
    author_id: ID


@ft.type(registry=registry)
class PostWritten:
    message: str
    post: Post


@ft.type(registry=registry)
class PostRefused:
    message: str
    code: str


@ft.mutation(function="fn_create_post", registry=registry)
@requires_auth
class CreatePostSignedIn:
    input: NewPost
    success: PostWritten
    error: PostRefused


@ft.mutation(function="fn_create_post", registry=registry)
@requires_role("editor")
class CreatePostAsEditor:
    input: NewPost
    success: PostWritten
    error: PostRefused


@ft.mutation(function="fn_create_post", registry=registry)
@requires_permission("post:create")
class CreatePostWithPermission:
    input: NewPost
    success: PostWritten
    error: PostRefused


@ft.mutation(function="fn_create_post", registry=registry)
class CreatePostOpenly:
    input: NewPost
    success: PostWritten
    error: PostRefused


schema = ft.build_schema(registry)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        running.mint(alg="RS256")
        yield running


@pytest.fixture(scope="module")
def server(issuer: LocalIssuer, blog_database_url: str) -> Iterator[RunningServer]:
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, ca_file=issuer.ca_file)
    app = create_app(schema=schema, database_url=blog_database_url, auth=provider,
                     config=FraiseQLConfig(cache_enabled=False))
    yield from serve_in_thread(app)


@pytest.fixture(scope="module")
def author(blog_database_url: str) -> str:
    with psycopg.connect(blog_database_url) as conn:
        return str(conn.execute("SELECT id FROM tb_user ORDER BY id LIMIT 1").fetchone()[0])  # type: ignore[index]


@pytest.fixture
def statements() -> Callable[[], int]:
    """How many statements the runtime has sent since the test started."""
    point = faults.point("db.execute")
    faults.install("db.execute", lambda payload, context: None)  # counts, changes nothing
    start = point.fired
    return lambda: point.fired - start


def rows_titled(url: str, title: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM tb_post WHERE title = %s", (title,)).fetchone()[0]  # type: ignore[index]


def mutate(server: RunningServer, mutation: str, author: str, token: str | None) -> tuple[httpx.Response, str]:
    title = f"auth-probe {uuid.uuid4()}"
    query = (f"mutation($i: NewPost!) {{ {mutation}(input: $i) {{ __typename "
             "... on PostWritten { post { title } } ... on PostRefused { code } } }")
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{server.url}/graphql", headers=headers, timeout=10, json={
        "query": query, "variables": {"i": {"title": title, "body": "b", "authorId": author}},
    })
    return response, title


TOKENS: dict[str, Callable[[LocalIssuer], str | None]] = {
    "anonymous": lambda issuer: None,
    "signed-in": lambda issuer: issuer.mint(subject="reader"),
    "editor": lambda issuer: issuer.mint(subject="ed", roles=["editor"]),
    "may-create": lambda issuer: issuer.mint(subject="pc", permissions=["post:create"]),
    "post-wildcard": lambda issuer: issuer.mint(subject="pw", permissions=["post:*"]),
}

# mutation -> caller -> None (runs) or the refusal's (status, code)
EXPECTED: dict[str, dict[str, tuple[int, str] | None]] = {
    "createPostSignedIn": {"anonymous": (401, "UNAUTHENTICATED"), "signed-in": None, "editor": None,
                           "may-create": None, "post-wildcard": None},
    "createPostAsEditor": {"anonymous": (401, "UNAUTHENTICATED"), "signed-in": (403, "FORBIDDEN"),
                           "editor": None, "may-create": (403, "FORBIDDEN"), "post-wildcard": (403, "FORBIDDEN")},
    "createPostWithPermission": {"anonymous": (401, "UNAUTHENTICATED"), "signed-in": (403, "FORBIDDEN"),
                                 "editor": (403, "FORBIDDEN"), "may-create": None, "post-wildcard": None},
    "createPostOpenly": {"anonymous": None, "signed-in": None, "editor": None, "may-create": None,
                         "post-wildcard": None},
}
CASES = [(m, c) for m, callers in EXPECTED.items() for c in callers]


@pytest.mark.parametrize(("mutation", "caller"), CASES, ids=[f"{m}-{c}" for m, c in CASES])
def test_a_protected_mutation_runs_only_for_callers_who_meet_its_requirement(
    server: RunningServer, issuer: LocalIssuer, blog_database_url: str, author: str,
    statements: Callable[[], int], mutation: str, caller: str,
) -> None:
    response, title = mutate(server, mutation, author, TOKENS[caller](issuer))
    refusal = EXPECTED[mutation][caller]
    if refusal is None:
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {mutation: {"__typename": "PostWritten", "post": {"title": title}}}}
        assert rows_titled(blog_database_url, title) == 1
        assert statements() > 0  # the counter does see the mutation's statements
        return
    status, code = refusal
    assert response.status_code == status
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body.get("data") is None
    expected_challenge = "Bearer" if status == 401 else 'Bearer error="insufficient_scope"'
    assert response.headers["www-authenticate"] == expected_challenge
    assert statements() == 0  # refused before any SQL: fn_create_post was never called
    assert rows_titled(blog_database_url, title) == 0


def test_a_refused_field_refuses_the_query_before_any_sql(
    server: RunningServer, issuer: LocalIssuer, statements: Callable[[], int]
) -> None:
    query = {"query": "{ posts(limit: 2) { title auditTrail } }"}
    response = httpx.post(f"{server.url}/graphql", json=query,
                          headers={"authorization": f"Bearer {issuer.mint(roles=['reader'])}"}, timeout=10)
    assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert statements() == 0
    allowed = httpx.post(f"{server.url}/graphql", json=query,
                         headers={"authorization": f"Bearer {issuer.mint(roles=['auditor'])}"}, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["data"]["posts"][0]["auditTrail"] == "seen"
    assert statements() > 0
