"""The ``containers`` backend's PostgreSQL: a ``postgres:15`` container run by testcontainers.

Everything else in the stack stays as in the ``local`` backend (the real Toxiproxy server,
the HTTPS issuer, the app as a process), so the app's traffic still crosses Toxiproxy on
loopback; only the database runs in Docker. Faults that drive the cluster itself
(``restart_postgres``) need the local backend and say so.

Example::

    pg = ContainerPostgres(rows=200)
    await pg.start()              # pulls the image on first use
    print(pg.url)                 # postgresql://blog:...@127.0.0.1:49153/blog
    await pg.stop()
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import psycopg

from chaos.errors import StackError
from examples.blog.database import init_database

IMAGE = "postgres:15"


def docker_engine_answers() -> bool:
    """Whether a Docker engine answers ``docker info`` (the client alone is not enough)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class ContainerPostgres:
    """A PostgreSQL container with the blog database loaded with ``rows`` posts."""

    name = "postgres"
    cluster = None  # no local cluster to drive: pg_ctl faults refuse this backend

    def __init__(self, *, rows: int = 200, image: str = IMAGE) -> None:
        self.rows = rows
        self.image = image
        self._container: Any = None
        self.url = ""

    @property
    def address(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}"

    async def start(self) -> None:
        if not docker_engine_answers():
            raise StackError("the containers backend needs a Docker engine, and none answers "
                             "`docker info` here: use the local backend (the default)")
        try:  # testcontainers 4.14 moved the module; older releases have only the first path
            try:
                from testcontainers.community.postgres import PostgresContainer
            except ImportError:
                from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise StackError("the containers backend needs testcontainers: "
                             "pip install 'fraiseql[containers]'") from exc
        password = secrets.token_urlsafe(16)
        container = PostgresContainer(self.image, username="blog", password=password, dbname="blog")
        try:
            await asyncio.to_thread(container.start)
        except Exception as exc:  # noqa: BLE001 - docker's errors come in many types
            raise StackError(f"the PostgreSQL container did not start: {exc}") from exc
        self._container = container
        host = container.get_container_host_ip()
        port = container.get_exposed_port(5432)
        self.url = f"postgresql://blog:{password}@{host}:{port}/blog"
        try:
            await init_database(self.url, rows=self.rows, progress=None)
        except psycopg.Error as exc:
            await self.stop()
            raise StackError(f"the blog database could not be loaded into the container: {exc}") from exc

    async def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            await asyncio.to_thread(container.stop)

    async def healthy(self) -> bool:
        if self._container is None:
            return False
        try:
            async with await psycopg.AsyncConnection.connect(self.url, connect_timeout=2) as conn:
                await conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def logs(self) -> str:
        if self._container is None:
            return "(not started)"
        out, err = self._container.get_logs()
        return (out + err).decode(errors="replace")[-4000:]
