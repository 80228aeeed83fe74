"""Cache faults against the real stack: entries of the shared store damaged and deleted in
the cache database itself, and stampedes on one hot query."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import psycopg
import pytest

from chaos.faults.base import FaultContext
from chaos.faults.cache import (
    HOT_QUERY,
    CacheCorrupt,
    CacheCorruptParams,
    CacheEvict,
    CacheEvictParams,
    HotKeyStampede,
    HotKeyStampedeParams,
)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]


async def _fill(url: str, n: int = 8) -> None:
    """Cache ``n`` distinct answers (each a fresh document, so each a new entry)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(n):
            name = f"Q{secrets.token_hex(4)}"
            answer = await client.post(f"{url}/graphql",
                                       json={"query": f"query {name} {{ posts(limit: 2) {{ id title }} }}"})
            assert answer.status_code == 200


async def _values(ctx: FaultContext) -> dict[str, bytes]:
    async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url) as conn:
        rows = await (await conn.execute("SELECT key, value FROM fraiseql.cache_entries")).fetchall()
    return {key: bytes(value) for key, value in rows}


async def _stored(ctx: FaultContext, at_least: int) -> dict[str, bytes]:
    for _ in range(50):  # the app writes its store in the background
        values = await _values(ctx)
        if len(values) >= at_least:
            return values
        await asyncio.sleep(0.1)
    raise AssertionError(f"the app stored fewer than {at_least} entries")


@pytest.mark.parametrize("mode", ["garbage", "truncate", "swap"])
async def test_corruption_rewrites_stored_entries_for_real(fault_ctx: FaultContext, mode: str) -> None:
    await _fill(fault_ctx.stack.app_url)
    before = await _stored(fault_ctx, 2)
    fault = CacheCorrupt(CacheCorruptParams(mode=mode, every_s=0.2))
    await fault.apply(fault_ctx)
    try:
        await asyncio.sleep(0.5)
        evidence = await fault.evidence(fault_ctx)
    finally:
        await fault.revert(fault_ctx)
    after = await _values(fault_ctx)
    changed = [k for k in before if k in after and after[k] != before[k]]
    assert evidence.fired and evidence.details["rows"] > 0 and changed
    if mode == "swap":  # still valid JSON, another entry's
        assert all(after[k] in before.values() for k in changed)


async def test_eviction_empties_the_store(fault_ctx: FaultContext) -> None:
    await _fill(fault_ctx.stack.app_url)
    await _stored(fault_ctx, 1)
    fault = CacheEvict(CacheEvictParams(every_s=0.2))
    await fault.apply(fault_ctx)
    try:
        await asyncio.sleep(0.5)
        evidence = await fault.evidence(fault_ctx)
        assert await _values(fault_ctx) == {}
    finally:
        await fault.revert(fault_ctx)
    assert evidence.fired and evidence.details["rounds"] >= 2


async def test_a_stampede_sends_waves_and_counts_their_misses(fault_ctx: FaultContext) -> None:
    fault = HotKeyStampede(HotKeyStampedeParams(requests=50, every_s=0.2, max_misses_per_wave=50))
    await fault.apply(fault_ctx)
    try:
        await asyncio.sleep(2.0)
        evidence = await fault.evidence(fault_ctx)
    finally:
        await fault.revert(fault_ctx)
    waves = evidence.details["waves"]
    assert evidence.fired and waves and all(w["answered"] == 50 for w in waves)
    # This stack keeps its in-process LRU: the hot query may never reach the store (the
    # scenario turns the LRU off); the miss counter is read either way.
    assert all(w["misses"] is not None and w["misses"] >= 0 for w in waves)
    assert "posts" in HOT_QUERY
