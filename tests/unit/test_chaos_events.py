"""The event bus delivers to every listener; one that raises never breaks another."""

from __future__ import annotations

import dataclasses

import pytest

from chaos.events import EventBus, PhaseStarted, RunFinished


def test_every_listener_gets_every_event_in_order() -> None:
    bus, seen = EventBus(), []
    bus.subscribe(lambda e: seen.append(("a", type(e).__name__)))
    bus.subscribe(lambda e: seen.append(("b", type(e).__name__)))
    bus.emit(PhaseStarted("baseline", "baseline", 0.0, 10.0))
    assert seen == [("a", "PhaseStarted"), ("b", "PhaseStarted")]


def test_a_raising_listener_does_not_break_the_others() -> None:
    bus, seen = EventBus(), []

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    event = RunFinished(exit_code=0, at_s=1.0)
    bus.emit(event)
    assert seen == [event]
    assert [(type(exc).__name__, str(exc)) for _, _, exc in bus.failures] == [
        ("RuntimeError", "listener bug")]


def test_unsubscribe_stops_delivery() -> None:
    bus, seen = EventBus(), []
    unsubscribe = bus.subscribe(seen.append)
    unsubscribe()
    bus.emit(RunFinished(exit_code=1, at_s=0.0))
    assert seen == []


def test_events_are_frozen() -> None:
    event = PhaseStarted("x", "fault", 1.0, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "y"  # type: ignore[misc]
