"""RBAC over real HTTP: tokens from the local HTTPS issuer, roles from the blog example's
rbac.sql, the app reading as blog_reader so that the drafts policy applies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
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
from fraiseql.rbac import RbacConfig
from fraiseql.types import ID

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration
STALENESS_MS = 300

registry = ft.Registry()


@ft.type(sql_source="v_post", registry=registry)
class Post:
    id: ID
    title: str
    published_at: str | None

    @ft.field
    @requires_permission("post:audit")
    def audit_note(self, info: Any) -> str | None:
        return "audited"


posts = ft.list_query(Post, name="posts", registry=registry)


@ft.query(registry=registry)
@requires_auth
async def whoami(info: Any) -> str:
    return info.context["user"].user_id


@ft.query(registry=registry)
@requires_permission("post:create")
async def can_create(info: Any) -> bool:
    return True


@ft.query(registry=registry)
@requires_permission("post:delete")
async def can_delete(info: Any) -> bool:
    return True


@ft.query(registry=registry)
@requires_role("viewer")
async def viewer_only(info: Any) -> bool:
    return True


schema = ft.build_schema(registry, field_denial="null")


def seeded_user(n: int) -> str:
    """The id examples/blog/seed.py gives its n-th user."""
    import hashlib

    return str(uuid.UUID(hashlib.md5(f"blog-user-{n}".encode()).hexdigest()))


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        running.mint(alg="RS256")
        yield running


@pytest.fixture(scope="module")
def server(issuer: LocalIssuer, blog_database_url: str) -> Iterator[RunningServer]:
    provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, algorithms=("RS256",),
                           ca_file=issuer.ca_file)
    # Connected as blog_reader (not a superuser, not the owner): row-level security applies.
    reader_url = f"{blog_database_url}?options=-c%20role%3Dblog_reader"
    app = create_app(schema=schema, database_url=reader_url, auth=provider,
                     config=FraiseQLConfig(cache_enabled=False),
                     rbac=RbacConfig(max_staleness_ms=STALENESS_MS, ensure_schema=False))
    yield from serve_in_thread(app)


def ask(server: RunningServer, query: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=10)


def code_of(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def first_user_by_email(url: str) -> str:
    return str(sql(url, "SELECT id FROM tb_user ORDER BY email LIMIT 1")[0][0])


def test_database_roles_grant_what_the_token_does_not_claim(server: RunningServer, issuer: LocalIssuer) -> None:
    token = issuer.mint(subject=seeded_user(2))  # an author (rbac.sql), no claims at all
    assert ask(server, "{ canCreate viewerOnly }", token).json() == {"data": {"canCreate": True, "viewerOnly": True}}
    response = ask(server, "{ canDelete }", token)
    assert response.status_code == 403 and code_of(response) == "FORBIDDEN"


def test_a_tenant_assignment_counts_only_in_its_tenant(
    server: RunningServer, issuer: LocalIssuer, blog_database_url: str
) -> None:
    editor = first_user_by_email(blog_database_url)  # editor in acme: post:* there
    assert ask(server, "{ canDelete }", issuer.mint(subject=editor, tenant_id="acme")).status_code == 200
    assert ask(server, "{ canDelete }", issuer.mint(subject=editor, tenant_id="globex")).status_code == 403


def test_a_field_the_user_may_not_see_is_nulled_with_an_error(server: RunningServer, issuer: LocalIssuer) -> None:
    token = issuer.mint(subject=seeded_user(3))
    body = ask(server, "{ posts(limit: 1) { title auditNote } }", token).json()
    assert body["data"]["posts"][0]["auditNote"] is None and body["data"]["posts"][0]["title"]
    assert body["errors"][0]["path"] == ["posts", 0, "auditNote"]
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = issuer.mint(subject=seeded_user(3), permissions=["post:*"])
    body = ask(server, "{ posts(limit: 1) { auditNote } }", allowed).json()
    assert body == {"data": {"posts": [{"auditNote": "audited"}]}}


def test_a_revocation_is_visible_once_the_bound_has_passed(
    server: RunningServer, issuer: LocalIssuer, blog_database_url: str
) -> None:
    subject = f"revoked-{uuid.uuid4()}"
    sql(blog_database_url, "INSERT INTO fraiseql_rbac.user_role VALUES (%s, '*', 'editor')", (subject,))
    token = issuer.mint(subject=subject)
    time.sleep(STALENESS_MS / 1000)  # let the grant in, like the revocation below
    for _ in range(10):  # under load: the cached grant is used by every request
        assert ask(server, "{ canDelete }", token).status_code == 200
    sql(blog_database_url, "DELETE FROM fraiseql_rbac.user_role WHERE user_id = %s", (subject,))
    time.sleep(STALENESS_MS / 1000)
    assert ask(server, "{ canDelete }", token).status_code == 403


def test_a_failing_permission_source_denies_protected_fields_only(
    server: RunningServer, issuer: LocalIssuer
) -> None:
    def refuse(payload: Any, context: dict[str, Any]) -> None:
        raise ConnectionRefusedError("injected")

    token = issuer.mint(subject=seeded_user(2), roles=["viewer"])
    handle = faults.install("rbac.resolve", refuse)
    try:
        denied = ask(server, "{ canCreate }", token)
        claimed = ask(server, "{ viewerOnly whoami }", token)  # the token says so itself
        public = ask(server, "{ posts(limit: 1) { title } }", token)
    finally:
        faults.remove(handle)
    assert denied.status_code == 503 and code_of(denied) == "PERMISSION_SOURCE_UNAVAILABLE"
    assert "Retry-After" in denied.headers
    assert claimed.json()["data"] == {"viewerOnly": True, "whoami": seeded_user(2)}
    assert public.status_code == 200
    assert ask(server, "{ canCreate }", token).json() == {"data": {"canCreate": True}}


def drafts(response: httpx.Response) -> list[dict[str, Any]]:
    return [p for p in response.json()["data"]["posts"] if p["publishedAt"] is None]


def test_row_level_security_shows_drafts_only_to_their_author(
    server: RunningServer, issuer: LocalIssuer, blog_database_url: str
) -> None:
    author, draft_count = sql(
        blog_database_url,
        "SELECT author_id::text, count(*) FROM tb_post WHERE published_at IS NULL "
        "GROUP BY author_id ORDER BY count(*) DESC LIMIT 1",
    )[0]
    total_drafts = sql(blog_database_url, "SELECT count(*) FROM tb_post WHERE published_at IS NULL")[0][0]
    assert 0 < draft_count < total_drafts  # the seed has drafts by several authors
    query = "{ posts(limit: 1000) { id publishedAt } }"
    assert drafts(ask(server, query)) == []  # anonymous: no user, no drafts
    mine = drafts(ask(server, query, issuer.mint(subject=author)))
    assert len(mine) == draft_count
    owned = {str(r[0]) for r in sql(blog_database_url, "SELECT id FROM tb_post WHERE author_id = %s", (author,))}
    assert {p["id"] for p in mine} <= owned
