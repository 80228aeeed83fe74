"""Cache faults: the result cache's shared store (PostgreSQL UNLOGGED ``fraiseql.cache_entries``)
damaged for real, and the traffic pattern that hurts a cache most.

(The cache database down or slow is a network fault on target ``cache``.)

- ``cache_corrupt``: every ``every_s``, overwrite a ``share`` of the stored entries in the
  cache database itself: ``garbage`` bytes, ``truncate`` (half a JSON document), or
  ``swap`` (each entry gets another entry's value: valid JSON, the wrong answer). Evidence:
  the rows damaged, and the app's own count of corrupt values it refused.
- ``cache_evict``: every ``every_s``, delete every stored entry (mass eviction).
- ``hot_key_stampede``: every ``every_s``, evict one hot query's entry and send ``requests``
  identical copies of it at once. Checks: how many of them went to the database (the app's
  miss counter: one per wave and worker when identical requests in flight are coalesced).

The app's in-process LRU sits in front of the store; scenarios that want the store read
turn it off (``target.config: {cache_local_max_entries: 0}``) or run several workers.

Example (scenario YAML)::

    - type: cache_corrupt
      mode: swap
      share: 0.5
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import psycopg
from pydantic import Field

from chaos.faults.base import Check, Evidence, Fault, FaultContext, FaultParams, register, stop_task
from chaos.faults.inprocess import AgentClient
from chaos.faults.traffic import SideTraffic, graphql_body

HOT_QUERY = "{ posts(limit: 5, orderBy: [{field: publishedAt, direction: DESC}]) { id title } }"


async def _connect(ctx: FaultContext) -> psycopg.AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url, autocommit=True,
                                                 application_name="fraiseql-chaos-cache")
    return conn


async def _cache_stats(ctx: FaultContext) -> dict[str, Any] | None:
    agent = AgentClient.for_stack(ctx.stack)
    if agent is None:
        return None
    return (await agent.request("GET", "/_chaos/stats")).get("cache")


class _Repeating(Fault):
    """A fault that acts on the store every ``every_s`` seconds while it is in place."""

    def __init__(self, params: FaultParams) -> None:
        super().__init__(params)
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.rows = 0
        self.errors: list[str] = []
        self._stats_before: dict[str, Any] | None = None

    async def act(self, conn: psycopg.AsyncConnection[Any]) -> int:
        raise NotImplementedError

    async def apply(self, ctx: FaultContext) -> None:
        self._stats_before = await _cache_stats(ctx)
        conn = await _connect(ctx)
        self._task = asyncio.create_task(self._loop(conn))

    async def _loop(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            while True:
                try:
                    self.rows += await self.act(conn)
                    self.rounds += 1
                except psycopg.Error as exc:
                    self.errors.append(str(exc)[:200])
                await asyncio.sleep(self.params.every_s)
        finally:
            await conn.close()

    async def revert(self, ctx: FaultContext) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    async def evidence(self, ctx: FaultContext) -> Evidence:
        now, before = await _cache_stats(ctx), self._stats_before
        delta = ({k: now[k] - before.get(k, 0) for k in now if isinstance(now[k], int)}
                 if now and before else None)
        return Evidence(fired=self.rows > 0, details={
            "rounds": self.rounds, "rows": self.rows, "errors": self.errors[-3:],
            "app_cache_counters": delta})


class CacheCorruptParams(FaultParams):
    type: Literal["cache_corrupt"] = "cache_corrupt"
    mode: Literal["garbage", "truncate", "swap"] = "garbage"
    share: float = Field(1.0, gt=0, le=1, description="share of the stored entries damaged each round")
    every_s: float = Field(1.0, gt=0, le=60)


@register
class CacheCorrupt(_Repeating):
    type = "cache_corrupt"
    Params = CacheCorruptParams

    async def act(self, conn: psycopg.AsyncConnection[Any]) -> int:
        share = self.params.share
        if self.params.mode == "garbage":
            cursor = await conn.execute(
                "UPDATE fraiseql.cache_entries SET value = convert_to(md5(random()::text), 'UTF8')"
                " WHERE random() < %s", (share,))
        elif self.params.mode == "truncate":
            cursor = await conn.execute(
                "UPDATE fraiseql.cache_entries SET value = substring(value FROM 1 FOR length(value) / 2)"
                " WHERE random() < %s AND length(value) > 1", (share,))
        else:  # swap: each chosen entry takes the value of the next one, in key order
            cursor = await conn.execute(
                "WITH chosen AS (SELECT key, value, lead(value) OVER (ORDER BY key) AS other"
                "                FROM fraiseql.cache_entries WHERE random() < %s)"
                " UPDATE fraiseql.cache_entries e SET value = c.other FROM chosen c"
                " WHERE e.key = c.key AND c.other IS NOT NULL AND c.other <> c.value", (share,))
        return cursor.rowcount


class CacheEvictParams(FaultParams):
    type: Literal["cache_evict"] = "cache_evict"
    every_s: float = Field(1.0, gt=0, le=60)


@register
class CacheEvict(_Repeating):
    type = "cache_evict"
    Params = CacheEvictParams

    async def act(self, conn: psycopg.AsyncConnection[Any]) -> int:
        return (await conn.execute("DELETE FROM fraiseql.cache_entries")).rowcount


class HotKeyStampedeParams(FaultParams):
    type: Literal["hot_key_stampede"] = "hot_key_stampede"
    requests: int = Field(200, ge=2, le=5_000, description="identical requests sent at once per wave")
    every_s: float = Field(2.0, gt=0, le=60)
    max_misses_per_wave: int | None = Field(
        None, ge=1, description="database fetches a wave may cause (from the app's miss counter)")


@register
class HotKeyStampede(Fault):
    """Waves of one identical query arriving together just after its entry was evicted."""

    type = "hot_key_stampede"
    Params = HotKeyStampedeParams

    def __init__(self, params: HotKeyStampedeParams) -> None:
        super().__init__(params)
        self._task: asyncio.Task[None] | None = None
        self.waves: list[dict[str, Any]] = []

    async def apply(self, ctx: FaultContext) -> None:
        self._task = asyncio.create_task(self._loop(ctx))

    async def _loop(self, ctx: FaultContext) -> None:
        conn = await _connect(ctx)
        try:
            while True:
                try:
                    await conn.execute("DELETE FROM fraiseql.cache_entries")
                except psycopg.errors.UndefinedTable:
                    pass  # an app without a shared store (or no cache at all): waves still come
                before = await _cache_stats(ctx)
                wave = SideTraffic(ctx.stack.app_url, lambda n: ({}, graphql_body(HOT_QUERY)),
                                   concurrency=self.params.requests, max_requests=self.params.requests,
                                   waves=True)
                wave.start()
                stats = await wave.finished()
                after = await _cache_stats(ctx)
                # Requests coalesced onto an identical one never look the key up; every
                # miss is a database query.
                misses = (after["misses"] - before["misses"]) if after and before else None
                self.waves.append({"answered": stats.answered, "misses": misses,
                                   "bare_5xx": stats.bare_5xx,
                                   "ok": stats.by_status.get("200", 0)})
                await asyncio.sleep(self.params.every_s)
        finally:
            await conn.close()

    async def revert(self, ctx: FaultContext) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    async def evidence(self, ctx: FaultContext) -> Evidence:
        waves = list(self.waves)
        if self._task is not None and self._task.done() and self._task.exception() is not None:
            return Evidence(fired=False, details={"error": repr(self._task.exception())})
        checks: list[Check] = []
        limit = self.params.max_misses_per_wave
        measured = [w["misses"] for w in waves if w["misses"] is not None]
        if limit is not None:
            worst = max(measured, default=None)
            checks.append(Check("database fetches per wave", worst is not None and worst <= limit,
                                f"misses per wave of {self.params.requests}: {measured} (limit {limit})"))
        checks.append(Check("no bare 5xx", all(w["bare_5xx"] == 0 for w in waves),
                            f"{sum(w['bare_5xx'] for w in waves)} bare 5xx in {len(waves)} waves"))
        return Evidence(fired=bool(waves) and any(w["answered"] for w in waves),
                        details={"waves": waves[-10:], "wave_count": len(waves)}, checks=tuple(checks))
