"""Resilience over real HTTP (uvicorn) against real PostgreSQL: load shedding, slow clients,
the request deadline, the circuit breaker, stale reads while the server is down.

Requests are held in flight by a fault hook that waits for the test to release it, so
"in flight" is a fact the test arranges, never a matter of timing. Each behaviour is also
run with its switch off, to show the test would fail without it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from examples.blog import app as blog
from examples.blog.database import init_database
from fraiseql import faults
from fraiseql.config import FraiseQLConfig
from fraiseql.db.local import LocalPostgres
from fraiseql.http import create_app

from .conftest import PgProxy, RunningServer, serve_in_thread

pytestmark = pytest.mark.integration

POSTS = {"query": "{ posts(limit: 2) { id title } }"}


@contextmanager
def serving(url: str, **settings: Any) -> Iterator[RunningServer]:
    config = FraiseQLConfig(**{"cache_enabled": False, **settings})
    yield from serve_in_thread(create_app(schema=blog.schema, database_url=url, config=config))


def state_of(server: RunningServer) -> Any:
    return server.app.state.fraiseql


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Gate:
    """A db.execute hook that, once armed, holds every statement until ``open()``.

    Armed by the test after the server has started, so start-up reads pass.
    """

    def __init__(self) -> None:
        self._open = threading.Event()
        self.armed = False
        self.waiting = 0
        self.cancelled = 0

    async def __call__(self, payload: object, context: dict[str, Any]) -> None:
        if not self.armed:
            return
        self.waiting += 1
        try:
            while not self._open.is_set():
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.waiting -= 1

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    handle = faults.install("db.execute", gate)
    try:
        yield gate
    finally:
        gate.open()
        faults.remove(handle)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def post(server: RunningServer, payload: Any = POSTS, timeout: float = 30, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json=payload, timeout=timeout, **kwargs)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# -- load shedding ----------------------------------------------------------------------


@pytest.mark.parametrize("max_in_flight", [2, 0], ids=["limit-2", "off"])
def test_requests_beyond_max_in_flight_are_shed_at_once_and_probes_never_are(
    blog_database_url: str, gate: Gate, pool: ThreadPoolExecutor, max_in_flight: int
) -> None:
    with serving(blog_database_url, max_in_flight=max_in_flight) as server:
        gate.armed = True
        held = [pool.submit(post, server) for _ in range(2)]
        wait_for(lambda: state_of(server).in_flight.count == 2 and gate.waiting == 2, "two requests held")
        third: Future[httpx.Response] = pool.submit(post, server)
        if max_in_flight:
            response = third.result(timeout=10)  # answered while the others are still held
            assert response.status_code == 503 and codes(response) == ["OVERLOADED"]
            assert response.headers["Retry-After"] == "1" and response.json()["data"] is None
            assert state_of(server).in_flight.shed == 1
        else:
            wait_for(lambda: gate.waiting == 3, "the third request to be held too")
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert httpx.get(f"{server.url}/ready").status_code == 200
        gate.open()
        assert [f.result(timeout=10).status_code for f in held] == [200, 200]
        if not max_in_flight:
            assert third.result(timeout=10).status_code == 200 and state_of(server).in_flight.shed == 0


# -- slow clients -----------------------------------------------------------------------


def _start_slow_request(server: RunningServer) -> socket.socket:
    """Headers and the first bytes of a 200-byte body, and then nothing."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=30)
    conn.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n" + b'{"query": '
    )
    return conn


def test_a_slow_client_gets_408_and_never_counts_as_in_flight(blog_database_url: str) -> None:
    with serving(blog_database_url, body_read_timeout_s=2, max_in_flight=1) as server:
        slow = _start_slow_request(server)
        try:
            wait_for(lambda: len(server.server.server_state.tasks) >= 1, "the slow request to start")
            # Only one request may be in flight, and the slow client is not one.
            assert state_of(server).in_flight.count == 0
            assert post(server).status_code == 200
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = slow.recv(65536)
                if not chunk:
                    break
                reply += chunk
        finally:
            slow.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_BODY_TIMEOUT" in body


# -- the request deadline ---------------------------------------------------------------


@pytest.mark.parametrize("timeout_s", [0.5, 0], ids=["deadline", "off"])
def test_a_request_past_its_deadline_is_answered_504_and_its_work_cancelled(
    blog_database_url: str, gate: Gate, pool: ThreadPoolExecutor, timeout_s: float
) -> None:
    with serving(blog_database_url, request_timeout_s=timeout_s) as server:
        gate.armed = True
        pending = pool.submit(post, server)
        if timeout_s:
            response = pending.result(timeout=20)  # the gate is still closed
            assert response.status_code == 504 and codes(response) == ["REQUEST_TIMEOUT"]
            assert response.json()["data"] is None
            wait_for(lambda: gate.cancelled == 1, "the abandoned work to be cancelled")
            wait_for(lambda: state_of(server).in_flight.count == 0, "the work to stop counting")
        else:
            wait_for(lambda: gate.waiting == 1, "the request to be held")
            gate.open()
            assert pending.result(timeout=10).status_code == 200


# -- a stopped server: the breaker and stale reads -------------------------------------


@pytest.fixture(scope="module")
def blog_cluster() -> Iterator[LocalPostgres]:
    """A cluster of this module's own holding the blog, to stop and start."""
    with LocalPostgres(dbname="blog_resilience") as cluster:
        asyncio.run(init_database(cluster.url, rows=20, progress=None))
        yield cluster


@contextmanager
def server_down(cluster: LocalPostgres) -> Iterator[None]:
    cluster.pg_ctl_stop()
    try:
        yield
    finally:
        cluster.pg_ctl_start()


@pytest.mark.parametrize("enabled", [True, False], ids=["breaker", "off"])
def test_an_open_circuit_fails_fast_with_503_retry_after_and_ready_says_so(
    blog_cluster: LocalPostgres, enabled: bool
) -> None:
    # A pool timeout no request could sit out within the test's own timeout: the failed
    # connection attempts (and the circuit) are what answer these requests.
    settings = dict(
        breaker_enabled=enabled, breaker_failure_threshold=2, breaker_reset_s=0.3,
        pool_timeout_s=60, pool_min_size=1, pool_max_size=2,
    )
    with serving(blog_cluster.url, **settings) as server:
        assert post(server).status_code == 200
        with server_down(blog_cluster):
            responses = [post(server) for _ in range(3)]
            for response in responses:
                assert response.status_code == 503 and codes(response) == ["DATABASE_UNAVAILABLE"]
            # The pool's failed attempts and the first failed request open the circuit.
            response = responses[-1]
            extensions = response.json()["errors"][0]["extensions"]
            ready = httpx.get(f"{server.url}/ready", timeout=10)
            assert ready.status_code == 503
            if enabled:
                assert extensions["circuit"] == "open"
                assert response.headers["Retry-After"] == str(extensions["retryAfterS"])
                assert ready.json()["breaker"]["state"] == "open"
                assert ready.json()["errors"][0]["message"] == "circuit open"
            else:
                assert "circuit" not in extensions and "breaker" not in ready.json()
                assert response.headers["Retry-After"] == "1"
        wait_for(lambda: post(server).status_code == 200, "the app to recover")
        assert httpx.get(f"{server.url}/ready").status_code == 200
        if enabled:
            breaker = state_of(server).db.breaker
            assert breaker.state.value == "closed" and breaker.closed >= 1 and breaker.opened >= 1


@pytest.mark.parametrize("stale_reads", [True, False], ids=["stale", "off"])
def test_a_cached_query_is_answered_stale_while_the_server_is_down(
    blog_cluster: LocalPostgres, stale_reads: bool
) -> None:
    settings = dict(
        cache_enabled=True, cache_ttl_s=0.2, cache_stale_reads=stale_reads, cache_max_stale_s=300,
        breaker_failure_threshold=1, breaker_reset_s=30, pool_timeout_s=0.3, pool_fail_fast_after_s=0,
    )
    with serving(blog_cluster.url, **settings) as server:
        fresh = post(server)
        assert fresh.status_code == 200 and "extensions" not in fresh.json()
        assert "X-FraiseQL-Cache" not in fresh.headers
        time.sleep(0.3)  # past the TTL: only a stale read can answer from the cache now
        with server_down(blog_cluster):
            for _ in range(2):  # a failed read, then an open circuit: both answered stale
                response = post(server)
                if not stale_reads:
                    assert response.status_code == 503
                    continue
                assert response.status_code == 200
                body = response.json()
                assert body["data"] == fresh.json()["data"]
                assert body["extensions"]["cache"]["stale"] is True
                assert body["extensions"]["cache"]["age_s"] >= 0.2
                assert response.headers["X-FraiseQL-Cache"] == "stale"
                assert int(response.headers["Age"]) >= 0
            uncached = post(server, {"query": "{ posts(limit: 3) { id } }"})
            assert uncached.status_code == 503
            assert state_of(server).db.breaker.state.value == "open"
        assert state_of(server).cache.stats.stale_served == (2 if stale_reads else 0)


# -- a disabled proxy in front of PostgreSQL: fail fast, recover by itself ----------------


def test_a_disabled_database_proxy_answers_waiting_requests_503_long_before_the_pool_timeout(
    blog_database_url: str, pg_proxy: PgProxy, pool: ThreadPoolExecutor
) -> None:
    # What scenarios/network/proxy-down.yaml does to the app, with a pool timeout of 30 s
    # that none of these requests may sit out (their own client timeout is 25 s).
    settings = dict(pool_timeout_s=30, pool_min_size=2, pool_max_size=3, breaker_reset_s=0.5)
    with serving(pg_proxy.through(blog_database_url), **settings) as server:
        assert post(server).status_code == 200
        asyncio.run(pg_proxy.client.set_enabled(pg_proxy.name, False))
        try:
            burst = [pool.submit(post, server, timeout=25) for _ in range(8)]
            responses = [future.result(timeout=60) for future in burst]
            for response in responses:
                assert response.status_code == 503 and codes(response) == ["DATABASE_UNAVAILABLE"]
                assert int(response.headers["Retry-After"]) >= 1
            after = post(server, timeout=25)
            assert after.status_code == 503
            assert after.json()["errors"][0]["extensions"]["circuit"] == "open"
            assert state_of(server).db.waits.ended >= 1  # some were waiting, and were released
        finally:
            asyncio.run(pg_proxy.client.set_enabled(pg_proxy.name, True))
        wait_for(lambda: post(server).status_code == 200, "the app to recover")
        assert state_of(server).db.breaker.state.value == "closed"
