"""Deadlines that answer on time: stop waiting for overrunning work, cancel it behind.

``asyncio.timeout`` cancels the work and then waits for it to unwind. psycopg answers a
cancellation by asking the server to cancel the query and waiting for that (up to 5 s,
then 5 s more, in psycopg 3.3); through a black-holed network that is the whole 10 s, so
the deadline would be late by exactly the fault it guards against. Here the work runs as
its own task: at the deadline we stop waiting at once, cancel the task, and keep it in
``ABANDONED`` until it has really stopped, so shutdown can wait for it and its
connection goes back to the pool (psycopg discards a connection left mid-query).

A ``Deadline`` can be moved while the work runs: the database's client-side deadline
starts only once a connection is held (``reschedule``), the pool bounds the wait before.

Example::

    async def work(deadline: Deadline) -> list[str]:
        async with pool.connection() as conn:
            deadline.reschedule(6.0)
            return await run(conn)

    rows = await run_with_deadline(work, None)   # raises DeadlineExpired after 6 s
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlineExpired(TimeoutError):
    """The work did not finish in time; it is being cancelled in the background."""


class Abandoned:
    """Tasks nobody waits for any more, kept (and counted) until they have stopped.

    Bounded by the work's own timeouts: each abandoned task is already cancelled.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def add(self, task: asyncio.Future[Any]) -> None:
        task.cancel()
        if task.done():
            _retrieve(task)
            return
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        _retrieve(task)

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for every abandoned task to stop; True if they did."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while self._tasks:
            remaining = end - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True


def _retrieve(task: asyncio.Future[Any]) -> None:
    # An abandoned task's exception is expected; reading it keeps asyncio from logging
    # "exception was never retrieved" for every request that overran.
    if not task.cancelled():
        task.exception()


ABANDONED = Abandoned()


class Deadline:
    """A movable point in time; ``wait`` returns when a task is done or the point passes.

    ``passed`` says whether it did. One future and one timer per deadline: cheaper than
    ``asyncio.wait`` on a task and a deadline future, which the request path paid twice
    per request (measured: ~9k instructions each).
    """

    __slots__ = ("_loop", "_handle", "_waiter", "passed")

    def __init__(self, delay_s: float | None, loop: asyncio.AbstractEventLoop | None = None) -> None:
        # Each get_running_loop() is a getpid() system call: callers that hold the loop pass it.
        self._loop = loop or asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.passed = False
        if delay_s is not None:
            self.reschedule(delay_s)

    def reschedule(self, delay_s: float) -> None:
        """Expire ``delay_s`` seconds from now instead of when planned."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_later(delay_s, self._expire)

    def _expire(self) -> None:
        self.passed = True
        self._wake()

    def _wake(self, _: object = None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    async def wait(self, task: asyncio.Future[Any], also: asyncio.Future[Any] | None = None) -> bool:
        """Wait until ``task`` is done, this deadline passes or ``also`` is done; True when
        ``task`` is done."""
        if task.done() or self.passed or (also is not None and also.done()):
            return task.done()
        self._waiter = self._loop.create_future()
        task.add_done_callback(self._wake)
        if also is not None:
            also.add_done_callback(self._wake)
        try:
            await self._waiter
        finally:
            self._waiter = None
            task.remove_done_callback(self._wake)
            if also is not None:
                also.remove_done_callback(self._wake)
        return task.done()


class Interrupt:
    """Cancels the task it was made in when ``fire`` is called, or ``delay_s`` after it was
    made, and tells that cancellation from any other: ``asyncio.timeout`` for the request
    path, where a scope per request cost ~20k instructions.

    Example::

        interrupt = Interrupt(10.0)
        try:
            return await read()
        except asyncio.CancelledError:
            if not interrupt.caused():
                raise  # cancelled from elsewhere
            raise TimeoutError from None
        finally:
            interrupt.close()
    """

    __slots__ = ("_task", "_handle", "_open", "fired")

    def __init__(self, delay_s: float | None = None) -> None:
        self._task = asyncio.current_task()
        self._open = True
        self.fired = False
        self._handle = None
        if delay_s is not None and self._task is not None:
            self._handle = self._task.get_loop().call_later(delay_s, self.fire)

    def fire(self) -> None:
        """Cancel the task, unless this interrupt was closed (its work is over) or fired."""
        if self._open and not self.fired and self._task is not None:
            self.fired = True
            self._task.cancel()

    def caused(self) -> bool:
        """In the task, on ``CancelledError``: True when the cancellation was this
        interrupt's alone, which is then taken back (``Task.uncancel``)."""
        return self.fired and self._task is not None and self._task.uncancel() == 0

    def close(self) -> None:
        self._open = False
        if self._handle is not None:
            self._handle.cancel()


async def run_with_deadline(work: Callable[[Deadline], Awaitable[T]], delay_s: float | None) -> T:
    """Run ``work(deadline)``; raise ``DeadlineExpired`` the moment the deadline passes.

    ``delay_s`` None starts without a deadline (``work`` sets one with ``reschedule``).
    A cancelled caller abandons the work the same way.
    """
    loop = asyncio.get_running_loop()
    deadline = Deadline(delay_s, loop)
    task = loop.create_task(work(deadline))
    try:
        finished = await deadline.wait(task)
    except asyncio.CancelledError:
        ABANDONED.add(task)
        raise
    finally:
        deadline.cancel()
    if finished:
        return task.result()
    ABANDONED.add(task)
    raise DeadlineExpired("the work did not finish before its deadline")
