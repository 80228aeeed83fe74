"""Turn what a run observed into the report dict (schema in chaos.report.model).

Example::

    report = assemble(observed)   # then chaos.report.write_report(report, folder)
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from chaos.report.model import OUTCOMES, SCHEMA_VERSION
from chaos.report.score import resilience_score
from chaos.report.stats import per_second, summarize, timeline
from chaos.runner.judge import (
    judge_phase,
    judge_steady,
    effect_against_drift,
    judge_telemetry,
    recovery_time,
    verdict,
)
from chaos.runner.plan import PlannedPhase
from chaos.scenario.models import Expectation

BUCKET_S = 1.0


@dataclass
class Observed:
    """Everything the runner collected; times are unix seconds except where named *_s."""

    scenario: Any
    plan: list[PlannedPhase]
    started_at: float
    t0: float | None = None  # when the load (and phase clock) started
    ended_at: float | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)  # applied_s/reverted_s from t0
    integrity: dict[str, Any] | None = None
    telemetry: dict[str, Any] = field(default_factory=dict)
    cleaned_leftovers: list[str] = field(default_factory=list)
    rollback_errors: list[str] = field(default_factory=list)
    error: str | None = None
    error_exit_code: int | None = None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).resolve().parents[2])
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version() -> str | None:
    try:
        return metadata.version("fraiseql")
    except metadata.PackageNotFoundError:
        return None


def _environment() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "machine": platform.machine(), "cpus": os.cpu_count()}


def _in(records: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    return [r for r in records if start <= float(r["t"]) < end]


def scenario_digest(scenario: Any) -> str:
    """What the scenario asks (target, load, phases, faults, expectations; profile-scaled),
    hashed: two reports with different digests ran different experiments."""
    definition = scenario.model_dump(mode="json", exclude={"path", "description", "tags"})
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def assemble(o: Observed) -> dict[str, Any]:
    s = o.scenario
    t0 = o.t0 if o.t0 is not None else o.started_at
    end = o.ended_at or t0
    duration_s = max(0.0, end - t0)
    points = timeline(o.records, t0, end, BUCKET_S) if o.records else []
    phases, summaries = [], {}
    for index, planned in enumerate(o.plan):
        if planned.start_s >= duration_s and o.error:
            break  # the run stopped before this phase
        start, stop = t0 + planned.start_s, t0 + planned.end_s
        in_phase = _in(o.records, start, stop)
        summary = summarize(in_phase, seed=index)
        summaries[planned.name] = summary
        phases.append({"name": planned.name, "kind": planned.kind, "start_s": planned.start_s,
                       "end_s": planned.end_s, **summary,
                       "per_second": per_second(in_phase, start, stop)})
    baseline_phase = next((p for p in o.plan if p.kind == "baseline"), None)
    baseline_records = (_in(o.records, t0 + baseline_phase.start_s, t0 + baseline_phase.end_s)
                        if baseline_phase else [])
    baseline = summaries.get(baseline_phase.name) if baseline_phase else None
    steady_phase = next((p for p in o.plan if p.kind == "steady"), None)
    steady_records = (_in(o.records, t0 + steady_phase.start_s, t0 + steady_phase.end_s)
                      if steady_phase else [])

    verdicts: list[dict[str, Any]] = []
    if o.error is None:
        for planned in o.plan:
            summary = summaries.get(planned.name)
            if summary is None or planned.kind == "warmup":
                continue
            if planned.kind in ("baseline", "steady"):
                verdicts += judge_steady(planned.name, summary, s.steady_state)
            mine = [f for f in o.faults if f["phase"] == planned.name]
            expectation = s.expectations.get(planned.name)
            if expectation is None and planned.kind == "fault":
                expectation = Expectation()  # expect_effect: a fault phase always shows it
            if expectation is None:
                continue
            window = [r for f in mine for r in _in(
                o.records, t0 + f["applied_s"], t0 + (f["reverted_s"] or planned.end_s))]
            window_s = sum((f["reverted_s"] or planned.end_s) - f["applied_s"] for f in mine)
            effect = (effect_against_drift(window, baseline_records, steady_records, window_s,
                                           baseline_phase.duration_s if baseline_phase else None)
                      if mine else None)
            for f in mine:
                f["effect"] = effect
            last_revert = max((f["reverted_s"] for f in mine if f["reverted_s"] is not None),
                              default=None)
            # Recovery is judged until the next fault is applied (a later phase's fault is
            # not this phase's failure to recover), or the end of the run.
            window_end = min((f["applied_s"] for f in o.faults
                              if last_revert is not None and f["applied_s"] >= last_revert),
                             default=duration_s)
            rec = (recovery_time(points, last_revert, window_end, s.steady_state)
                   if last_revert is not None else None)
            verdicts += judge_phase(planned.name, summary, baseline, expectation, effect, rec,
                                    bool(mine))
            names = [p.name for p in o.plan]
            following = names[names.index(planned.name) + 1] if planned.name != names[-1] else "end"
            # Spans end when answers do: count the requests whose answers came in the phase.
            answered = sum(1 for r in o.records if r.get("latency_ms") is not None
                           and t0 + planned.start_s <= float(r["t"]) + r["latency_ms"] / 1000
                           < t0 + planned.end_s)
            verdicts += judge_telemetry(planned.name, answered,
                                        o.telemetry.get(planned.name), o.telemetry.get(following),
                                        expectation)
        for f in o.faults:
            fired = bool((f.get("evidence") or {}).get("fired"))
            verdicts.append(verdict(f["phase"], f"fault {f['type']} fired", fired,
                                    "evidence: " + str((f.get("evidence") or {}).get("details"))))
            for check in (f.get("evidence") or {}).get("checks", []):
                verdicts.append(verdict(f["phase"], f"fault {f['type']}: {check['name']}",
                                        check["passed"], check["message"]))
        if o.integrity is not None:
            verdicts += [
                verdict("-", "integrity.max_lost", o.integrity["lost"] <= s.integrity.max_lost,
                        f"{o.integrity['lost']} acknowledged writes lost "
                        f"(limit {s.integrity.max_lost})"),
                verdict("-", "integrity.max_duplicated",
                        o.integrity["duplicated"] <= s.integrity.max_duplicated,
                        f"{o.integrity['duplicated']} writes duplicated "
                        f"(limit {s.integrity.max_duplicated})"),
            ]
    for message in o.rollback_errors:
        verdicts.append(verdict("-", "rollback", False, message))

    reverts = [f["reverted_s"] for f in o.faults if f.get("reverted_s") is not None]
    last = max(reverts, default=None)
    recovery = {"measured": last is not None and o.error is None, "from_s": last,
                "time_s": recovery_time(points, last, duration_s, s.steady_state)
                if last is not None else None}
    if o.error_exit_code is not None:
        exit_code = o.error_exit_code
    else:
        exit_code = 1 if o.error or any(not v["passed"] for v in verdicts) else 0
    report = {
        "schema_version": SCHEMA_VERSION,
        "scenario": {"name": s.name, "description": s.description, "tags": list(s.tags),
                     "file": s.path, "seed": s.seed, "profile": s.profile,
                     "digest": scenario_digest(s)},
        "harness": {"fraiseql_version": _version(), "git_commit": _git_commit()},
        "environment": _environment(),
        "started_at": datetime.fromtimestamp(o.started_at, timezone.utc).isoformat(),
        "duration_s": round(duration_s, 3),
        "phases": phases,
        "timeline": points,
        "faults": o.faults,
        "recovery": recovery,
        "integrity": o.integrity,
        "telemetry": o.telemetry,
        "cleaned_leftovers": o.cleaned_leftovers,
        "verdicts": verdicts,
        "exit_code": exit_code,
        "outcome": OUTCOMES.get(exit_code, "error"),
        "error": o.error,
    }
    report["score"] = resilience_score(report)
    return report
