"""``UserContext``: who made a request, built once per token and cached by Rust."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fraiseql.auth.errors import AuthError


@dataclass(frozen=True, slots=True, eq=False)
class UserContext:
    """The authenticated user of a request.

    ``expires_at`` is the token's ``exp`` in Unix seconds; ``claims`` is read-only.

    Example::

        user = await provider.validate(token)
        if "admin" in user.roles: ...
    """

    user_id: str
    roles: frozenset[str]
    permissions: frozenset[str]
    claims: Mapping[str, Any]
    expires_at: float
    tenant_id: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    """``claims[name]``, or a dotted path (``realm_access.roles``) when no key has that name.

    The exact key wins so namespaced claims such as ``https://example.com/roles`` work.
    """
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def string_set(value: Any, claim: str) -> frozenset[str]:
    """A list of strings or a space-separated string (as OAuth ``scope``) -> a set."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise AuthError(f"the {claim} claim is not a list of strings", "INVALID_CLAIMS")


@dataclass(frozen=True, slots=True)
class UserContextFactory:
    """Builds a ``UserContext`` from verified claims; Rust calls it once per new token."""

    user_id_claim: str = "sub"
    roles_claim: str = "roles"
    permissions_claim: str = "permissions"
    tenant_claim: str | None = "tenant_id"

    def __call__(self, claims: dict[str, Any]) -> UserContext:
        user_id = claims.get(self.user_id_claim)
        if not isinstance(user_id, str) or not user_id:
            raise AuthError(f"the token has no string {self.user_id_claim} claim", "INVALID_CLAIMS")
        tenant = claim_value(claims, self.tenant_claim) if self.tenant_claim else None
        if tenant is not None and not isinstance(tenant, (str, int)):
            raise AuthError(f"the {self.tenant_claim} claim is not a string", "INVALID_CLAIMS")
        return UserContext(
            user_id=user_id,
            roles=string_set(claim_value(claims, self.roles_claim), self.roles_claim),
            permissions=string_set(claim_value(claims, self.permissions_claim), self.permissions_claim),
            claims=MappingProxyType(claims),
            expires_at=float(claims["exp"]),
            tenant_id=None if tenant is None else str(tenant),
        )
