"""The `.phases/` pages: the chaos plan per phase, and for each scenario what it breaks,
what the runtime promises, and its latest measured result.

They are written from the scenario files and a release record, never by hand, so they stay
true to the code: ``fraiseql-chaos phases reports/releases/0.1.0.json`` rewrites them, and a
test fails when a scenario is missing from them.

Example::

    write_phases(load_scenarios(["scenarios"]), load_release("reports/releases/0.1.0.json"),
                 Path(".phases"))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PlanPhase:
    number: int
    slug: str
    title: str
    families: tuple[str, ...]
    goal: str


PLAN = (
    PlanPhase(1, "network", "Network", ("network",),
              "Every link the app depends on (PostgreSQL, the cache database, the JWKS endpoint) "
              "slowed, squeezed, cut, reset and black-holed through the real Toxiproxy server."),
    PlanPhase(2, "database", "Database", ("database",),
              "PostgreSQL itself failing: serialization failures and deadlocks raised by the "
              "server, locks held by another session, sessions killed, connection slots "
              "exhausted, the server restarted."),
    PlanPhase(3, "cache-and-auth", "Cache and auth", ("cache", "auth", "rbac", "combined"),
              "The result cache's store down, slow, corrupted, evicted and stampeded; the "
              "identity provider down, slow, failing, rotating keys, and floods of bad tokens; "
              "the permission source failing, slow, or revoking a role under load; and these "
              "while something else is down too."),
    PlanPhase(4, "resources", "Resources and concurrency", ("resources",),
              "The app's own process and pool: exhausted pools, a thousand queries at once, CPU "
              "and memory hogs, bursts, slow clients, a killed worker, writers on one row."),
    PlanPhase(5, "observability", "Observability", ("observability",),
              "Telemetry that stays complete under load and under faults: a span and a duration "
              "record for every request."),
)


def _promise(scenario: Any) -> str:
    """The scenario's expectations, as a short sentence per phase."""
    parts = []
    for phase, e in scenario.expectations.items():
        bits = []
        if e.max_error_rate is not None:
            bits.append(f"errors <= {e.max_error_rate:.0%}")
        for q in ("p50", "p95", "p99"):
            if getattr(e, f"max_{q}_ms") is not None:
                bits.append(f"{q} <= {getattr(e, f'max_{q}_ms'):g} ms")
            if getattr(e, f"max_{q}_x_baseline") is not None:
                bits.append(f"{q} <= {getattr(e, f'max_{q}_x_baseline'):g}x baseline")
        if e.max_request_ms is not None:
            bits.append(f"no request over {e.max_request_ms / 1000:g} s")
        if e.no_5xx_without_graphql_body:
            bits.append("no bare 5xx")
        if e.recovery_within_s is not None:
            bits.append(f"recovered within {e.recovery_within_s:g} s")
        for kind in ("span", "metric"):
            limit = getattr(e, f"min_{kind}_coverage")
            if limit is not None:
                bits.append(f"{kind}s for >= {limit:.0%} of requests")
        bits.append("a visible effect" if e.expect_effect else "no visible effect")
        parts.append(f"{phase}: {', '.join(bits)}")
    limits = scenario.integrity
    parts.append(f"lost writes <= {limits.max_lost}, duplicated <= {limits.max_duplicated}")
    return "; ".join(parts)


def _result(report: Mapping[str, Any] | None) -> str:
    if report is None:
        return "not in the release record yet"
    integrity = report.get("integrity") or {}
    failed = [f"{v['phase']}: {v['expectation']}" for v in report["verdicts"] if not v["passed"]]
    worst = max((p for p in report["phases"] if p["kind"] == "fault"),
                key=lambda p: p["error_rate"], default=None)
    bits = [f"**{report['outcome']}**, score {report['score']['value']}"]
    if worst is not None:
        bits.append(f"worst fault phase `{worst['name']}`: {worst['error_rate']:.1%} errors, "
                    f"p99 {worst['latency_ms']['p99'] or 0:.0f} ms")
    if (report.get("recovery") or {}).get("time_s") is not None:
        bits.append(f"recovered {report['recovery']['time_s']:.1f} s after the last revert")
    if integrity:
        bits.append(f"{integrity.get('acknowledged', 0)} writes acknowledged, "
                    f"{integrity.get('lost', 0)} lost, {integrity.get('duplicated', 0)} duplicated")
    if failed:
        bits.append("failed: " + "; ".join(failed))
    return "; ".join(bits)


def render_phase(phase: PlanPhase, scenarios: Sequence[Any],
                 reports: Mapping[str, Mapping[str, Any]], release: str) -> str:
    lines = [f"# Phase {phase.number}: {phase.title}", "", phase.goal, "",
             f"Latest measured results: release record `{release}` (quick profile).", ""]
    for s in scenarios:
        faults = sorted({f.type for p in s.phases for f in p.faults})
        lines += [f"## `{s.name}` ({s.path})", "",
                  f"- **Breaks:** {' '.join(s.description.split())} "
                  f"(faults: {', '.join(faults) or 'none'})",
                  f"- **Promises:** {_promise(s)}",
                  f"- **Latest result:** {_result(reports.get(s.name))}", ""]
    return "\n".join(lines)


def render_index(scenarios: Sequence[Any], reports: Mapping[str, Mapping[str, Any]],
                 release: str) -> str:
    lines = ["# The chaos plan", "",
             "Five phases, each a family of failures the harness inflicts on the real stack. Each "
             "page lists its scenarios: what they break, what the runtime promises, and the latest "
             f"measured result (release record `{release}`). These pages are written by "
             "`fraiseql-chaos phases <release record>`; do not edit them by hand.", "",
             "| phase | scenarios | passed in the record |", "|---|---:|---:|"]
    for phase in PLAN:
        mine = [s for s in scenarios if _family(s) in phase.families]
        passed = sum(1 for s in mine if (reports.get(s.name) or {}).get("outcome") == "passed")
        lines.append(f"| [{phase.number}. {phase.title}]({phase.number}-{phase.slug}.md) "
                     f"| {len(mine)} | {passed} |")
    return "\n".join(lines) + "\n"


def _family(scenario: Any) -> str:
    return Path(scenario.path or "").parent.name or (scenario.tags[0] if scenario.tags else "")


def write_phases(scenarios: Iterable[Any], reports: Iterable[Mapping[str, Any]], folder: Path,
                 release: str) -> list[Path]:
    scenarios = sorted(scenarios, key=lambda s: s.name)
    by_name = {r["scenario"]["name"]: r for r in reports}
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "README.md"]
    written[0].write_text(render_index(scenarios, by_name, release), encoding="utf-8")
    for phase in PLAN:
        path = folder / f"{phase.number}-{phase.slug}.md"
        mine = [s for s in scenarios if _family(s) in phase.families]
        path.write_text(render_phase(phase, mine, by_name, release), encoding="utf-8")
        written.append(path)
    return written
