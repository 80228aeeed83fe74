"""``RbacProvider``: an auth provider whose users carry their effective permissions.

It wraps the configured provider (``JWTProvider``, ``Auth0Provider``): a token is first
validated as before, then its user is resolved through the ``PermissionResolver``. A
failing permission source does not fail authentication: the user keeps only what the
token itself claims, and every check that needs more is refused with 503.

Example::

    provider = RbacProvider(JWTProvider(...), PermissionResolver(db))
    user = await provider.validate(token)   # an EffectiveUser
"""

from __future__ import annotations

from typing import Any

from fraiseql.rbac.effective_user import EffectiveUser, claims_only_user, effective_user
from fraiseql.rbac.errors import PermissionSourceUnavailable
from fraiseql.rbac.resolver import PermissionResolver


class RbacProvider:
    """Delegates everything to ``inner`` and enriches the users it returns."""

    def __init__(self, inner: Any, resolver: PermissionResolver) -> None:
        self.inner = inner
        self.resolver = resolver

    async def validate(self, token: str) -> EffectiveUser:
        user = await self.inner.validate(token)
        try:
            resolution = await self.resolver.resolve(user)
        except PermissionSourceUnavailable as error:
            return claims_only_user(user, error)
        return effective_user(user, resolution)

    async def start(self) -> None:
        if hasattr(self.inner, "start"):
            await self.inner.start()

    async def close(self) -> None:
        if hasattr(self.inner, "close"):
            await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Everything else (issuer, stats, ...) is the wrapped provider's.
        return getattr(self.inner, name)
