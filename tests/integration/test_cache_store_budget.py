"""The cache store's time budget from FraiseQLConfig, over real HTTP, with a really slow store:
Toxiproxy delays every answer of the cache database by 400 ms, twice the default budget.

``cache_store_timeout_ms=0`` waits for the store; the default 200 ms gives up on it (a
counted miss). ``cache_store_cooldown_s=0`` keeps every call trying the store, so each
request's store calls are counted the same way in both cases.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

from .conftest import PgProxy, serve_in_thread

pytestmark = pytest.mark.integration

QUERY = {"query": "{ posts(limit: 3) { id title } }"}
STORE_LATENCY_MS = 400


@pytest.mark.parametrize(("timeout_ms", "waited"), [(0, True), (200, False)], ids=["no-budget", "200ms"])
def test_a_slow_store_is_waited_for_only_without_a_budget(
    blog_database_url: str, pg_proxy: PgProxy, timeout_ms: int, waited: bool
) -> None:
    config = FraiseQLConfig(cache_store_timeout_ms=timeout_ms, cache_store_cooldown_s=0)
    app = create_app(
        schema=blog.schema, database_url=blog_database_url,
        cache_database_url=pg_proxy.through(blog_database_url), config=config,
    )
    for server in serve_in_thread(app):
        cache = server.app.state.fraiseql.cache
        assert cache.store_timeout_s == timeout_ms / 1000 and cache.store_cooldown_s == 0
        asyncio.run(pg_proxy.client.add_toxic(
            pg_proxy.name, "latency", stream="downstream", attributes={"latency": STORE_LATENCY_MS},
        ))
        first = httpx.post(f"{server.url}/graphql", json=QUERY, timeout=30)
        assert first.status_code == 200 and len(first.json()["data"]["posts"]) == 3
        # Only the store can answer the same query now: the in-process layer is emptied.
        cache.local.clear()
        second = httpx.post(f"{server.url}/graphql", json=QUERY, timeout=30)
        assert second.status_code == 200 and second.json() == first.json()
        stats = cache.stats
        if waited:
            # The miss's read and the write were waited for; the second read found the row.
            assert (stats.errors_get, stats.errors_set, stats.hits_store) == (0, 0, 1)
        else:
            # Each read gave up at the budget (a counted miss), and so did the write.
            assert (stats.errors_get, stats.errors_set, stats.hits_store) == (2, 2, 0)
