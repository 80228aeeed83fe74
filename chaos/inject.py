"""In-process fault injection for tests of the runtime: ``inject``, ``latency``, ``corrupt``.

Each returns an ``Injection`` usable as a context manager or as a decorator of a sync or
async function. While active, a hook sits at one of the runtime's fault points
(``fraiseql.faults.POINT_NAMES``) and raises the exception the real library raises,
sleeps, or replaces the payload, at a seeded rate. The hook is removed on every exit:
normal return, exception, ``KeyboardInterrupt``. The counters prove the fault ran.

Example::

    from chaos.inject import inject, latency

    with inject("db.execute", error="serialization_failure", rate=0.5, seed=1) as fault:
        await client.post("/graphql", json=...)
    assert fault.fired > 0 and fault.raised > 0

    @latency("db.connect", ms=200)
    async def test_slow_connect(): ...

Error names are ``fraiseql.faults_catalog.ERROR_NAMES`` (``serialization_failure``,
``deadlock``, ``query_canceled``, ``connection_refused``, ``connect_timeout``, ...).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fraiseql import faults
from fraiseql.faults_catalog import ERROR_NAMES, FaultHook, UnknownFaultError

__all__ = ["ERROR_NAMES", "Injection", "UnknownFaultError", "corrupt", "inject", "latency"]

F = TypeVar("F", bound=Callable[..., Any])


class Injection:
    """One fault at one point; a context manager and a decorator.

    Every activation gets a fresh hook (and a fresh random source from ``seed``), so a
    decorated test is repeatable; the counters describe the latest activation.
    """

    def __init__(self, **hook_options: Any) -> None:
        self._options = hook_options
        self._hook = FaultHook(**hook_options)  # validates names now, at decoration time
        self._handle: faults.HookHandle | None = None

    @property
    def point(self) -> str:
        return self._hook.point

    @property
    def fired(self) -> int:
        """How often the fault point ran the hook."""
        return self._hook.calls

    @property
    def acted(self) -> int:
        """How often the hook raised, slept or corrupted."""
        return self._hook.acted

    @property
    def raised(self) -> int:
        """How often the hook raised (0 for latency and corruption)."""
        return self._hook.acted if self._hook.action == "error" else 0

    def evidence(self) -> dict[str, Any]:
        """The settings and counters, JSON-serialisable."""
        return self._hook.describe()

    def __enter__(self) -> Injection:
        if self._handle is not None:
            raise RuntimeError(f"the injection at {self.point!r} is already active")
        self._hook = FaultHook(**self._options)
        self._handle = faults.install(self.point, self._hook)
        return self

    def __exit__(self, *exc_info: object) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            faults.remove(handle)

    async def __aenter__(self) -> Injection:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def __call__(self, function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    def __repr__(self) -> str:
        state = "active" if self._handle is not None else "inactive"
        return f"Injection({self._hook.describe()}, {state})"


def inject(
    point: str, *, error: str, rate: float = 1.0, seed: int | None = None, times: int | None = None
) -> Injection:
    """Raise the exception named ``error`` at ``point`` with probability ``rate``.

    ``times`` caps how often it raises; ``seed`` makes the sequence repeatable.
    """
    return Injection(point=point, action="error", error=error, rate=rate, seed=seed, times=times)


def latency(
    point: str, *, ms: float, rate: float = 1.0, seed: int | None = None, times: int | None = None
) -> Injection:
    """Sleep ``ms`` milliseconds at ``point`` (asynchronously) before the real work."""
    return Injection(point=point, action="latency", latency_ms=ms, rate=rate, seed=seed, times=times)


def corrupt(
    point: str, *, with_: Any, rate: float = 1.0, seed: int | None = None, times: int | None = None
) -> Injection:
    """Replace the payload at ``point`` with ``with_`` (or ``with_(payload)`` if callable).

    Payloads per point: ``cache.get`` / ``cache.set`` bytes, ``jwks.fetch`` bytes (the
    JWKS body), ``pipeline.build`` the response roots.
    """
    return Injection(point=point, action="corrupt", replacement=with_, rate=rate, seed=seed, times=times)
