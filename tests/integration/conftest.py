"""Integration fixtures: the blog example loaded into the session's cluster, served over real
HTTP; a real Toxiproxy server with a proxy in front of that cluster."""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import port_for
import pytest
import uvicorn
from starlette.applications import Starlette

from chaos.stack.base import LOOPBACK, free_port
from chaos.stack.toxiproxy import Toxiproxy, ToxiproxyServer, find_server_binary
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

BLOG_ROWS = 120


@pytest.fixture(scope="session")
def blog_database_url(pg_cluster: LocalPostgres) -> str:
    """A database holding the blog example with a small deterministic seed."""
    url = pg_cluster.create_database(f"blog_{os.getpid()}")
    asyncio.run(init_database(url, rows=BLOG_ROWS, progress=None))
    return url


@dataclass
class RunningServer:
    url: str
    app: Starlette
    server: uvicorn.Server


def serve_in_thread(app: Starlette) -> Iterator[RunningServer]:
    """Run ``app`` under uvicorn on a free loopback port until the generator is closed."""
    port = port_for.select_random()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", app, server)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def toxiproxy_url() -> Iterator[str]:
    """A real Toxiproxy server for this test process (the test is skipped without one)."""
    if find_server_binary() is None and not os.environ.get("TOXIPROXY_URL"):
        pytest.skip("toxiproxy-server is not installed")
    server = ToxiproxyServer()
    asyncio.run(server.start())
    try:
        yield server.url
    finally:
        asyncio.run(server.stop())


@dataclass(frozen=True)
class PgProxy:
    """A Toxiproxy proxy in front of the session's cluster: ``through(url)`` goes by it."""

    client: Toxiproxy
    name: str
    listen: str  # host:port

    def through(self, url: str) -> str:
        """``url`` (a database of the session's cluster) with the proxy as its host."""
        parts = urlsplit(url)
        user = f"{parts.username}@" if parts.username else ""
        return parts._replace(netloc=f"{user}{self.listen}").geturl()


_proxy_names = itertools.count(1)


@pytest.fixture
def pg_proxy(toxiproxy_url: str, pg_cluster: LocalPostgres) -> Iterator[PgProxy]:
    """A fresh proxy to the session's cluster; toxics removed and proxies enabled after."""
    client = Toxiproxy(toxiproxy_url)
    proxy = PgProxy(client, f"pg{os.getpid()}x{next(_proxy_names)}", f"{LOOPBACK}:{free_port()}")
    asyncio.run(client.create_proxy(proxy.name, listen=proxy.listen, upstream=f"{pg_cluster.host}:{pg_cluster.port}"))
    try:
        yield proxy
    finally:
        asyncio.run(client.reset())
