"""Graceful shutdown: SIGTERM to a real uvicorn process with slow requests in flight.

The requests are made slow by a latency fault installed through the chaos agent, and the
test waits until the agent reports them all in flight before it sends the signal.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from chaos.stack.app import AppProcess
from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app
from fraiseql.http.chaos_agent import TOKEN_ENV

pytestmark = pytest.mark.integration

POSTS = {"query": "{ posts(limit: 2) { id } }"}
REQUESTS = 4


@pytest.fixture
def start_app(blog_database_url: str) -> Iterator[object]:
    started: list[AppProcess] = []
    clients: list[httpx.Client] = []

    def start(**env: str) -> tuple[AppProcess, httpx.Client]:
        app = AppProcess({
            "DATABASE_URL": blog_database_url, TOKEN_ENV: secrets.token_urlsafe(16),
            "FRAISEQL_CACHE_ENABLED": "false", **env,
        })
        asyncio.run(app.start())
        started.append(app)
        agent = httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {app.agent_token}"}, timeout=10)
        clients.append(agent)
        return app, agent

    yield start
    for client in clients:
        client.close()
    for app in started:
        asyncio.run(app.stop())


def sigterm_with_requests_in_flight(app: AppProcess, agent: httpx.Client, latency_ms: int) -> list[httpx.Response]:
    spec = {"point": "db.execute", "action": "latency", "latency_ms": latency_ms}
    assert agent.post("/_chaos/faults", json=spec).status_code == 201
    with ThreadPoolExecutor(REQUESTS) as pool:
        futures = [
            pool.submit(httpx.post, f"{app.url}/graphql", json=POSTS, timeout=60) for _ in range(REQUESTS)
        ]
        deadline = time.monotonic() + 30
        while agent.get("/_chaos/stats").json()["in_flight"] < REQUESTS:
            assert time.monotonic() < deadline, "the requests never were all in flight"
            time.sleep(0.01)
        os.kill(app.pid, signal.SIGTERM)  # type: ignore[arg-type]
        return [future.result(timeout=60) for future in futures]


def test_sigterm_lets_requests_in_flight_finish_with_200_before_the_pools_close(start_app) -> None:  # type: ignore[no-untyped-def]
    app, agent = start_app(FRAISEQL_SHUTDOWN_DRAIN_S="30")
    responses = sigterm_with_requests_in_flight(app, agent, latency_ms=1500)
    assert [r.status_code for r in responses] == [200] * REQUESTS
    assert all(len(r.json()["data"]["posts"]) == 2 for r in responses)
    asyncio.run(app.stop())
    log = app.logs()
    draining = log.index(f"draining {REQUESTS} request(s) in flight")
    assert log.index("drain complete; closing the pools", draining) > draining


def test_the_drain_is_bounded_by_shutdown_drain_s(start_app) -> None:  # type: ignore[no-untyped-def]
    app, agent = start_app(FRAISEQL_SHUTDOWN_DRAIN_S="0.5")
    responses = sigterm_with_requests_in_flight(app, agent, latency_ms=60_000)
    for response in responses:
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
        assert "Retry-After" in response.headers
    asyncio.run(app.stop())
    assert f"drain cut short ({REQUESTS} request(s) answered SHUTTING_DOWN); closing the pools" in app.logs()


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals need the main thread"
)
async def test_ready_turns_503_the_moment_sigterm_arrives(blog_database_url: str) -> None:
    server_saw: list[int] = []

    def server_handler(sig: int, frame: object) -> None:  # stands in for uvicorn's
        server_saw.append(sig)

    previous = signal.signal(signal.SIGTERM, server_handler)
    try:
        app = create_app(schema=blog.schema, database_url=blog_database_url, config=FraiseQLConfig())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/ready")).status_code == 200
                signal.raise_signal(signal.SIGTERM)
                response = await client.get("/ready")
                assert response.status_code == 503 and response.json()["status"] == "draining"
                assert response.json()["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
                assert (await client.post("/graphql", json=POSTS)).status_code == 200  # still serving
        assert server_saw == [signal.SIGTERM]  # the server's own handler still ran
        assert signal.getsignal(signal.SIGTERM) is server_handler  # restored at shutdown
    finally:
        signal.signal(signal.SIGTERM, previous)
