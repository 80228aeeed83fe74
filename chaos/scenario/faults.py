"""The fault spec union: one member per registered fault, discriminated on ``type``.

Built when a scenario is loaded, from ``chaos.faults.REGISTRY`` (each fault class carries
its ``Params`` model), so adding a fault class is all it takes to use it in a file.

Example::

    union = fault_union(known_faults())
    ScenarioModel = Scenario[union]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, field_validator


def known_faults() -> dict[str, type[BaseModel]]:
    """``type`` -> Params model of every registered fault (importing chaos.faults loads every family)."""
    from chaos.faults import REGISTRY  # imported when needed: the fault families pull in the stack

    return {name: fault.Params for name, fault in sorted(REGISTRY.items())}


class _NoFaultRegistered(BaseModel):
    """Stands in for the union when no fault is registered: every spec is refused."""

    type: str

    @field_validator("type")
    @classmethod
    def _unknown(cls, value: str) -> str:
        raise ValueError(f"unknown fault type {value!r} (no fault types are registered)")


def fault_union(params_by_type: Mapping[str, type[BaseModel]]) -> Any:
    """The type of one fault spec: a discriminated union over ``params_by_type``."""
    members = tuple(params_by_type.values())
    if not members:
        return _NoFaultRegistered
    if len(members) == 1:
        # pydantic needs two members for a discriminator; a tagged union of one still
        # checks the tag through the member's Literal ``type``.
        return members[0]
    return Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007
