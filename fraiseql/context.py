"""The per-request context that reaches PostgreSQL through ``SET LOCAL``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking, for which tenant, and how long a statement may run.

    The database layer turns a non-empty context into ``set_config(name, value, true)``
    calls at the start of the transaction (``SET LOCAL``, parameterised), so views and
    functions can read ``current_setting('fraiseql.user_id', true)``.

    Example::

        ctx = RequestContext(user_id="42", tenant_id="acme", statement_timeout_ms=2000)
    """

    user_id: str | None = None
    tenant_id: str | None = None
    statement_timeout_ms: int | None = None
    user: Any = None  # the UserContext from fraiseql.auth, when authenticated

    @property
    def needs_settings(self) -> bool:
        """Whether statements under this context must run with SET LOCAL values."""
        return (
            self.user_id is not None
            or self.tenant_id is not None
            or self.statement_timeout_ms is not None
        )

    def settings(self) -> list[tuple[str, str]]:
        """The (setting, value) pairs to apply with set_config(..., is_local => true)."""
        pairs: list[tuple[str, str]] = []
        if self.user_id is not None:
            pairs.append(("fraiseql.user_id", str(self.user_id)))
        if self.tenant_id is not None:
            pairs.append(("fraiseql.tenant_id", str(self.tenant_id)))
        if self.statement_timeout_ms is not None:
            pairs.append(("statement_timeout", f"{int(self.statement_timeout_ms)}ms"))
        return pairs

    def scope(self) -> str:
        """A string that separates callers for caching: equal scopes may share results."""
        roles = ",".join(sorted(getattr(self.user, "roles", ()) or ()))
        return f"u={self.user_id or ''};t={self.tenant_id or ''};r={roles}"


ANONYMOUS = RequestContext()
