"""Checking a ``Requirement`` against a user, with wildcards, and field-level denial.

``check_access`` is what ``AccessRules`` calls for every selected field and type before
any SQL runs. It accepts a plain ``UserContext`` (token claims only) or an
``EffectiveUser`` (claims merged with the database's roles and grants).

Field-level denial is a property of the schema (``build_schema(field_denial=...)``):

- ``"error"`` (default): a selected field the user may not see refuses the whole request
  (403), like a query or a type they may not use;
- ``"null"``: such a field (an ``@field`` with a requirement) resolves to null with a
  ``FORBIDDEN`` error entry at its path; the rest of the response is served. Queries,
  mutations and types with requirements still refuse the request.

Example::

    check_access(Requirement(permissions=frozenset({"post:write"})), user)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLSchema

from fraiseql.auth.errors import AuthError
from fraiseql.auth.requirements import Requirement
from fraiseql.rbac.errors import PermissionSourceUnavailable
from fraiseql.rbac.permissions import PermissionSet

FIELD_DENIAL_KEY = "fraiseql_field_denial"
FIELD_DENIAL_MODES = ("error", "null")


def check_access(requirement: Requirement | None, user: Any) -> None:
    """Raise 401 without a user, 403 without the rights, 503 when the rights are unknown."""
    if requirement is None:
        return
    if user is None:
        raise AuthError("authentication required", "UNAUTHENTICATED")
    if requirement.roles and not requirement.roles <= user.roles:
        _deny(requirement, user)
    if requirement.permissions:
        grants = getattr(user, "grants", None)
        if grants is None:  # a plain UserContext: its claims, wildcards included
            if requirement.permissions <= user.permissions:
                return
            grants = PermissionSet(frozenset(user.permissions))
        allows = grants.allows
        for permission in requirement.permissions:
            if not allows(permission):
                _deny(requirement, user)


def _deny(requirement: Requirement, user: Any) -> None:
    if getattr(user, "source_error", None) is not None:
        # The database might grant it, but cannot say so now: deny, retryably.
        raise PermissionSourceUnavailable(user.source_error.message)
    grants = getattr(user, "grants", None) or PermissionSet(frozenset(user.permissions))
    wanted = sorted(requirement.roles - user.roles)
    wanted += sorted(p for p in requirement.permissions if not grants.allows(p))
    # Name what is missing for the developer, not which rights the user has.
    raise AuthError(f"insufficient rights: requires {', '.join(wanted)}", "FORBIDDEN")


def field_denial_of(schema: GraphQLSchema) -> str:
    """``"error"`` or ``"null"``: how the schema answers a field the user may not see."""
    return (schema.extensions or {}).get(FIELD_DENIAL_KEY, "error")


def guard_resolver(resolve: Callable[..., Any], requirement: Requirement | None) -> Callable[..., Any]:
    """``resolve`` preceded by ``check_access``; graphql-core turns a refusal into a null
    field with an error entry (reached only in ``"null"`` mode: ``"error"`` refused first)."""
    if requirement is None:
        return resolve

    def guarded(obj: Any, info: Any, **args: Any) -> Any:
        context = info.context
        check_access(requirement, context.get("user") if isinstance(context, dict) else None)
        return resolve(obj, info, **args)

    return guarded
