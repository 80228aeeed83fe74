"""The Database wrapper against a real PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg import sql

from fraiseql import faults
from fraiseql.context import RequestContext
from fraiseql.db.pool import Database, ReadingConnection, execute
from fraiseql.errors import DatabaseError, DatabaseTimeout, DatabaseUnavailable, TransientDatabaseError


async def test_fetch_texts_returns_json_text_untouched(database: Database) -> None:
    texts = await database.fetch_texts(
        sql.SQL("SELECT jsonb_build_object('a', %s::int, 'b', 'x')::text"), [1]
    )
    assert texts == ['{"a": 1, "b": "x"}']


async def test_context_reaches_sql_through_set_local(database: Database) -> None:
    ctx = RequestContext(user_id="u-1", tenant_id="t-9", statement_timeout_ms=1234)
    row = await database.fetch_rows(
        "SELECT current_setting('fraiseql.user_id', true), "
        "current_setting('fraiseql.tenant_id', true), current_setting('statement_timeout')",
        context=ctx,
    )
    assert row == [("u-1", "t-9", "1234ms")]
    # SET LOCAL: nothing leaks into the next statement on the same pooled connection.
    after = await database.fetch_value("SELECT current_setting('fraiseql.user_id', true)")
    assert after in (None, "")


async def test_statement_timeout_is_translated(database: Database) -> None:
    with pytest.raises(DatabaseTimeout) as caught:
        await database.fetch_value(
            "SELECT pg_sleep(2)", context=RequestContext(statement_timeout_ms=50)
        )
    assert caught.value.code == "DATABASE_TIMEOUT"
    assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)


async def test_serialization_failure_raised_by_the_server_is_transient(database: Database) -> None:
    await database.fetch_rows(
        """
        CREATE OR REPLACE FUNCTION test_raise_40001() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$
        """
    )
    with pytest.raises(TransientDatabaseError) as caught:
        await database.fetch_value("SELECT test_raise_40001()")
    assert caught.value.code == "SERIALIZATION_FAILURE"


async def test_other_errors_do_not_leak_server_text(database: Database) -> None:
    with pytest.raises(DatabaseError) as caught:
        await database.fetch_value("SELECT * FROM no_such_table_anywhere")
    assert caught.value.code == "DATABASE_ERROR"
    assert "no_such_table" not in caught.value.message
    assert caught.value.extensions["sqlstate"] == "42P01"


async def test_unreachable_database_fails_fast_with_unavailable() -> None:
    import port_for

    db = Database(
        f"postgresql://postgres@127.0.0.1:{port_for.select_random()}/x",
        pool_timeout_s=0.5, connect_timeout_s=1,
    )
    await db.open()
    try:
        assert await db.ping(timeout_s=0.5) is False
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(db.fetch_value("SELECT 1"), timeout=10)
    finally:
        await db.close()


async def test_fault_points_fire_and_their_exceptions_are_translated(database: Database) -> None:
    def refuse(payload: object, context: dict) -> None:
        raise psycopg.OperationalError("injected: connection refused")

    handle = faults.install("db.connect", refuse)
    before = faults.point("db.connect").fired
    with pytest.raises(DatabaseUnavailable):
        await database.fetch_value("SELECT 1")
    assert faults.point("db.connect").fired == before + 1
    faults.remove(handle)
    assert await database.fetch_value("SELECT 1") == 1

    seen: list[object] = []
    faults.install("db.execute", lambda payload, context: seen.append(context["query"]))
    await database.fetch_value("SELECT 2")
    assert seen == ["SELECT 2"]


async def test_fetch_documents_returns_the_servers_utf8_bytes(database: Database) -> None:
    documents = await database.fetch_documents(
        sql.SQL("SELECT jsonb_build_object('t', %s::text)::text"), ["héllo ☃ 𝄞"]
    )
    assert documents == ['{"t": "héllo ☃ 𝄞"}'.encode()]
    # The loader is per cursor: the next plain fetch on the pool still returns str.
    assert await database.fetch_texts("SELECT 'x'::text") == ["x"]


async def test_statements_on_a_pooled_connection_share_its_kept_cursor(
    database: Database,
) -> None:
    async with database.connection() as conn:
        assert isinstance(conn, ReadingConnection)
        kept = conn.read_cursor()
        assert await execute(conn, "SELECT 1") == [(1,)]
        assert await execute(conn, "DO $$ BEGIN END $$") == []  # no rows: []
        assert kept.statusmessage == "DO"  # the kept cursor ran it
        assert await execute(conn, "SELECT 'x'::text") == [("x",)]
        assert conn.read_cursor() is kept and kept.statusmessage == "SELECT 1"
        # Statements awaited at once on one connection share the cursor: psycopg runs them
        # one at a time, and each takes its own rows before the next one runs.
        rows = await asyncio.gather(*(execute(conn, "SELECT %s::int", [n]) for n in range(6)))
        assert rows == [[(n,)] for n in range(6)]
        assert conn.read_cursor() is kept
