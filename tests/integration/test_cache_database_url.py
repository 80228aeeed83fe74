"""The result cache's store on its own database (``CACHE_DATABASE_URL``), over real HTTP.

The main database holds the blog example; the cache database is a second, empty one.
Both the store's rows and its connections (``pg_stat_activity``) must be on the second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from examples.blog import app as blog
from examples.blog.database import init_database
from fraiseql.http import create_app

from .conftest import serve_in_thread

pytestmark = pytest.mark.integration

CACHE_APPLICATION = "fraiseql-cache"  # fraiseql.db.pool.Database(name="cache")


def scalar(url: str, statement: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchone()[0]  # type: ignore[index]


def stored_entries(url: str) -> int | None:
    """Rows of fraiseql.cache_entries in ``url``'s database; None when the table is absent."""
    if not scalar(url, "SELECT to_regclass('fraiseql.cache_entries') IS NOT NULL"):
        return None
    return scalar(url, "SELECT count(*) FROM fraiseql.cache_entries")


def cache_connections(any_url: str, dbname: str) -> int:
    return scalar(
        any_url,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
        (CACHE_APPLICATION, dbname),
    )


@pytest.fixture
def two_databases(make_database_url: Callable[[], str]) -> tuple[str, str]:
    main_url, cache_url = make_database_url(), make_database_url()
    asyncio.run(init_database(main_url, rows=20, progress=None))
    return main_url, cache_url


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def run_and_check(app: Any, main_url: str, cache_url: str) -> None:
    for running in serve_in_thread(app):
        deadline = time.monotonic() + 15
        n = 0
        # Each distinct query is one store write; the write has a 200 ms budget, so on a
        # busy machine a few may be skipped (and counted). Ask until one has landed.
        while not stored_entries(cache_url):
            assert time.monotonic() < deadline, running.app.state.fraiseql.cache.stats
            n += 1
            response = httpx.post(f"{running.url}/graphql", json={"query": f"{{ posts(limit: {n}) {{ id }} }}"})
            assert response.status_code == 200 and len(response.json()["data"]["posts"]) == n
            time.sleep(0.05)
        assert cache_connections(main_url, dbname(cache_url)) >= 1
        assert cache_connections(main_url, dbname(main_url)) == 0
    assert stored_entries(main_url) is None  # the main database never saw the cache table


def test_create_app_cache_database_url_puts_the_store_on_the_other_database(two_databases: tuple[str, str]) -> None:
    main_url, cache_url = two_databases
    app = create_app(schema=blog.schema, database_url=main_url, cache_database_url=cache_url)
    run_and_check(app, main_url, cache_url)


def test_the_cache_database_url_environment_variable_is_read_at_start_up(
    two_databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main_url, cache_url = two_databases
    monkeypatch.setenv("DATABASE_URL", main_url)
    monkeypatch.setenv("CACHE_DATABASE_URL", cache_url)
    run_and_check(create_app(schema=blog.schema), main_url, cache_url)


def test_without_a_cache_url_the_store_shares_the_main_database(two_databases: tuple[str, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    main_url, _ = two_databases
    monkeypatch.delenv("CACHE_DATABASE_URL", raising=False)
    app = create_app(schema=blog.schema, database_url=main_url)
    for running in serve_in_thread(app):
        deadline = time.monotonic() + 15
        n = 0
        while not stored_entries(main_url):
            assert time.monotonic() < deadline
            n += 1
            assert httpx.post(f"{running.url}/graphql", json={"query": f"{{ posts(limit: {n}) {{ id }} }}"}).status_code == 200
            time.sleep(0.05)
        assert cache_connections(main_url, dbname(main_url)) >= 1
