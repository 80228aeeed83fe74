"""Which tables a view reads: the tags that let a mutation clear the right cache entries.

A cached result of ``v_post`` is tagged with the base tables behind it, found in the
catalog: a view's rewrite rule (``pg_rewrite``) depends (``pg_depend``) on every relation
its query names; views among those are followed recursively. A mutation declared with
``invalidates=("tb_post",)`` then clears every result that read ``tb_post`` through any
view, however deep.

Tags are bare relation names (``tb_post``, not ``public.tb_post``), the form mutations
declare. Materialised views are tags themselves and are also followed, so a refresh or
a write to their sources both clear them (over-invalidation is safe, staleness is not).

Example::

    await view_tables(db, "v_post_with_author")   # frozenset({"tb_post", "tb_user"})
"""

from __future__ import annotations

from psycopg import sql

from fraiseql.db.pool import Database
from fraiseql.errors import DatabaseError

# relkind: r table, p partitioned table, f foreign table, m materialised view, v view.
_VIEW_TABLES = sql.SQL(
    """
    WITH RECURSIVE reads(oid) AS (
        SELECT to_regclass(%s)::oid
      UNION
        SELECT dep.refobjid
        FROM reads
        JOIN pg_rewrite AS rule ON rule.ev_class = reads.oid
        JOIN pg_depend AS dep
          ON dep.classid = 'pg_rewrite'::regclass
         AND dep.objid = rule.oid
         AND dep.refclassid = 'pg_class'::regclass
         AND dep.refobjid <> reads.oid
    )
    SELECT rel.relname::text
    FROM reads
    JOIN pg_class AS rel ON rel.oid = reads.oid
    WHERE rel.relkind IN ('r', 'p', 'f', 'm')
    ORDER BY 1
    """
)

_EXISTS = sql.SQL("SELECT to_regclass(%s) IS NOT NULL")
_INVALID_NAME = "42602"  # to_regclass on text that does not parse as a name


class UnknownRelation(DatabaseError):
    """The name given to ``view_tables`` is not a relation on the search path."""

    default_code = "DATABASE_ERROR"


async def view_tables(db: Database, view: str) -> frozenset[str]:
    """The base tables (and materialised views) that ``view`` reads, recursively.

    ``view`` is resolved like a name in a query (``v_post`` through the search path,
    or ``blog.v_post``). A table given instead of a view is its own only tag. An
    unknown name raises ``UnknownRelation``: an entry tagged with nothing would only
    ever expire, never be invalidated.
    """
    try:
        names = await db.fetch_texts(_VIEW_TABLES, [view])
    except DatabaseError as exc:
        if getattr(exc, "sqlstate", None) == _INVALID_NAME:
            raise UnknownRelation(f"{view!r} is not a relation name") from exc
        raise
    if not names and not await db.fetch_value(_EXISTS, [view]):
        raise UnknownRelation(f"relation {view!r} does not exist")
    return frozenset(names)
