"""The fault registry, params and the leftover cleaner (no stack needed)."""

from __future__ import annotations

from typing import Literal

import pydantic
import pytest

from chaos.faults import CLEANERS, REGISTRY, Evidence, Fault, FaultContext, FaultParams, clean_leftovers, register
from chaos.faults.network import LatencyParams

NETWORK_TYPES = {"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "proxy_down"}


def test_every_network_fault_is_registered_under_its_toxiproxy_name() -> None:
    assert NETWORK_TYPES <= set(REGISTRY)
    for name, fault in REGISTRY.items():
        assert fault.type == name
        assert fault.Params.model_fields["type"].default == name


def test_params_are_frozen_and_reject_unknown_fields() -> None:
    params = LatencyParams(latency_ms=10)
    with pytest.raises(pydantic.ValidationError):
        params.latency_ms = 20  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="latencyy"):
        LatencyParams(latency_ms=10, latencyy=3)
    with pytest.raises(pydantic.ValidationError, match="toxicity"):
        LatencyParams(latency_ms=10, toxicity=1.5)


class _MismatchedParams(FaultParams):
    type: Literal["other"] = "other"


def test_register_refuses_params_of_another_type() -> None:
    class Mismatched(Fault):
        type = "mismatched"
        Params = _MismatchedParams

        async def apply(self, ctx: FaultContext) -> None: ...
        async def revert(self, ctx: FaultContext) -> None: ...
        async def evidence(self, ctx: FaultContext) -> Evidence:
            return Evidence(fired=False)

    with pytest.raises(TypeError, match="expected 'mismatched'"):
        register(Mismatched)
    assert "mismatched" not in REGISTRY


async def test_one_failing_cleaner_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(ctx: FaultContext) -> list[str]:
        raise RuntimeError("agent unreachable")

    async def working(ctx: FaultContext) -> list[str]:
        return ["zz: removed one thing"]

    monkeypatch.setattr("chaos.faults.base.CLEANERS", {"aa": broken, "zz": working})
    done = await clean_leftovers(FaultContext(stack=None))  # type: ignore[arg-type]
    assert done == ["aa: cleaning failed: RuntimeError('agent unreachable')", "zz: removed one thing"]
    assert "network" in CLEANERS
