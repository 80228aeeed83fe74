"""What a fault is: apply, revert, evidence; and the registry scenarios are built from.

Adding a fault is adding one class::

    class LatencyParams(FaultParams):
        type: Literal["latency"] = "latency"
        latency_ms: int

    @register
    class Latency(Fault):
        type = "latency"
        Params = LatencyParams
        async def apply(self, ctx): ...
        async def revert(self, ctx): ...      # idempotent, safe after a half-applied fault
        async def evidence(self, ctx): return Evidence(fired=True, details={...})

Each family module also registers a cleaner (``register_cleaner``) that removes whatever
its faults may have left behind by a run that was killed; ``clean_leftovers`` runs them all.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

logger = logging.getLogger(__name__)


class FaultParams(BaseModel):
    """The fields every fault spec in a scenario has; subclasses add the fault's own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    at_s: float = Field(0, ge=0, description="offset into the phase, in seconds")
    duration_s: float | None = Field(None, gt=0, description="default: until the end of the phase")


@dataclass(frozen=True)
class Check:
    """A promise the fault's own measurements judge (all forged tokens refused, at most one
    JWKS fetch per cooldown, ...); each becomes a verdict of the run."""

    name: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": bool(self.passed), "message": self.message}


@dataclass(frozen=True)
class Evidence:
    """Whether the fault demonstrably acted, the numbers that show it (JSON-serialisable),
    and the checks its numbers settle."""

    fired: bool
    details: dict[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()


@dataclass
class FaultContext:
    """What a fault acts on: the running stack and the scenario's seeded random source."""

    stack: Stack
    rng: random.Random = field(default_factory=random.Random)


class Fault(abc.ABC):
    """One fault of a scenario, built from its validated Params."""

    type: ClassVar[str]
    Params: ClassVar[type[FaultParams]]

    def __init__(self, params: FaultParams) -> None:
        self.params = params

    @abc.abstractmethod
    async def apply(self, ctx: FaultContext) -> None: ...

    @abc.abstractmethod
    async def revert(self, ctx: FaultContext) -> None:
        """Undo ``apply``; idempotent and safe if ``apply`` failed half-way."""

    @abc.abstractmethod
    async def evidence(self, ctx: FaultContext) -> Evidence:
        """Read while the fault is still in place (toxics and sessions vanish on revert)."""

    async def settle(self, ctx: FaultContext) -> list[Check]:
        """Checks that can only be judged after the revert (the app recovered, what a side
        flood's requests got back); none by default."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a fault's background task and wait until it has stopped (whatever it raised)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


REGISTRY: dict[str, type[Fault]] = {}
Cleaner = Callable[[FaultContext], Awaitable[list[str]]]
CLEANERS: dict[str, Cleaner] = {}

F = TypeVar("F", bound=type[Fault])


def register(cls: F) -> F:
    """Class decorator adding a fault to ``REGISTRY`` under its ``type``."""
    declared = cls.Params.model_fields["type"].default
    if declared != cls.type:
        raise TypeError(f"{cls.__name__}.Params.type defaults to {declared!r}, expected {cls.type!r}")
    existing = REGISTRY.get(cls.type)
    if existing is not None and existing is not cls:
        raise TypeError(f"fault type {cls.type!r} is registered twice ({existing.__name__}, {cls.__name__})")
    REGISTRY[cls.type] = cls
    return cls


def register_cleaner(family: str) -> Callable[[Cleaner], Cleaner]:
    """Decorator: ``family``'s cleaner, returning one line per thing it removed."""

    def decorate(cleaner: Cleaner) -> Cleaner:
        CLEANERS[family] = cleaner
        return cleaner

    return decorate


async def clean_leftovers(ctx: FaultContext) -> list[str]:
    """Run every family's cleaner; a failing cleaner is reported and the others still run."""
    done: list[str] = []
    for family, cleaner in sorted(CLEANERS.items()):
        try:
            done.extend(await cleaner(ctx))
        except Exception as exc:  # noqa: BLE001 - one family's failure must not hide another's leftovers
            logger.warning("cleaning %s leftovers failed: %r", family, exc)
            done.append(f"{family}: cleaning failed: {exc!r}")
    return done
