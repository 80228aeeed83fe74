"""Create the blog example's database objects and load its seed.

Behind ``fraiseql db init --example blog --rows N``; rerunnable: the example's tables,
views and functions are dropped and recreated, FraiseQL's own tables are kept.

Example::

    await init_database("postgresql://postgres@127.0.0.1:5432/blog", rows=1_000)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from examples.blog.seed import SeedCounts, load_seed
from fraiseql.db.runtime_schema import ensure_runtime_schema
from fraiseql.rbac import ensure_rbac_schema

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
RBAC_SQL = Path(__file__).with_name("rbac.sql")  # roles, grants, the row-level policy

# v_post's documents are built by per-row subqueries whose estimated cost crosses the
# default jit_above_cost on every large scan, and JIT compilation then costs more than
# the query (hundreds of ms on a 10,000-row sort). The example database turns it off.
_DISABLE_JIT = """
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); END $$
"""


async def init_database(
    database_url: str,
    rows: int = 10_000,
    *,
    progress: Callable[[str], None] | None = print,
) -> SeedCounts:
    """Apply the runtime schema, the example schema and ``rows`` seeded posts.

    Everything happens in one transaction: a failure leaves the database as it was.
    """
    report = progress or (lambda _message: None)
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        async with conn.transaction():
            await ensure_runtime_schema(conn)
            report("runtime schema ready (schema fraiseql)")
            await conn.execute(sql.SQL(SCHEMA_SQL.read_text()))  # type: ignore[arg-type]
            report("blog schema created (tb_user, tb_post, tb_comment, v_user, v_post, tv_post, fn_*)")
            counts = await load_seed(conn, rows, progress=report)
            await ensure_rbac_schema(conn)
            await conn.execute(sql.SQL(RBAC_SQL.read_text()))  # type: ignore[arg-type]
            report("roles, permissions and the drafts policy applied (rbac.sql)")
            await conn.execute(_DISABLE_JIT)
        # Outside the transaction: the planner sees fresh statistics, and tv_post loses
        # the row versions its triggers replaced while the seed loaded (posts, then
        # their comments).
        await conn.set_autocommit(True)
        await conn.execute("VACUUM ANALYZE tb_user, tb_post, tb_comment, tv_post")
    report(f"blog example loaded in {time.perf_counter() - started:.1f} s")
    return counts
