"""``EffectiveUser``: the token's ``UserContext`` with the database's grants merged in.

It is a ``UserContext`` (same fields, same place in ``info.context["user"]``), whose
``roles`` include inherited roles and whose ``grants`` answer wildcard permissions.
When the permission source failed, ``source_error`` is set and only the token's own
claims count: a check they do not satisfy fails with 503, never passes.

Example::

    user = effective_user(token_user, await resolver.resolve(token_user))
    user.has_role("editor")         # True when a role of the user inherits "editor"
    user.has_permission("post:read")  # True for a "post:*" grant
"""

from __future__ import annotations

from dataclasses import dataclass

from fraiseql.auth.user_context import UserContext
from fraiseql.rbac.errors import PermissionSourceUnavailable
from fraiseql.rbac.permissions import EMPTY, PermissionSet
from fraiseql.rbac.resolution import Resolution


@dataclass(frozen=True, slots=True, eq=False)
class EffectiveUser(UserContext):
    """A user whose roles are expanded and whose permissions may be wildcards."""

    grants: PermissionSet = EMPTY
    cycles: tuple[str, ...] = ()
    source_error: PermissionSourceUnavailable | None = None

    def has_permission(self, permission: str) -> bool:
        return self.grants.allows(permission)


def effective_user(user: UserContext, resolution: Resolution) -> EffectiveUser:
    """``user`` with the roles and grants of ``resolution`` (which includes its claims)."""
    return EffectiveUser(
        user_id=user.user_id,
        roles=resolution.roles,
        permissions=resolution.grants.grants,
        claims=user.claims,
        expires_at=user.expires_at,
        tenant_id=user.tenant_id,
        grants=resolution.grants,
        cycles=resolution.cycles,
    )


def claims_only_user(user: UserContext, error: PermissionSourceUnavailable) -> EffectiveUser:
    """``user`` as its token describes it, marked: the database could not be asked."""
    return EffectiveUser(
        user_id=user.user_id,
        roles=user.roles,
        permissions=user.permissions,
        claims=user.claims,
        expires_at=user.expires_at,
        tenant_id=user.tenant_id,
        grants=PermissionSet(user.permissions),
        source_error=error,
    )
