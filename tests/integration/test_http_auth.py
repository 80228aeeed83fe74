"""Auth wired into every request: real tokens from the local HTTPS issuer, real HTTP, real SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import fraiseql.types as ft
from chaos.stack.issuer import LocalIssuer
from fraiseql.auth import JWTProvider, requires_auth, requires_role
from fraiseql.config import FraiseQLConfig
from fraiseql.context import RequestContext
from fraiseql.http import create_app
from fraiseql.types import ID

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

registry = ft.Registry()


@ft.type(sql_source="v_user", registry=registry)
class User:
    id: ID
    name: str
    email: str

    @ft.field
    @requires_role("hr")
    def email_domain(self, info: Any) -> str:
        return self.email.split("@")[-1]


users = ft.list_query(User, name="users", registry=registry)


@ft.query(registry=registry)
@requires_auth
async def whoami(info: Any) -> str:
    return info.context["user"].user_id


@ft.query(registry=registry)
@requires_role("admin")
async def admin_answer(info: Any) -> int:
    return 42


@ft.query(registry=registry)
@requires_auth
async def session_user(info: Any) -> str:
    """What PostgreSQL sees through SET LOCAL for this request."""
    context: RequestContext = info.context["request_context"]
    return await info.context["db"].fetch_value(
        "SELECT current_setting('fraiseql.user_id', true) || '/' || "
        "coalesce(current_setting('fraiseql.tenant_id', true), '')",
        context=context,
    )


schema = ft.build_schema(registry)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        for alg in ("RS256", "ES256"):  # keys are made on first use: publish both up front
            running.mint(alg=alg)
        yield running


@pytest.fixture(scope="module")
def server(issuer: LocalIssuer, blog_database_url: str) -> Iterator[RunningServer]:
    provider = JWTProvider(
        issuer.issuer, issuer.audience, issuer.jwks_url, algorithms=("RS256", "ES256"),
        ca_file=issuer.ca_file,
    )
    app = create_app(schema=schema, database_url=blog_database_url, auth=provider,
                     config=FraiseQLConfig(cache_enabled=False))
    yield from serve_in_thread(app)


def ask(server: RunningServer, query: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=10)


def code_of(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_public_fields_need_no_token(server: RunningServer) -> None:
    response = ask(server, "{ users(limit: 1) { name } }")
    assert response.status_code == 200 and len(response.json()["data"]["users"]) == 1


def test_missing_token_on_a_protected_query_is_401_with_a_challenge(server: RunningServer) -> None:
    response = ask(server, "{ whoami }")
    assert response.status_code == 401
    assert code_of(response) == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_valid_token_puts_the_user_in_the_context(server: RunningServer, issuer: LocalIssuer) -> None:
    token = issuer.mint(alg="ES256", subject="alice")
    response = ask(server, "{ whoami }", token)
    assert response.status_code == 200 and response.json() == {"data": {"whoami": "alice"}}


def test_user_and_tenant_reach_sql_through_set_local(server: RunningServer, issuer: LocalIssuer) -> None:
    token = issuer.mint(subject="bob", tenant_id="acme")
    response = ask(server, "{ sessionUser }", token)
    assert response.json() == {"data": {"sessionUser": "bob/acme"}}


def test_missing_role_is_403_and_the_role_opens_it(server: RunningServer, issuer: LocalIssuer) -> None:
    response = ask(server, "{ adminAnswer }", issuer.mint(roles=["reader"]))
    assert response.status_code == 403 and code_of(response) == "FORBIDDEN"
    response = ask(server, "{ adminAnswer }", issuer.mint(roles=["admin"]))
    assert response.json() == {"data": {"adminAnswer": 42}}


def test_field_level_rules_hold_on_the_fast_path_too(server: RunningServer, issuer: LocalIssuer) -> None:
    query = "{ users(limit: 2) { name emailDomain } }"
    response = ask(server, query, issuer.mint(roles=["reader"]))
    assert response.status_code == 403 and code_of(response) == "FORBIDDEN"
    response = ask(server, query, issuer.mint(roles=["hr"]))
    assert response.status_code == 200
    assert all(u["emailDomain"] == "example.com" for u in response.json()["data"]["users"])


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda i: i.mint(ttl_s=-3600), "TOKEN_EXPIRED"),
        (lambda i: i.mint()[:-4] + "AAAA", "INVALID_SIGNATURE"),
        (lambda i: i.mint(iss="https://evil.example/"), "INVALID_ISSUER"),
        (lambda i: "not-a-token", "MALFORMED_TOKEN"),
    ],
    ids=["expired", "tampered-signature", "wrong-issuer", "garbage"],
)
def test_refused_tokens_are_401_invalid_token(
    server: RunningServer, issuer: LocalIssuer, make_token: Any, code: str
) -> None:
    response = ask(server, "{ users(limit: 1) { name } }", make_token(issuer))
    assert response.status_code == 401
    assert code_of(response) == code
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_the_blog_example_answers_me_for_a_token_from_the_environment(
    issuer: LocalIssuer, blog_database_url: str
) -> None:
    import psycopg

    from examples.blog import app as blog
    from fraiseql.auth.environment import provider_from_environment

    provider = provider_from_environment({
        "FRAISEQL_AUTH_ISSUER": issuer.issuer,
        "FRAISEQL_AUTH_AUDIENCE": issuer.audience,
        "FRAISEQL_AUTH_JWKS_URL": issuer.jwks_url,
        "FRAISEQL_AUTH_ALGORITHMS": "RS256,ES256",
        "FRAISEQL_AUTH_CA_FILE": issuer.ca_file,
    })
    with psycopg.connect(blog_database_url) as conn:
        user_id, name = conn.execute("SELECT id, name FROM tb_user ORDER BY id LIMIT 1").fetchone()
    app = create_app(schema=blog.schema, database_url=blog_database_url, auth=provider)
    for running in serve_in_thread(app):
        assert ask(running, "{ me { name } }").status_code == 401
        response = ask(running, "{ me { id name } }", issuer.mint(subject=str(user_id)))
        assert response.json() == {"data": {"me": {"id": str(user_id), "name": name}}}
        assert ask(running, "{ me { id } }", issuer.mint(subject="not-a-uuid")).json() == {"data": {"me": None}}


def test_an_issuer_without_audience_is_a_configuration_error() -> None:
    from fraiseql.auth.environment import provider_from_environment

    assert provider_from_environment({}) is None
    with pytest.raises(ValueError, match="FRAISEQL_AUTH_AUDIENCE"):
        provider_from_environment({"FRAISEQL_AUTH_ISSUER": "https://issuer.test/"})
