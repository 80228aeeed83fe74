"""chaos.inject / latency / corrupt: real exceptions, seeded rates, counters, always removed."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import psycopg.errors
import pytest

from chaos.inject import UnknownFaultError, corrupt, inject, latency
from fraiseql import faults


async def _fire_many(point: str, n: int) -> list[str]:
    outcomes = []
    for _ in range(n):
        try:
            await faults.point(point).fire(None)
            outcomes.append("ok")
        except psycopg.Error as exc:
            outcomes.append(type(exc).__name__)
    return outcomes


@pytest.mark.parametrize(
    ("error", "expected", "sqlstate"),
    [
        ("serialization_failure", psycopg.errors.SerializationFailure, "40001"),
        ("deadlock", psycopg.errors.DeadlockDetected, "40P01"),
        ("query_canceled", psycopg.errors.QueryCanceled, "57014"),
        ("connection_refused", psycopg.OperationalError, None),
        ("connection_lost", psycopg.OperationalError, None),
        ("connect_timeout", httpx.ConnectTimeout, None),
        ("read_timeout", httpx.ReadTimeout, None),
    ],
)
async def test_inject_raises_what_the_real_library_raises(error, expected, sqlstate) -> None:
    with inject("db.execute", error=error) as fault:
        with pytest.raises(expected) as raised:
            await faults.point("db.execute").fire(None)
    assert getattr(raised.value, "sqlstate", None) == sqlstate
    assert (fault.fired, fault.raised) == (1, 1)
    assert faults.installed()["db.execute"] == 0


async def test_the_same_seed_gives_the_same_sequence_and_the_rate_is_respected() -> None:
    with inject("db.execute", error="deadlock", rate=0.5, seed=42) as first:
        a = await _fire_many("db.execute", 200)
    with inject("db.execute", error="deadlock", rate=0.5, seed=42):
        b = await _fire_many("db.execute", 200)
    assert a == b
    assert first.fired == 200 and first.raised == a.count("DeadlockDetected")
    assert 60 < first.raised < 140  # binomial(200, 0.5): far outside 6 sigma otherwise


async def test_times_caps_how_often_it_raises() -> None:
    with inject("db.connect", error="connection_refused", times=2) as fault:
        outcomes = await _fire_many("db.connect", 5)
    assert outcomes == ["OperationalError", "OperationalError", "ok", "ok", "ok"]
    assert (fault.fired, fault.raised) == (5, 2)


def test_hook_is_removed_after_an_exception_and_after_ctrl_c() -> None:
    for interruption in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(interruption)):
            with inject("cache.get", error="os_error"):
                assert faults.installed()["cache.get"] == 1
                raise interruption
        assert faults.installed()["cache.get"] == 0


def test_decorates_a_sync_function_and_removes_the_hook() -> None:
    @inject("http.request", error="connection_lost")
    def body() -> int:
        return faults.installed()["http.request"]

    assert body() == 1
    assert faults.installed()["http.request"] == 0


async def test_decorates_an_async_function_with_a_fresh_hook_each_call() -> None:
    injection = inject("db.execute", error="serialization_failure", seed=3)

    @injection
    async def body() -> None:
        with pytest.raises(psycopg.errors.SerializationFailure):
            await faults.point("db.execute").fire(None)

    await body()
    await body()
    assert injection.fired == 1  # counters describe the latest activation
    assert faults.installed()["db.execute"] == 0


async def test_latency_delays_and_keeps_the_payload() -> None:
    with latency("cache.get", ms=20) as fault:
        task = asyncio.ensure_future(faults.point("cache.get").fire(b"value"))
        await asyncio.sleep(0)
        assert not task.done()  # the hook is sleeping, not returning at once
        assert await task == b"value"
    assert (fault.fired, fault.acted, fault.raised) == (1, 1, 0)


async def test_corrupt_replaces_the_payload_with_a_value_or_a_function_of_it() -> None:
    with corrupt("cache.get", with_=b"{not json"):
        assert await faults.point("cache.get").fire(b'{"ok": 1}') == b"{not json"
    with corrupt("cache.set", with_=lambda payload: payload[:3]) as fault:
        assert await faults.point("cache.set").fire(b"abcdef") == b"abc"
    assert fault.evidence()["acted"] == 1


def test_an_active_injection_cannot_be_entered_twice() -> None:
    injection = inject("db.execute", error="deadlock")
    with injection:
        with pytest.raises(RuntimeError, match="already active"):
            injection.__enter__()
    assert faults.installed()["db.execute"] == 0


@pytest.mark.parametrize(
    ("call", "listed"),
    [
        (lambda: inject("db.nowhere", error="deadlock"), "db.execute"),
        (lambda: inject("db.execute", error="gremlins"), "serialization_failure"),
        (lambda: latency("db.execute", ms=-1), "negative"),
        (lambda: inject("db.execute", error="deadlock", rate=1.5), "between 0 and 1"),
    ],
)
def test_unknown_names_are_refused_with_the_known_ones_listed(call, listed) -> None:
    with pytest.raises(UnknownFaultError, match=listed):
        call()
