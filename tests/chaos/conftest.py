"""Shared chaos fixtures: one running Stack per test module (local backend, real parts).

``chaos_stack`` is module-scoped (starting PostgreSQL, Toxiproxy, the issuer and the app
takes a few seconds); ``fault_ctx`` wraps it for faults and cleans every fault family's
leftovers after each test, so one test's toxic never leaks into the next.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chaos.faults import FaultContext, clean_leftovers
from chaos.stack.stack import Stack, StackOptions

STACK_ROWS = 60


@pytest.fixture(scope="module")
def chaos_stack() -> Iterator[Stack]:
    """A started local Stack shared by the tests of one module, stopped afterwards.

    Started on its own event loop (module-scoped async fixtures would need a module loop);
    its components are processes and threads, so tests on other loops can use it.
    """
    stack = Stack(StackOptions(rows=STACK_ROWS))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(stack.start())
        yield stack
    finally:
        loop.run_until_complete(stack.stop())
        loop.close()


@pytest.fixture
async def fault_ctx(chaos_stack: Stack) -> AsyncIterator[FaultContext]:
    """A FaultContext on the module's stack (seed 0); leftovers cleaned after the test."""
    ctx = FaultContext(stack=chaos_stack, rng=random.Random(0))
    yield ctx
    await clean_leftovers(ctx)


async def hold(fault: Any, ctx: FaultContext, seconds: float) -> Any:
    """Apply ``fault``, wait, read its evidence while it holds, always revert it."""
    await fault.apply(ctx)
    try:
        await asyncio.sleep(seconds)
        return await fault.evidence(ctx)
    finally:
        await fault.revert(ctx)
