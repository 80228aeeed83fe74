"""Profiles scale a scenario's durations: ``quick`` runs a quarter as long, ``full`` as written.

A scaled phase never drops below the scenario's ``min_phase_s`` (unless it was written
shorter), and its faults' offsets and durations shrink by the same ratio, so they stay inside.

Example::

    short = scale(scenario, 0.25)      # phases of 60 s become 15 s, a fault at 20 s moves to 5 s
"""

from __future__ import annotations

from chaos.scenario.models import Phase, Scenario


def scale(scenario: Scenario, factor: float) -> Scenario:
    """A copy of ``scenario`` with every phase (and its faults) scaled by ``factor``."""
    return scenario.model_copy(update={"phases": [_scale_phase(p, factor, scenario.min_phase_s)
                                                  for p in scenario.phases]})


def _scale_phase(phase: Phase, factor: float, min_phase_s: float) -> Phase:
    written = phase.duration_s
    scaled = max(min(written, min_phase_s), written * factor)
    ratio = scaled / written
    faults = [
        fault.model_copy(update={
            "at_s": fault.at_s * ratio,
            "duration_s": None if fault.duration_s is None else fault.duration_s * ratio,
        })
        for fault in phase.faults
    ]
    return phase.model_copy(update={"duration_s": scaled, "faults": faults})
