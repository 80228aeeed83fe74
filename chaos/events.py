"""Typed events the runner fires, and the bus that delivers them to listeners.

The live progress display, the report recorder and the telemetry recorder are listeners; the
runner knows none of them. A listener that raises is logged and never breaks another listener
or the run (the same guarantee as locust's event hooks).

Example::

    bus = EventBus()
    bus.subscribe(lambda event: print(type(event).__name__))
    bus.emit(PhaseStarted(name="baseline", kind="baseline", at_s=0.0, duration_s=10.0))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("chaos.events")


@dataclass(frozen=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True)
class RunStarted(Event):
    scenario: str
    profile: str
    seed: int
    started_at: float  # unix seconds


@dataclass(frozen=True)
class PhaseStarted(Event):
    name: str
    kind: str  # "warmup" | "baseline" | "fault" | "recovery" | "steady"
    at_s: float  # seconds since the run started
    duration_s: float


@dataclass(frozen=True)
class FaultApplied(Event):
    phase: str
    fault_type: str
    params: Mapping[str, Any]
    at_s: float


@dataclass(frozen=True)
class FaultReverted(Event):
    phase: str
    fault_type: str
    at_s: float
    fired: bool
    evidence: Mapping[str, Any]


@dataclass(frozen=True)
class RequestsLogged(Event):
    """A batch of request records read from the load log (see chaos.load)."""

    records: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class ExpectationJudged(Event):
    phase: str
    expectation: str
    passed: bool
    message: str


@dataclass(frozen=True)
class RunFinished(Event):
    exit_code: int
    at_s: float
    error: str | None = None


Listener = Callable[[Event], None]


@dataclass
class EventBus:
    """Delivers each event to every listener, in subscription order, isolating failures."""

    listeners: list[Listener] = field(default_factory=list)
    failures: list[tuple[Listener, Event, BaseException]] = field(default_factory=list)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception as exc:  # a broken listener must not break the run
                self.failures.append((listener, event, exc))
                logger.exception("listener %r failed on %s", listener, type(event).__name__)
