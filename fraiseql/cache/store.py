"""The shared layer of the result cache: an UNLOGGED PostgreSQL table.

Every worker reads and writes the same table, so one worker's result serves the others
and one mutation's invalidation reaches them all. UNLOGGED because the contents are
disposable: no WAL, faster writes, emptied after a crash, which is fine for a cache.
The store uses its own ``Database`` (the cache database, ``CACHE_DATABASE_URL``, by
default the main one), so a cache outage never takes a connection from the reads.

The store raises ``fraiseql.errors`` like any database access; it is ``ResultCache``
that turns every store failure into a counted miss.

Example::

    store = PostgresCacheStore(cache_db)
    await store.ensure()
    await store.set("k", b'{"data":{}}', ["tb_post"], ttl_s=30)
    entry = await store.get("k")      # StoredEntry(value=b'{"data":{}}', tables=..., ...)
    await store.invalidate(["tb_post"])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from fraiseql.db.pool import Database

_TABLE = sql.Identifier("fraiseql", "cache_entries")

# Creation takes a transaction-scoped advisory lock: two workers starting together would
# otherwise race on CREATE ... IF NOT EXISTS and one of them fail on pg_type's unique key.
_ENSURE = [
    sql.SQL("SELECT pg_advisory_xact_lock(hashtext('fraiseql.cache_entries'))"),
    sql.SQL("CREATE SCHEMA IF NOT EXISTS fraiseql"),
    sql.SQL(
        "CREATE UNLOGGED TABLE IF NOT EXISTS {} ("
        " key text PRIMARY KEY,"
        " value bytea NOT NULL,"
        " tables text[] NOT NULL DEFAULT '{{}}',"
        " expires_at timestamptz NOT NULL)"
    ).format(_TABLE),
    sql.SQL(
        "CREATE INDEX IF NOT EXISTS cache_entries_tables_idx ON {} USING gin (tables)"
    ).format(_TABLE),
    sql.SQL(
        "CREATE INDEX IF NOT EXISTS cache_entries_expires_at_idx ON {} (expires_at)"
    ).format(_TABLE),
]

_GET = sql.SQL(
    "SELECT value, tables, extract(epoch FROM expires_at - now())::float8"
    " FROM {} WHERE key = %s AND expires_at > now()"
).format(_TABLE)

# Expired rows within the stale window, with how long ago they expired.
_GET_STALE = sql.SQL(
    "SELECT value, tables, extract(epoch FROM now() - expires_at)::float8"
    " FROM {} WHERE key = %s AND expires_at > now() - make_interval(secs => %s)"
).format(_TABLE)

_SET = sql.SQL(
    "INSERT INTO {} (key, value, tables, expires_at)"
    " VALUES (%s, %s, %s::text[], now() + make_interval(secs => %s))"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
    " tables = excluded.tables, expires_at = excluded.expires_at"
).format(_TABLE)

_DELETE = sql.SQL("DELETE FROM {} WHERE key = %s").format(_TABLE)

_INVALIDATE = sql.SQL(
    "WITH gone AS (DELETE FROM {} WHERE tables && %s::text[] RETURNING 1)"
    " SELECT count(*) FROM gone"
).format(_TABLE)

_PURGE = sql.SQL(
    "WITH gone AS (DELETE FROM {} WHERE expires_at <= now() - make_interval(secs => %s)"
    " RETURNING 1) SELECT count(*) FROM gone"
).format(_TABLE)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One live row of the store: its bytes, its table tags, and its remaining life."""

    value: bytes
    tables: tuple[str, ...]
    ttl_remaining_s: float


class PostgresCacheStore:
    """Cache entries in ``fraiseql.cache_entries``, shared by every worker.

    Expiry uses the database clock (``now()``), so workers with drifting clocks agree.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure(self) -> None:
        """Create the schema, the UNLOGGED table and its indexes if they are missing."""
        async with self.db.transaction() as conn:
            for statement in _ENSURE:
                await conn.execute(statement)

    async def get(self, key: str) -> StoredEntry | None:
        """The live entry for ``key``; expired rows are ignored (purged separately)."""
        rows = await self.db.fetch_rows(_GET, [key])
        if not rows:
            return None
        value, tables, ttl_remaining_s = rows[0]
        return StoredEntry(bytes(value), tuple(tables), float(ttl_remaining_s))

    async def get_stale(self, key: str, max_stale_s: float) -> StoredEntry | None:
        """The entry for ``key`` if live or expired less than ``max_stale_s`` ago.

        ``ttl_remaining_s`` is negative for an expired entry (minus how long ago).
        """
        rows = await self.db.fetch_rows(_GET_STALE, [key, float(max_stale_s)])
        if not rows:
            return None
        value, tables, expired_for_s = rows[0]
        return StoredEntry(bytes(value), tuple(tables), -float(expired_for_s))

    async def set(self, key: str, value: bytes, tables: Sequence[str], ttl_s: float) -> None:
        """Insert or replace the entry for ``key``, live for ``ttl_s`` seconds."""
        await self.db.fetch_rows(_SET, [key, value, list(tables), float(ttl_s)])

    async def delete(self, key: str) -> None:
        """Remove one entry (a corrupt one, typically)."""
        await self.db.fetch_rows(_DELETE, [key])

    async def invalidate(self, tables: Sequence[str]) -> int:
        """Remove every entry tagged with any of ``tables``; returns how many went."""
        if not tables:
            return 0
        return int(await self.db.fetch_value(_INVALIDATE, [list(tables)]))

    async def purge_expired(self, grace_s: float = 0.0) -> int:
        """Remove rows expired more than ``grace_s`` ago (the stale window); returns how many."""
        return int(await self.db.fetch_value(_PURGE, [float(grace_s)]))
