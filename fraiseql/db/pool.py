"""The async database: a psycopg pool with timeouts, request context and fault points.

Rows come back as text: the fast path selects ``data::text`` and hands the strings to
the Rust pipeline untouched, so Python never decodes a document.

Example::

    db = Database("postgresql://app@127.0.0.1/blog")
    await db.open()
    texts = await db.fetch_texts(sql.SQL("SELECT data::text FROM v_post LIMIT %s"), [10])
    await db.close()
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, LiteralString

import psycopg
from psycopg import postgres, pq, sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool

from fraiseql import faults, telemetry
from fraiseql.context import ANONYMOUS, RequestContext
from fraiseql.db.errors import translate

Query = sql.Composable | LiteralString
Params = Sequence[Any] | Mapping[str, Any] | None

_SET_CONFIG = sql.SQL("SELECT set_config(%s, %s, true)")


class _RawTextLoader(Loader):
    """Loads text columns as the server's UTF-8 bytes: no decoding, no re-encoding.

    The Rust pipeline reads bytes directly; a ``str`` would cost a decode here and an
    encode on the Rust side (measured: about half the pipeline's time at 100 rows).
    Registered for the *binary* format only, and ``raw_text`` statements ask for binary
    results: a text value's binary form is its bytes, so psycopg's C bytea loader (when
    psycopg's C extension is there) copies it without a Python call per row. Results in
    the default text format still load as ``str``.
    """

    format = pq.Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


_TEXT_OID = postgres.types["text"].oid
# A bytea value's binary form is its bytes, as a text value's is: the same loader fits.
_RAW_TEXT_LOADER: type[Loader] = (
    psycopg.adapters.get_loader(postgres.types["bytea"].oid, pq.Format.BINARY) or _RawTextLoader
)

_CONNECT = faults.point("db.connect")
_EXECUTE = faults.point("db.execute")


class Database:
    """A named connection pool with the runtime's timeouts and error translation.

    ``open`` does not wait for the server: an app starts while its database is down and
    reports it on ``/ready``; requests then fail fast with ``DATABASE_UNAVAILABLE``.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout_s: float = 5.0,
        pool_timeout_s: float = 5.0,
        statement_timeout_ms: int | None = 5000,
        name: str = "main",
    ) -> None:
        self.url = url
        self.name = name
        self._span_attributes = {"db.system": "postgresql", "db.name": name}
        self.statement_timeout_ms = statement_timeout_ms
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=pool_timeout_s,
            reconnect_timeout=max(30.0, connect_timeout_s),
            kwargs={
                "autocommit": True,
                "connect_timeout": max(1, round(connect_timeout_s)),
                "application_name": f"fraiseql-{name}",
                # libpq's GSSAPI probe is not thread-safe in the bundled libpq (psycopg
                # issues 1213/1229: crashes when threads connect at once) and costs a
                # round trip; servers that need GSS encryption can set it in the URL.
                "gssencmode": "disable",
            },
            configure=self._configure,
            name=f"fraiseql-{name}",
        )

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # Text in binary results loads as bytes on this pool's connections (raw_text).
        conn.adapters.register_loader(_TEXT_OID, _RAW_TEXT_LOADER)
        # The default statement timeout is a session setting, so an autocommit
        # statement is bounded without an extra SET LOCAL round trip.
        if self.statement_timeout_ms is not None:
            await conn.execute(
                sql.SQL("SELECT set_config('statement_timeout', %s, false)"),
                [f"{int(self.statement_timeout_ms)}ms"],
            )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool

    def stats(self) -> dict[str, int]:
        """psycopg_pool's counters (pool_size, pool_available, requests_waiting, ...)."""
        return dict(self._pool.get_stats())

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """True when a connection can run ``SELECT 1`` within ``timeout_s``."""
        try:
            async with self._pool.connection(timeout=timeout_s) as conn:
                await conn.execute("SELECT 1")
        except (psycopg.Error, OSError):
            return False
        return True

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection (autocommit); psycopg errors leave translated."""
        try:
            if _CONNECT.hooks:
                await _CONNECT.fire(None, database=self.name)
            # getconn/putconn, not pool.connection(): that one also enters the connection,
            # whose exit commits; in autocommit there is nothing to commit, and the check
            # cost more than the checkout itself (128k against 50k instructions).
            # putconn rolls back a connection returned inside a transaction.
            conn = await self._pool.getconn()
            try:
                yield conn
            finally:
                await self._pool.putconn(conn)
        except (psycopg.Error, OSError) as exc:  # psycopg_pool's errors are psycopg.Errors
            raise translate(exc) from exc

    @contextlib.asynccontextmanager
    async def transaction(
        self, context: RequestContext | None = None
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A transaction with the request's SET LOCAL values applied first."""
        async with self.connection() as conn:
            async with conn.transaction():
                await apply_context(conn, context or ANONYMOUS)
                yield conn

    async def fetch_rows(
        self,
        query: Query,
        params: Params = None,
        *,
        context: RequestContext | None = None,
        raw_text: bool = False,
    ) -> list[tuple[Any, ...]]:
        """All rows of one statement, run with the request context.

        ``raw_text=True`` returns text columns as UTF-8 ``bytes`` (see ``fetch_documents``).
        """
        context = context or ANONYMOUS
        with telemetry.span("db.query", self._span_attributes, leaf=True):
            started = time.perf_counter()
            async with self.connection() as conn:
                if context.needs_settings:
                    async with conn.transaction():
                        await apply_context(conn, context)
                        rows = await execute(conn, query, params, raw_text=raw_text)
                else:
                    rows = await execute(conn, query, params, raw_text=raw_text)
            telemetry.record_query((time.perf_counter() - started) * 1000.0)
        return rows

    async def fetch_texts(
        self, query: Query, params: Params = None, *, context: RequestContext | None = None
    ) -> list[str]:
        """The first column of every row (the fast path's ``data::text``)."""
        return [row[0] for row in await self.fetch_rows(query, params, context=context)]

    async def fetch_documents(
        self, query: Query, params: Params = None, *, context: RequestContext | None = None
    ) -> list[bytes]:
        """The first column of every row as UTF-8 bytes: the fast path's ``data::text``."""
        rows = await self.fetch_rows(query, params, context=context, raw_text=True)
        return [row[0] for row in rows]

    async def fetch_text(
        self, query: Query, params: Params = None, *, context: RequestContext | None = None
    ) -> str | None:
        rows = await self.fetch_rows(query, params, context=context)
        return rows[0][0] if rows else None

    async def fetch_value(
        self, query: Query, params: Params = None, *, context: RequestContext | None = None
    ) -> Any:
        rows = await self.fetch_rows(query, params, context=context)
        return rows[0][0] if rows else None


async def apply_context(conn: psycopg.AsyncConnection[Any], context: RequestContext) -> None:
    """SET LOCAL the context's values (parameterised set_config; needs a transaction)."""
    for name, value in context.settings():
        await conn.execute(_SET_CONFIG, [name, value])


async def execute(
    conn: psycopg.AsyncConnection[Any], query: Query, params: Params = None, *, raw_text: bool = False
) -> list[tuple[Any, ...]]:
    """Run one statement through the ``db.execute`` fault point; rows, or [] for none."""
    if _EXECUTE.hooks:
        await _EXECUTE.fire(None, query=query, params=params)
    cursor = conn.cursor()
    if raw_text and cursor.adapters.get_loader(_TEXT_OID, pq.Format.BINARY) is not _RAW_TEXT_LOADER:
        cursor.adapters.register_loader(_TEXT_OID, _RAW_TEXT_LOADER)  # not one of our pool's
    await cursor.execute(query, params, binary=raw_text)
    if cursor.description is None:
        return []
    return await cursor.fetchall()
