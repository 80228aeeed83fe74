"""The end-to-end section of benchmarks/RESULTS.md: environment, tables, ratios.

``render`` builds the Markdown from one run's measurements; the hand-written notes on
profiling (``profile_notes.md`` beside this file) are appended as they are.
``write_results`` replaces only the text between ``<!-- e2e:start -->`` and
``<!-- e2e:end -->`` (appending the section when it is missing).

Example::

    write_results(render(measurements, settings, environment()))
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from queries import OPERATIONS
from servers import HERE, PG_DIR, ROOT, VENVS

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOTES = HERE / "profile_notes.md"
START, END = "<!-- e2e:start -->", "<!-- e2e:end -->"
NAMES = {"fraiseql": "FraiseQL", "strawberry": "Strawberry", "postgraphile": "PostGraphile"}


def _output(command: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "?"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def environment() -> dict[str, str]:
    """Machine and versions, for the report."""
    strawberry = _output([str(VENVS["strawberry"] / "bin" / "python"), "-c",
                          "import importlib.metadata as m; print(m.version('strawberry-graphql'),"
                          " 'graphql-core', m.version('graphql-core'))"])
    postgraphile = _output(["node", "-p", "require('postgraphile/package.json').version"], cwd=PG_DIR)
    fraiseql_python = _output([str(VENVS["fraiseql"] / "bin" / "python"), "-c",
                               "import importlib.metadata as m; print(m.version('uvicorn'),"
                               " 'uvloop', m.version('uvloop'), 'httptools', m.version('httptools'))"])
    return {
        "machine": f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "uvicorn": fraiseql_python,
        "strawberry": strawberry,
        "postgraphile": f"{postgraphile} (+ pg-simplify-inflector 6.1.0) on Node {_output(['node', '--version'])}",
        "postgresql": _output(["postgres", "--version"]),
        "wrk": _output(["wrk", "--version"]).split(" [")[0],
        "commit": _output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def render(measurements: list[Any], settings: dict[str, Any], env: dict[str, str]) -> str:
    plain = [m for m in measurements if not m.variant]
    lines = [
        "## End-to-end (HTTP, same database): FraiseQL, Strawberry, PostGraphile",
        "",
        f"The blog example with {settings['rows']:,} posts in one throwaway PostgreSQL; each server in turn, "
        "one process, on loopback; wrk with "
        f"{settings['connections']} connections, 1 thread, {settings['warmup_s']} s warm-up then "
        f"{settings['duration_s']} s measured per operation. Answers checked equal across servers first. "
        "No result cache anywhere (FraiseQL's is turned off; the others have none); each has a pool of "
        "10 connections. CPU per request is the server process's utime+stime (/proc) and, separately, "
        "the PostgreSQL cluster's. The load average (1/5/15 min) is read before each measured run: "
        "other work shares this machine, so compare rows of one run only.",
        "",
        *(f"- {key}: {value}" for key, value in env.items()),
        f"- whole run: {settings['elapsed_s']} s",
        f"- reproduce: `{settings['command']}` (or `make bench-e2e`)",
        "",
        "| operation | server | req/s | p50 ms | p99 ms | p99/p50 | server CPU us/req | PostgreSQL CPU us/req | errors | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in plain:
        r = m.result
        lines.append(
            f"| {OPERATIONS[m.operation].label} | {NAMES[m.server]} | {r.requests_per_s:,.0f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {_ratio(r.p99_ms, r.p50_ms)} | "
            f"{m.server_cpu_us_per_request:,.0f} | {m.postgres_cpu_us_per_request:,.0f} | {r.errors} | {m.load_average} |"
        )
    lines += ["", *_ratios(plain), "", *_telemetry(measurements)]
    if NOTES.exists():
        lines += ["", NOTES.read_text().strip()]
    return "\n".join(lines).rstrip() + "\n"


def _ratios(plain: list[Any]) -> list[str]:
    by_key = {(m.server, m.operation): m for m in plain}
    lines = [
        "Ratios (FraiseQL's requests/s over the other's; targets for the list queries: at least 3 "
        "over Strawberry and at least 1 over PostGraphile; p99 at most 3x p50):",
        "",
        "| operation | x Strawberry | x PostGraphile | FraiseQL p99/p50 | targets |",
        "|---|---:|---:|---:|---|",
    ]
    for name, op in OPERATIONS.items():
        ours = by_key.get(("fraiseql", name))
        if ours is None:
            continue
        rps = ours.result.requests_per_s
        straw, pgl = by_key.get(("strawberry", name)), by_key.get(("postgraphile", name))
        vs_straw = rps / straw.result.requests_per_s if straw and straw.result.requests_per_s else None
        vs_pg = rps / pgl.result.requests_per_s if pgl and pgl.result.requests_per_s else None
        spread = ours.result.p99_ms / ours.result.p50_ms if ours.result.p50_ms else None
        verdict = "-"
        if op.is_list and vs_straw is not None and vs_pg is not None and spread is not None:
            held = vs_straw >= 3 and vs_pg >= 1 and spread <= 3
            verdict = "met" if held else "NOT met"
        lines.append(
            f"| {op.label} | {_fmt(vs_straw)} | {_fmt(vs_pg)} | {_fmt(spread)} | {verdict} |"
        )
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _telemetry(measurements: list[Any]) -> list[str]:
    rows = [m for m in measurements if m.variant]
    if not rows:
        return []
    lines = [
        "Telemetry overhead (FraiseQL; `E2E_TELEMETRY=1` installs the OpenTelemetry SDK's tracer and "
        "meter providers with exporters that drop everything, so every span and metric is created and "
        "recorded; off and on alternate, mean of the rounds; target: at most 5% fewer requests/s):",
        "",
        "| operation | off req/s | on req/s | difference | off CPU us/req | on CPU us/req | load avg |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, op in OPERATIONS.items():
        off = [m for m in rows if m.operation == name and m.variant == "telemetry off"]
        on = [m for m in rows if m.operation == name and m.variant == "telemetry on"]
        if not off or not on:
            continue
        mean = lambda items, f: sum(f(m) for m in items) / len(items)  # noqa: E731
        off_rps = mean(off, lambda m: m.result.requests_per_s)
        on_rps = mean(on, lambda m: m.result.requests_per_s)
        loads = ", ".join(m.load_average.split()[0] for m in off + on)
        lines.append(
            f"| {op.label} | {off_rps:,.0f} | {on_rps:,.0f} | {(on_rps / off_rps - 1) * 100:+.1f}% | "
            f"{mean(off, lambda m: m.server_cpu_us_per_request):,.0f} | "
            f"{mean(on, lambda m: m.server_cpu_us_per_request):,.0f} | {loads} |"
        )
    return lines


def write_results(markdown: str) -> None:
    """Replace the e2e section of RESULTS.md (append it when absent); other sections stay."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = f"{START}\n{markdown.rstrip()}\n{END}"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
