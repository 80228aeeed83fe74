"""The blog example with RBAC, as the harness runs it: its own process, FRAISEQL_AUTH_*
pointing at the local HTTPS issuer, roles and permissions from rbac.sql.

``deletePost`` needs ``post:delete``; every operation the harness's load sends
(chaos/load/operations.py) keeps working for anonymous and token callers alike; and
introspection shows each caller only what it may use.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from chaos.load import operations as load
from chaos.stack.app import AppProcess
from chaos.stack.issuer import LocalIssuer
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

pytestmark = pytest.mark.integration

DELETE = """mutation($input: DeletePostInput!) { deletePost(input: $input) {
  __typename ... on DeletePostSuccess { post { id } } ... on DeletePostError { code } } }"""


def seeded_user(n: int) -> str:
    """The id examples/blog/seed.py gives its n-th user (every one is an author)."""
    return str(uuid.UUID(hashlib.md5(f"blog-user-{n}".encode()).hexdigest()))


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def database_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"blog_rbac_{os.getpid()}")
    asyncio.run(init_database(url, rows=40, progress=None))
    return url


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        running.mint(alg="RS256")
        yield running


@pytest.fixture(scope="module")
def blog(issuer: LocalIssuer, database_url: str) -> Iterator[AppProcess]:
    app = AppProcess({
        "DATABASE_URL": database_url,
        "FRAISEQL_AUTH_ISSUER": issuer.issuer,
        "FRAISEQL_AUTH_AUDIENCE": issuer.audience,
        "FRAISEQL_AUTH_JWKS_URL": issuer.jwks_url,
        "FRAISEQL_AUTH_CA_FILE": issuer.ca_file,
    })
    asyncio.run(app.start())
    try:
        yield app
    finally:
        asyncio.run(app.stop())


@pytest.fixture(scope="module")
def editor(database_url: str) -> str:
    """rbac.sql: the first user by email is an editor (post:*) in tenant 'acme' only."""
    return str(sql(database_url, "SELECT id FROM tb_user ORDER BY email LIMIT 1")[0][0])


def ask(app: AppProcess, query: str, token: str | None = None, **variables: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{app.url}/graphql", json={"query": query, "variables": variables},
                      headers=headers, timeout=15)


def a_post(database_url: str) -> str:
    """A post of its own for each test that changes or deletes one."""
    author = seeded_user(1)
    return str(sql(database_url, "INSERT INTO tb_post (author_id, title, body) VALUES (%s, %s, 'b') RETURNING id",
                   (author, f"rbac {uuid.uuid4()}"))[0][0])


def callers(issuer: LocalIssuer) -> dict[str, str | None]:
    return {"anonymous": None, "author": issuer.mint(subject=seeded_user(2)),
            "claims-only": issuer.mint(subject="no-such-user", roles=["viewer"])}


@pytest.mark.parametrize("caller", ["anonymous", "author", "claims-only"])
def test_the_harness_operations_work_for_every_caller(
    blog: AppProcess, issuer: LocalIssuer, database_url: str, caller: str
) -> None:
    token = callers(issuer)[caller]
    post_id, author = a_post(database_url), seeded_user(3)
    key = str(uuid.uuid4())
    requests = {
        "read_posts": (load.READ_POSTS, {}),
        "read_post": (load.READ_POST, {"id": post_id}),
        "read_connection": (load.READ_CONNECTION, {}),
        "users": ("{ users(limit: 2) { id name } }", {}),
        "user": ("query($id: ID!) { user(id: $id) { id } }", {"id": author}),
        "create_post": load.create_post_request(key, author),
        "update_post": load.update_post_request(f"u-{key}", post_id),
        "add_comment": load.add_comment_request(f"c-{key}", post_id, author),
    }
    for op, (document, variables) in requests.items():
        response = ask(blog, document, token, **variables)
        assert response.status_code == 200, (op, response.text)
        outcome = load.read_outcome(op, response.status_code, response.json())
        assert outcome.codes == [] and not outcome.rejected, (op, outcome)
        if op in load.WRITES:
            assert outcome.ack_id, (op, response.text)
    assert response.json()["data"]["addComment"]["__typename"] == "AddCommentSuccess"
    assert sql(database_url, "SELECT count(*) FROM tb_post WHERE title = %s", (load.title_for(key),)) == [(1,)]


def test_delete_post_needs_post_delete(blog: AppProcess, issuer: LocalIssuer, database_url: str, editor: str) -> None:
    post_id = a_post(database_url)
    refusals = {
        "anonymous": (None, 401, "UNAUTHENTICATED"),
        "author": (issuer.mint(subject=seeded_user(2)), 403, "FORBIDDEN"),  # post:create, not post:delete
        "editor elsewhere": (issuer.mint(subject=editor, tenant_id="globex"), 403, "FORBIDDEN"),
    }
    for who, (token, status, code) in refusals.items():
        response = ask(blog, DELETE, token, input={"id": post_id})
        assert response.status_code == status, (who, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == code, who
        assert sql(database_url, "SELECT count(*) FROM tb_post WHERE id = %s", (post_id,)) == [(1,)], who
    deleted = ask(blog, DELETE, issuer.mint(subject=editor, tenant_id="acme"), input={"id": post_id})
    assert deleted.json() == {"data": {"deletePost": {"__typename": "DeletePostSuccess", "post": {"id": post_id}}}}
    assert sql(database_url, "SELECT count(*) FROM tb_post WHERE id = %s", (post_id,)) == [(0,)]


def test_a_token_claiming_post_delete_may_delete_without_a_database_role(
    blog: AppProcess, issuer: LocalIssuer, database_url: str
) -> None:
    post_id = a_post(database_url)
    token = issuer.mint(subject="moderator-bot", permissions=["post:delete"])
    assert ask(blog, DELETE, token, input={"id": post_id}).json()["data"]["deletePost"]["__typename"] == "DeletePostSuccess"


ROOT_FIELDS = """{ query: __type(name: "Query") { fields { name } }
                   mutation: __type(name: "Mutation") { fields { name } }
                   deletion: __type(name: "DeletePostInput") { name } }"""


def root_fields(app: AppProcess, token: str | None) -> dict[str, Any]:
    response = ask(app, ROOT_FIELDS, token)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return {
        "me": "me" in {f["name"] for f in data["query"]["fields"]},
        "mutations": sorted(f["name"] for f in data["mutation"]["fields"]),
        "DeletePostInput": data["deletion"] is not None,
    }


def test_introspection_shows_each_caller_what_it_may_use(blog: AppProcess, issuer: LocalIssuer, editor: str) -> None:
    writes = ["addComment", "createPost", "updatePost"]
    assert root_fields(blog, None) == {"me": False, "mutations": writes, "DeletePostInput": False}
    assert root_fields(blog, issuer.mint(subject=seeded_user(2))) == {
        "me": True, "mutations": writes, "DeletePostInput": False,
    }
    assert root_fields(blog, issuer.mint(subject=editor, tenant_id="acme")) == {
        "me": True, "mutations": sorted([*writes, "deletePost"]), "DeletePostInput": True,
    }
