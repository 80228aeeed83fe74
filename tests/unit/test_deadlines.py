"""run_with_deadline: answers at the deadline even when the work is slow to cancel."""

from __future__ import annotations

import asyncio

import pytest

from fraiseql.deadlines import ABANDONED, Abandoned, Deadline, DeadlineExpired, run_with_deadline


async def test_the_result_comes_back_when_the_work_is_in_time() -> None:
    async def work(deadline: Deadline) -> str:
        return "rows"

    assert await run_with_deadline(work, 10.0) == "rows"


async def test_the_work_s_exception_comes_back_too() -> None:
    async def work(deadline: Deadline) -> str:
        raise LookupError("boom")

    with pytest.raises(LookupError):
        await run_with_deadline(work, 10.0)


async def test_expiry_answers_at_once_although_the_work_ignores_cancellation_for_a_while() -> None:
    release = asyncio.Event()
    stopped = asyncio.Event()

    async def stubborn(deadline: Deadline) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await release.wait()  # like psycopg waiting for the server to confirm a cancel
            stopped.set()

    with pytest.raises(DeadlineExpired):
        await run_with_deadline(stubborn, 0.01)
    assert not stopped.is_set() and len(ABANDONED) >= 1  # still unwinding, and tracked
    release.set()
    assert await ABANDONED.wait(5.0) and stopped.is_set()


async def test_a_deadline_set_by_the_work_itself_counts_from_then() -> None:
    async def work(deadline: Deadline) -> None:
        await asyncio.sleep(0.05)  # no deadline yet: like waiting for a pool connection
        deadline.reschedule(0.01)
        await asyncio.sleep(3600)

    with pytest.raises(DeadlineExpired):
        await run_with_deadline(work, None)


async def test_abandoned_tasks_are_forgotten_once_they_stop_and_their_errors_read() -> None:
    abandoned = Abandoned()

    async def fails() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("expected")

    task = asyncio.ensure_future(fails())
    await asyncio.sleep(0)
    abandoned.add(task)
    assert await abandoned.wait(1.0) and len(abandoned) == 0


async def test_an_interrupt_cancels_its_task_at_its_time_and_knows_it() -> None:
    from fraiseql.deadlines import Interrupt

    async def read() -> str:
        interrupt = Interrupt(0.01)
        try:
            await asyncio.sleep(3600)
            return "body"
        except asyncio.CancelledError:
            return "timed out" if interrupt.caused() else "cancelled"
        finally:
            interrupt.close()

    assert await read() == "timed out"


async def test_a_cancellation_from_elsewhere_is_not_the_interrupts() -> None:
    from fraiseql.deadlines import Interrupt

    caused: list[bool] = []

    async def read() -> None:
        interrupt = Interrupt(3600)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            caused.append(interrupt.caused())
            raise
        finally:
            interrupt.close()

    task = asyncio.ensure_future(read())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert caused == [False]


async def test_a_closed_interrupt_never_fires() -> None:
    from fraiseql.deadlines import Interrupt

    interrupt = Interrupt(0.01)
    interrupt.close()
    await asyncio.sleep(0.05)  # would have been cancelled here
    assert not interrupt.fired
