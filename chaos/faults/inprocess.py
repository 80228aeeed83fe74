"""In-process faults: hooks at the runtime's fault points, installed through the chaos agent.

The app runs in its own process, so the harness reaches its fault points over HTTP
(``fraiseql.http.chaos_agent``, loopback only, bearer token). The hook raises the
exception the real library raises (``fraiseql.faults_catalog.ERROR_NAMES``), sleeps,
or corrupts the payload, at a seeded rate. Evidence: the hook's and the point's
counters moved.

Example (a scenario's fault)::

    - type: fault_point
      point: db.execute
      action: error
      error: serialization_failure
      rate: 0.2
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import Field, model_validator

from chaos.errors import AgentError
from chaos.faults.base import Evidence, Fault, FaultContext, FaultParams, register, register_cleaner
from fraiseql.faults import POINT_NAMES
from fraiseql.faults_catalog import ERROR_NAMES

PointName = Literal[POINT_NAMES]  # type: ignore[valid-type]
ErrorName = Literal[ERROR_NAMES]  # type: ignore[valid-type]


class AgentClient:
    """The app's chaos agent over HTTP; every failure leaves as ``AgentError``."""

    def __init__(self, app_url: str, token: str, timeout_s: float = 5.0) -> None:
        self.app_url = app_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout_s = timeout_s

    @classmethod
    def for_stack(cls, stack: Any) -> AgentClient | None:
        """The stack's agent, or None when its app runs without one."""
        token = getattr(stack, "agent_token", None) or getattr(getattr(stack, "app", None), "agent_token", None)
        return cls(stack.app_url, token) if token else None

    async def request(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.request(method, f"{self.app_url}{path}", json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise AgentError(f"the chaos agent at {self.app_url} is unreachable: {exc!r}") from exc
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise AgentError(f"the chaos agent refused {method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()


def _agent(ctx: FaultContext) -> AgentClient:
    agent = AgentClient.for_stack(ctx.stack)
    if agent is None:
        raise AgentError("the app runs without a chaos agent (FRAISEQL_CHAOS_AGENT_TOKEN is not set)")
    return agent


class FaultPointParams(FaultParams):
    type: Literal["fault_point"] = "fault_point"
    point: PointName
    action: Literal["error", "latency", "corrupt"] = "error"
    error: ErrorName | None = None
    rate: float = Field(default=1.0, ge=0, le=1)
    latency_ms: float = Field(default=0, ge=0)
    times: int | None = Field(default=None, ge=1)
    seed: int | None = None  # default: drawn from the scenario's random source
    value: str | None = None  # for corrupt: the replacement payload (sent as UTF-8 bytes)

    @model_validator(mode="after")
    def _error_named_for_error_action(self) -> FaultPointParams:
        if self.action == "error" and self.error is None:
            raise ValueError(f"action 'error' needs an error name, one of: {', '.join(ERROR_NAMES)}")
        return self


@register
class FaultPoint(Fault):
    """One hook at one of the app's fault points, for the fault's duration."""

    type = "fault_point"
    Params = FaultPointParams

    def __init__(self, params: FaultPointParams) -> None:
        super().__init__(params)
        self.hook_id: str | None = None
        self._point_fired_before: int | None = None
        self._point_fired_after: int | None = None
        self._final: dict[str, Any] | None = None  # the hook's counters at revert

    async def apply(self, ctx: FaultContext) -> None:
        agent = _agent(ctx)
        spec = self.params.model_dump(exclude={"type", "at_s", "duration_s"}, exclude_none=True)
        spec.setdefault("seed", ctx.rng.randrange(2**31))
        self._point_fired_before = (await agent.request("GET", "/_chaos/faults"))["points"][self.params.point]
        self.hook_id = (await agent.request("POST", "/_chaos/faults", spec))["id"]

    async def revert(self, ctx: FaultContext) -> None:
        hook_id, self.hook_id = self.hook_id, None
        if hook_id is None:
            return
        removed = await _agent(ctx).request("DELETE", f"/_chaos/faults/{hook_id}", missing_ok=True)
        if removed is not None:
            self._final = removed
        self._point_fired_after = await self._point_fired(ctx)

    async def _point_fired(self, ctx: FaultContext) -> int:
        return (await _agent(ctx).request("GET", "/_chaos/faults"))["points"][self.params.point]

    async def evidence(self, ctx: FaultContext) -> Evidence:
        hook = self._final
        if hook is None and self.hook_id is not None:
            listed = (await _agent(ctx).request("GET", "/_chaos/faults"))["faults"]
            hook = next((h for h in listed if h["id"] == self.hook_id), None)
        hook = hook or {"calls": 0, "acted": 0}
        details = {"point": self.params.point, "action": self.params.action,
                   "calls": hook["calls"], "acted": hook["acted"], "seed": hook.get("seed")}
        if self._point_fired_before is not None:
            after = self._point_fired_after
            if after is None:
                after = await self._point_fired(ctx)
            details["point_fired"] = after - self._point_fired_before
        return Evidence(fired=hook["acted"] > 0, details=details)


@register_cleaner("inprocess")
async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """Remove every hook from the app's fault points (nothing to do without an agent)."""
    agent = AgentClient.for_stack(ctx.stack)
    if agent is None:
        return []
    removed = (await agent.request("DELETE", "/_chaos/faults"))["removed"]
    return [f"removed {removed} fault hook(s) from the app"] if removed else []
