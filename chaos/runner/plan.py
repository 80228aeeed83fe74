"""The run's timeline: warm-up, baseline, the scenario's phases, recovery, steady state.

The scenario names only its own phases; the runner adds a warm-up (not judged), a baseline
without faults (unless the scenario starts with a fault-free phase named ``baseline``), a
recovery phase long enough for the longest ``recovery_within_s``, and a final steady-state
phase. Durations scale with the profile, like the scenario's own.

Example::

    for phase in plan_phases(scenario):
        print(phase.name, phase.kind, phase.start_s, phase.end_s)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# The harness's own phases have floors of their own (a scenario's ``min_phase_s`` is about
# its fault phases): long enough for a few hundred requests at the usual load, short
# enough that a quick suite of dozens of scenarios fits in a CI run.
WARMUP_MIN_S = 4.0  # pools filled, caches warm, locust at its rate: the baseline starts steady
BASELINE_MIN_S = 6.0
RECOVERY_MIN_S = 6.0
RECOVERY_MARGIN_S = 3.0  # after the longest recovery_within_s: time to see it stay healthy
STEADY_MIN_S = 5.0


@dataclass(frozen=True)
class PlannedFault:
    spec: Any  # the fault's validated params (a FaultParams model)
    at_s: float  # offset from the start of the run
    end_s: float


@dataclass(frozen=True)
class PlannedPhase:
    name: str
    kind: str  # "warmup" | "baseline" | "phase" | "fault" | "recovery" | "steady"
    start_s: float
    duration_s: float
    faults: tuple[PlannedFault, ...] = field(default=())

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def _factor(scenario: Any) -> float:
    return scenario.profile_factors().get(scenario.profile, 1.0)


def plan_phases(scenario: Any) -> list[PlannedPhase]:
    factor = _factor(scenario)
    recovery_within = [e.recovery_within_s for e in scenario.expectations.values()
                       if e.recovery_within_s is not None]
    own_baseline = scenario.phases[0].name == "baseline" and not scenario.phases[0].faults
    phases: list[PlannedPhase] = []
    clock = 0.0

    taken = {phase.name for phase in scenario.phases}

    def add(name: str, kind: str, duration_s: float, faults: tuple[PlannedFault, ...] = ()) -> None:
        nonlocal clock
        if kind != "fault" and kind != "phase" and name in taken and not own_baseline:
            name = f"{name}-harness"  # never shadow a phase the scenario named
        phases.append(PlannedPhase(name, kind, clock, duration_s, faults))
        clock += duration_s

    add("warmup", "warmup", max(WARMUP_MIN_S, 5.0 * factor))
    if not own_baseline:
        add("baseline", "baseline", max(BASELINE_MIN_S, 20.0 * factor))
    for index, phase in enumerate(scenario.phases):
        start = clock
        faults = tuple(
            PlannedFault(spec, start + spec.at_s,
                         start + (phase.duration_s if spec.duration_s is None
                                  else spec.at_s + spec.duration_s))
            for spec in phase.faults
        )
        kind = "baseline" if own_baseline and index == 0 else ("fault" if faults else "phase")
        add(phase.name, kind, phase.duration_s, faults)
    add("recovery", "recovery",
        max(RECOVERY_MIN_S, 20.0 * factor, max(recovery_within, default=0) + RECOVERY_MARGIN_S))
    add("steady", "steady", max(STEADY_MIN_S, 10.0 * factor))
    return phases
