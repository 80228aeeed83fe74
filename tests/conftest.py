"""Shared fixtures: one real PostgreSQL cluster per test process (per xdist worker)."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from fraiseql import faults
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database

_database_names = itertools.count(1)

# The tests connect from several threads at once (servers in threads, the test itself);
# libpq's GSSAPI probe is not safe for that and buys nothing against a local cluster.
os.environ.setdefault("PGGSSENCMODE", "disable")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalPostgres]:
    """A throwaway cluster, started once per test process and removed afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with LocalPostgres(dbname=f"fraiseql_{worker}") as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_url(pg_cluster: LocalPostgres) -> str:
    """The URL of a database shared by the whole test session of this process."""
    return pg_cluster.url


@pytest.fixture
def make_database_url(pg_cluster: LocalPostgres) -> Callable[[], str]:
    """A factory of fresh, empty databases for tests that must not share state."""

    def make() -> str:
        return pg_cluster.create_database(f"test_{os.getpid()}_{next(_database_names)}")

    return make


@pytest.fixture
async def database(pg_url: str) -> AsyncIterator[Database]:
    """An opened Database on the session's database, closed after the test."""
    db = Database(pg_url, min_size=1, max_size=5)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def _no_fault_hooks_left() -> Iterator[None]:
    """Every test starts and ends with no fault hook installed."""
    faults.clear()
    yield
    faults.clear()
