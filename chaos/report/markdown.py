"""summary.md: the run in a few lines and tables, for CI logs.

Example::

    print(render_markdown(load_report("report.json")))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(report: Mapping[str, Any]) -> str:
    scenario = report["scenario"]
    mark = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR"}[report["outcome"]]
    lines = [
        f"## {scenario['name']}: {mark} (score {report['score']['value']}/100)",
        "",
        f"Profile `{scenario.get('profile')}`, seed {scenario.get('seed')}, "
        f"{_fmt(report['duration_s'])} s, exit code {report['exit_code']}.",
        "",
    ]
    if report.get("error"):
        lines += [f"**Error:** {report['error']}", ""]
    lines += _table(
        ["phase", "expectation", "verdict", "detail"],
        [[v["phase"], v["expectation"], "held" if v["passed"] else "**failed**", v["message"]]
         for v in report["verdicts"]],
    )
    lines += _table(
        ["phase", "kind", "requests", "error rate", "p50 ms", "p99 ms", "max ms"],
        [[p["name"], p["kind"], p["requests"], f"{p['error_rate'] * 100:.2f}%",
          _fmt(p["latency_ms"]["p50"]), _fmt(p["latency_ms"]["p99"]),
          _fmt(p["latency_ms"]["max"])] for p in report["phases"]],
    )
    lines += _table(
        ["fault", "phase", "fired", "evidence"],
        [[f["type"], f["phase"], "yes" if (f.get("evidence") or {}).get("fired") else "**no**",
          f"`{(f.get('evidence') or {}).get('details', {})}`"] for f in report["faults"]],
    )
    integrity = report.get("integrity")
    if integrity:
        lines.append(
            "Integrity: " + ", ".join(f"{k} {v}" for k, v in integrity.items()) + "."
        )
    return "\n".join(lines).rstrip() + "\n"


def render_suite_markdown(reports: Sequence[Mapping[str, Any]]) -> str:
    """One table over many runs: the suite report."""
    passed = sum(1 for r in reports if r["outcome"] == "passed")
    lines = [f"# Chaos suite: {passed}/{len(reports)} scenarios passed", ""]
    lines += _table(
        ["scenario", "outcome", "score", "failed expectations"],
        [[r["scenario"]["name"], r["outcome"], r["score"]["value"],
          "; ".join(f"{v['phase']}: {v['expectation']}" for v in r["verdicts"]
                    if not v["passed"]) or (r.get("error") or "–")] for r in reports],
    )
    return "\n".join(lines).rstrip() + "\n"
