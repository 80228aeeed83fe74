"""``create_app``: the ASGI application and its start-up / shut-down.

Start-up opens the pools without waiting for the database (a server whose database is
down still starts, answers ``/health``, and reports the outage on ``/ready``), applies
FraiseQL's own tables when it can, and learns which base tables each view reads (for
cache invalidation). Nothing here is fatal except a missing database URL.

The main database gets the config's circuit breaker and read retries; the GraphQL path
goes through ``RequestGuard`` (body deadline, load shedding, request deadline); SIGTERM
starts the drain (``fraiseql.http.shutdown``) and shutdown closes the pools only after it.

Example::

    app = fraiseql.create_app(database_url="postgresql://127.0.0.1/blog")
    # uvicorn examples.blog.app:app
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fraiseql.cache import PostgresCacheStore, ResultCache, view_tables
from fraiseql.config import FraiseQLConfig
from fraiseql.db.breaker import STATE_VALUES, CircuitBreaker
from fraiseql.db.pool import Database
from fraiseql.db.read_retry import ReadRetry
from fraiseql.db.runtime_schema import ensure_runtime_schema
from fraiseql.errors import FraiseQLError
from fraiseql.execution.executor import Executor
from fraiseql import telemetry
from fraiseql import otlp
from fraiseql.http import chaos_agent, routes
from fraiseql.http.guard import RequestGuard
from fraiseql.http.maintenance import Maintenance
from fraiseql.http.shedding import InFlight
from fraiseql.http.shutdown import Drain
from fraiseql.rbac import ensure_rbac_schema
from fraiseql.rbac.visibility import VisibleSchemas

logger = logging.getLogger("fraiseql")


@dataclass
class AppState:
    """What the routes need, built at start-up."""

    schema: GraphQLSchema
    config: FraiseQLConfig
    auth: Any
    rbac: Any = None
    db: Database | None = None
    cache_db: Database | None = None
    cache: ResultCache | None = None
    executor: Executor | None = None
    in_flight: InFlight | None = None  # GraphQL requests in flight (RequestGuard)
    drain: Drain | None = None
    maintenance: Maintenance | None = None
    hide_unauthorized_in_introspection: bool = False
    startup_notes: list[str] = field(default_factory=list)


def create_app(
    *,
    schema: GraphQLSchema | None = None,
    registry: Any = None,
    database_url: str | None = None,
    cache_database_url: str | None = None,
    auth: Any = None,
    config: FraiseQLConfig | None = None,
    rbac: Any = None,
    hide_unauthorized_in_introspection: bool = False,
) -> Starlette:
    """Build the ASGI app serving ``/graphql``, ``/health`` and ``/ready``.

    ``database_url`` defaults to ``DATABASE_URL`` and ``cache_database_url`` to
    ``CACHE_DATABASE_URL`` (then to the main database), both read at start-up.
    ``schema`` defaults to the schema built from ``registry`` (the default registry).
    ``rbac`` (a ``fraiseql.rbac.RbacConfig``, needs ``auth``) merges each user's roles and
    permissions from the database's ``fraiseql_rbac`` tables into their token's.
    ``hide_unauthorized_in_introspection`` answers ``__schema``/``__type`` without the
    queries, mutations, types and fields the caller may not use (``fraiseql.rbac.visibility``).
    """
    if rbac is not None and auth is None:
        raise ValueError("rbac needs an auth provider: create_app(auth=..., rbac=...)")
    if schema is None:
        from fraiseql.schema import build_schema

        schema = build_schema(registry=registry)
    state = AppState(schema=schema, config=config or FraiseQLConfig(), auth=auth, rbac=rbac,
                     hide_unauthorized_in_introspection=hide_unauthorized_in_introspection)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _start(state, database_url, cache_database_url)
        if state.config.gc_freeze_at_start:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await _stop(state)

    # The chaos agent's routes exist only when FRAISEQL_CHAOS_AGENT_TOKEN is set (its
    # telemetry, installed first, exports over OTLP too when that is configured).
    agent_routes = chaos_agent.chaos_routes()
    otlp.install_from_environment()
    app = _App(routes=[*routes.ROUTES, *agent_routes], lifespan=lifespan)
    app.guard(state)
    app.state.fraiseql = state
    return app


class _App(Starlette):
    """Starlette, with ``GET``/``POST /graphql`` handed straight to its endpoint, and every
    request behind the ``RequestGuard`` (body deadline, load shedding, request deadline).

    Starlette's routing, its two default middlewares and the endpoint wrapper were about a
    tenth of a fast-path request's instructions. The GraphQL endpoint answers every error
    itself and needs none of them, so they are skipped for it, unless the application
    added middleware (or a body limit, or a root path): then every request takes the
    full stack, so that middleware sees every request. The guard wraps both ways in.
    """

    _fast: Any = None
    _full: Any = None

    def guard(self, state: Any) -> None:
        self._fast = RequestGuard(self._graphql, state=state)
        self._full = RequestGuard(super().__call__, state=state)

    async def _graphql(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        response = await routes.graphql_endpoint(Request(scope, receive))
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._full is None:  # built without create_app: plain Starlette
            await super().__call__(scope, receive, send)
        elif (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] in ("GET", "POST")
            and not scope.get("root_path")
            and not self.user_middleware
            and self.max_body_size is None
        ):
            await self._fast(scope, receive, send)
        else:
            await self._full(scope, receive, send)


async def _start(state: AppState, database_url: str | None, cache_database_url: str | None) -> None:
    config = state.config
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "No database configured: pass create_app(database_url=...) or set DATABASE_URL"
        )
    state.in_flight = InFlight(config.max_in_flight)
    state.drain = Drain(config.shutdown_drain_s, state.in_flight)
    telemetry.observe_gauge("in_flight", "main", lambda: state.in_flight.count if state.in_flight else 0)
    state.db = _main_database(url, config)
    if state.db.breaker is not None:
        breaker = state.db.breaker
        telemetry.observe_gauge(
            "circuit", breaker.name, lambda: STATE_VALUES[breaker.state], {"db.name": breaker.name}
        )
    await state.db.open()
    try:
        await ensure_runtime_schema(state.db)
    except FraiseQLError as exc:
        state.startup_notes.append(f"runtime schema not applied: {exc.code}")

    if config.cache_enabled:
        cache_url = cache_database_url or os.environ.get("CACHE_DATABASE_URL") or url
        state.cache_db = Database(
            cache_url, min_size=1, max_size=4, pool_timeout_s=0.5, connect_timeout_s=2,
            statement_timeout_ms=1000, name="cache",
        )
        await state.cache_db.open()
        store = PostgresCacheStore(state.cache_db)
        try:
            await store.ensure()
        except FraiseQLError as exc:
            state.startup_notes.append(f"cache table not created: {exc.code}")
        state.cache = ResultCache(
            local_max_entries=config.cache_local_max_entries,
            local_max_bytes=config.cache_local_max_bytes,
            ttl_s=config.cache_ttl_s,
            store=store,
            max_stale_s=config.stale_window_s,
            store_timeout_s=config.cache_store_timeout_ms / 1000.0,
            store_cooldown_s=config.cache_store_cooldown_s,
        )

    tables: dict[str, frozenset[str]] = {}
    unknown: set[str] = set()  # a source with any unknown tag is never cached
    for view, projection_of in _sql_sources(state.schema):
        try:
            tags = await view_tables(state.db, view)
            if projection_of:
                tags |= await view_tables(state.db, projection_of)
        except FraiseQLError as exc:
            unknown.add(view)
            tables.pop(view, None)
            state.startup_notes.append(f"tables of {view} unknown ({exc.code}): not cached")
            continue
        if view not in unknown:
            tables[view] = tables.get(view, frozenset()) | tags  # two types may share a source
    state.executor = Executor(
        state.schema, state.db, cache=state.cache, config=config, view_tables=tables,
        visible_schemas=VisibleSchemas(state.schema) if state.hide_unauthorized_in_introspection else None,
    )
    if state.rbac is not None:
        await _start_rbac(state)
    if state.auth is not None and hasattr(state.auth, "start"):
        await state.auth.start()
    if config.maintenance_interval_s > 0:
        state.maintenance = Maintenance(state.db, state.cache, config.maintenance_interval_s)
        state.maintenance.start()
    for note in state.startup_notes:
        logger.warning("fraiseql start-up: %s", note)
    # Last, so a start-up that failed half-way leaves the server's handlers alone.
    state.drain.install_signal_handlers()


def _main_database(url: str, config: FraiseQLConfig) -> Database:
    breaker = None
    if config.breaker_enabled:
        breaker = CircuitBreaker(config.breaker_failure_threshold, config.breaker_reset_s)
    read_retry = None
    if config.read_retry_attempts > 0:
        read_retry = ReadRetry(
            config.read_retry_attempts, config.read_retry_budget_s, config.read_retry_backoff_s
        )
    return Database(
        url,
        min_size=config.pool_min_size,
        max_size=config.pool_max_size,
        connect_timeout_s=config.connect_timeout_s,
        pool_timeout_s=config.pool_timeout_s,
        statement_timeout_ms=config.statement_timeout_ms,
        statement_grace_ms=config.statement_grace_ms,
        check=config.pool_check,
        max_lifetime_s=config.pool_max_lifetime_s,
        max_idle_s=config.pool_max_idle_s,
        reconnect_timeout_s=config.pool_reconnect_timeout_s,
        reconnect_max_delay_s=config.pool_reconnect_max_delay_s,
        fail_fast=config.pool_fail_fast,
        fail_fast_after_s=config.pool_fail_fast_after_s,
        breaker=breaker,
        read_retry=read_retry,
    )


async def _start_rbac(state: AppState) -> None:
    if state.rbac.ensure_schema:
        try:
            async with state.db.transaction() as conn:  # type: ignore[union-attr]
                await ensure_rbac_schema(conn)
        except FraiseQLError as exc:
            state.startup_notes.append(f"rbac tables not created: {exc.code}")
    # Until the tables answer, every check beyond the token's claims is denied (503).
    state.auth = state.rbac.provider(state.auth, state.db)


async def _stop(state: AppState) -> None:
    # Requests in flight finish first (up to shutdown_drain_s); only then do pools close.
    if state.drain is not None:
        await state.drain.wait()
        state.drain.close()
    if state.maintenance is not None:
        await state.maintenance.stop()
    if state.auth is not None and hasattr(state.auth, "close"):
        await state.auth.close()
    if state.cache is not None:
        await state.cache.close()
    for db in (state.cache_db, state.db):
        if db is not None:
            await db.close()


def _sql_sources(schema: GraphQLSchema) -> list[tuple[str, str | None]]:
    """Each type's view or table, with the view a projection table stores (or None)."""
    sources: set[tuple[str, str | None]] = set()
    for named in schema.type_map.values():
        meta = getattr(named, "extensions", {}).get("fraiseql") if hasattr(named, "extensions") else None
        source = getattr(meta, "sql_source", None)
        if source:
            sources.add((source, getattr(meta, "projection_of", None)))
    return sorted(sources, key=lambda pair: (pair[0], pair[1] or ""))


__all__ = ["AppState", "create_app", "Route"]
