"""The chaos agent: guarded routes, real hooks in a real app process, metrics and stats."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from starlette.applications import Starlette

from chaos.stack.app import AppProcess
from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app
from fraiseql.http.chaos_agent import TOKEN_ENV, ChaosAgent

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

CREATE = """
mutation($input: CreatePostInput!) { createPost(input: $input) {
  __typename ... on CreatePostSuccess { post { id } } ... on CreatePostError { code } } }
"""


@pytest.fixture(scope="module")
def agent_app(blog_database_url: str) -> Iterator[AppProcess]:
    """The blog app in its own process with the agent on (its telemetry stays out of ours)."""
    app = AppProcess({"DATABASE_URL": blog_database_url, TOKEN_ENV: secrets.token_urlsafe(16)})
    asyncio.run(app.start())
    try:
        yield app
    finally:
        asyncio.run(app.stop())


@pytest.fixture
def agent(agent_app: AppProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {agent_app.agent_token}"}
    with httpx.Client(base_url=agent_app.url, headers=headers, timeout=10) as client:
        client.delete("/_chaos/faults").raise_for_status()
        yield client
        client.delete("/_chaos/faults").raise_for_status()


async def test_the_agent_is_absent_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    app = create_app(schema=blog.schema, database_url="postgresql://unused", config=FraiseQLConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for path in ("/_chaos/faults", "/_chaos/metrics", "/_chaos/stats"):
            assert (await client.get(path, headers={"Authorization": "Bearer x"})).status_code == 404


def test_a_missing_or_wrong_token_is_refused(agent_app: AppProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {agent_app.agent_token}"}):
        response = httpx.get(f"{agent_app.url}/_chaos/faults", headers=headers)
        assert response.status_code == 401, headers
        assert "token" in response.json()["error"]


async def test_a_client_that_is_not_on_loopback_is_refused() -> None:
    agent = ChaosAgent("secret")
    app = Starlette(routes=agent.routes)
    for client, status in ((("10.1.2.3", 40000), 403), (("127.0.0.1", 40000), 200)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/_chaos/faults", headers={"Authorization": "Bearer secret"})
        assert response.status_code == status, client


def test_a_bad_fault_spec_is_a_400_naming_the_known_values(agent: httpx.Client) -> None:
    for spec, mentioned in (
        ({"point": "db.nowhere", "action": "error", "error": "deadlock"}, "db.execute"),
        ({"point": "db.execute", "action": "error", "error": "gremlins"}, "serialization_failure"),
        ({"point": "db.execute", "action": "error", "error": "deadlock", "colour": 1}, "colour"),
    ):
        response = agent.post("/_chaos/faults", json=spec)
        assert response.status_code == 400 and mentioned in response.json()["error"]


def test_a_mutation_survives_injected_serialization_failures_and_writes_once(
    agent: httpx.Client, agent_app: AppProcess, blog_database_url: str
) -> None:
    with psycopg.connect(blog_database_url) as conn:
        author = str(conn.execute("SELECT id FROM tb_user ORDER BY id LIMIT 1").fetchone()[0])  # type: ignore[index]
    spec = {"point": "db.execute", "action": "error", "error": "serialization_failure", "times": 2, "seed": 1}
    hook_id = agent.post("/_chaos/faults", json=spec).json()["id"]
    title = f"agent {uuid.uuid4()}"
    variables = {"input": {"title": title, "body": "b", "authorId": author, "idempotencyKey": title}}
    response = httpx.post(f"{agent_app.url}/graphql", json={"query": CREATE, "variables": variables})
    assert response.json()["data"]["createPost"]["__typename"] == "CreatePostSuccess"

    listed = agent.get("/_chaos/faults").json()
    (hook,) = listed["faults"]
    assert hook["id"] == hook_id and hook["acted"] == 2 and hook["calls"] >= 3
    assert listed["points"]["db.execute"] >= 3
    with psycopg.connect(blog_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM tb_post WHERE title = %s", [title]).fetchone() == (1,)

    assert agent.delete(f"/_chaos/faults/{hook_id}").json()["acted"] == 2
    assert agent.delete(f"/_chaos/faults/{hook_id}").status_code == 404
    assert agent.get("/_chaos/faults").json()["installed"]["db.execute"] == 0


def test_latency_and_corrupt_hooks_install_and_clear(agent: httpx.Client) -> None:
    for spec in (
        {"point": "db.connect", "action": "latency", "latency_ms": 5},
        {"point": "cache.get", "action": "corrupt", "value": "{not json", "rate": 0.5, "seed": 3},
    ):
        assert agent.post("/_chaos/faults", json=spec).status_code == 201
    assert agent.get("/_chaos/faults").json()["installed"]["cache.get"] == 1
    assert agent.delete("/_chaos/faults").json()["removed"] == 2
    assert agent.get("/_chaos/faults").json()["faults"] == []


def test_metrics_and_stats_come_from_the_app_process(agent: httpx.Client, agent_app: AppProcess) -> None:
    assert httpx.post(f"{agent_app.url}/graphql", json={"query": "{ postCount }"}).status_code == 200
    snapshot = agent.get("/_chaos/metrics").json()
    assert snapshot["metrics_enabled"] is True
    requests = snapshot["metrics"]["fraiseql.request.duration"]
    assert sum(point["count"] for point in requests) >= 1
    assert snapshot["spans"]["graphql.request"] >= 1 and snapshot["spans"]["db.query"] >= 1

    stats = agent.get("/_chaos/stats").json()
    assert stats["pools"]["main"]["pool_size"] >= 1
    assert set(stats["cache"]) >= {"hits", "misses", "errors"}
