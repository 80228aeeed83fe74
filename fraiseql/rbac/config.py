"""``RbacConfig``: turns on database-backed permissions in ``create_app``.

Example::

    app = create_app(schema=schema, auth=provider,
                     rbac=RbacConfig(max_staleness_ms=1000, cache_max_entries=10_000))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql.rbac.provider import RbacProvider
from fraiseql.rbac.resolver import PermissionResolver


@dataclass(frozen=True, slots=True)
class RbacConfig:
    """How permissions are resolved and cached.

    ``max_staleness_ms``: the longest a revoked grant can still be honoured (default 1 s).
    ``timeout_ms``: a slower permission source counts as failed (deny, 503).
    ``ensure_schema``: create the ``fraiseql_rbac`` tables at start-up when missing.
    """

    cache_max_entries: int = 10_000
    cache_ttl_s: float = 60.0
    max_staleness_ms: int = 1000
    timeout_ms: int = 500
    ensure_schema: bool = True

    def provider(self, auth: Any, db: Any) -> RbacProvider:
        """``auth`` wrapped so that its users carry their effective permissions."""
        resolver = PermissionResolver(
            db,
            max_entries=self.cache_max_entries,
            ttl_s=self.cache_ttl_s,
            max_staleness_ms=self.max_staleness_ms,
            timeout_ms=self.timeout_ms,
        )
        return RbacProvider(auth, resolver)
