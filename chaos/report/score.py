"""The resilience score: one number from 0 to 100 (formula in docs/reports.md).

    score = 40*E + 25*A + 15*L + 10*R + 10*I

E  share of expectations that held (1 when there are none)
A  availability under fault: 1 - the highest error rate of any fault phase
L  latency under fault: baseline p99 / the highest fault-phase p99, capped at 1
R  recovery: 1 when back to baseline within 5 s of the last revert, falling linearly to 0
   at 60 s; 0 when it never recovered
I  integrity: 1 when no acknowledged write was lost or duplicated, else 0

A component that could not be measured (no fault phase, no baseline, no integrity check)
counts as 1: the score never punishes what was not tested, the verdicts say what was.

Example::

    resilience_score(report)  # {"value": 87.5, "components": {...}, "formula": "..."}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMULA = "40*E + 25*A + 15*L + 10*R + 10*I"
WEIGHTS = {"E": 40, "A": 25, "L": 15, "R": 10, "I": 10}
RECOVERY_FULL_S = 5.0
RECOVERY_ZERO_S = 60.0


def _expectations(report: Mapping[str, Any]) -> float:
    verdicts = report.get("verdicts") or []
    return sum(1 for v in verdicts if v["passed"]) / len(verdicts) if verdicts else 1.0


def _fault_phases(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in report.get("phases", []) if p.get("kind") == "fault" and p["requests"]]


def _availability(report: Mapping[str, Any]) -> float:
    phases = _fault_phases(report)
    return 1.0 - max(p["error_rate"] for p in phases) if phases else 1.0


def _latency(report: Mapping[str, Any]) -> float:
    baseline = next((p for p in report.get("phases", []) if p.get("kind") == "baseline"), None)
    base_p99 = baseline and baseline["latency_ms"]["p99"]
    fault_p99 = [p["latency_ms"]["p99"] for p in _fault_phases(report) if p["latency_ms"]["p99"]]
    if not base_p99 or not fault_p99:
        return 1.0
    return min(1.0, base_p99 / max(fault_p99))


def _recovery(report: Mapping[str, Any]) -> float:
    recovery = report.get("recovery") or {}
    if not recovery.get("measured"):
        return 1.0
    seconds = recovery.get("time_s")
    if seconds is None:
        return 0.0
    if seconds <= RECOVERY_FULL_S:
        return 1.0
    return max(0.0, 1.0 - (seconds - RECOVERY_FULL_S) / (RECOVERY_ZERO_S - RECOVERY_FULL_S))


def _integrity(report: Mapping[str, Any]) -> float:
    integrity = report.get("integrity")
    if not integrity:
        return 1.0
    return 0.0 if integrity.get("lost") or integrity.get("duplicated") else 1.0


def resilience_score(report: Mapping[str, Any]) -> dict[str, Any]:
    """The score of a report dict (as written to report.json), with its components."""
    components = {
        "E": _expectations(report),
        "A": _availability(report),
        "L": _latency(report),
        "R": _recovery(report),
        "I": _integrity(report),
    }
    value = sum(WEIGHTS[name] * max(0.0, min(1.0, c)) for name, c in components.items())
    return {
        "value": round(value, 1),
        "components": {k: round(v, 4) for k, v in components.items()},
        "formula": FORMULA,
    }
