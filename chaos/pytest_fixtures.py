"""Fixtures of the pytest plugin: a frozen config, the stack, its proxies, faults, the issuer.

The stack runs on its own event loop in a background thread, so synchronous and asynchronous
tests alike can use it and it lives for the whole session (one per xdist worker, on free
ports). `chaos_inject` is a factory of context managers that apply a registered fault and
always revert it.

Example::

    @pytest.mark.chaos
    def test_reads_survive_latency(chaos_stack, chaos_inject):
        with chaos_inject("latency", target="postgres", latency_ms=200) as evidence:
            httpx.post(f"{chaos_stack.app_url}/graphql", json={"query": "{ posts { id } }"})
            assert evidence().fired
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


@dataclass(frozen=True)
class ChaosConfig:
    profile: str
    report_dir: Path


def config_from(config: pytest.Config) -> ChaosConfig:
    profile = config.getoption("chaos_profile") or config.getini("chaos_profile")
    folder = Path(config.getoption("chaos_report_dir") or config.getini("chaos_report_dir"))
    return ChaosConfig(profile, folder if folder.is_absolute() else config.rootpath / folder)


class LoopThread:
    """An event loop in a daemon thread; `call` runs a coroutine on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="session")
def chaos_config(request: pytest.FixtureRequest) -> ChaosConfig:
    return config_from(request.config)


@pytest.fixture(scope="session")
def _chaos_loop() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def chaos_stack(_chaos_loop: LoopThread) -> Iterator[Any]:
    """The whole stack (PostgreSQL, Toxiproxy, issuer, app), started once per worker."""
    from chaos.stack.stack import Stack, StackOptions

    stack = Stack(StackOptions())
    _chaos_loop.call(stack.start(), timeout_s=180)
    try:
        yield stack
    finally:
        _chaos_loop.call(stack.stop(), timeout_s=120)


@pytest.fixture
def chaos_toxiproxy(chaos_stack: Any) -> Any:
    """The Toxiproxy client, with the proxies `postgres`, `cache` and `jwks`."""
    return chaos_stack.toxiproxy


@pytest.fixture
def chaos_issuer(chaos_stack: Any) -> Any:
    """The HTTPS JWKS issuer: mint tokens, fail, slow down, rotate keys."""
    return chaos_stack.issuer


@pytest.fixture
def chaos_inject(chaos_stack: Any, _chaos_loop: LoopThread) -> Iterator[Callable[..., Any]]:
    """Factory: `with chaos_inject(type, **params) as evidence:` applies, then reverts."""
    from chaos.faults import REGISTRY, FaultContext

    ctx = FaultContext(stack=chaos_stack, rng=random.Random(0))
    applied: list[Any] = []

    @contextlib.contextmanager
    def inject(fault_type: str, **params: Any) -> Iterator[Callable[[], Any]]:
        cls = REGISTRY[fault_type]
        fault = cls(cls.Params(type=fault_type, **params))
        applied.append(fault)
        try:
            _chaos_loop.call(fault.apply(ctx))
            # evidence() is read while the fault is still in place (toxics vanish on revert)
            yield lambda: _chaos_loop.call(fault.evidence(ctx))
        finally:
            _chaos_loop.call(fault.revert(ctx))
            applied.remove(fault)

    yield inject
    for fault in applied:  # a test that leaked a context manager still leaves nothing behind
        _chaos_loop.call(fault.revert(ctx))
