"""RBAC faults: what a user may do, probed while the permission source fails or changes.

``permission_probe`` signs in as the blog's editor (the first user by email, an ``editor``
in tenant ``acme`` by a database role, which grants ``post:delete``; the token itself
claims no permission) and calls ``deletePost`` on random ids at a rate. ``deletePost``
needs ``post:delete``: allowed, it answers ``DeletePostError`` (no such post, nothing is
deleted); refused, 403 ``FORBIDDEN`` or 503 ``PERMISSION_SOURCE_UNAVAILABLE``.

- ``expect: denied``: with the permission source failing or slow (a ``fault_point`` on
  ``rbac.resolve`` beside it), the check is that no call was ever allowed: deny by
  default, never allow by default.
- ``revoke_at_s``: the editor's role is revoked in the database at that offset (and
  granted again on revert); the checks are that calls were allowed before, and that none
  sent later than ``bound_s`` after the revocation was (no stale grant outlives the bound).

Example (scenario YAML)::

    - type: permission_probe
      revoke_at_s: 3
      bound_s: 1.0
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Literal

import psycopg
from pydantic import Field

from chaos.errors import FaultError
from chaos.faults.base import Check, Evidence, Fault, FaultContext, FaultParams, register, register_cleaner
from chaos.faults.traffic import SideTraffic

DELETE_POST = """mutation($input: DeletePostInput!) { deletePost(input: $input) {
  __typename ... on DeletePostError { code } } }"""
EDITOR_TENANT = "acme"
_EDITOR = "SELECT id::text FROM tb_user ORDER BY email LIMIT 1"
_REVOKE = ("DELETE FROM fraiseql_rbac.user_role WHERE user_id = %s AND tenant_id = %s"
           " AND role = 'editor'")
_GRANT = ("INSERT INTO fraiseql_rbac.user_role (user_id, tenant_id, role) VALUES (%s, %s, 'editor')"
          " ON CONFLICT DO NOTHING")


def _outcome(status: int | None, body: Any) -> str:
    """allowed (the mutation ran), denied (refused with a code), or other."""
    if status == 200 and isinstance(body, dict) and not body.get("errors"):
        answer = (body.get("data") or {}).get("deletePost") or {}
        if str(answer.get("__typename", "")).startswith("DeletePost"):
            return "allowed"
    codes = {str((e.get("extensions") or {}).get("code")) for e in (body or {}).get("errors", [])
             if isinstance(e, dict)} if isinstance(body, dict) else set()
    if status in (401, 403, 503) and codes & {"FORBIDDEN", "PERMISSION_SOURCE_UNAVAILABLE",
                                               "UNAUTHENTICATED"}:
        return "denied"
    return "other"


class PermissionProbeParams(FaultParams):
    type: Literal["permission_probe"] = "permission_probe"
    rate_per_s: float = Field(10, gt=0, le=1_000)
    expect: Literal["allowed", "denied"] = "allowed"
    revoke_at_s: float | None = Field(None, ge=0, description="revoke the editor's role at this offset")
    bound_s: float = Field(1.0, gt=0, description="how long a revoked grant may still be honoured")
    max_latency_ms: float | None = Field(None, gt=0, description="every answer within this")


@register
class PermissionProbe(Fault):
    """Side traffic needing ``post:delete`` from a database role (see the module docstring)."""

    type = "permission_probe"
    Params = PermissionProbeParams

    def __init__(self, params: PermissionProbeParams) -> None:
        super().__init__(params)
        self.editor: str | None = None
        self.traffic: SideTraffic | None = None
        self.sent_at: dict[int, float] = {}
        self.outcomes: list[tuple[float, str]] = []  # (sent at, outcome)
        self.revoked_at: float | None = None
        self._revoker: asyncio.Task[None] | None = None

    async def apply(self, ctx: FaultContext) -> None:
        issuer = getattr(ctx.stack, "issuer", None)
        if issuer is None:
            raise FaultError("permission_probe needs the stack's local issuer (target.auth: true)")
        async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url, autocommit=True) as conn:
            row = await (await conn.execute(_EDITOR)).fetchone()
            if row is None:
                raise FaultError("permission_probe needs the blog's users")
            self.editor = row[0]
            await conn.execute(_GRANT, (self.editor, EDITOR_TENANT))
        token = issuer.mint(subject=self.editor, tenant_id=EDITOR_TENANT)

        def request(n: int) -> tuple[dict[str, str], dict[str, Any]]:
            self.sent_at[n] = time.monotonic()
            return ({"Authorization": f"Bearer {token}"},
                    {"query": DELETE_POST,
                     "variables": {"input": {"id": str(uuid.uuid4()), "idempotencyKey": str(uuid.uuid4())}}})

        def classify(n: int, status: int | None, body: Any) -> str:
            outcome = _outcome(status, body)
            self.outcomes.append((self.sent_at.pop(n, time.monotonic()), outcome))
            return outcome

        self.traffic = SideTraffic(ctx.stack.app_url, request, rate_per_s=self.params.rate_per_s,
                                   concurrency=10, classify=classify)
        self.traffic.start()
        if self.params.revoke_at_s is not None:
            self._revoker = asyncio.create_task(self._revoke_later(ctx))

    async def _revoke_later(self, ctx: FaultContext) -> None:
        await asyncio.sleep(self.params.revoke_at_s or 0)
        async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url, autocommit=True) as conn:
            await conn.execute(_REVOKE, (self.editor, EDITOR_TENANT))
        self.revoked_at = time.monotonic()

    async def revert(self, ctx: FaultContext) -> None:
        if self._revoker is not None:
            self._revoker.cancel()
            await asyncio.gather(self._revoker, return_exceptions=True)
            self._revoker = None
        if self.traffic is not None:
            await self.traffic.stop()
        if self.editor is not None:
            async with await psycopg.AsyncConnection.connect(ctx.stack.admin_db_url, autocommit=True) as conn:
                await conn.execute(_GRANT, (self.editor, EDITOR_TENANT))

    async def evidence(self, ctx: FaultContext) -> Evidence:
        stats = self.traffic.stats if self.traffic else None
        if stats is None:
            return Evidence(fired=False, details={"error": "the probe never started"})
        outcomes = list(self.outcomes)
        counts = {k: sum(1 for _, o in outcomes if o == k) for k in ("allowed", "denied", "other")}
        checks = []
        p = self.params
        if p.revoke_at_s is None:
            if p.expect == "denied":
                checks.append(Check("never allowed", counts["allowed"] == 0 and counts["denied"] > 0,
                                    f"{counts['allowed']} calls allowed, {counts['denied']} denied, "
                                    f"{counts['other']} other, while the permission source failed"))
            else:
                checks.append(Check("allowed", counts["allowed"] > 0 and counts["denied"] == 0,
                                    f"{counts['allowed']} allowed, {counts['denied']} denied"))
        else:
            before = [o for t, o in outcomes if self.revoked_at is None or t < self.revoked_at]
            late = [o for t, o in outcomes
                    if self.revoked_at is not None and t >= self.revoked_at + p.bound_s]
            checks.append(Check("allowed before the revocation", "allowed" in before,
                                f"{before.count('allowed')} of {len(before)} calls allowed before it"))
            checks.append(Check("no grant outlives the revocation",
                                self.revoked_at is not None and bool(late) and "allowed" not in late,
                                f"{late.count('allowed')} of {len(late)} calls sent more than "
                                f"{p.bound_s:g} s after the revocation were allowed"))
        if p.max_latency_ms is not None:
            checks.append(Check("answered in time", stats.max_latency_ms <= p.max_latency_ms,
                                f"slowest answer {stats.max_latency_ms:.0f} ms (limit {p.max_latency_ms:g} ms)"))
        return Evidence(fired=stats.answered > 0,
                        details={"editor": self.editor, "counts": counts, "traffic": stats.as_dict(),
                                 "revoked": self.revoked_at is not None},
                        checks=tuple(checks))


@register_cleaner("rbac")
async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """A killed run may have left the editor's role revoked: grant it again."""
    url = getattr(ctx.stack, "admin_db_url", None)
    if not url:
        return []
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            row = await (await conn.execute(_EDITOR)).fetchone()
            if row is None:
                return []
            cursor = await conn.execute(_GRANT, (row[0], EDITOR_TENANT))
    except psycopg.errors.UndefinedTable:
        return []  # an app without the RBAC model
    return ["granted the editor's role again"] if cursor.rowcount else []
