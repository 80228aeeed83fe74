"""Resource and concurrency faults: the app's process, its pool, and the traffic it gets.

- ``cpu_hog`` / ``memory_pressure``: threads burning CPU, or memory held, inside the app's
  process, through the chaos agent (``/_chaos/resources``). Evidence: the CPU seconds burnt
  and the bytes held, as the app's process reports them.
- ``request_burst``: side traffic of reads at a rate (ten times the load, say).
- ``concurrent_requests``: waves of N queries sent at once (a thousand against a pool of 20).
- ``slow_clients``: connections that send a request body one byte at a time.
- ``kill_app``: SIGKILL the app (or one of its workers); with one worker the harness
  starts it again after ``restart_after_s``, as a supervisor would; with several,
  uvicorn's supervisor replaces the worker. Evidence: the pid that died and the one that
  answers afterwards.
- ``row_contention``: many writers updating one post at once. Checks: every write
  acknowledged or refused with a GraphQL error, and the row ends as one of the
  acknowledged writes left it.

Example (scenario YAML)::

    - type: concurrent_requests
      requests: 1000
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any, Literal

import psycopg
from pydantic import Field

from chaos.errors import FaultError
from chaos.faults.base import Check, Evidence, Fault, FaultContext, FaultParams, register, register_cleaner
from chaos.faults.inprocess import AgentClient
from chaos.faults.traffic import SideTraffic, TrafficStats, encoded, graphql_body, slow_body_client
from chaos.load import operations as ops

READ = "{ posts(limit: 20) { id title author { name } } }"


def _agent(ctx: FaultContext) -> AgentClient:
    agent = AgentClient.for_stack(ctx.stack)
    if agent is None:
        raise FaultError("resource faults in the app need its chaos agent (FRAISEQL_CHAOS_AGENT_TOKEN)")
    return agent


# --- cpu_hog / memory_pressure ----------------------------------------------------------

class CpuHogParams(FaultParams):
    type: Literal["cpu_hog"] = "cpu_hog"
    threads: int = Field(1, ge=1, le=8)


class MemoryPressureParams(FaultParams):
    type: Literal["memory_pressure"] = "memory_pressure"
    mb: int = Field(256, ge=1, le=2048)


class _AgentResource(Fault):
    """One resource hog in the app's process, held until reverted."""

    kind: str

    def __init__(self, params: FaultParams) -> None:
        super().__init__(params)
        self.resource_id: str | None = None
        self._final: dict[str, Any] | None = None
        self._process_before: dict[str, Any] | None = None

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    async def apply(self, ctx: FaultContext) -> None:
        agent = _agent(ctx)
        self._process_before = (await agent.request("GET", "/_chaos/resources"))["process"]
        created = await agent.request("POST", "/_chaos/resources",
                                      {"kind": self.kind, "duration_s": 3600, **self.spec()})
        self.resource_id = created["id"]

    async def revert(self, ctx: FaultContext) -> None:
        resource_id, self.resource_id = self.resource_id, None
        if resource_id is not None:
            removed = await _agent(ctx).request("DELETE", f"/_chaos/resources/{resource_id}",
                                                missing_ok=True)
            self._final = removed or self._final

    async def evidence(self, ctx: FaultContext) -> Evidence:
        listed = await _agent(ctx).request("GET", "/_chaos/resources")
        mine = next((r for r in listed["resources"] if r["id"] == self.resource_id), self._final or {})
        process = listed["process"]
        before = self._process_before or {}
        details = {"resource": mine, "process_now": process, "process_before": before}
        if self.kind == "cpu":
            fired = float(mine.get("cpu_s", 0)) > 0
        else:
            fired = int(mine.get("bytes", 0)) > 0
        return Evidence(fired=fired, details=details)


@register
class CpuHog(_AgentResource):
    type = "cpu_hog"
    Params = CpuHogParams
    kind = "cpu"

    def spec(self) -> dict[str, Any]:
        return {"threads": self.params.threads}


@register
class MemoryPressure(_AgentResource):
    type = "memory_pressure"
    Params = MemoryPressureParams
    kind = "memory"

    def spec(self) -> dict[str, Any]:
        return {"mb": self.params.mb}

    async def settle(self, ctx: FaultContext) -> list[Check]:
        """The memory goes back: the app's RSS after the revert is near where it started."""
        before = (self._process_before or {}).get("rss_bytes")
        if not before:
            return []
        await asyncio.sleep(1.0)
        after = (await _agent(ctx).request("GET", "/_chaos/resources"))["process"]["rss_bytes"]
        limit = before + self.params.mb * 1024 * 1024 // 2
        return [Check("memory released", after <= limit,
                      f"RSS {before / 2**20:.0f} MB before, {after / 2**20:.0f} MB after the revert "
                      f"(limit {limit / 2**20:.0f} MB)")]


# --- traffic faults ---------------------------------------------------------------------

class _TrafficFault(Fault):
    """A fault that is extra traffic; its stats are the evidence."""

    def __init__(self, params: FaultParams) -> None:
        super().__init__(params)
        self.traffic: SideTraffic | None = None

    def build(self, ctx: FaultContext) -> SideTraffic:
        raise NotImplementedError

    async def apply(self, ctx: FaultContext) -> None:
        self.traffic = self.build(ctx)
        self.traffic.start()

    async def revert(self, ctx: FaultContext) -> None:
        if self.traffic is not None:
            await self.traffic.stop()

    async def evidence(self, ctx: FaultContext) -> Evidence:
        # Read at the end of the window: stop sending and let the answers in flight arrive
        # (a thousand concurrent requests take seconds to be answered on a busy machine).
        stats = await self.traffic.stop() if self.traffic else None
        if stats is None:
            return Evidence(fired=False, details={"error": "no traffic was sent"})
        checks = (Check("no bare 5xx", stats.bare_5xx == 0,
                        f"{stats.bare_5xx} of the fault's own answers were 5xx without a GraphQL error"),
                  *self.checks(stats))
        return Evidence(fired=stats.answered > 0, details={"traffic": stats.as_dict()}, checks=checks)

    def checks(self, stats: TrafficStats) -> tuple[Check, ...]:
        """What this kind of traffic must show besides "no bare 5xx" (none by default)."""
        return ()


MIN_BURST_RATE_SHARE = 0.5


class RequestBurstParams(FaultParams):
    type: Literal["request_burst"] = "request_burst"
    rate_per_s: float = Field(200, gt=0, le=5_000)
    concurrency: int = Field(50, ge=1, le=2_000)


@register
class RequestBurst(_TrafficFault):
    type = "request_burst"
    Params = RequestBurstParams

    def build(self, ctx: FaultContext) -> SideTraffic:
        return SideTraffic(ctx.stack.app_url, lambda n: ({}, graphql_body(READ)),
                           rate_per_s=self.params.rate_per_s, concurrency=self.params.concurrency)

    def checks(self, stats: TrafficStats) -> tuple[Check, ...]:
        # A burst the sender could not produce (a busy machine, a full concurrency limit)
        # is no burst: it must reach half the rate asked for.
        rate = stats.sent_per_s
        wanted = MIN_BURST_RATE_SHARE * self.params.rate_per_s
        return (Check("burst rate", rate is not None and rate >= wanted,
                      f"sent {0 if rate is None else rate:.0f} requests/s "
                      f"(asked {self.params.rate_per_s:g}, at least {wanted:g} needed)"),)


class ConcurrentRequestsParams(FaultParams):
    type: Literal["concurrent_requests"] = "concurrent_requests"
    requests: int = Field(1000, ge=2, le=5_000, description="sent at once, in each wave")
    timeout_s: float = Field(30, gt=0, le=120)
    expect_shed: bool = Field(
        False, description="the waves exceed the app's in-flight limit: some answers must be "
                           "503 OVERLOADED (the app shed them), checked as 'load shed'")


@register
class ConcurrentRequests(_TrafficFault):
    type = "concurrent_requests"
    Params = ConcurrentRequestsParams

    def build(self, ctx: FaultContext) -> SideTraffic:
        p = self.params
        return SideTraffic(ctx.stack.app_url, lambda n: ({}, graphql_body(READ)), concurrency=p.requests,
                           max_requests=p.requests * 50, timeout_s=p.timeout_s, waves=True)

    def checks(self, stats: TrafficStats) -> tuple[Check, ...]:
        if not self.params.expect_shed:
            return ()
        shed = stats.by_code.get("OVERLOADED", 0)
        return (Check("load shed", shed > 0, f"{shed} of {stats.answered} answers were 503 OVERLOADED"),)


class SlowClientsParams(FaultParams):
    type: Literal["slow_clients"] = "slow_clients"
    clients: int = Field(50, ge=1, le=1_000)
    byte_interval_ms: float = Field(200, gt=0, le=10_000)


@register
class SlowClients(Fault):
    """``clients`` connections trickling a request body, each started again when it ends."""

    type = "slow_clients"
    Params = SlowClientsParams

    def __init__(self, params: SlowClientsParams) -> None:
        super().__init__(params)
        self._stopping: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.outcomes: dict[str, int] = {}
        self.connections = 0

    async def apply(self, ctx: FaultContext) -> None:
        self._stopping = asyncio.Event()
        body = encoded(graphql_body(READ))
        for _ in range(self.params.clients):
            self._tasks.append(asyncio.create_task(self._client(ctx.stack.app_url, body)))

    async def _client(self, url: str, body: bytes) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            self.connections += 1
            try:
                outcome = await slow_body_client(url, body, self.params.byte_interval_ms / 1000,
                                                 self._stopping)
            except OSError as exc:
                outcome = f"connect failed: {type(exc).__name__}"
                await asyncio.sleep(0.5)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def revert(self, ctx: FaultContext) -> None:
        if self._stopping is not None:
            self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=15)
            for task in pending:
                task.cancel()

    async def evidence(self, ctx: FaultContext) -> Evidence:
        return Evidence(fired=self.connections > 0,
                        details={"clients": self.params.clients, "connections": self.connections,
                                 "outcomes": dict(self.outcomes)})


# --- kill_app ---------------------------------------------------------------------------

class KillAppParams(FaultParams):
    type: Literal["kill_app"] = "kill_app"
    restart_after_s: float = Field(1.0, ge=0, le=60, description="one worker: when the harness restarts it")


@register
class KillApp(Fault):
    """SIGKILL the app (or one worker); see the module docstring."""

    type = "kill_app"
    Params = KillAppParams

    def __init__(self, params: KillAppParams) -> None:
        super().__init__(params)
        self.killed: int | None = None
        self.pids_before: list[int] = []
        self.pids_after: list[int] = []
        self._restart: asyncio.Task[None] | None = None
        self.restarted = False

    def _app(self, ctx: FaultContext) -> Any:
        app = getattr(ctx.stack, "app", None)
        if app is None:
            raise FaultError("kill_app needs an app the harness started (the local backend)")
        return app

    async def apply(self, ctx: FaultContext) -> None:
        app = self._app(ctx)
        self.pids_before = app.worker_pids()
        self.killed = app.kill()
        if app.workers == 1:
            self._restart = asyncio.create_task(self._restart_later(app))

    async def _restart_later(self, app: Any) -> None:
        await asyncio.sleep(self.params.restart_after_s)
        await app.restart()
        self.restarted = True

    async def revert(self, ctx: FaultContext) -> None:
        task, self._restart = self._restart, None
        if task is not None:
            with contextlib.suppress(Exception):
                await task
        app = self._app(ctx)
        if app.exited():  # never leave the stack without its app
            await app.restart()
            self.restarted = True

    async def evidence(self, ctx: FaultContext) -> Evidence:
        self.pids_after = self._app(ctx).worker_pids()
        replaced = self.killed is not None and self.killed not in self.pids_after and bool(self.pids_after)
        return Evidence(fired=self.killed is not None,
                        details={"killed_pid": self.killed, "pids_before": self.pids_before,
                                 "pids_after": self.pids_after, "replaced": replaced,
                                 "restarted_by_harness": self.restarted})

    async def settle(self, ctx: FaultContext) -> list[Check]:
        app = self._app(ctx)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not await app.healthy():
            await asyncio.sleep(0.2)
        pids = app.worker_pids()
        ok = bool(pids) and self.killed not in pids and await app.healthy()
        return [Check("worker replaced", ok,
                      f"killed pid {self.killed}; serving now: {pids}")]


# --- row_contention ---------------------------------------------------------------------

class RowContentionParams(FaultParams):
    type: Literal["row_contention"] = "row_contention"
    writers: int = Field(50, ge=2, le=500, description="updates in flight at once")
    rate_per_s: float | None = Field(None, gt=0, le=5_000, description="default: as fast as possible")


@register
class RowContention(Fault):
    """Concurrent ``updatePost`` calls on one post, each with its own idempotency key."""

    type = "row_contention"
    Params = RowContentionParams

    def __init__(self, params: RowContentionParams) -> None:
        super().__init__(params)
        self.post_id: str | None = None
        self.traffic: SideTraffic | None = None
        self.keys: dict[int, str] = {}  # request number -> idempotency key
        self.outcomes: dict[str, str] = {}  # idempotency key -> acknowledged | refused | unknown

    async def apply(self, ctx: FaultContext) -> None:
        async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url) as conn:
            row = await (await conn.execute(
                "SELECT id::text FROM tb_post ORDER BY created_at LIMIT 1")).fetchone()
        if row is None:
            raise FaultError("row_contention needs a post in tb_post")
        self.post_id = row[0]

        def request(n: int) -> tuple[dict[str, str], dict[str, Any]]:
            key = str(uuid.uuid4())
            self.keys[n] = key
            document, variables = ops.update_post_request(key, self.post_id or "")
            return {}, {"query": document, "variables": variables}

        def classify(n: int, status: int | None, body: Any) -> str:
            outcome = ops.read_outcome("update_post", status, body)
            label = ("acknowledged" if outcome.ack_id is not None
                     else "refused" if outcome.rejected else "unknown")
            self.outcomes[self.keys[n]] = label
            return label

        self.traffic = SideTraffic(ctx.stack.app_url, request, rate_per_s=self.params.rate_per_s,
                                   concurrency=self.params.writers, classify=classify)
        self.traffic.start()

    async def revert(self, ctx: FaultContext) -> None:
        if self.traffic is not None:
            await self.traffic.stop()

    async def evidence(self, ctx: FaultContext) -> Evidence:
        stats = self.traffic.stats if self.traffic else None
        details = {"post_id": self.post_id, "traffic": stats.as_dict() if stats else None}
        return Evidence(fired=bool(stats and stats.labels["acknowledged"] > 0), details=details)

    async def settle(self, ctx: FaultContext) -> list[Check]:
        if self.post_id is None or self.traffic is None:
            return []
        async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url) as conn:
            row = await (await conn.execute("SELECT body FROM tb_post WHERE id = %s",
                                            (self.post_id,))).fetchone()
        final = row[0] if row else None
        stats = self.traffic.stats
        unknown = stats.labels["unknown"]
        last = self.outcomes.get(_key_of(final or ""), "not sent by this fault")
        # The last write wins; it may be one whose answer was lost (unknown), never a refused one.
        return [
            Check("every write answered", unknown == 0 and stats.bare_5xx == 0,
                  f"{stats.labels['acknowledged']} acknowledged, {stats.labels['refused']} refused "
                  f"with a code, {unknown} of unknown outcome, {stats.bare_5xx} bare 5xx"),
            Check("row holds an acknowledged write", last in ("acknowledged", "unknown"),
                  f"the post's body was last written by a write that was {last} ({final!r})"),
        ]


def _key_of(text: str) -> str:
    """The idempotency key in a body written by ``ops.update_post_request``."""
    start = text.rfind("(")
    return text[start + 1:-1] if start >= 0 and text.endswith(")") else ""


@register_cleaner("resources")
async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """Hogs a killed run left in the app are stopped; an app it left dead is started again."""
    done = []
    app = getattr(ctx.stack, "app", None)
    if app is not None and app.exited() and app.port:
        await app.restart()
        done.append("restarted the app a killed run left dead")
    agent = AgentClient.for_stack(ctx.stack)
    if agent is not None:
        removed = await agent.request("DELETE", "/_chaos/resources", missing_ok=True)
        if removed and removed.get("removed"):
            done.append(f"stopped {removed['removed']} resource hog(s) in the app")
    return done
