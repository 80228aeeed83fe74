"""The stack: starts, serves through its proxies, stops cleanly, runs side by side."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from chaos.errors import StackError
from chaos.stack.containers import docker_engine_answers
from chaos.stack.stack import Stack, StackOptions

pytestmark = pytest.mark.chaos


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def pids_of(stack: Stack) -> list[int]:
    assert stack.postgres is not None and stack.postgres.cluster is not None
    postmaster = int((stack.postgres.cluster.datadir / "postmaster.pid").read_text().split()[0])
    return [pid for pid in (postmaster, stack.toxiproxy_server.pid, stack.app and stack.app.pid) if pid]


async def post_count(stack: Stack) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{stack.app_url}/graphql", json={"query": "{ postCount }"})
    return response.json()["data"]["postCount"]


async def test_two_stacks_side_by_side_then_stop_leaving_no_process() -> None:
    stacks = [Stack(StackOptions(rows=10)), Stack(StackOptions(rows=20))]
    try:
        await asyncio.gather(*(stack.start() for stack in stacks))
        assert [await post_count(stack) for stack in stacks] == [10, 20]
        assert stacks[0].app_url != stacks[1].app_url
        assert stacks[0].toxiproxy.url != stacks[1].toxiproxy.url
        for stack in stacks:
            proxies = await stack.toxiproxy.proxies()
            assert sorted(proxies) == ["cache", "jwks", "postgres"]
            assert proxies["postgres"].listen in stack.db_url
            assert proxies["cache"].listen in stack.cache_db_url
            assert proxies["postgres"].upstream == stack.postgres.address
            assert await stack.app.healthy()
        pids = [pid for stack in stacks for pid in pids_of(stack)]
    finally:
        await asyncio.gather(*(stack.stop() for stack in stacks))
    assert len(pids) == 6
    assert [pid for pid in pids if alive(pid)] == []


async def test_a_start_that_fails_half_way_stops_what_had_started() -> None:
    # An issuer without an audience makes the app refuse to start (after PostgreSQL,
    # Toxiproxy and the issuer are up).
    stack = Stack(StackOptions(rows=5, app_env={"FRAISEQL_AUTH_AUDIENCE": ""}, app_start_timeout_s=30))
    with pytest.raises(StackError, match="the app"):
        await stack.start()
    assert stack.toxiproxy_server is not None and stack.toxiproxy_server.pid is None
    assert stack.postgres is not None and stack.postgres.cluster is None
    assert stack.logs() == {}


async def test_compose_backend_names_the_missing_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FRAISEQL_APP_URL", "DATABASE_URL", "TOXIPROXY_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(StackError, match="FRAISEQL_APP_URL, DATABASE_URL, TOXIPROXY_URL"):
        await Stack(StackOptions(backend="compose")).start()


@pytest.mark.skipif(not docker_engine_answers(),
                    reason="no Docker engine answers (docker info fails or docker is absent)")
async def test_containers_backend_runs_the_database_in_a_container() -> None:
    async with Stack(StackOptions(backend="containers", rows=20)) as stack:
        assert stack.postgres.cluster is None  # a container, not a local cluster
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(f"{stack.app_url}/graphql", json={"query": "{ postCount }"})
        assert answer.json() == {"data": {"postCount": 20}}


@pytest.mark.skipif(docker_engine_answers(), reason="a Docker engine answers here")
async def test_containers_backend_says_why_it_cannot_start_without_docker() -> None:
    with pytest.raises(StackError, match="needs a Docker engine"):
        await Stack(StackOptions(backend="containers")).start()
