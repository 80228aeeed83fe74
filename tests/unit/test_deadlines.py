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
