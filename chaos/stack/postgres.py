"""PostgreSQL for the stack: a throwaway cluster holding the blog example's database.

Example::

    pg = PostgresComponent(rows=200)
    await pg.start()
    print(pg.url)        # postgresql://postgres@127.0.0.1:54213/blog?gssencmode=disable
    pg.cluster.restart() # the database faults drive the cluster directly
    await pg.stop()
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import psycopg

from chaos.errors import StackError
from chaos.stack.base import tail
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres, LocalPostgresError


class PostgresComponent:
    """A LocalPostgres cluster with the blog database loaded with ``rows`` posts."""

    name = "postgres"

    def __init__(self, *, rows: int = 200, dbname: str = "blog") -> None:
        self.rows = rows
        self.dbname = dbname
        self.cluster: LocalPostgres | None = None

    @property
    def url(self) -> str:
        """The direct (unproxied) URL of the blog database."""
        return self._running().url

    @property
    def address(self) -> str:
        """``host:port`` of the server, the upstream of the Toxiproxy proxies."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}"

    async def start(self) -> None:
        self.cluster = LocalPostgres(dbname=self.dbname)
        try:
            await asyncio.to_thread(self.cluster.start)
            await init_database(self.cluster.url, rows=self.rows, progress=None)
        except (LocalPostgresError, psycopg.Error) as exc:
            log = self.logs()
            await self.stop()
            raise StackError(f"PostgreSQL did not start with the blog database: {exc}\n{log}") from exc

    async def stop(self) -> None:
        cluster, self.cluster = self.cluster, None
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)

    async def healthy(self) -> bool:
        if self.cluster is None:
            return False
        try:
            async with await psycopg.AsyncConnection.connect(self.cluster.url, connect_timeout=2) as conn:
                await conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def logs(self) -> str:
        try:
            return tail(self.cluster.logfile) if self.cluster else "(not started)"
        except LocalPostgresError:
            return "(not started)"

    def _running(self) -> LocalPostgres:
        if self.cluster is None:
            raise StackError("PostgreSQL is not running: start() the component first")
        return self.cluster
