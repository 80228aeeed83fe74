"""The chaos agent: how the resilience harness reaches a running app's fault points.

Off unless ``FRAISEQL_CHAOS_AGENT_TOKEN`` is set when the app is created. When on, the
routes under ``/_chaos/`` answer only loopback clients (403 otherwise) that send
``Authorization: Bearer <token>`` (401 otherwise; compared in constant time):

- ``POST /_chaos/faults`` ``{"point", "action": "error"|"latency"|"corrupt", "error",
  "rate", "latency_ms", "seed", "times", "value"}`` -> 201 ``{"id": ...}``. Error names
  come from ``fraiseql.faults_catalog``; a corrupting ``value`` given as a string is sent
  to the point as UTF-8 bytes (cache and JWKS payloads are bytes).
- ``DELETE /_chaos/faults`` removes every hook; ``DELETE /_chaos/faults/{id}`` one.
- ``GET /_chaos/faults`` -> the installed hooks with their counters, and each point's
  ``fired`` count.
- ``GET /_chaos/metrics`` -> the app's OpenTelemetry metrics and span counts, read from
  an in-memory SDK reader the agent installs when it is enabled (if the process already
  had an SDK meter provider, metrics say so and are empty; spans are still counted).
- ``GET /_chaos/stats`` -> pool and result-cache counters, and the resilience counters:
  ``in_flight``, ``shed``, ``breaker`` (``state``, ``opened``, ``closed``, ``rejected``,
  ...; null without a breaker), ``connects`` (the main pool's connection attempts:
  ``attempts``, ``failed``, ``turned_away``, ``failing``, ``waits_ended``),
  ``read_retries``, ``stale_served``.
- ``POST /_chaos/resources`` ``{"kind": "cpu", "threads": 1, "duration_s": 10}`` or
  ``{"kind": "memory", "mb": 200, "duration_s": 10}`` -> 201 ``{"id": "r1"}``;
  ``GET /_chaos/resources`` -> ``{"resources": [{"id", "kind", "active", "cpu_s",
  "bytes", ...}], "process": {"rss_bytes", "cpu_s"}}``; ``DELETE /_chaos/resources/{id}``
  stops one and returns its final counters; ``DELETE /_chaos/resources`` stops all ->
  ``{"removed": n}`` (see ``fraiseql.http.chaos_resources``).

Example::

    FRAISEQL_CHAOS_AGENT_TOKEN=secret uvicorn examples.blog.app:app
    curl -H 'Authorization: Bearer secret' -d '{"point": "db.execute", "action": "error",
         "error": "deadlock", "rate": 0.1}' http://127.0.0.1:8000/_chaos/faults
"""

from __future__ import annotations

import hmac
import itertools
import os
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fraiseql import faults
from fraiseql.faults_catalog import FaultHook, UnknownFaultError
from fraiseql.http.chaos_resources import ResourceFaults, ResourceSpecError
from fraiseql.http.chaos_telemetry import AgentTelemetry

TOKEN_ENV = "FRAISEQL_CHAOS_AGENT_TOKEN"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_HOOK_FIELDS = {"point", "action", "error", "rate", "latency_ms", "seed", "times", "value"}

Endpoint = Callable[[Request], Awaitable[Response]]


class ChaosAgent:
    """Installed hooks and the guarded routes that manage them (see the module docstring)."""

    def __init__(self, token: str, telemetry: AgentTelemetry | None = None) -> None:
        if not token:
            raise ValueError("the chaos agent needs a non-empty token")
        self._token = token.encode()
        self.telemetry = telemetry
        self._hooks: dict[str, tuple[faults.HookHandle, FaultHook]] = {}
        self._ids = itertools.count(1)
        self.resources = ResourceFaults()

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/_chaos/faults", self._guard(self.add_fault), methods=["POST"]),
            Route("/_chaos/faults", self._guard(self.list_faults), methods=["GET"]),
            Route("/_chaos/faults", self._guard(self.remove_all), methods=["DELETE"]),
            Route("/_chaos/faults/{hook_id}", self._guard(self.remove_one), methods=["DELETE"]),
            Route("/_chaos/metrics", self._guard(self.metrics), methods=["GET"]),
            Route("/_chaos/stats", self._guard(self.stats), methods=["GET"]),
            Route("/_chaos/resources", self._guard(self.add_resource), methods=["POST"]),
            Route("/_chaos/resources", self._guard(self.list_resources), methods=["GET"]),
            Route("/_chaos/resources", self._guard(self.remove_resources), methods=["DELETE"]),
            Route("/_chaos/resources/{resource_id}", self._guard(self.remove_resource), methods=["DELETE"]),
        ]

    def _guard(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            client = request.client.host if request.client else ""
            if client not in LOOPBACK_HOSTS:
                return _error(403, "the chaos agent answers loopback clients only")
            header = request.headers.get("authorization", "")
            scheme, _, presented = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), self._token):
                return _error(401, "missing or wrong chaos agent token")
            return await endpoint(request)

        guarded.__name__ = endpoint.__name__
        return guarded

    async def add_fault(self, request: Request) -> Response:
        try:
            spec = await request.json()
        except ValueError:
            return _error(400, "the body must be a JSON object")
        if not isinstance(spec, dict):
            return _error(400, "the body must be a JSON object")
        unknown = set(spec) - _HOOK_FIELDS
        if unknown:
            return _error(400, f"unknown fields {sorted(unknown)}; known: {sorted(_HOOK_FIELDS)}")
        value = spec.pop("value", None)
        try:
            hook = FaultHook(
                replacement=value.encode() if isinstance(value, str) else value,
                **{key: spec[key] for key in spec if spec[key] is not None},
            )
        except (UnknownFaultError, TypeError) as exc:
            return _error(400, str(exc))
        hook_id = f"h{next(self._ids)}"
        self._hooks[hook_id] = (faults.install(hook.point, hook), hook)
        return JSONResponse({"id": hook_id}, status_code=201)

    async def list_faults(self, request: Request) -> Response:
        return JSONResponse({
            "faults": [{"id": hook_id, **hook.describe()} for hook_id, (_, hook) in self._hooks.items()],
            "points": faults.fired_counts(),
            "installed": faults.installed(),
        })

    async def remove_all(self, request: Request) -> Response:
        # Clears hooks the agent did not install too: in an app under test there are
        # none other, and a run after a killed one must start from a clean process.
        removed = sum(faults.installed().values())
        faults.clear()
        self._hooks.clear()
        return JSONResponse({"removed": removed})

    async def remove_one(self, request: Request) -> Response:
        entry = self._hooks.pop(request.path_params["hook_id"], None)
        if entry is None:
            return _error(404, f"no fault hook {request.path_params['hook_id']!r}")
        faults.remove(entry[0])
        return JSONResponse({"removed": 1, **entry[1].describe()})

    async def metrics(self, request: Request) -> Response:
        if self.telemetry is None:
            return JSONResponse({"metrics_enabled": False, "metrics": {}, "spans": {}})
        return JSONResponse(self.telemetry.snapshot())

    async def stats(self, request: Request) -> Response:
        state = request.app.state.fraiseql
        pools = {db.name: db.stats() for db in (state.db, state.cache_db) if db is not None}
        cache = state.cache.stats.as_dict() if state.cache is not None else None
        resilience = state.db.resilience_stats() if state.db is not None else {}
        in_flight = state.in_flight.snapshot() if state.in_flight is not None else {}
        retries = resilience.get("read_retries")
        return JSONResponse({
            "pools": pools,
            "cache": cache,
            "in_flight": in_flight.get("in_flight", 0),
            "shed": in_flight.get("shed", 0),
            "breaker": resilience.get("breaker"),
            "connects": resilience.get("connects"),
            "read_retries": retries["retries"] if retries else 0,
            "stale_served": cache["stale_served"] if cache else 0,
            "draining": bool(state.drain is not None and state.drain.draining),
        })

    async def add_resource(self, request: Request) -> Response:
        try:
            spec = await request.json()
        except ValueError:
            return _error(400, "the body must be a JSON object")
        try:
            resource = await self.resources.add(spec)
        except ResourceSpecError as exc:
            return _error(400, str(exc))
        return JSONResponse({"id": resource.id}, status_code=201)

    async def list_resources(self, request: Request) -> Response:
        return JSONResponse(self.resources.describe())

    async def remove_resource(self, request: Request) -> Response:
        resource_id = request.path_params["resource_id"]
        final = await self.resources.remove(resource_id)
        if final is None:
            return _error(404, f"no resource fault {resource_id!r}")
        return JSONResponse(final)

    async def remove_resources(self, request: Request) -> Response:
        return JSONResponse({"removed": await self.resources.remove_all()})


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def agent_from_environment() -> ChaosAgent | None:
    """The agent when ``FRAISEQL_CHAOS_AGENT_TOKEN`` is set (installing its telemetry), else None."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        return None
    return ChaosAgent(token, telemetry=AgentTelemetry.install())


def chaos_routes() -> list[Route]:
    """The agent's routes when it is enabled by the environment, else none."""
    agent = agent_from_environment()
    return agent.routes if agent is not None else []
