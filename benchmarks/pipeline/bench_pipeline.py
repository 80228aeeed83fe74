"""Response pipeline benchmark: Rust vs orjson+Python vs the pure-Python reference.

Measures, in one run, how fast each implementation turns N ``v_post`` rows (JSON
text) into the response body for a query selecting every field of Post, checks
each output equals the reference's, and writes a section to benchmarks/RESULTS.md.

Every timed call gets freshly made ``str`` rows (as psycopg hands them over), so
no implementation profits from the UTF-8 copy CPython caches on a str object.
Calls are timed in CPU time of the calling thread (every implementation, Rust
included, works on that thread); throughput (input row text, UTF-8 bytes, per
second) and ratios use the fastest call, which other processes on a shared
machine distort least; the median is reported beside it.

    python benchmarks/pipeline/bench_pipeline.py                  # generated rows
    python benchmarks/pipeline/bench_pipeline.py --database-url postgresql://...  # real v_post
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from implementations import IMPLEMENTATIONS, Implementation  # noqa: E402
from rows import POST_SPEC, database_rows, generated_rows  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
SECTION_START = "<!-- pipeline:start -->"
SECTION_END = "<!-- pipeline:end -->"


@dataclass(frozen=True)
class Measurement:
    implementation: str
    rows_as: str
    rows: int
    input_bytes: int
    best_s: float
    median_s: float
    calls: int
    correct: bool

    @property
    def mb_per_s(self) -> float:
        return self.input_bytes / self.best_s / 1e6


def fresh(rows: list[str], rows_as: str) -> list[Any]:
    """New row objects with the same text: str without a cached UTF-8 form, or bytes."""
    if rows_as == "bytes":
        return [row.encode("utf-8") for row in rows]
    return [row.encode("utf-8").decode("utf-8") for row in rows]


def measure(implementation: Implementation, rows: list[str], budget_s: float, expected: Any) -> Measurement:
    build = implementation.prepare(POST_SPEC)
    correct = json.loads(build(fresh(rows, implementation.rows_as)), parse_float=Decimal) == expected
    # thread_time() ticks coarsely on some kernels: each sample times a batch of calls
    # long enough to measure (about 2 ms), each call on freshly made row objects.
    before = time.perf_counter()
    build(fresh(rows, implementation.rows_as))
    batch = max(1, int(0.002 / max(time.perf_counter() - before, 1e-7)))
    timings: list[float] = []
    started = time.perf_counter()
    while len(timings) < 5 or (time.perf_counter() - started < budget_s and len(timings) < 10_000):
        arguments = [fresh(rows, implementation.rows_as) for _ in range(batch)]
        before = time.thread_time()
        for argument in arguments:
            build(argument)
        timings.append((time.thread_time() - before) / batch)
    input_bytes = sum(len(row.encode("utf-8")) for row in rows)
    return Measurement(
        implementation.name, implementation.rows_as, len(rows), input_bytes,
        min(timings), statistics.median(timings), len(timings), correct,
    )


def run(all_rows: list[str], sizes: list[int], budget_s: float) -> list[Measurement]:
    measurements = []
    for size in sizes:
        rows = all_rows[:size]
        reference_body = IMPLEMENTATIONS[-1].prepare(POST_SPEC)(rows)
        expected = json.loads(reference_body, parse_float=Decimal)
        for implementation in IMPLEMENTATIONS:
            result = measure(implementation, rows, budget_s, expected)
            measurements.append(result)
            print(
                f"{size:>5} rows  {implementation.name:<26} {result.best_s * 1e6:>10.1f} us"
                f"  {result.mb_per_s:>8.1f} MB/s  correct={result.correct}",
                flush=True,
            )
    return measurements


def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_description() -> list[str]:
    import orjson

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")), cpu)
    return [
        f"- machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}, orjson {orjson.__version__}, {_command_output(['rustc', '--version'])}",
        f"- commit {_command_output(['git', 'rev-parse', '--short', 'HEAD'])}",
    ]


def markdown(measurements: list[Measurement], source: str, command: str) -> str:
    lines = [
        SECTION_START,
        "## Response pipeline (rows -> response bytes)",
        "",
        f"Rows: {source}. Query: every field of Post (nested author, comments, comment authors, "
        "`__typename`). Fresh rows each call (`str` as psycopg returns text, or `bytes`). "
        "Times are thread CPU time per call; MB/s (input row text, UTF-8) and ratios use the "
        "fastest call; the ratio compares with Rust given rows of the same kind.",
        "",
        *machine_description(),
        f"- reproduce: `{command}`",
        "",
        "| rows | input KB | implementation | best us | median us | MB/s | Rust is x faster | correct |",
        "|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    rust_times = {(m.rows, m.rows_as): m.best_s for m in measurements if m.implementation.startswith("rust")}
    for m in measurements:
        ratio = m.best_s / rust_times[m.rows, m.rows_as]
        lines.append(
            f"| {m.rows} | {m.input_bytes / 1000:.1f} | {m.implementation} | {m.best_s * 1e6:.1f} "
            f"| {m.median_s * 1e6:.1f} | {m.mb_per_s:.0f} | {ratio:.1f} | {'yes' if m.correct else 'NO'} |"
        )
    lines.append(SECTION_END)
    return "\n".join(lines)


def write_section(section: str, path: Path = RESULTS) -> None:
    """Replaces this benchmark's section of RESULTS.md (other sections are kept)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1,100,1000", help="row counts, comma separated")
    parser.add_argument("--database-url", help="read rows from v_post in this database instead of generating them")
    parser.add_argument(
        "--example", action="store_true",
        help="start a throwaway PostgreSQL, load the blog example and read its v_post rows",
    )
    parser.add_argument("--budget-s", type=float, default=1.0, help="time spent per implementation and size")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.example:
        return run_on_example(args, sizes)
    if args.database_url:
        rows = database_rows(args.database_url, max(sizes))
        source = f"{len(rows)} rows of v_post from a PostgreSQL database"
        sizes = sorted({min(size, len(rows)) for size in sizes if rows})
    else:
        rows = generated_rows(max(sizes))
        source = "generated v_post documents (seed 2024, ~3.4 KB each, ~3 comments, non-ASCII text)"
    measurements = run(rows, sizes, args.budget_s)
    command = "python benchmarks/pipeline/bench_pipeline.py" + (
        " --example" if args.example else " --database-url URL" if args.database_url else ""
    )
    if not args.no_write:
        write_section(markdown(measurements, source, command))
    return 0 if all(m.correct for m in measurements) else 1


def run_on_example(args: argparse.Namespace, sizes: list[int]) -> int:
    """The blog example's own v_post rows, from a cluster started and removed here."""
    import asyncio

    from examples.blog.database import init_database
    from fraiseql.db.local import LocalPostgres

    with LocalPostgres(dbname="bench_pipeline") as cluster:
        asyncio.run(init_database(cluster.url, rows=max(sizes), progress=None))
        args.database_url = cluster.url
        args.example = False
        rows = database_rows(cluster.url, max(sizes))
    source = f"{len(rows)} rows of the blog example's v_post (fraiseql db init --example blog)"
    measurements = run(rows, sizes, args.budget_s)
    if not args.no_write:
        write_section(markdown(measurements, source, "python benchmarks/pipeline/bench_pipeline.py --example"))
    return 0 if all(m.correct for m in measurements) else 1


if __name__ == "__main__":
    sys.exit(main())
