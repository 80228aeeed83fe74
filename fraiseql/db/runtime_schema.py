"""The tables FraiseQL itself keeps in the application's database.

Today that is ``fraiseql.idempotency``: one row per (mutation, idempotency key) holding
the first result of that mutation, so a retried request gets the same answer instead
of a second write. Rows older than ``IDEMPOTENCY_RETENTION`` are ignored by the runner
and removed by ``purge_idempotency_keys`` (clients must not reuse a key after that).

The DDL is idempotent and serialised by an advisory lock, so several app processes
starting together can all call ``ensure_runtime_schema``.

Example::

    async with Database(url) as db:
        await ensure_runtime_schema(db)
        deleted = await purge_idempotency_keys(db)
"""

from __future__ import annotations

import datetime
from typing import Any

import psycopg

from fraiseql.db.pool import Database

IDEMPOTENCY_RETENTION = datetime.timedelta(hours=24)

# An arbitrary constant shared by every process applying this DDL.
_DDL_LOCK_ID = 0x46524149_5345514C  # "FRAISEQL"

RUNTIME_DDL = """
CREATE SCHEMA IF NOT EXISTS fraiseql;

CREATE TABLE IF NOT EXISTS fraiseql.idempotency (
    mutation    text NOT NULL,
    key         text NOT NULL,
    input_hash  text NOT NULL,
    result      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mutation, key)
);

CREATE INDEX IF NOT EXISTS idempotency_created_at_idx ON fraiseql.idempotency (created_at);

COMMENT ON TABLE fraiseql.idempotency IS
    'First result of each mutation call per idempotency key; kept 24 hours (FraiseQL).';
"""


async def ensure_runtime_schema(db_or_conn: Database | psycopg.AsyncConnection[Any]) -> None:
    """Create the ``fraiseql`` schema and its tables if they are missing.

    Accepts a ``Database`` or an open psycopg ``AsyncConnection`` (inside or outside a
    transaction; with a connection, a savepoint or transaction is opened here).
    """
    if isinstance(db_or_conn, Database):
        async with db_or_conn.transaction() as conn:
            await _apply(conn)
    else:
        async with db_or_conn.transaction():
            await _apply(db_or_conn)


async def _apply(conn: psycopg.AsyncConnection[Any]) -> None:
    # Two processes running CREATE ... IF NOT EXISTS at once can still collide in the
    # catalogs; the lock makes the second one wait and then find everything there.
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK_ID])
    await conn.execute(RUNTIME_DDL)


async def purge_idempotency_keys(
    db: Database, *, retention: datetime.timedelta = IDEMPOTENCY_RETENTION
) -> int:
    """Delete idempotency rows older than ``retention``; return how many went."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM fraiseql.idempotency WHERE created_at < now() - %s",
            [retention],
        )
        return cursor.rowcount
