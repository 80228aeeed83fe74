"""report.html: one self-contained page (inline CSS and SVG, no external URL) per run.

Example::

    Path("report.html").write_text(render_html(load_report("report.json")))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from chaos.report.svg import line_chart

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2328}
h1{margin-bottom:.2rem} .muted{color:#656d76}
table{border-collapse:collapse;margin:.6rem 0 1.4rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.pass{color:#1a7f37;font-weight:bold} .fail{color:#cf222e;font-weight:bold}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;color:#fff}
.badge.passed{background:#1a7f37} .badge.failed,.badge.error{background:#cf222e}
code{background:#f6f8fa;padding:0 .2rem}
"""


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _windows(report: Mapping[str, Any]) -> list[tuple[float, float, str]]:
    windows = []
    for fault in report.get("faults", []):
        end = fault.get("reverted_s")
        if fault.get("applied_s") is not None:
            windows.append((fault["applied_s"], end if end is not None else report["duration_s"],
                            fault["type"]))
    return windows


def _charts(report: Mapping[str, Any]) -> str:
    points = report.get("timeline", [])
    duration = report.get("duration_s") or 0.0
    windows = _windows(report)
    latency = line_chart(
        [("p50", [(p["t_s"], p["p50_ms"]) for p in points]),
         ("p99", [(p["t_s"], p["p99_ms"]) for p in points])],
        duration_s=duration, windows=windows, title="Latency (ms)", unit="",
    )
    errors = line_chart(
        [("error rate", [(p["t_s"], p["error_rate"] * 100) for p in points])],
        duration_s=duration, windows=windows, title="Error rate (%)", unit="%",
    )
    throughput = line_chart(
        [("requests/s", [(p["t_s"], float(p["requests"])) for p in points])],
        duration_s=duration, windows=windows, title="Requests per bucket",
    )
    return latency + errors + throughput


def _phase_rows(report: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for phase in report["phases"]:
        lat = phase["latency_ms"]
        codes = ", ".join(f"{escape(k)}: {v}" for k, v in phase["errors_by_code"].items())
        rows.append([
            escape(phase["name"]), escape(phase["kind"]),
            f'{phase["start_s"]:.1f}–{phase["end_s"]:.1f}', str(phase["requests"]),
            f'{phase["error_rate"] * 100:.2f}%', _fmt(lat["p50"]), _fmt(lat["p90"]),
            _fmt(lat["p99"]), _fmt(lat["max"]), codes or "–",
        ])
    return rows


def _fault_rows(report: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for fault in report.get("faults", []):
        evidence = fault.get("evidence") or {}
        fired = evidence.get("fired")
        rows.append([
            escape(fault["type"]), escape(fault["phase"]), _fmt(fault.get("applied_s")),
            _fmt(fault.get("reverted_s")),
            f'<span class="{"pass" if fired else "fail"}">{"yes" if fired else "no"}</span>',
            f'<code>{escape(str(evidence.get("details", {})))}</code>',
        ])
    return rows


def _verdict_rows(report: Mapping[str, Any]) -> list[list[str]]:
    return [[
        escape(v["phase"]), escape(v["expectation"]),
        f'<span class="{"pass" if v["passed"] else "fail"}">'
        f'{"held" if v["passed"] else "failed"}</span>',
        escape(v["message"]),
    ] for v in report.get("verdicts", [])]


def render_html(report: Mapping[str, Any]) -> str:
    scenario = report["scenario"]
    score = report["score"]
    integrity = report.get("integrity")
    recovery = report.get("recovery") or {}
    sections = [
        f"<h1>{escape(scenario['name'])}</h1>",
        f'<p class="muted">{escape(scenario.get("description") or "")}</p>',
        f'<p><span class="badge {escape(report["outcome"])}">{escape(report["outcome"])}</span>'
        f' exit code {report["exit_code"]} · resilience score <b>{score["value"]}</b>/100 '
        f'<span class="muted">({escape(score["formula"])}: '
        + ", ".join(f"{k}={v}" for k, v in score["components"].items()) + ")</span></p>",
    ]
    if report.get("error"):
        sections.append(f'<p class="fail">{escape(report["error"])}</p>')
    sections += [
        _charts(report),
        "<h2>Verdicts</h2>",
        _table(["phase", "expectation", "verdict", "detail"], _verdict_rows(report)),
        "<h2>Phases</h2>",
        _table(["phase", "kind", "window (s)", "requests", "errors", "p50 ms", "p90 ms",
                "p99 ms", "max ms", "errors by code"], _phase_rows(report)),
        "<h2>Faults and evidence</h2>",
        _table(["fault", "phase", "applied (s)", "reverted (s)", "fired", "evidence"],
               _fault_rows(report)),
        "<h2>Recovery and integrity</h2>",
        _table(["recovery (s)", "acknowledged", "lost", "duplicated", "unknown landed",
                "unknown not landed"],
               [[_fmt(recovery.get("time_s")),
                 *(_fmt((integrity or {}).get(k)) for k in
                   ("acknowledged", "lost", "duplicated", "unknown_landed",
                    "unknown_not_landed"))]]),
        "<h2>Run</h2>",
        _table(["field", "value"], [
            ["profile", escape(str(scenario.get("profile")))],
            ["seed", escape(str(scenario.get("seed")))],
            ["scenario file", escape(str(scenario.get("file")))],
            ["git commit", escape(str(report["harness"].get("git_commit")))],
            ["started", escape(str(report["started_at"]))],
            ["duration (s)", _fmt(report["duration_s"])],
            *([escape(k), escape(str(v))] for k, v in report["environment"].items()),
        ]),
    ]
    title = escape(f"chaos: {scenario['name']} ({report['outcome']})")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>\n"
    )
