"""Access requirements on resolvers, ``@type`` classes and computed fields.

The decorators only attach a ``Requirement`` (attribute ``__fraiseql_requirement__``);
whoever executes the field calls ``check_requirement`` with the request's user.

Example::

    @fraiseql.query
    @requires_role("admin")
    async def audit_log(info) -> list[Entry]: ...

    check_requirement(requirement_of(audit_log), info.context.get("user"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fraiseql.auth.errors import AuthError
from fraiseql.auth.user_context import UserContext

T = TypeVar("T")

ATTRIBUTE = "__fraiseql_requirement__"


@dataclass(frozen=True, slots=True)
class Requirement:
    """Authenticated, plus every role in ``roles`` and every permission in ``permissions``."""

    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()

    def merge(self, other: Requirement) -> Requirement:
        return Requirement(self.roles | other.roles, self.permissions | other.permissions)


def _mark(requirement: Requirement) -> Callable[[T], T]:
    def decorate(target: T) -> T:
        # Stacked decorators add up; a property-like object gets it on its getter too.
        existing = requirement_of(target)
        combined = existing.merge(requirement) if existing else requirement
        setattr(target, ATTRIBUTE, combined)
        return target

    return decorate


def requires_auth(target: T) -> T:
    """Any authenticated user: ``@requires_auth``."""
    return _mark(Requirement())(target)


def requires_role(*roles: str) -> Callable[[T], T]:
    """Every one of ``roles``: ``@requires_role("admin")``."""
    if not roles:
        raise TypeError("requires_role needs at least one role")
    return _mark(Requirement(roles=frozenset(roles)))


def requires_permission(*permissions: str) -> Callable[[T], T]:
    """Every one of ``permissions``: ``@requires_permission("posts:write")``."""
    if not permissions:
        raise TypeError("requires_permission needs at least one permission")
    return _mark(Requirement(permissions=frozenset(permissions)))


def requirement_of(target: Any) -> Requirement | None:
    """The requirement attached to a function, class or field, if any."""
    return getattr(target, ATTRIBUTE, None)


def check_requirement(requirement: Requirement | None, user: UserContext | None) -> None:
    """Raise ``AuthError`` 401 UNAUTHENTICATED without a user, 403 FORBIDDEN without the
    rights; return None when ``requirement`` is None or satisfied."""
    if requirement is None:
        return
    if user is None:
        raise AuthError("authentication required", "UNAUTHENTICATED")
    missing_roles = requirement.roles - user.roles
    missing_permissions = requirement.permissions - user.permissions
    if missing_roles or missing_permissions:
        # Name what is missing for the developer, not which rights the user has.
        wanted = sorted(missing_roles) + sorted(missing_permissions)
        raise AuthError(f"insufficient rights: requires {', '.join(wanted)}", "FORBIDDEN")
