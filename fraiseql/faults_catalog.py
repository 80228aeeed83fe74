"""The catalogue of injectable failures, and the hook that injects one.

Shared by the in-process test helpers (``chaos.inject``) and the runtime's chaos agent
(``fraiseql.http.chaos_agent``), so a fault named in a test, a scenario file or an HTTP
request raises the same exception the real library raises. It lives in the runtime so
the agent never imports the harness.

Example::

    from fraiseql import faults
    from fraiseql.faults_catalog import FaultHook

    hook = FaultHook(point="db.execute", action="error", error="serialization_failure",
                     rate=0.5, seed=7)
    handle = faults.install("db.execute", hook)
    ...
    faults.remove(handle)
    hook.calls, hook.acted   # how often it ran, how often it raised
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, Literal

import httpx
import psycopg
import psycopg.errors

from fraiseql import faults

Action = Literal["error", "latency", "corrupt"]
ACTIONS: tuple[str, ...] = ("error", "latency", "corrupt")

# name -> factory of the exception the real library raises for that failure. psycopg's
# SQLSTATE classes carry their code (``SerializationFailure.sqlstate == "40001"``), so
# the runtime's error translation sees exactly what a real server would send.
ERRORS: dict[str, Callable[[str], BaseException]] = {
    "serialization_failure": psycopg.errors.SerializationFailure,
    "deadlock": psycopg.errors.DeadlockDetected,
    "query_canceled": psycopg.errors.QueryCanceled,
    "too_many_connections": psycopg.errors.TooManyConnections,
    "admin_shutdown": psycopg.errors.AdminShutdown,
    "connection_refused": psycopg.OperationalError,
    "connection_lost": psycopg.OperationalError,
    "pool_timeout": lambda message: _pool_timeout(message),
    "connect_timeout": lambda message: httpx.ConnectTimeout(message),
    "read_timeout": lambda message: httpx.ReadTimeout(message),
    "connect_error": lambda message: httpx.ConnectError(message),
    "os_error": lambda message: ConnectionResetError(message),
}
ERROR_NAMES: tuple[str, ...] = tuple(sorted(ERRORS))


def _pool_timeout(message: str) -> BaseException:
    import psycopg_pool

    return psycopg_pool.PoolTimeout(message)


class UnknownFaultError(ValueError):
    """A point, action or error name that is not in the catalogue (the message lists them)."""


def make_error(name: str, point: str = "") -> BaseException:
    """A fresh instance of the exception called ``name``."""
    try:
        factory = ERRORS[name]
    except KeyError:
        raise UnknownFaultError(f"unknown error {name!r}; known: {', '.join(ERROR_NAMES)}") from None
    return factory(f"injected by fraiseql chaos: {name}" + (f" at {point}" if point else ""))


def check_point(name: str) -> str:
    if name not in faults.POINT_NAMES:
        raise UnknownFaultError(f"unknown fault point {name!r}; known: {', '.join(faults.POINT_NAMES)}")
    return name


class FaultHook:
    """A fault point hook that raises, sleeps or replaces the payload at a seeded rate.

    ``calls`` counts how often the point ran the hook, ``acted`` how often the dice said
    yes (and the hook raised, slept or corrupted). ``times`` caps ``acted``.
    """

    def __init__(
        self,
        *,
        point: str,
        action: str = "error",
        error: str | None = None,
        rate: float = 1.0,
        seed: int | None = None,
        times: int | None = None,
        latency_ms: float = 0.0,
        replacement: Any = None,
    ) -> None:
        check_point(point)
        if action not in ACTIONS:
            raise UnknownFaultError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if action == "error":
            make_error(error or "")  # validate the name now, not at the first call
        if not 0.0 <= rate <= 1.0:
            raise UnknownFaultError(f"rate must be between 0 and 1, not {rate}")
        if latency_ms < 0:
            raise UnknownFaultError(f"latency_ms must not be negative, not {latency_ms}")
        self.point = point
        self.action = action
        self.error = error
        self.rate = rate
        self.seed = seed
        self.times = times
        self.latency_ms = latency_ms
        self.replacement = replacement
        self.calls = 0
        self.acted = 0
        self._rng = random.Random(seed)

    def _should_act(self) -> bool:
        if self.times is not None and self.acted >= self.times:
            return False
        # Draw even at rate 1.0 so a seed gives the same sequence whatever the rate.
        return self._rng.random() < self.rate

    def __call__(self, payload: Any, context: dict[str, Any]) -> Any:
        self.calls += 1
        if not self._should_act():
            return None
        self.acted += 1
        if self.action == "error":
            raise make_error(self.error or "", self.point)
        if self.action == "latency":
            return _sleep_keeping(self.latency_ms / 1000.0)
        replacement = self.replacement
        return replacement(payload) if callable(replacement) else replacement

    def describe(self) -> dict[str, Any]:
        """The hook's settings and counters, JSON-serialisable."""
        return {
            "point": self.point, "action": self.action, "error": self.error, "rate": self.rate,
            "seed": self.seed, "times": self.times, "latency_ms": self.latency_ms,
            "calls": self.calls, "acted": self.acted,
        }


async def _sleep_keeping(delay_s: float) -> None:
    # Returns None, so the fault point keeps its payload after the delay.
    await asyncio.sleep(delay_s)
