"""run_mutation against a real PostgreSQL: idempotency, concurrency, retries, lost connections.

Failures are provoked for real: functions that raise SQLSTATE 40001 on their first call
(a sequence counts calls across rolled-back attempts), a genuine write skew between two
SERIALIZABLE transactions, and backends killed with pg_terminate_backend, before and
during COMMIT (a deferred constraint trigger runs at COMMIT time).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from examples.blog.database import init_database
from fraiseql.context import RequestContext
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database
from fraiseql.db.runtime_schema import ensure_runtime_schema, purge_idempotency_keys
from fraiseql.errors import MutationError, TransientDatabaseError
from fraiseql.mutations import run_mutation
from fraiseql.mutations.retry import Backoff

pytestmark = pytest.mark.integration

_names = itertools.count(1)
FAST = Backoff(base_s=0.001, cap_s=0.01)


@pytest.fixture(scope="module")
def blog_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"mutations_{os.getpid()}_{next(_names)}")
    asyncio.run(init_database(url, rows=20, progress=None))
    return url


@pytest.fixture
async def db(blog_url: str) -> AsyncIterator[Database]:
    database = Database(blog_url, min_size=1, max_size=5)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def _admin(url: str, statement: str) -> Any:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(statement)  # type: ignore[arg-type]
        return (await cursor.fetchone() or [None])[0] if cursor.description else None


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}"


async def _author(db: Database) -> str:
    return str(await db.fetch_value("SELECT id FROM tb_user ORDER BY id LIMIT 1"))


async def _count_posts(db: Database, title: str) -> int:
    return await db.fetch_value("SELECT count(*) FROM tb_post WHERE title = %s", [title])


async def _flaky_function(url: str, failing_calls: int, failure: str) -> tuple[str, str]:
    """A function inserting into its own table; its first ``failing_calls`` calls fail.

    ``failure`` is the PL/pgSQL that makes a call fail. Returns (function, sequence):
    the sequence's last_value is the number of calls, rolled back or not.
    """
    name = _unique("fn_flaky")
    await _admin(url, f"""
        CREATE SEQUENCE {name}_calls;
        CREATE TABLE {name}_rows (value text);
        CREATE FUNCTION {name}(input jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {name}_rows VALUES (input->>'value');
            IF nextval('{name}_calls') <= {failing_calls} THEN
                {failure}
            END IF;
            RETURN jsonb_build_object('status', 'success', 'message', 'ok', 'object', input);
        END $$;
    """)
    return name, f"{name}_calls"


RAISE_40001 = "RAISE EXCEPTION 'provoked' USING ERRCODE = '40001';"
RAISE_40P01 = "RAISE EXCEPTION 'provoked' USING ERRCODE = '40P01';"
KILL_MYSELF = "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);"


# --- plain calls ----------------------------------------------------------------------


async def test_returns_the_function_result(db: Database) -> None:
    author = await _author(db)
    result = await run_mutation(
        db, function="fn_create_post", input={"title": "plain", "body": "b", "author_id": author}
    )
    assert result["status"] == "success" and result["object"]["title"] == "plain"


async def test_error_status_is_returned_not_raised(db: Database) -> None:
    result = await run_mutation(db, function="fn_create_post", input={"title": "", "body": "b"})
    assert (result["status"], result["code"]) == ("invalid_input", "EMPTY_TITLE")


async def test_context_reaches_the_function(db: Database) -> None:
    author = await _author(db)
    result = await run_mutation(
        db, function="public.fn_create_post", input={"title": "ctx", "body": "b"},
        context=RequestContext(user_id=author),
    )
    assert result["object"]["author"]["id"] == author


async def test_idempotency_key_is_not_passed_to_the_function(db: Database, blog_url: str) -> None:
    function, _ = await _flaky_function(blog_url, 0, "")
    result = await run_mutation(
        db, function=function, input={"value": "v", "idempotency_key": "k"}, idempotency_key="k"
    )
    assert result["object"] == {"value": "v"}


async def test_result_without_status_is_rejected(db: Database, blog_url: str) -> None:
    name = _unique("fn_bad_result")
    await _admin(blog_url, f"CREATE FUNCTION {name}(input jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '[1]'::jsonb $$")
    with pytest.raises(MutationError) as caught:
        await run_mutation(db, function=name, input={})
    assert caught.value.code == "INVALID_MUTATION_RESULT"


# --- idempotency ----------------------------------------------------------------------


async def test_same_key_twice_writes_once_and_returns_the_same_result(db: Database) -> None:
    key, title = _unique("key"), _unique("title")
    payload = {"title": title, "body": "b", "author_id": await _author(db), "idempotency_key": key}
    first = await run_mutation(db, function="fn_create_post", input=payload, idempotency_key=key)
    second = await run_mutation(db, function="fn_create_post", input=payload, idempotency_key=key)
    assert first == second and first["status"] == "success"
    assert await _count_posts(db, title) == 1
    stored = await db.fetch_value(
        "SELECT count(*) FROM fraiseql.idempotency WHERE mutation = 'fn_create_post' AND key = %s", [key]
    )
    assert stored == 1


async def test_concurrent_calls_with_one_key_write_once(db: Database) -> None:
    key, title = _unique("key"), _unique("title")
    payload = {"title": title, "body": "b", "author_id": await _author(db)}
    results = await asyncio.gather(*[
        run_mutation(db, function="fn_create_post", input=payload, idempotency_key=key) for _ in range(10)
    ])
    assert all(result == results[0] for result in results)
    assert await _count_posts(db, title) == 1


async def test_key_reused_with_a_different_input_is_refused(db: Database) -> None:
    key, title = _unique("key"), _unique("title")
    author = await _author(db)
    await run_mutation(db, function="fn_create_post", input={"title": title, "body": "b", "author_id": author},
                       idempotency_key=key)
    with pytest.raises(MutationError) as caught:
        await run_mutation(db, function="fn_create_post", input={"title": title + "!", "body": "b", "author_id": author},
                           idempotency_key=key)
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert await _count_posts(db, title + "!") == 0


async def test_keys_are_scoped_per_function(db: Database, blog_url: str) -> None:
    key = _unique("key")
    first, _ = await _flaky_function(blog_url, 0, "")
    second, _ = await _flaky_function(blog_url, 0, "")
    a = await run_mutation(db, function=first, input={"value": "a"}, idempotency_key=key)
    b = await run_mutation(db, function=second, input={"value": "b"}, idempotency_key=key)
    assert (a["object"], b["object"]) == ({"value": "a"}, {"value": "b"})


async def test_keys_are_scoped_per_user(db: Database, blog_url: str) -> None:
    function, _ = await _flaky_function(blog_url, 0, "")
    key = _unique("key")
    for user in ("alice", "bob"):
        await run_mutation(db, function=function, input={"value": user}, idempotency_key=key,
                           context=RequestContext(user_id=user))
    values = await db.fetch_value(f"SELECT array_agg(value ORDER BY value) FROM {function}_rows")  # type: ignore[arg-type]
    assert values == ["alice", "bob"]


async def test_error_results_are_stored_too(db: Database) -> None:
    key = _unique("key")
    payload = {"title": "", "body": "b"}
    first = await run_mutation(db, function="fn_create_post", input=payload, idempotency_key=key)
    second = await run_mutation(db, function="fn_create_post", input=payload, idempotency_key=key)
    assert first == second and first["code"] == "EMPTY_TITLE"


async def test_expired_key_is_free_again_and_purged(db: Database, blog_url: str) -> None:
    function, _ = await _flaky_function(blog_url, 0, "")
    key = _unique("key")
    await run_mutation(db, function=function, input={"value": "old"}, idempotency_key=key)
    await _admin(blog_url, f"UPDATE fraiseql.idempotency SET created_at = now() - interval '25 hours' WHERE key = '{key}'")
    fresh = await run_mutation(db, function=function, input={"value": "new"}, idempotency_key=key)
    assert fresh["object"] == {"value": "new"}
    await _admin(blog_url, f"UPDATE fraiseql.idempotency SET created_at = now() - interval '25 hours' WHERE key = '{key}'")
    assert await purge_idempotency_keys(db) >= 1
    assert await db.fetch_value("SELECT count(*) FROM fraiseql.idempotency WHERE key = %s", [key]) == 0


# --- retries on real failures ---------------------------------------------------------


@pytest.mark.parametrize("failure", [RAISE_40001, RAISE_40P01], ids=["serialization", "deadlock"])
async def test_transient_failure_is_retried_and_writes_once(db: Database, blog_url: str, failure: str) -> None:
    function, calls = await _flaky_function(blog_url, 1, failure)
    result = await run_mutation(db, function=function, input={"value": "x"}, backoff=FAST)
    assert result["status"] == "success"
    assert await db.fetch_value(f"SELECT last_value FROM {calls}") == 2  # type: ignore[arg-type]
    assert await db.fetch_value(f"SELECT count(*) FROM {function}_rows") == 1  # type: ignore[arg-type]


async def test_retries_are_bounded(db: Database, blog_url: str) -> None:
    function, calls = await _flaky_function(blog_url, 100, RAISE_40001)
    with pytest.raises(TransientDatabaseError) as caught:
        await run_mutation(db, function=function, input={}, retries=2, backoff=FAST)
    assert caught.value.code == "SERIALIZATION_FAILURE"
    assert await db.fetch_value(f"SELECT last_value FROM {calls}") == 3  # type: ignore[arg-type]
    assert await db.fetch_value(f"SELECT count(*) FROM {function}_rows") == 0  # type: ignore[arg-type]


async def test_write_skew_between_serializable_transactions_is_retried(make_database_url: Any) -> None:
    """Two transactions each read the table, meet at a barrier, then insert: a real 40001."""
    url = make_database_url()
    await _admin(url, "ALTER DATABASE " + url.rsplit("/", 1)[1] + " SET default_transaction_isolation = 'serializable'")
    await _admin(url, """
        CREATE SEQUENCE arrivals;
        CREATE TABLE ledger (position int NOT NULL);
        CREATE FUNCTION fn_append(input jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        DECLARE seen int;
        BEGIN
            SELECT count(*) INTO seen FROM ledger;
            PERFORM nextval('arrivals');
            -- Barrier: wait (bounded) until both first attempts have read the table.
            FOR i IN 1..500 LOOP
                EXIT WHEN (SELECT last_value FROM arrivals) >= 2;
                PERFORM pg_sleep(0.01);
            END LOOP;
            INSERT INTO ledger VALUES (seen);
            RETURN jsonb_build_object('status', 'success', 'message', 'ok', 'object', to_jsonb(seen));
        END $$;
    """)
    async with Database(url, min_size=2, max_size=2) as database:
        await ensure_runtime_schema(database)
        results = await asyncio.gather(*[
            run_mutation(database, function="fn_append", input={"n": n}, backoff=FAST) for n in range(2)
        ])
        positions = await database.fetch_value("SELECT array_agg(position ORDER BY position) FROM ledger")
        attempts = await database.fetch_value("SELECT last_value FROM arrivals")
    assert sorted(result["object"] for result in results) == [0, 1] == positions
    assert attempts >= 3  # at least one attempt was aborted by SSI and ran again


# --- lost connections -----------------------------------------------------------------


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "key"])
async def test_connection_killed_before_commit_is_retried(db: Database, blog_url: str, with_key: bool) -> None:
    function, calls = await _flaky_function(blog_url, 1, KILL_MYSELF)
    key = _unique("key") if with_key else None
    result = await run_mutation(db, function=function, input={"value": "x"}, idempotency_key=key, backoff=FAST)
    assert result["status"] == "success"
    assert await db.fetch_value(f"SELECT last_value FROM {calls}") == 2  # type: ignore[arg-type]
    assert await db.fetch_value(f"SELECT count(*) FROM {function}_rows") == 1  # type: ignore[arg-type]


async def test_idle_connections_killed_between_calls_are_replaced(db: Database, blog_url: str) -> None:
    function, _ = await _flaky_function(blog_url, 0, "")
    await run_mutation(db, function=function, input={"value": "1"})
    killed = await _admin(
        blog_url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = 'fraiseql-main' AND pid <> pg_backend_pid()",
    )
    assert killed >= 1
    result = await run_mutation(db, function=function, input={"value": "2"}, backoff=FAST)
    assert result["status"] == "success"
    assert await db.fetch_value(f"SELECT count(*) FROM {function}_rows") == 2  # type: ignore[arg-type]


async def _killed_at_commit(url: str) -> tuple[str, str]:
    """A flaky function whose first transaction's backend dies during COMMIT."""
    function, _ = await _flaky_function(url, 0, "")
    await _admin(url, f"""
        CREATE SEQUENCE {function}_commits;
        CREATE FUNCTION {function}_die() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('{function}_commits') = 1 THEN
                PERFORM pg_terminate_backend(pg_backend_pid());
                PERFORM pg_sleep(5);
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON {function}_rows
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}_die();
    """)
    return function, f"{function}_commits"


async def test_connection_lost_during_commit_without_key_is_an_unknown_outcome(
    db: Database, blog_url: str
) -> None:
    function, commits = await _killed_at_commit(blog_url)
    with pytest.raises(MutationError) as caught:
        await run_mutation(db, function=function, input={"value": "x"}, backoff=FAST)
    assert caught.value.code == "MUTATION_OUTCOME_UNKNOWN"
    assert await db.fetch_value(f"SELECT last_value FROM {commits}") == 1  # type: ignore[arg-type]


async def test_connection_lost_during_commit_with_key_is_retried_once(db: Database, blog_url: str) -> None:
    function, commits = await _killed_at_commit(blog_url)
    key = _unique("key")
    result = await run_mutation(db, function=function, input={"value": "x"}, idempotency_key=key, backoff=FAST)
    again = await run_mutation(db, function=function, input={"value": "x"}, idempotency_key=key, backoff=FAST)
    assert result == again and result["status"] == "success"
    assert await db.fetch_value(f"SELECT last_value FROM {commits}") == 2  # type: ignore[arg-type]
    assert await db.fetch_value(f"SELECT count(*) FROM {function}_rows") == 1  # type: ignore[arg-type]


async def test_runtime_schema_can_be_ensured_concurrently(make_database_url: Any) -> None:
    async with Database(make_database_url(), min_size=1, max_size=5) as database:
        await asyncio.gather(*[ensure_runtime_schema(database) for _ in range(5)])
        assert await database.fetch_value("SELECT to_regclass('fraiseql.idempotency')::text") == "fraiseql.idempotency"
