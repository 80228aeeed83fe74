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
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from queries import OPERATIONS
from servers import HERE, PG_DIR, ROOT, VENVS

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOTES = HERE / "profile_notes.md"
START, END = "<!-- e2e:start -->", "<!-- e2e:end -->"
TELEMETRY_START, TELEMETRY_END = "<!-- e2e-telemetry:start -->", "<!-- e2e-telemetry:end -->"
# (variant, label, environment of the server): the telemetry overhead's measurements.
SAMPLED_ARG = "0.01"
CONTROL = "telemetry control"
TELEMETRY_VARIANTS = (
    ("telemetry off", "off", {"E2E_TELEMETRY": "0"}),
    ("telemetry on", "every request traced", {"E2E_TELEMETRY": "1",
                                              "OTEL_TRACES_SAMPLER": "parentbased_always_on"}),
    ("telemetry sampled", "1% traced", {"E2E_TELEMETRY": "1",
                                        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                                        "OTEL_TRACES_SAMPLER_ARG": SAMPLED_ARG}),
    # To split the cost of 1% traced: the same root spans with no trace ever kept, and the
    # meter provider alone (the tracer calls take the no-SDK path).
    ("telemetry unsampled", "0% traced", {"E2E_TELEMETRY": "1",
                                          "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                                          "OTEL_TRACES_SAMPLER_ARG": "0"}),
    ("telemetry metrics", "metrics only", {"E2E_TELEMETRY": "metrics"}),
    # The same as off in a second server: how far two servers of one build differ here,
    # the resolution of the other rows (``--telemetry-variants off,control,...``).
    (CONTROL, "off again (control)", {"E2E_TELEMETRY": "0"}),
)
DEFAULT_TELEMETRY_VARIANTS = ("off", "on", "sampled")
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


@dataclass(frozen=True)
class Summary:
    """One (server, variant, operation) over its rounds: medians, and the spread of req/s."""

    rps: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float
    postgres_cpu_us: float
    errors: int
    loads: str  # 1-minute load average before each round

    @property
    def spread(self) -> float | None:
        return self.p99_ms / self.p50_ms if self.p50_ms else None

    @property
    def total_cpu_us(self) -> float:
        return self.server_cpu_us + self.postgres_cpu_us


def summarise(measurements: list[Any]) -> dict[tuple[str, str, str], Summary]:
    """Medians per (server, variant, operation) over the rounds."""
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for m in measurements:
        groups.setdefault((m.server, m.variant, m.operation), []).append(m)
    summaries = {}
    for key, items in groups.items():
        rates = [m.result.requests_per_s for m in items]
        summaries[key] = Summary(
            rps=median(rates), rps_min=min(rates), rps_max=max(rates),
            p50_ms=median(m.result.p50_ms for m in items),
            p99_ms=median(m.result.p99_ms for m in items),
            server_cpu_us=median(m.server_cpu_us_per_request for m in items),
            postgres_cpu_us=median(m.postgres_cpu_us_per_request for m in items),
            errors=sum(m.result.errors for m in items),
            loads=", ".join(m.load_average.split()[0] for m in items),
        )
    return summaries


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(measurements: list[Any], settings: dict[str, Any], env: dict[str, str]) -> str:
    summaries = summarise(measurements)
    lines = [
        "## End-to-end (HTTP, same database): FraiseQL, Strawberry, PostGraphile",
        "",
        f"The blog example with {settings['rows']:,} posts in one throwaway PostgreSQL. Each server in turn, "
        "one process, on loopback, started and stopped by the script; "
        f"{settings.get('rounds', 1)} rounds that interleave the servers; per round and operation wrk with "
        f"{settings['connections']} connections (1 thread) runs {settings['warmup_s']} s unmeasured, then "
        f"{settings['duration_s']} s measured. Numbers are medians over the rounds (req/s also shows "
        "min-max). Answers are checked equal across servers first. No result cache anywhere "
        "(FraiseQL's is turned off; the others have none); each server has a pool of 10 connections. "
        "CPU per request: the server process's utime+stime from /proc, and separately the PostgreSQL "
        "cluster's. The 1-minute load average is read before each measured run: other engineers' "
        "builds and tests share this 2-core machine, so compare rows of one run only; CPU per request "
        "is the steadier measure.",
        "",
        *(f"- {key}: {value}" for key, value in env.items()),
        f"- whole run: {settings['elapsed_s']} s",
        f"- CPUs: {settings.get('pinning', 'none')}",
        f"- reproduce: `{settings['command']}` (or `make bench-e2e`)",
        "",
        "| operation | server | req/s | req/s min-max | p50 ms | p99 ms | p99/p50 | server CPU us/req "
        "| PostgreSQL CPU us/req | errors | load avg per round |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, op in OPERATIONS.items():
        for server in NAMES:
            s = summaries.get((server, "", name))
            if s is None:
                continue
            lines.append(
                f"| {op.label} | {NAMES[server]} | {s.rps:,.0f} | {s.rps_min:,.0f}-{s.rps_max:,.0f} | "
                f"{s.p50_ms:.2f} | {s.p99_ms:.2f} | {_fmt(s.spread)} | {s.server_cpu_us:,.0f} | "
                f"{s.postgres_cpu_us:,.0f} | {s.errors} | {s.loads} |"
            )
    lines += ["", *_ratios(summaries)]
    if NOTES.exists():
        lines += ["", NOTES.read_text().strip()]
    return "\n".join(lines).rstrip() + "\n"


def _ratios(summaries: dict[tuple[str, str, str], Summary]) -> list[str]:
    lines = [
        "Ratios. Throughput: FraiseQL's median req/s over the other's. CPU: the other's "
        "(server + PostgreSQL) CPU per request over FraiseQL's. Targets for the list queries: "
        "at least 3x Strawberry's and at least PostGraphile's throughput; FraiseQL's p99 at most 3x its p50.",
        "",
        "| operation | req/s x Strawberry | req/s x PostGraphile | CPU x Strawberry | CPU x PostGraphile "
        "| FraiseQL p99/p50 | list targets |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, op in OPERATIONS.items():
        ours = summaries.get(("fraiseql", "", name))
        if ours is None:
            continue
        straw = summaries.get(("strawberry", "", name))
        pgl = summaries.get(("postgraphile", "", name))
        vs_straw = ours.rps / straw.rps if straw and straw.rps else None
        vs_pg = ours.rps / pgl.rps if pgl and pgl.rps else None
        cpu_straw = straw.total_cpu_us / ours.total_cpu_us if straw and ours.total_cpu_us else None
        cpu_pg = pgl.total_cpu_us / ours.total_cpu_us if pgl and ours.total_cpu_us else None
        verdict = "-"
        if op.is_list and vs_straw is not None and vs_pg is not None and ours.spread is not None:
            missed = [text for text, held in (
                ("3x Strawberry", vs_straw >= 3), ("PostGraphile", vs_pg >= 1),
                ("p99 <= 3x p50", ours.spread <= 3),
            ) if not held]
            verdict = "met" if not missed else "NOT met: " + ", ".join(missed)
        lines.append(
            f"| {op.label} | {_fmt(vs_straw)} | {_fmt(vs_pg)} | {_fmt(cpu_straw)} | {_fmt(cpu_pg)} | "
            f"{_fmt(ours.spread)} | {verdict} |"
        )
    return lines


def render_telemetry(measurements: list[Any], settings: dict[str, Any]) -> str:
    """The telemetry-overhead section: FraiseQL with telemetry off, fully traced, sampled."""
    summaries = summarise(measurements)
    lines = [
        "## Telemetry overhead (FraiseQL over HTTP)",
        "",
        "`E2E_TELEMETRY=1` installs the OpenTelemetry SDK's tracer and meter providers as the "
        "runtime installs them for OTLP export (`fraiseql.otlp.install`: batched spans, a periodic "
        "metric reader, the request and statement histograms aggregated in process), with "
        "exporters that drop what they get, so every span and metric is really created and "
        "recorded; the tracer's sampler comes from `OTEL_TRACES_SAMPLER`, as in production. "
        "\"Every request traced\": `parentbased_always_on` (the SDK's default); \"1% traced\": "
        f"`parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG={SAMPLED_ARG}` (a request whose "
        "trace is sampled out makes no span; metrics still count every request). "
        + _telemetry_method(settings) +
        " Medians of the rounds; target: at "
        "most 5% fewer requests/s than off. \"Paired\" divides each round's req/s by the same "
        "round's off and gives the median of those ratios with their range."
        + (" \"Off again (control)\" is off in a second server: how far two servers of one "
           "build differ here, the resolution of the other rows."
           if any(m.variant == CONTROL for m in measurements) else ""),
        "",
        f"- reproduce: `{settings['command']}`",
        f"- CPUs: {settings.get('pinning', 'none')}",
        "",
        "| operation | variant | req/s | req/s min-max | req/s vs off | paired vs off (min..max) "
        "| server CPU us/req | CPU vs off | errors | load avg per round |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, op in OPERATIONS.items():
        off = summaries.get(("fraiseql", TELEMETRY_VARIANTS[0][0], name))
        if off is None:
            continue
        for variant, label, _ in TELEMETRY_VARIANTS:
            s = summaries.get(("fraiseql", variant, name))
            if s is None:
                continue
            ratios = paired_ratios(measurements, variant, name)
            paired = (f"{(median(ratios) - 1) * 100:+.1f}% ({(min(ratios) - 1) * 100:+.1f}.."
                      f"{(max(ratios) - 1) * 100:+.1f})") if ratios else "-"
            lines.append(
                f"| {op.label} | {label} | {s.rps:,.0f} | {s.rps_min:,.0f}-{s.rps_max:,.0f} | "
                f"{(s.rps / off.rps - 1) * 100:+.1f}% | {paired} | {s.server_cpu_us:,.0f} | "
                f"{(s.server_cpu_us / off.server_cpu_us - 1) * 100:+.1f}% | {s.errors} | {s.loads} |"
            )
    return "\n".join(lines).rstrip() + "\n"


def _telemetry_method(settings: dict[str, Any]) -> str:
    """How the telemetry rows were measured (``--telemetry-method``; runs before the option
    existed measured all variants together)."""
    rounds, connections, warmup = settings["telemetry_rounds"], settings["connections"], settings["warmup_s"]
    if settings.get("telemetry_method", "together") == "alone":
        return (
            f"{rounds} rounds; in each, every variant's server is started in turn, alone on the "
            f"server's CPU as in the comparison above, and each operation is measured for "
            f"{settings['duration_s']} s by wrk ({connections} connections, after {warmup} s "
            "unmeasured); the variants' order rotates from round to round."
        )
    return (
        f"{rounds} rounds; in each, one server per variant is started, all on the server's CPU, and "
        "each operation is measured in windows in which every variant is loaded at the same time "
        f"by its own wrk ({_windows(settings)}; {connections} connections each, after {warmup} s "
        "unmeasured), so that the machine's slow stretches fall on all variants alike. The servers "
        "share that CPU: a variant that costs more CPU per request serves fewer of the requests."
    )


def _windows(settings: dict[str, Any]) -> str:
    """How each round's measured seconds were taken."""
    duration, piece = settings["duration_s"], settings.get("slice_s") or settings["duration_s"]
    return f"{duration // piece} windows of {piece} s, {duration} s measured"


def paired_ratios(measurements: list[Any], variant: str, operation: str) -> list[float]:
    """Per round, ``variant``'s req/s over telemetry off's in the same round (rounds that
    measured both); for off itself, all ones."""
    by_round: dict[tuple[str, int], float] = {
        (m.variant, m.round): m.result.requests_per_s
        for m in measurements if m.operation == operation and m.server == "fraiseql"
    }
    off = TELEMETRY_VARIANTS[0][0]
    return [rps / by_round[(off, r)] for (v, r), rps in sorted(by_round.items(), key=lambda kv: kv[0][1])
            if v == variant and by_round.get((off, r))]


def write_results(markdown: str, start: str = START, end: str = END) -> None:
    """Replace one section of RESULTS.md (append it when absent); other sections stay."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = f"{start}\n{markdown.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
