"""Fault points: no-op by default, hooks run in order, can raise, delay or replace."""

from __future__ import annotations

import pytest

from fraiseql import faults


async def test_a_point_without_hooks_returns_the_payload_and_counts_nothing() -> None:
    point = faults.point("cache.get")
    before = point.fired
    assert not point.hooks
    assert await point.fire("payload") == "payload"
    assert point.fired == before


async def test_hooks_replace_the_payload_in_order_and_are_counted() -> None:
    point = faults.point("cache.get")
    before = point.fired
    first = faults.install("cache.get", lambda payload, ctx: payload + b"-1")

    async def second(payload: bytes, ctx: dict) -> bytes:
        assert ctx == {"key": "k"}
        return payload + b"-2"

    faults.install("cache.get", second)
    assert await point.fire(b"v", key="k") == b"v-1-2"
    assert point.fired == before + 2
    assert faults.remove(first) is True
    assert faults.remove(first) is False
    assert faults.installed()["cache.get"] == 1


async def test_a_raising_hook_propagates_its_exception() -> None:
    def boom(payload: object, ctx: dict) -> None:
        raise TimeoutError("injected")

    faults.install("jwks.fetch", boom)
    with pytest.raises(TimeoutError, match="injected"):
        await faults.point("jwks.fetch").fire()


def test_sync_fire_refuses_async_hooks() -> None:
    async def slow(payload: object, ctx: dict) -> None:
        return None

    faults.install("pipeline.build", slow)
    with pytest.raises(TypeError, match="synchronous"):
        faults.point("pipeline.build").fire_sync()


def test_unknown_point_names_are_rejected_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="db.connect"):
        faults.point("db.conect")


def test_clear_removes_every_hook() -> None:
    for name in faults.POINT_NAMES:
        faults.install(name, lambda payload, ctx: None)
    faults.clear()
    assert set(faults.installed().values()) == {0}
