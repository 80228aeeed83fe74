"""The chaos agent: guarded routes, real hooks in a real app process, metrics and stats."""

from __future__ import annotations

import asyncio
import secrets
import time
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
        for path in ("/_chaos/faults", "/_chaos/metrics", "/_chaos/stats", "/_chaos/resources"):
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


def test_stats_report_the_resilience_counters(agent: httpx.Client) -> None:
    stats = agent.get("/_chaos/stats").json()
    assert stats["in_flight"] == 0 and stats["shed"] == 0
    assert stats["read_retries"] == 0 and stats["stale_served"] == 0 and stats["draining"] is False
    assert stats["breaker"]["state"] == "closed"
    assert set(stats["breaker"]) >= {"state", "opened", "closed", "rejected"}


# -- resource faults ----------------------------------------------------------------------


@pytest.fixture
def resources(agent: httpx.Client) -> Iterator[httpx.Client]:
    agent.delete("/_chaos/resources").raise_for_status()
    yield agent
    agent.delete("/_chaos/resources").raise_for_status()


def _wait_for(read, condition, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while True:
        value = read()
        if condition(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {value}"
        time.sleep(0.05)


def test_a_cpu_fault_burns_cpu_in_the_app_until_removed(resources: httpx.Client) -> None:
    created = resources.post("/_chaos/resources", json={"kind": "cpu", "threads": 1, "duration_s": 60})
    assert created.status_code == 201 and created.json() == {"id": created.json()["id"]}
    resource_id = created.json()["id"]
    before = resources.get("/_chaos/resources").json()["process"]["cpu_s"]
    listed = _wait_for(
        lambda: resources.get("/_chaos/resources").json(),
        lambda body: body["resources"][0]["cpu_s"] >= 0.2,
        "the CPU hog to burn CPU",
    )
    (resource,) = listed["resources"]
    assert resource["id"] == resource_id and resource["kind"] == "cpu" and resource["active"] is True
    assert listed["process"]["cpu_s"] > before
    final = resources.delete(f"/_chaos/resources/{resource_id}").json()
    assert final["active"] is False and final["cpu_s"] >= 0.2 and final["threads"] == 1
    assert resources.get("/_chaos/resources").json()["resources"] == []
    assert resources.delete(f"/_chaos/resources/{resource_id}").status_code == 404


def test_a_memory_fault_holds_resident_memory_until_removed(resources: httpx.Client) -> None:
    rss_before = resources.get("/_chaos/resources").json()["process"]["rss_bytes"]
    created = resources.post("/_chaos/resources", json={"kind": "memory", "mb": 64, "duration_s": 60})
    assert created.status_code == 201
    listed = resources.get("/_chaos/resources").json()
    (resource,) = listed["resources"]
    assert resource["kind"] == "memory" and resource["active"] is True
    assert resource["bytes"] == 64 * 1024 * 1024
    assert listed["process"]["rss_bytes"] - rss_before >= 48 * 1024 * 1024  # touched, so resident
    final = resources.delete(f"/_chaos/resources/{created.json()['id']}").json()
    assert final["active"] is False and final["bytes"] == 0


def test_a_fault_ends_by_itself_after_its_duration(resources: httpx.Client) -> None:
    created = resources.post("/_chaos/resources", json={"kind": "memory", "mb": 8, "duration_s": 0.2})
    resource_id = created.json()["id"]
    (resource,) = _wait_for(
        lambda: resources.get("/_chaos/resources").json()["resources"],
        lambda listed: not listed[0]["active"],
        "the memory fault to end",
    )
    assert resource["id"] == resource_id and resource["bytes"] == 0  # listed, inactive, released


def test_removing_every_resource_fault_says_how_many(resources: httpx.Client) -> None:
    for spec in ({"kind": "cpu", "threads": 1, "duration_s": 30}, {"kind": "memory", "mb": 4, "duration_s": 30}):
        assert resources.post("/_chaos/resources", json=spec).status_code == 201
    assert resources.delete("/_chaos/resources").json() == {"removed": 2}
    assert resources.get("/_chaos/resources").json()["resources"] == []


BAD_RESOURCES = [
    ({"kind": "disk", "duration_s": 1}, "kind"),
    ({"kind": "cpu", "threads": 1}, "duration_s"),
    ({"kind": "cpu", "threads": 0, "duration_s": 1}, "threads"),
    ({"kind": "cpu", "threads": "2", "duration_s": 1}, "threads"),
    ({"kind": "memory", "mb": 4096, "duration_s": 1}, "2048"),
    ({"kind": "memory", "mb": 8, "duration_s": -1}, "duration_s"),
    ({"kind": "memory", "mb": 8, "duration_s": 1, "threads": 2}, "threads"),
    ([1, 2], "JSON object"),
]


@pytest.mark.parametrize(("spec", "mentioned"), BAD_RESOURCES)
def test_a_bad_resource_spec_is_a_400_naming_the_field(resources: httpx.Client, spec: object, mentioned: str) -> None:
    response = resources.post("/_chaos/resources", json=spec)
    assert response.status_code == 400 and mentioned in response.json()["error"]
    assert resources.get("/_chaos/resources").json()["resources"] == []


def test_the_resource_routes_need_the_token(agent_app: AppProcess) -> None:
    response = httpx.post(f"{agent_app.url}/_chaos/resources", json={"kind": "cpu", "threads": 1, "duration_s": 1})
    assert response.status_code == 401
