"""StackPool: one running stack reused by consecutive scenarios that want the same one.

Starting a stack (a PostgreSQL cluster, Toxiproxy, the issuer, the app) takes seconds; a
suite of scenarios that share a target should pay that once. The pool keeps at most one
stack: a scenario asking for the same options gets it back, after a health check (a
scenario may have left the app or the database broken: then the stack is started anew);
a scenario asking for other options stops it and gets a new one. Faults left behind are
not the pool's business: every run cleans leftovers first (``chaos.faults.clean_leftovers``).

Example::

    pool = StackPool()
    for scenario in scenarios:
        Runner(scenario, stacks=pool).run()
    pool.close()
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chaos.stack.base import wait_until
from chaos.stack.stack import Stack, StackOptions

logger = logging.getLogger(__name__)

HEALTH_WAIT_S = 15.0  # how long a reused stack may take to answer again before it is replaced


class StackPool:
    """Hands out a started stack for ``StackOptions``; see the module docstring."""

    def __init__(self) -> None:
        self._stack: Stack | None = None
        self._key: tuple[Any, ...] | None = None
        self.started = 0  # how many stacks this pool has started (reuse shows as a small number)

    async def acquire(self, options: StackOptions) -> Stack:
        key = options.key()
        if self._stack is not None and self._key == key:
            if await self._answers(self._stack):
                return self._stack
            logger.warning("the reused stack does not answer any more: starting a new one")
        await self.release()
        stack = Stack(options)
        await stack.start()  # a failed start stops what it started
        self._stack, self._key = stack, key
        self.started += 1
        return stack

    async def release(self) -> None:
        """Stop the pooled stack, if any."""
        stack, self._stack, self._key = self._stack, None, None
        if stack is not None:
            await stack.stop()

    def close(self) -> None:
        """Stop the pooled stack from synchronous code (end of a CLI suite or a pytest session)."""
        if self._stack is not None:
            asyncio.run(self.release())

    @staticmethod
    async def _answers(stack: Stack) -> bool:
        try:
            await wait_until(stack.healthy, HEALTH_WAIT_S, "the reused stack to answer")
        except Exception:  # noqa: BLE001 - any failure means: replace it
            return False
        return True
