"""PermissionResolver against a real PostgreSQL: hierarchy, claims, tenants, cycles,
version triggers, revocation within the staleness bound, and denial when the source fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from types import MappingProxyType
from typing import Any

import psycopg
import pytest

from fraiseql import faults
from fraiseql.auth import UserContext
from fraiseql.db.pool import Database
from fraiseql.rbac import (
    PermissionResolver,
    PermissionSourceUnavailable,
    add_role,
    assign_role,
    ensure_rbac_schema,
    inherit,
    revoke_role,
)

pytestmark = pytest.mark.integration


class Clock:
    """A clock the test moves by hand, so that the staleness bound is checked exactly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def rbac_url(make_database_url: Callable[[], str]) -> str:
    url = make_database_url()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await ensure_rbac_schema(conn)
        await ensure_rbac_schema(conn)  # idempotent
        await add_role(conn, "viewer", permissions=("post:read", "comment:read"))
        await add_role(conn, "author", inherits=("viewer",), permissions=("post:create",))
        await add_role(conn, "editor", inherits=("author",), permissions=("post:*",))
        await add_role(conn, "admin", inherits=("editor",), permissions=("*",))
        await conn.commit()
    return url


@pytest.fixture
async def db(rbac_url: str) -> AsyncIterator[Database]:
    database = Database(rbac_url, min_size=1, max_size=3)
    await database.open()
    yield database
    await database.close()


async def change(url: str, action: Callable[[Any], Any]) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await action(conn)
        await conn.commit()


def user(user_id: str, tenant: str | None = None, roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> UserContext:
    return UserContext(user_id, frozenset(roles), frozenset(permissions), MappingProxyType({}), 2e9, tenant)


async def test_hierarchy_is_expanded_with_every_inherited_permission(db: Database, rbac_url: str) -> None:
    await change(rbac_url, lambda c: assign_role(c, "alice", "editor"))
    resolution = await PermissionResolver(db).resolve(user("alice"))
    assert resolution.roles == {"editor", "author", "viewer"}
    assert resolution.grants.grants == {"post:*", "post:create", "post:read", "comment:read"}
    assert resolution.grants.allows("post:delete") and not resolution.grants.allows("comment:delete")
    assert resolution.cycles == ()


async def test_token_claims_are_merged_and_claimed_roles_expanded(db: Database) -> None:
    resolution = await PermissionResolver(db).resolve(
        user("bob", roles=("author", "beta-tester"), permissions=("report:read",))
    )
    assert resolution.roles == {"author", "viewer", "beta-tester"}  # unknown roles kept as claimed
    assert resolution.grants.allows("report:read") and resolution.grants.allows("post:create")


async def test_assignments_count_in_their_tenant_or_in_every_tenant(db: Database, rbac_url: str) -> None:
    async def setup(conn: Any) -> None:
        await assign_role(conn, "carol", "viewer")  # every tenant
        await assign_role(conn, "carol", "admin", tenant_id="acme")

    await change(rbac_url, setup)
    resolver = PermissionResolver(db)
    assert "admin" in (await resolver.resolve(user("carol", "acme"))).roles
    other = await resolver.resolve(user("carol", "globex"))
    assert other.roles == {"viewer"} and not other.grants.allows("post:create")
    assert (await resolver.resolve(user("carol", None))).roles == {"viewer"}


async def test_cycles_are_cut_and_reported(db: Database, rbac_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def setup(conn: Any) -> None:
        await add_role(conn, "a", permissions=("a:go",))
        await add_role(conn, "b", inherits=("a",), permissions=("b:go",))
        await inherit(conn, "a", "b")  # a -> b -> a
        await assign_role(conn, "dave", "a")

    await change(rbac_url, setup)
    resolver = PermissionResolver(db)
    with caplog.at_level(logging.WARNING, logger="fraiseql.rbac"):
        resolution = await resolver.resolve(user("dave"))
    assert resolution.roles == {"a", "b"}
    assert resolution.grants.grants == {"a:go", "b:go"}
    assert resolution.cycles == ("a -> b -> a",)
    assert resolver.cycles_seen == {"a -> b -> a"}
    assert "cycle: a -> b -> a" in caplog.text


async def test_every_table_change_bumps_the_version(db: Database, rbac_url: str) -> None:
    async def version() -> int:
        return int(await db.fetch_value("SELECT value FROM fraiseql_rbac.version"))

    changes = [
        lambda c: add_role(c, "intern"),
        lambda c: inherit(c, "intern", "viewer"),
        lambda c: c.execute("INSERT INTO fraiseql_rbac.role_permission VALUES ('intern', 'x:y')"),
        lambda c: assign_role(c, "erin", "intern"),
        lambda c: revoke_role(c, "erin", "intern"),
        lambda c: c.execute("UPDATE fraiseql_rbac.role SET description = 'new' WHERE name = 'intern'"),
    ]
    for action in changes:
        before = await version()
        await change(rbac_url, action)
        assert await version() > before


async def test_a_revocation_is_honoured_once_the_staleness_bound_has_passed(db: Database, rbac_url: str) -> None:
    await change(rbac_url, lambda c: assign_role(c, "frank", "editor"))
    clock = Clock()
    resolver = PermissionResolver(db, max_staleness_ms=1000, clock=clock)
    assert "editor" in (await resolver.resolve(user("frank"))).roles
    await change(rbac_url, lambda c: revoke_role(c, "frank", "editor"))
    clock.now += 0.5  # within the bound: the cached answer may still be served
    assert "editor" in (await resolver.resolve(user("frank"))).roles
    clock.now += 0.51  # past it: the version is read again, the cache dropped
    assert "editor" not in (await resolver.resolve(user("frank"))).roles
    assert resolver.cache.hits == 1


async def test_a_revocation_is_visible_after_the_bound_in_real_time(db: Database, rbac_url: str) -> None:
    await change(rbac_url, lambda c: assign_role(c, "gina", "admin"))
    resolver = PermissionResolver(db, max_staleness_ms=200)
    for _ in range(20):  # a warm cache, read by many requests
        assert (await resolver.resolve(user("gina"))).grants.allows("user:delete")
    await change(rbac_url, lambda c: revoke_role(c, "gina", "admin"))
    await asyncio.sleep(0.25)
    assert not (await resolver.resolve(user("gina"))).grants.allows("user:delete")


async def test_an_answer_from_an_older_version_is_not_cached(db: Database, rbac_url: str) -> None:
    resolver = PermissionResolver(db)
    await resolver.resolve(user("hal"))
    resolver.version = 10**9  # as if a newer version had been seen meanwhile
    await resolver.resolve(user("ivy"))
    assert len(resolver.cache) == 1


async def test_a_failing_fault_point_denies(db: Database) -> None:
    resolver = PermissionResolver(db)
    await resolver.resolve(user("jo"))

    def refuse(payload: Any, context: dict[str, Any]) -> None:
        raise ConnectionResetError("injected")

    handle = faults.install("rbac.resolve", refuse)
    try:
        with pytest.raises(PermissionSourceUnavailable) as caught:
            await resolver.resolve(user("jo"))  # cached, yet the source is down: deny
    finally:
        faults.remove(handle)
    assert caught.value.code == "PERMISSION_SOURCE_UNAVAILABLE" and caught.value.status == 503
    assert resolver.failures == 1
    assert (await resolver.resolve(user("jo"))).roles == frozenset()


async def test_a_slow_source_times_out_and_denies(db: Database) -> None:
    async def stall(payload: Any, context: dict[str, Any]) -> None:
        await asyncio.sleep(5)

    resolver = PermissionResolver(db, timeout_ms=50)
    handle = faults.install("rbac.resolve", stall)
    try:
        with pytest.raises(PermissionSourceUnavailable, match="timed out"):
            await resolver.resolve(user("kim"))
    finally:
        faults.remove(handle)


async def test_an_unreachable_database_denies_once_the_cache_is_stale(rbac_url: str) -> None:
    database = Database(rbac_url, min_size=1, max_size=2, pool_timeout_s=0.3, connect_timeout_s=1)
    await database.open()
    clock = Clock()
    resolver = PermissionResolver(database, clock=clock, timeout_ms=2000)
    await resolver.resolve(user("lee"))
    await database.close()
    clock.now += 2
    with pytest.raises(PermissionSourceUnavailable):
        await resolver.resolve(user("lee"))


async def test_missing_tables_deny(make_database_url: Callable[[], str]) -> None:
    database = Database(make_database_url(), min_size=1, max_size=2)
    await database.open()
    try:
        with pytest.raises(PermissionSourceUnavailable):
            await PermissionResolver(database).resolve(user("max"))
    finally:
        await database.close()
