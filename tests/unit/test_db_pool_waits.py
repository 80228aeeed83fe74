"""PoolWaits: waits for a pooled connection that ``end_all`` ends with an error, at once."""

from __future__ import annotations

import asyncio

import pytest

from fraiseql.db.pool_waits import PoolWaits
from fraiseql.errors import DatabaseUnavailable


def refused() -> DatabaseUnavailable:
    return DatabaseUnavailable("The database is not accepting connections")


async def test_end_all_ends_every_wait_in_progress_with_its_error() -> None:
    waits = PoolWaits()
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    tasks = [asyncio.create_task(waits.run(asyncio.shield(never))) for _ in range(3)]
    while len(waits) < 3:
        await asyncio.sleep(0)
    assert waits.end_all(refused) == 3
    for task in tasks:
        with pytest.raises(DatabaseUnavailable, match="not accepting"):
            await task
    assert waits.ended == 3 and len(waits) == 0
    never.cancel()


async def test_a_wait_started_after_end_all_is_not_ended_by_it() -> None:
    waits = PoolWaits()
    assert waits.end_all(refused) == 0
    assert await waits.run(asyncio.sleep(0, result="conn")) == "conn"
    assert waits.ended == 0


async def test_a_wait_that_got_its_connection_first_keeps_it() -> None:
    waits = PoolWaits()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(waits.run(ready))
    while not len(waits):
        await asyncio.sleep(0)
    ready.set_result("conn")  # the waiter is woken first ...
    waits.end_all(refused)  # ... and the cancellation comes after it has its connection
    assert await task == "conn"


async def test_a_timeout_inside_the_wait_is_not_mistaken_for_an_ending() -> None:
    async def times_out() -> None:
        raise TimeoutError("the caller's own")

    with pytest.raises(TimeoutError, match="the caller's own"):
        await PoolWaits().run(times_out())


async def test_cancelling_the_waiter_still_cancels_it() -> None:
    waits = PoolWaits()
    task = asyncio.create_task(waits.run(asyncio.sleep(60)))
    while not len(waits):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(waits) == 0
