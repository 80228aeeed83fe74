"""One SQL statement from a user to their effective roles and permissions.

The statement seeds the walk with the user's assignments (in every tenant, ``'*'``, or
in the request's tenant) and the roles their token claims, follows ``role_parent`` with
a recursive CTE that carries its path, stops a branch when it meets a role already on
its path and reports that path as a cycle. It reads the version counter in the same
snapshot, so a cached answer knows exactly which state of the tables it reflects.

Example::

    resolution = await load_resolution(db, "alice", "acme", frozenset({"viewer"}), frozenset())
    resolution.roles        # frozenset({"viewer", "reader"})
    resolution.grants.allows("post:read")
    resolution.cycles       # ("a -> b -> a",) when the hierarchy loops
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql.rbac.permissions import PermissionSet

# A bound on the walk's depth, so a pathological hierarchy cannot run away.
MAX_DEPTH = 32

RESOLVE_SQL = """
WITH RECURSIVE seed (role) AS (
    SELECT ur.role FROM fraiseql_rbac.user_role ur
     WHERE ur.user_id = %(user_id)s AND ur.tenant_id IN ('*', %(tenant_id)s)
    UNION
    SELECT unnest(%(claimed)s::text[])
), walk (role, path, is_cycle) AS (
    SELECT role, ARRAY[role], false FROM seed
    UNION ALL
    SELECT p.parent, w.path || p.parent, p.parent = ANY (w.path)
      FROM walk w JOIN fraiseql_rbac.role_parent p ON p.role = w.role
     WHERE NOT w.is_cycle AND cardinality(w.path) < %(max_depth)s
)
SELECT (SELECT value FROM fraiseql_rbac.version),
       ARRAY(SELECT DISTINCT role FROM walk ORDER BY role),
       ARRAY(SELECT DISTINCT rp.permission FROM fraiseql_rbac.role_permission rp
              WHERE rp.role IN (SELECT role FROM walk) ORDER BY rp.permission),
       ARRAY(SELECT DISTINCT array_to_string(path, ' -> ') FROM walk WHERE is_cycle ORDER BY 1)
"""

VERSION_SQL = "SELECT value FROM fraiseql_rbac.version"


@dataclass(frozen=True, slots=True)
class Resolution:
    """A user's effective rights in one tenant, as of ``version`` of the RBAC tables."""

    version: int
    roles: frozenset[str]
    grants: PermissionSet
    cycles: tuple[str, ...] = ()


async def load_resolution(
    db: Any,
    user_id: str,
    tenant_id: str | None,
    claimed_roles: frozenset[str],
    claimed_permissions: frozenset[str],
) -> Resolution:
    """Run ``RESOLVE_SQL`` on ``db`` (a ``fraiseql.db.Database``) and merge the claims."""
    rows = await db.fetch_rows(
        RESOLVE_SQL,
        {
            "user_id": user_id,
            "tenant_id": tenant_id,
            "claimed": sorted(claimed_roles),
            "max_depth": MAX_DEPTH,
        },
    )
    version, roles, permissions, cycles = rows[0]
    return Resolution(
        version=int(version),
        roles=frozenset(roles) | claimed_roles,
        grants=PermissionSet(frozenset(permissions) | claimed_permissions),
        cycles=tuple(cycles),
    )


async def load_version(db: Any) -> int:
    """The RBAC tables' version counter."""
    return int(await db.fetch_value(VERSION_SQL))
