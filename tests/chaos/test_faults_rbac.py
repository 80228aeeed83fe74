"""The RBAC probe against the real stack: a database role's grant, its revocation, and a
failing permission source."""

from __future__ import annotations


import pytest

from chaos.faults.base import FaultContext
from chaos.faults.inprocess import FaultPoint, FaultPointParams
from chaos.faults.rbac import PermissionProbe, PermissionProbeParams, clean_leftovers

from .conftest import hold

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]


def _checks(evidence) -> dict[str, bool]:
    return {check.name: check.passed for check in evidence.checks}



async def test_the_editors_database_role_allows_the_call(fault_ctx: FaultContext) -> None:
    evidence = await hold(PermissionProbe(PermissionProbeParams(rate_per_s=20)), fault_ctx, 1.5)
    assert evidence.fired and evidence.details["counts"]["allowed"] > 5
    assert _checks(evidence) == {"allowed": True}


async def test_a_revoked_role_stops_allowing_within_the_bound(fault_ctx: FaultContext) -> None:
    probe = PermissionProbe(PermissionProbeParams(rate_per_s=20, revoke_at_s=1.0, bound_s=1.0))
    evidence = await hold(probe, fault_ctx, 4.0)
    assert evidence.details["revoked"]
    assert _checks(evidence) == {"allowed before the revocation": True,
                                 "no grant outlives the revocation": True}
    assert await clean_leftovers(fault_ctx) == []  # the revert granted it again


async def test_a_failing_source_denies_and_the_check_sees_it(fault_ctx: FaultContext) -> None:
    source = FaultPoint(FaultPointParams(point="rbac.resolve", error="connection_refused"))
    probe = PermissionProbe(PermissionProbeParams(rate_per_s=20, expect="denied"))
    await source.apply(fault_ctx)
    try:
        evidence = await hold(probe, fault_ctx, 1.5)
    finally:
        await source.revert(fault_ctx)
    assert _checks(evidence) == {"never allowed": True}
    assert evidence.details["counts"]["denied"] > 5


async def test_expecting_denial_fails_when_the_source_works(fault_ctx: FaultContext) -> None:
    """The probe's check is real: with a healthy source the calls are allowed, and it says so."""
    evidence = await hold(PermissionProbe(PermissionProbeParams(rate_per_s=20, expect="denied")),
                           fault_ctx, 1.0)
    assert _checks(evidence) == {"never allowed": False}
