"""Identical requests that miss the result cache together share one database query."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from examples.blog import app as blog
from fraiseql import faults
from fraiseql.http import create_app

from .conftest import RunningServer, serve_in_thread

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(blog_database_url: str) -> Iterator[RunningServer]:
    yield from serve_in_thread(create_app(schema=blog.schema, database_url=blog_database_url))


def count_reads(marker: str) -> tuple[Any, list[int]]:
    """A db.execute hook counting statements that carry ``marker``, each held 200 ms so
    concurrent requests overlap."""
    seen = [0]

    async def hook(payload: Any, context: dict[str, Any]) -> Any:
        if marker in str(context.get("params")) or marker in str(context.get("query")):
            seen[0] += 1
            await asyncio.sleep(0.2)
        return payload

    return faults.install("db.execute", hook), seen


async def test_concurrent_identical_misses_make_one_database_query(server: RunningServer) -> None:
    marker = f"coalesce-{secrets.token_hex(4)}"
    body = {"query": "query($t: String!) { posts(where: {title: {eq: $t}}) { id } }",
            "variables": {"t": marker}}
    handle, seen = count_reads(marker)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            answers = await asyncio.gather(*(client.post("/graphql", json=body) for _ in range(30)))
    finally:
        faults.remove(handle)
    assert {a.status_code for a in answers} == {200}
    assert all(a.json() == {"data": {"posts": []}} for a in answers)
    assert seen[0] == 1
    stats = server.app.state.fraiseql.cache.stats
    assert stats.coalesced >= 1


async def test_different_variables_are_not_coalesced(server: RunningServer) -> None:
    markers = [f"apart-{secrets.token_hex(4)}" for _ in range(2)]
    handles = [count_reads(m) for m in markers]
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await asyncio.gather(*(client.post("/graphql", json={
                "query": "query($t: String!) { posts(where: {title: {eq: $t}}) { id } }",
                "variables": {"t": m}}) for m in markers))
    finally:
        for handle, _ in handles:
            faults.remove(handle)
    assert [seen[0] for _, seen in handles] == [1, 1]


async def test_with_coalescing_off_each_request_queries(blog_database_url: str) -> None:
    from fraiseql.config import FraiseQLConfig

    app = create_app(schema=blog.schema, database_url=blog_database_url,
                     config=FraiseQLConfig(cache_coalesce=False))
    marker = f"solo-{secrets.token_hex(4)}"
    handle, seen = count_reads(marker)
    try:
        for running in serve_in_thread(app):
            async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
                await asyncio.gather(*(client.post("/graphql", json={
                    "query": "query($t: String!) { posts(where: {title: {eq: $t}}) { id } }",
                    "variables": {"t": marker}}) for _ in range(10)))
    finally:
        faults.remove(handle)
    assert seen[0] > 1
