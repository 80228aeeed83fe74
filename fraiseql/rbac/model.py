"""The RBAC tables (``model.sql``) and the helpers that manage their rows.

Every helper takes an open psycopg ``AsyncConnection`` and runs in the caller's
transaction; each change bumps ``fraiseql_rbac.version`` (a statement trigger), which is
how every process's ``PermissionResolver`` learns that its cache is stale.

Example::

    async with db.transaction() as conn:
        await ensure_rbac_schema(conn)
        await add_role(conn, "editor", inherits=("viewer",), permissions=("post:*",))
        await assign_role(conn, "alice", "editor", tenant_id="acme")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fraiseql.rbac.permissions import is_valid_permission

MODEL_SQL = Path(__file__).with_name("model.sql")
ALL_TENANTS = "*"


async def ensure_rbac_schema(conn: Any) -> None:
    """Create the ``fraiseql_rbac`` schema, tables and triggers if they are missing."""
    await conn.execute(MODEL_SQL.read_text())


async def add_role(
    conn: Any,
    name: str,
    *,
    inherits: Iterable[str] = (),
    permissions: Iterable[str] = (),
    description: str = "",
) -> None:
    """Create (or keep) role ``name``; add parents (created if missing) and permissions."""
    await conn.execute(
        "INSERT INTO fraiseql_rbac.role (name, description) VALUES (%s, %s) "
        "ON CONFLICT (name) DO NOTHING",
        (name, description),
    )
    for parent in inherits:
        await inherit(conn, name, parent)
    for permission in permissions:
        await grant_permission(conn, name, permission)


async def inherit(conn: Any, role: str, parent: str) -> None:
    """``role`` inherits ``parent``'s permissions (cycles are allowed here, reported on use)."""
    await conn.execute(
        "INSERT INTO fraiseql_rbac.role (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (parent,)
    )
    await conn.execute(
        "INSERT INTO fraiseql_rbac.role_parent (role, parent) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (role, parent),
    )


async def grant_permission(conn: Any, role: str, permission: str) -> None:
    if not is_valid_permission(permission):
        raise ValueError(f"{permission!r} is not 'resource:action' (either side may be '*') or '*'")
    await conn.execute(
        "INSERT INTO fraiseql_rbac.role_permission (role, permission) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING",
        (role, permission),
    )


async def revoke_permission(conn: Any, role: str, permission: str) -> None:
    await conn.execute(
        "DELETE FROM fraiseql_rbac.role_permission WHERE role = %s AND permission = %s",
        (role, permission),
    )


async def assign_role(conn: Any, user_id: str, role: str, *, tenant_id: str = ALL_TENANTS) -> None:
    """Give ``user_id`` the role in ``tenant_id`` (``"*"``: in every tenant)."""
    await conn.execute(
        "INSERT INTO fraiseql_rbac.user_role (user_id, tenant_id, role) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (user_id, tenant_id, role),
    )


async def revoke_role(conn: Any, user_id: str, role: str, *, tenant_id: str = ALL_TENANTS) -> None:
    await conn.execute(
        "DELETE FROM fraiseql_rbac.user_role WHERE user_id = %s AND tenant_id = %s AND role = %s",
        (user_id, tenant_id, role),
    )
