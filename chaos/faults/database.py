"""Database faults, done by PostgreSQL itself through the admin (direct, not proxied) URL.

- ``lock_table``: a second session holds a lock on a table until the revert.
- ``terminate_backends``: ``pg_terminate_backend`` of the app's sessions, once or every N s.
- ``exhaust_connections``: sessions opened up to ``max_connections`` minus a margin.
- ``restart_postgres``: ``pg_ctl restart`` of the local cluster.
- ``sqlstate``: a trigger raising SQLSTATE 40001, 40P01 or 57014 at a rate on writes.

Every session the harness opens is named ``fraiseql-chaos-<fault>`` (``application_name``),
so the app's sessions (``fraiseql-main``, ``fraiseql-cache``) and ours never mix, and a
run after a killed one can find and end what the killed run left behind.

Example (a scenario's fault)::

    - type: sqlstate
      at_s: 5
      sqlstate: "40001"
      rate: 0.3
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any, Literal

import psycopg
from psycopg import sql
from pydantic import Field

from chaos.errors import FaultError
from chaos.faults.base import Evidence, Fault, FaultContext, FaultParams, register, register_cleaner

CHAOS_APP_PREFIX = "fraiseql-chaos"
INJECTION_SCHEMA = "chaos"
_DDL_LOCK_TIMEOUT = "5s"  # harness DDL must not queue forever behind the app's writes

LockMode = Literal[
    "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
    "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE",
]


async def connect(ctx: FaultContext, fault: str) -> psycopg.AsyncConnection[Any]:
    """An autocommit admin session named ``fraiseql-chaos-<fault>``."""
    try:
        return await psycopg.AsyncConnection.connect(
            ctx.stack.admin_db_url, autocommit=True, connect_timeout=5, gssencmode="disable",
            application_name=f"{CHAOS_APP_PREFIX}-{fault}",
        )
    except psycopg.Error as exc:
        raise FaultError(f"{fault}: cannot open an admin session: {exc}") from exc


@contextlib.asynccontextmanager
async def session(ctx: FaultContext, fault: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    conn = await connect(ctx, fault)
    try:
        yield conn
    except psycopg.Error as exc:
        raise FaultError(f"{fault}: PostgreSQL refused: {exc}") from exc
    finally:
        await conn.close()


async def scalar(conn: psycopg.AsyncConnection[Any], query: Any, params: Any = None) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    return row[0] if row else None


def table_name(name: str) -> sql.Identifier:
    """``tb_post`` or ``schema.tb_post`` as a quoted identifier."""
    return sql.Identifier(*name.split("."))


class LockTableParams(FaultParams):
    type: Literal["lock_table"] = "lock_table"
    table: str = "tb_post"
    mode: LockMode = "ACCESS EXCLUSIVE"


@register
class LockTable(Fault):
    """A second session holds ``mode`` on ``table`` from apply to revert.

    Evidence: the lock was granted (``pg_locks``) and how many sessions were seen
    waiting behind it (sampled while the fault lasts, via ``pg_blocking_pids``).
    """

    type = "lock_table"
    Params = LockTableParams
    sample_interval_s = 0.2

    def __init__(self, params: LockTableParams) -> None:
        super().__init__(params)
        self._holder: psycopg.AsyncConnection[Any] | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._details: dict[str, Any] = {"granted": False, "max_waiting": 0, "samples": 0}

    async def apply(self, ctx: FaultContext) -> None:
        self._holder = await connect(ctx, self.type)
        try:
            await self._holder.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(_DDL_LOCK_TIMEOUT)))
            await self._holder.execute("BEGIN")
            await self._holder.execute(
                sql.SQL("LOCK TABLE {} IN " + self.params.mode + " MODE").format(table_name(self.params.table))
            )
            pid = self._holder.info.backend_pid
            self._details["granted"] = bool(await scalar(
                self._holder,
                "SELECT count(*) > 0 FROM pg_locks WHERE pid = %s AND relation = %s::regclass AND granted",
                [pid, self.params.table],
            ))
        except psycopg.Error as exc:
            await self.revert(ctx)
            raise FaultError(f"lock_table: cannot lock {self.params.table}: {exc}") from exc
        self._sampler = asyncio.create_task(self._sample_waiting(ctx, pid))

    async def _sample_waiting(self, ctx: FaultContext, holder_pid: int) -> None:
        async with session(ctx, self.type) as conn:
            while True:  # ends when revert cancels it
                waiting = await scalar(
                    conn, "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    [holder_pid],
                )
                self._details["samples"] += 1
                self._details["max_waiting"] = max(self._details["max_waiting"], int(waiting))
                await asyncio.sleep(self.sample_interval_s)

    async def revert(self, ctx: FaultContext) -> None:
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError, FaultError):
                await sampler
        holder, self._holder = self._holder, None
        if holder is not None:
            await holder.close()  # closing ends the transaction and releases the lock

    async def evidence(self, ctx: FaultContext) -> Evidence:
        return Evidence(fired=bool(self._details["granted"]), details=dict(self._details))


class TerminateBackendsParams(FaultParams):
    type: Literal["terminate_backends"] = "terminate_backends"
    application_name: str = "fraiseql-%"  # a LIKE pattern; the harness's own never match
    every_s: float | None = Field(default=None, gt=0)  # None: once, at apply


@register
class TerminateBackends(Fault):
    """``pg_terminate_backend`` of the app's sessions. Evidence: how many were ended."""

    type = "terminate_backends"
    Params = TerminateBackendsParams

    def __init__(self, params: TerminateBackendsParams) -> None:
        super().__init__(params)
        self.terminated = 0
        self.rounds = 0
        self._repeater: asyncio.Task[None] | None = None

    async def _terminate_once(self, ctx: FaultContext) -> None:
        async with session(ctx, self.type) as conn:
            ended = await scalar(
                conn,
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name LIKE %s AND application_name NOT LIKE %s"
                " AND pid <> pg_backend_pid()",
                [self.params.application_name, f"{CHAOS_APP_PREFIX}%"],
            )
        self.terminated += int(ended)
        self.rounds += 1

    async def apply(self, ctx: FaultContext) -> None:
        await self._terminate_once(ctx)
        if self.params.every_s is not None:
            self._repeater = asyncio.create_task(self._repeat(ctx, self.params.every_s))

    async def _repeat(self, ctx: FaultContext, every_s: float) -> None:
        while True:  # ends when revert cancels it
            await asyncio.sleep(every_s)
            with contextlib.suppress(FaultError):  # a refused round is retried next time
                await self._terminate_once(ctx)

    async def revert(self, ctx: FaultContext) -> None:
        repeater, self._repeater = self._repeater, None
        if repeater is not None:
            repeater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await repeater

    async def evidence(self, ctx: FaultContext) -> Evidence:
        return Evidence(fired=self.terminated > 0, details={"terminated": self.terminated, "rounds": self.rounds})


class ExhaustConnectionsParams(FaultParams):
    type: Literal["exhaust_connections"] = "exhaust_connections"
    margin: int = Field(default=0, ge=0)  # slots left free (e.g. for the harness's own checks)


@register
class ExhaustConnections(Fault):
    """Hold sessions until only ``margin`` of ``max_connections`` are left.

    Evidence: the sessions held, and the "too many clients" refusals the server logged
    while they were held (counted in the local cluster's log; ``None`` without one).
    """

    type = "exhaust_connections"
    Params = ExhaustConnectionsParams
    batch = 10  # connections opened at once: a burst of forks is itself a fault

    def __init__(self, params: ExhaustConnectionsParams) -> None:
        super().__init__(params)
        self._held: list[psycopg.AsyncConnection[Any]] = []
        self._details: dict[str, Any] = {"held": 0, "max_connections": None, "too_many_clients": None}
        self._log_offset: int | None = None

    async def apply(self, ctx: FaultContext) -> None:
        async with session(ctx, self.type) as conn:
            limit = int(await scalar(conn, "SELECT current_setting('max_connections')::int"))
        self._details["max_connections"] = limit
        # Open until the server refuses (counting free slots races with closing
        # sessions), then give back the margin.
        while len(self._held) < limit:
            opened = await asyncio.gather(*(connect(ctx, self.type) for _ in range(self.batch)), return_exceptions=True)
            self._held.extend(c for c in opened if isinstance(c, psycopg.AsyncConnection))
            if any(isinstance(c, BaseException) for c in opened):
                break
        if self.params.margin:
            given_back, self._held = self._held[-self.params.margin:], self._held[:-self.params.margin]
            await asyncio.gather(*(c.close() for c in given_back), return_exceptions=True)
        self._log_offset = _log_size(ctx)  # after our own refusals: count only others'
        self._details["held"] = len(self._held)

    async def revert(self, ctx: FaultContext) -> None:
        held, self._held = self._held, []
        if self._log_offset is not None:
            self._details["too_many_clients"] = _count_in_log(ctx, self._log_offset, "too many clients")
        await asyncio.gather(*(c.close() for c in held), return_exceptions=True)

    async def evidence(self, ctx: FaultContext) -> Evidence:
        details = dict(self._details)
        if self._held and self._log_offset is not None:
            details["too_many_clients"] = _count_in_log(ctx, self._log_offset, "too many clients")
        return Evidence(fired=details["held"] > 0, details=details)


def _cluster(ctx: FaultContext) -> Any:
    return getattr(getattr(ctx.stack, "postgres", None), "cluster", None)


def _log_size(ctx: FaultContext) -> int | None:
    cluster = _cluster(ctx)
    try:
        return cluster.logfile.stat().st_size if cluster is not None else None
    except OSError:
        return None


def _count_in_log(ctx: FaultContext, offset: int, needle: str) -> int | None:
    cluster = _cluster(ctx)
    try:
        with open(cluster.logfile, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace").count(needle)
    except (AttributeError, OSError):
        return None


class RestartPostgresParams(FaultParams):
    type: Literal["restart_postgres"] = "restart_postgres"
    mode: Literal["smart", "fast", "immediate"] = "fast"


@register
class RestartPostgres(Fault):
    """``pg_ctl restart`` of the local cluster. Evidence: the postmaster start time moved."""

    type = "restart_postgres"
    Params = RestartPostgresParams
    _START_TIME = "SELECT pg_postmaster_start_time()::text"

    def __init__(self, params: RestartPostgresParams) -> None:
        super().__init__(params)
        self._details: dict[str, Any] = {"started_before": None, "started_after": None}

    async def apply(self, ctx: FaultContext) -> None:
        cluster = _cluster(ctx)
        if cluster is None:
            raise FaultError("restart_postgres needs a local cluster (stack.postgres.cluster)")
        async with session(ctx, self.type) as conn:
            self._details["started_before"] = await scalar(conn, self._START_TIME)
        try:
            await asyncio.to_thread(cluster.restart, self.params.mode)
        except Exception as exc:
            raise FaultError(f"restart_postgres: pg_ctl restart failed: {exc}") from exc
        async with session(ctx, self.type) as conn:
            self._details["started_after"] = await scalar(conn, self._START_TIME)

    async def revert(self, ctx: FaultContext) -> None:
        """Nothing to undo once the server is back; start it if a failed restart left it down."""
        cluster = _cluster(ctx)
        if cluster is None:
            return
        try:
            await (await connect(ctx, self.type)).close()
        except FaultError:
            await asyncio.to_thread(cluster.pg_ctl_start)

    async def evidence(self, ctx: FaultContext) -> Evidence:
        before, after = self._details["started_before"], self._details["started_after"]
        return Evidence(fired=None not in (before, after) and before != after, details=dict(self._details))


class SqlstateParams(FaultParams):
    type: Literal["sqlstate"] = "sqlstate"
    sqlstate: Literal["40001", "40P01", "57014"] = "40001"
    rate: float = Field(default=1.0, ge=0, le=1)
    seed: int | None = None  # default: drawn from the scenario's random source
    table: str = "tb_post"
    on: tuple[Literal["INSERT", "UPDATE"], ...] = ("INSERT", "UPDATE")


def sqlstate_draw(seed: int, n: int) -> float:
    """The trigger's n-th draw in [0, 1) (the same formula it computes in SQL)."""
    return int(hashlib.md5(f"{seed}:{n}".encode()).hexdigest()[:8], 16) / 2**32


@register
class Sqlstate(Fault):
    """A BEFORE trigger on ``table`` raising ``sqlstate`` for a ``rate`` of the app's writes.

    ``random()`` cannot be seeded for sessions the harness does not own, so the dice
    are a hash of (seed, n) where n numbers the trigger's calls (a sequence): given the
    seed and the order of the writes, which ones fail is repeatable (``sqlstate_draw``).
    Raising aborts the writing transaction, which would roll back a counter row too,
    so calls and raises are counted with ``nextval`` on sequences in the ``chaos``
    schema (sequences are never rolled back). Sessions of the harness itself
    (``fraiseql-chaos-*``) are never failed. Evidence: the calls and raises counted.
    """

    type = "sqlstate"
    Params = SqlstateParams

    def __init__(self, params: SqlstateParams) -> None:
        super().__init__(params)
        self.name = f"fraiseql_chaos_{params.table.replace('.', '_')}_{params.sqlstate.lower()}"
        self.seed = params.seed
        self.counts: dict[str, int] | None = None  # kept at revert, when the sequences go

    def _identifier(self, suffix: str = "") -> sql.Identifier:
        return sql.Identifier(INJECTION_SCHEMA, self.name + suffix)

    async def apply(self, ctx: FaultContext) -> None:
        if self.seed is None:
            self.seed = ctx.rng.randrange(2**31)
        counter = f"{INJECTION_SCHEMA}.{self.name}"
        body = (
            "DECLARE n bigint;\n"
            "BEGIN\n"
            f"  IF current_setting('application_name') NOT LIKE '{CHAOS_APP_PREFIX}%' THEN\n"
            f"    n := nextval('{counter}_calls');\n"
            f"    IF ('x' || substr(md5('{int(self.seed)}:' || n), 1, 8))::bit(32)::bigint / 4294967296.0"
            f" < {float(self.params.rate)!r} THEN\n"
            f"      PERFORM nextval('{counter}_raised');\n"
            f"      RAISE EXCEPTION 'injected by fraiseql chaos: SQLSTATE {self.params.sqlstate}'"
            f" USING ERRCODE = '{self.params.sqlstate}';\n"
            "    END IF;\n"
            "  END IF;\n"
            "  RETURN NEW;\n"
            "END"
        )
        events = sql.SQL(" OR ").join(sql.SQL(event) for event in self.params.on)
        trigger, table = sql.Identifier(self.name), table_name(self.params.table)
        async with session(ctx, self.type) as conn:
            await conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(_DDL_LOCK_TIMEOUT)))
            async with conn.transaction():
                await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(INJECTION_SCHEMA)))
                for suffix in ("_calls", "_raised"):
                    await conn.execute(sql.SQL("DROP SEQUENCE IF EXISTS {}").format(self._identifier(suffix)))
                    await conn.execute(sql.SQL("CREATE SEQUENCE {}").format(self._identifier(suffix)))
                await conn.execute(
                    sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}").format(
                        self._identifier(), sql.Literal(body)
                    )
                )
                await conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(trigger, table))
                await conn.execute(
                    sql.SQL("CREATE TRIGGER {} BEFORE {} ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
                        trigger, events, table, self._identifier()
                    )
                )

    async def _read_counts(self, conn: psycopg.AsyncConnection[Any]) -> dict[str, int] | None:
        counts = {}
        for key in ("calls", "raised"):
            if not await scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", [f"{INJECTION_SCHEMA}.{self.name}_{key}"]):
                return None
            counts[key] = int(await scalar(
                conn, sql.SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {}").format(
                    self._identifier(f"_{key}")
                )
            ))
        return counts

    async def revert(self, ctx: FaultContext) -> None:
        async with session(ctx, self.type) as conn:
            await conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(_DDL_LOCK_TIMEOUT)))
            counts = await self._read_counts(conn)
            if counts is not None:
                self.counts = counts
            if await scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", [self.params.table]):
                await conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                    sql.Identifier(self.name), table_name(self.params.table)
                ))
            await conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}()").format(self._identifier()))
            for suffix in ("_calls", "_raised"):
                await conn.execute(sql.SQL("DROP SEQUENCE IF EXISTS {}").format(self._identifier(suffix)))

    async def evidence(self, ctx: FaultContext) -> Evidence:
        counts = self.counts
        if counts is None:  # still applied: read the live counters
            async with session(ctx, self.type) as conn:
                counts = await self._read_counts(conn)
        counts = counts or {"calls": 0, "raised": 0}
        return Evidence(
            fired=counts["raised"] > 0,
            details={**counts, "sqlstate": self.params.sqlstate, "rate": self.params.rate, "seed": self.seed},
        )


@register_cleaner("database")
async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """End sessions named ``fraiseql-chaos-*`` and drop injected triggers and functions.

    For a run that starts after a killed one. Returns what was cleaned, one line each.
    """
    cleaned: list[str] = []
    async with session(ctx, "clean") as conn:
        ended = await scalar(
            conn,
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            [f"{CHAOS_APP_PREFIX}%"],
        )
        if ended:
            cleaned.append(f"terminated {ended} fraiseql-chaos session(s)")
        await conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(_DDL_LOCK_TIMEOUT)))
        triggers = await (await conn.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'fraiseql\\_chaos\\_%'"
        )).fetchall()
        for trigger, table in triggers:
            await conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                sql.Identifier(trigger), sql.SQL(table)  # regclass text is already quoted
            ))
            cleaned.append(f"dropped trigger {trigger} on {table}")
        if await scalar(conn, "SELECT count(*) > 0 FROM pg_namespace WHERE nspname = %s", [INJECTION_SCHEMA]):
            await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(INJECTION_SCHEMA)))
            cleaned.append(f"dropped schema {INJECTION_SCHEMA} (injected functions and counters)")
    return cleaned
