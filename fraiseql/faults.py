"""Named fault points: the places where the outside world can fail.

The runtime calls a fault point right before it talks to something that can fail. With
no hook installed the call site costs one attribute test (``if point.hooks``). The
resilience harness installs hooks that raise the exception the real library would raise,
sleep, or replace the payload (to corrupt it), and reads ``point.fired`` to prove that
its fault ran.

Example::

    from fraiseql import faults

    def refuse(payload, context):
        raise ConnectionRefusedError("injected")

    handle = faults.install("db.connect", refuse)
    try:
        ...  # every db.connect now fails
    finally:
        faults.remove(handle)

At a call site::

    point = faults.point("db.execute")
    if point.hooks:
        query = await point.fire(query, statement=query)
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

POINT_NAMES = (
    "db.connect",
    "db.execute",
    "cache.get",
    "cache.set",
    "jwks.fetch",
    "pipeline.build",
    "http.request",
    "rbac.resolve",
)

Hook = Callable[[Any, dict[str, Any]], Any | Awaitable[Any]]


class FaultPoint:
    """One named place where a failure can be injected."""

    __slots__ = ("name", "hooks", "fired")

    def __init__(self, name: str) -> None:
        self.name = name
        self.hooks: list[tuple[int, Hook]] = []
        self.fired = 0

    async def fire(self, payload: Any = None, **context: Any) -> Any:
        """Run every installed hook in order; return the (possibly replaced) payload."""
        for _, hook in list(self.hooks):
            self.fired += 1
            result = hook(payload, context)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                payload = result
        return payload

    def fire_sync(self, payload: Any = None, **context: Any) -> Any:
        """Like ``fire`` for synchronous call sites; awaitable hook results are refused."""
        for _, hook in list(self.hooks):
            self.fired += 1
            result = hook(payload, context)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError(f"fault point {self.name!r} is synchronous; its hooks cannot be async")
            if result is not None:
                payload = result
        return payload

    def __repr__(self) -> str:
        return f"FaultPoint({self.name!r}, hooks={len(self.hooks)}, fired={self.fired})"


@dataclass(frozen=True)
class HookHandle:
    """What ``install`` returns; give it to ``remove``."""

    point: str
    hook_id: int


_POINTS = {name: FaultPoint(name) for name in POINT_NAMES}
_ids = itertools.count(1)


def point(name: str) -> FaultPoint:
    """The fault point called ``name``; unknown names are a programming error."""
    try:
        return _POINTS[name]
    except KeyError:
        raise KeyError(f"unknown fault point {name!r}; known: {', '.join(POINT_NAMES)}") from None


def install(name: str, hook: Hook) -> HookHandle:
    """Install ``hook`` at the fault point ``name``; returns a handle for ``remove``."""
    hook_id = next(_ids)
    point(name).hooks.append((hook_id, hook))
    return HookHandle(name, hook_id)


def remove(handle: HookHandle) -> bool:
    """Remove one installed hook; returns False if it was already gone."""
    target = point(handle.point)
    before = len(target.hooks)
    target.hooks[:] = [(hid, hook) for hid, hook in target.hooks if hid != handle.hook_id]
    return len(target.hooks) != before


def clear() -> None:
    """Remove every hook from every fault point (counters are kept)."""
    for fault_point in _POINTS.values():
        fault_point.hooks.clear()


def installed() -> dict[str, int]:
    """How many hooks each fault point has, for evidence and clean-up checks."""
    return {name: len(p.hooks) for name, p in _POINTS.items()}


def fired_counts() -> dict[str, int]:
    """How often each fault point ran a hook since the process started."""
    return {name: p.fired for name, p in _POINTS.items()}
