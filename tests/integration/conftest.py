"""Integration fixtures: the blog example loaded into the session's cluster, served over real HTTP."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import port_for
import pytest
import uvicorn
from starlette.applications import Starlette

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
