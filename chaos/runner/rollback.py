"""Applied faults are tracked so every one is reverted: in `finally`, on SIGINT and SIGTERM.

A signal cancels the run's task; the cancellation unwinds through the runner's `finally`,
which reverts what is still applied before the process exits. What a SIGKILL leaves behind
is removed by `clean_leftovers` at the start of the next run.

Example::

    async with Rollback(ctx) as rollback:
        await rollback.apply(fault)      # reverted on exit, whatever happens
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

logger = logging.getLogger("chaos.runner")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Rollback:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.applied: list[Any] = []
        self.errors: list[str] = []

    async def apply(self, fault: Any) -> None:
        # Tracked before apply: a fault that fails half-way is still reverted.
        self.applied.append(fault)
        await fault.apply(self.ctx)

    async def revert(self, fault: Any) -> None:
        if fault in self.applied:
            self.applied.remove(fault)
        try:
            await fault.revert(self.ctx)
        except Exception as exc:
            self.errors.append(f"revert of {fault.type} failed: {exc}")
            logger.exception("revert of %s failed", fault.type)

    async def revert_all(self) -> None:
        for fault in reversed(list(self.applied)):
            # shielded: a second Ctrl-C must not interrupt the rollback itself
            await asyncio.shield(self.revert(fault))

    async def __aenter__(self) -> Rollback:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.revert_all()


class SignalCancel:
    """While active, SIGINT/SIGTERM cancel `task` (and remember which signal came)."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.received: int | None = None
        self.installed: list[int] = []

    def __enter__(self) -> SignalCancel:
        loop = asyncio.get_running_loop()
        for signum in HANDLED_SIGNALS:
            try:
                loop.add_signal_handler(signum, self._on_signal, signum)
                self.installed.append(signum)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread (pytest-xdist, plugins): rollback still runs in finally
        return self

    def _on_signal(self, signum: int) -> None:
        if self.received is None:
            self.received = signum
            logger.warning("received %s: reverting faults", signal.Signals(signum).name)
            self.task.cancel()

    def __exit__(self, *exc_info: Any) -> None:
        loop = asyncio.get_running_loop()
        for signum in self.installed:
            loop.remove_signal_handler(signum)
