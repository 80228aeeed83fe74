"""The async database: a psycopg pool with timeouts, request context and fault points.

Rows come back as text: the fast path selects ``data::text`` and hands the strings to
the Rust pipeline untouched, so Python never decodes a document.

Every wait is bounded: connecting (``connect_timeout_s``), waiting for a pooled
connection (``pool_timeout_s``), the statement on the server (``statement_timeout_ms``)
and, on the client, the statement plus ``statement_grace_ms`` once a connection is held
(for networks that swallow the server's answer). Dead pooled connections are replaced
before use (``fraiseql.db.health``) and connections are recycled after
``max_lifetime_s`` / ``max_idle_s``. An optional ``CircuitBreaker`` fails calls fast
while the database is down; an optional ``ReadRetry`` repeats reads marked ``retry=True``.

The pool's own connection attempts are watched (``fraiseql.db.connect_attempts``): each
outcome feeds the breaker, and with ``fail_fast`` attempts failing for
``fail_fast_after_s`` (1.5 s: longer than a restart) or the breaker opening end every wait
for a pooled connection at once (``fraiseql.db.pool_waits``), so an outage answers within
that grace instead of ``pool_timeout_s``; a pool that is merely busy keeps the full wait.
A wait that timed out is no verdict for the breaker (the pool was busy: the attempts speak
for the server). Reconnection attempts are at most
``reconnect_max_delay_s`` apart, so the pool refills soon after the server is back.

Example::

    db = Database("postgresql://app@127.0.0.1/blog")
    await db.open()
    texts = await db.fetch_texts(sql.SQL("SELECT data::text FROM v_post LIMIT %s"), [10])
    await db.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, LiteralString

import psycopg
from psycopg import postgres, pq, sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from fraiseql import faults, telemetry
from fraiseql.context import ANONYMOUS, RequestContext
from fraiseql.db.breaker import BreakerState, CircuitBreaker
from fraiseql.db.connect_attempts import ConnectWatch, ReconnectingPool
from fraiseql.db.errors import translate
from fraiseql.db.health import check_connection
from fraiseql.db.pool_waits import PoolWaits
from fraiseql.db.read_retry import ReadRetry
from fraiseql.deadlines import Deadline, DeadlineExpired, run_with_deadline
from fraiseql.errors import CircuitOpenError, DatabaseError, DatabaseTimeout, DatabaseUnavailable

Query = sql.Composable | LiteralString
Params = Sequence[Any] | Mapping[str, Any] | None

_SET_CONFIG = sql.SQL("SELECT set_config(%s, %s, true)")
_NEVER_S = 10 * 365 * 86_400.0  # what "0 = never" means to psycopg_pool's durations


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
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
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
        statement_grace_ms: int = 1000,
        check: bool = True,
        max_lifetime_s: float = 1800.0,
        max_idle_s: float = 300.0,
        reconnect_timeout_s: float = 30.0,
        reconnect_max_delay_s: float = 1.0,
        fail_fast: bool = True,
        fail_fast_after_s: float = 1.5,
        breaker: CircuitBreaker | None = None,
        read_retry: ReadRetry | None = None,
        name: str = "main",
    ) -> None:
        self.url = url
        self.name = name
        self._span_attributes = {"db.system": "postgresql", "db.name": name}
        self.statement_timeout_ms = statement_timeout_ms
        # The client stops waiting for a statement this long after it got a connection
        # (the server's own timeout, plus grace for its answer to arrive); None: never.
        self.client_deadline_s = (
            (statement_timeout_ms + statement_grace_ms) / 1000.0
            if statement_timeout_ms and statement_grace_ms > 0
            else None
        )
        self.breaker = breaker
        self.read_retry = read_retry
        self.fail_fast = fail_fast
        # Connection attempts must have been failing this long before they count: a restart
        # that is over in a second is waited out, an outage is answered at once after it.
        self.fail_fast_after_s = fail_fast_after_s
        self._failing_since: float | None = None
        self._failing_timer: asyncio.TimerHandle | None = None
        self.connect_watch = ConnectWatch()
        self.connect_watch.listen(self._connect_attempted)
        self.waits = PoolWaits()
        if breaker is not None:
            breaker.listen(self._breaker_moved)
        self._pool = ReconnectingPool(
            url,
            connection_class=self.connect_watch.connection_class(ReadingConnection),
            reconnect_max_delay_s=reconnect_max_delay_s,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=pool_timeout_s,
            check=check_connection if check else None,
            max_lifetime=max_lifetime_s or _NEVER_S,
            max_idle=max_idle_s or _NEVER_S,
            reconnect_timeout=reconnect_timeout_s or _NEVER_S,
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

    def _connect_attempted(self, failure: DatabaseError | None) -> None:
        # One of the pool's connection attempts ended. A success is heard by the breaker at
        # once; failures only once attempts have been failing for fail_fast_after_s (a pool
        # reconnecting ten connections after a restart fails ten attempts in an instant,
        # and that is one blip, not ten failures): then the breaker hears it like a call,
        # and the waits end (the connection they wait for is not coming).
        if failure is None:
            self._failing_since = None
            if self._failing_timer is not None:
                self._failing_timer.cancel()
                self._failing_timer = None
            if self.breaker is not None:
                self.breaker.record_success()
            return
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            if self.fail_fast_after_s > 0:  # act at the end of the grace if nothing connected
                self._failing_timer = asyncio.get_running_loop().call_later(
                    self.fail_fast_after_s, self._still_failing)
                return
        if now - self._failing_since >= self.fail_fast_after_s:
            self._refusing()

    def _still_failing(self) -> None:
        self._failing_timer = None
        if self._failing_since is not None:
            self._refusing()

    def _refusing(self) -> None:
        """The server has been refusing connections for the grace period."""
        if self.breaker is not None:
            self.breaker.record_failure(held=False)
        if self.fail_fast:
            self.waits.end_all(lambda: DatabaseUnavailable("The database is not accepting connections"))

    def _breaker_moved(self, state: BreakerState) -> None:
        if state is BreakerState.OPEN and self.fail_fast and self.breaker is not None:
            breaker = self.breaker
            self.waits.end_all(lambda: CircuitOpenError(breaker.retry_after_s()))

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

    def resilience_stats(self) -> dict[str, Any]:
        """The breaker, the read retries and the pool's connection attempts, for ``/_chaos/stats``."""
        return {
            "breaker": self.breaker.snapshot() if self.breaker is not None else None,
            "read_retries": self.read_retry.snapshot() if self.read_retry is not None else None,
            "connects": {**self.connect_watch.snapshot(), "waits_ended": self.waits.ended},
        }

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """True when a connection can run ``SELECT 1`` within ``timeout_s``."""
        try:
            async with self._pool.connection(timeout=timeout_s) as conn:
                await conn.execute("SELECT 1")
        except (psycopg.Error, OSError):
            return False
        return True

    def connection(self) -> _Lease:
        """A pooled connection (autocommit), as an async context manager; psycopg errors
        leave translated.

        With a breaker, an open circuit raises ``CircuitOpenError`` before the pool is
        asked, and every outcome is reported to it: a translated connection failure or
        timeout counts against the database, anything else the server answered for it;
        a cancellation, a pool wait that timed out (a busy pool) and a wait ended by the
        circuit opening are no verdict.

        Example::

            async with db.connection() as conn:
                await conn.execute("SELECT 1")
        """
        return _Lease(self)

    def _settle(self, exc: BaseException | None) -> BaseException | None:
        """Report a lease's outcome to the breaker; the translated error to raise instead
        of ``exc``, or None to let ``exc`` (or nothing) go on."""
        breaker = self.breaker
        if isinstance(exc, (psycopg.Error, OSError, DatabaseError)):  # pool errors are psycopg.Errors
            error = translate(exc)
            if breaker is not None:
                if isinstance(exc, (PoolTimeout, CircuitOpenError)):
                    breaker.release()
                else:
                    breaker.record(error)
            return None if error is exc else error
        if breaker is not None:
            if exc is None or isinstance(exc, Exception):
                breaker.record_success()  # not a database failure: we had a connection
            else:
                breaker.release()  # a cancellation: no verdict
        return None

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
        retry: bool = False,
    ) -> list[tuple[Any, ...]]:
        """All rows of one statement, run with the request context.

        ``raw_text=True`` returns text columns as UTF-8 ``bytes`` (see ``fetch_documents``).
        ``retry=True`` declares the statement a read, safe to run again: it is retried
        by the database's ``read_retry`` policy after a transient failure.
        """
        if retry and self.read_retry is not None:
            return await self.read_retry.run(
                lambda: self._fetch_rows_once(query, params, context or ANONYMOUS, raw_text)
            )
        return await self._fetch_rows_once(query, params, context or ANONYMOUS, raw_text)

    async def _fetch_rows_once(
        self, query: Query, params: Params, context: RequestContext, raw_text: bool
    ) -> list[tuple[Any, ...]]:
        with telemetry.span("db.query", self._span_attributes, leaf=True):
            started = time.perf_counter()
            if self.client_deadline_s is None:
                rows = await self._run(None, query, params, context, raw_text)
            else:
                try:
                    rows = await run_with_deadline(
                        lambda deadline: self._run(deadline, query, params, context, raw_text), None
                    )
                except DeadlineExpired:
                    error = DatabaseTimeout(
                        "The database did not answer in time", extensions={"clientDeadline": True}
                    )
                    if self.breaker is not None:
                        self.breaker.record_failure()
                    raise error from None
            telemetry.record_query((time.perf_counter() - started) * 1000.0)
        return rows

    async def _run(
        self,
        deadline: Deadline | None,
        query: Query,
        params: Params,
        context: RequestContext,
        raw_text: bool,
    ) -> list[tuple[Any, ...]]:
        async with self.connection() as conn:
            if deadline is not None:
                deadline.reschedule(self.client_deadline_s)  # type: ignore[arg-type]
            if context.needs_settings:
                async with conn.transaction():
                    await apply_context(conn, context)
                    return await execute(conn, query, params, raw_text=raw_text)
            return await execute(conn, query, params, raw_text=raw_text)

    async def fetch_texts(
        self,
        query: Query,
        params: Params = None,
        *,
        context: RequestContext | None = None,
        retry: bool = False,
    ) -> list[str]:
        """The first column of every row (the fast path's ``data::text``)."""
        return [row[0] for row in await self.fetch_rows(query, params, context=context, retry=retry)]

    async def fetch_documents(
        self,
        query: Query,
        params: Params = None,
        *,
        context: RequestContext | None = None,
        retry: bool = False,
    ) -> list[bytes]:
        """The first column of every row as UTF-8 bytes: the fast path's ``data::text``."""
        rows = await self.fetch_rows(query, params, context=context, raw_text=True, retry=retry)
        return [row[0] for row in rows]

    async def fetch_text(
        self,
        query: Query,
        params: Params = None,
        *,
        context: RequestContext | None = None,
        retry: bool = False,
    ) -> str | None:
        rows = await self.fetch_rows(query, params, context=context, retry=retry)
        return rows[0][0] if rows else None

    async def fetch_value(
        self,
        query: Query,
        params: Params = None,
        *,
        context: RequestContext | None = None,
        retry: bool = False,
    ) -> Any:
        rows = await self.fetch_rows(query, params, context=context, retry=retry)
        return rows[0][0] if rows else None


class ReadingConnection(psycopg.AsyncConnection[Any]):
    """The pool's connections: each keeps one cursor for ``execute``. A new cursor per
    statement copies the connection's adapters and makes a new transformer; a kept one
    reuses them, and psycopg keeps the transformer too when the query object is the one it
    ran last (the plan cache hands the same bytes each time). What it holds between uses
    is its last result (the pool's ten connections: ten results at most). Statements
    awaited at once on one connection can share it: psycopg runs them one at a time, and
    ``execute`` takes its rows as the statement returns, with no wait in between
    (pipeline mode, where the rows come later, is not one ``execute`` serves)."""

    _read_cursor: psycopg.AsyncCursor[Any] | None = None

    def read_cursor(self) -> psycopg.AsyncCursor[Any]:
        cursor = self._read_cursor
        if cursor is None or cursor.closed:
            cursor = self._read_cursor = self.cursor()
        return cursor


class _Lease:
    """``Database.connection()``: a connection from the pool for the ``async with`` block.

    A class rather than a generator context manager: every read enters one.
    """

    __slots__ = ("_db", "_conn")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def __aenter__(self) -> psycopg.AsyncConnection[Any]:
        db = self._db
        if db.breaker is not None:
            db.breaker.before_call()
        try:
            if _CONNECT.hooks:
                await _CONNECT.fire(None, database=db.name)
            # getconn/putconn, not pool.connection(): that one also enters the connection,
            # whose exit commits; in autocommit there is nothing to commit, and the check
            # cost more than the checkout itself (128k against 50k instructions).
            # putconn rolls back a connection returned inside a transaction. With
            # fail_fast, the wait for a connection ends early when the server refuses them.
            checkout = db.pool.getconn()
            self._conn = await (db.waits.run(checkout) if db.fail_fast else checkout)
        except BaseException as exc:
            error = db._settle(exc)
            if error is None:
                raise
            raise error from exc
        return self._conn

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: Any) -> None:
        db = self._db
        try:
            await db.pool.putconn(self._conn)  # type: ignore[arg-type]
        except BaseException as put_exc:
            error = db._settle(put_exc)
            if error is None:
                raise
            raise error from put_exc
        error = db._settle(exc)
        if error is not None:
            raise error from exc


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
    cursor = conn.read_cursor() if isinstance(conn, ReadingConnection) else conn.cursor()
    if raw_text and cursor.adapters.get_loader(_TEXT_OID, pq.Format.BINARY) is not _RAW_TEXT_LOADER:
        cursor.adapters.register_loader(_TEXT_OID, _RAW_TEXT_LOADER)  # not one of our pool's
    await cursor.execute(query, params, binary=raw_text)
    result = cursor.pgresult  # its status, not cursor.description, which builds Column objects
    if result is None or result.status != _TUPLES_OK:
        return []
    return await cursor.fetchall()
