"""End-to-end benchmark: FraiseQL, Strawberry and PostGraphile on the same database.

Starts a throwaway PostgreSQL, loads the blog example (10,000 posts by default), then
serves it with each server in turn (one process each, on loopback), checks that every
server gives the same answers, and drives each operation with wrk at the same
concurrency and duration, in rounds that interleave the servers (medians reported).
Reports requests/s, p50/p99 latency, CPU time per request (server process and
PostgreSQL, from /proc) and the ratios; ``--write`` puts the tables into
benchmarks/RESULTS.md between ``<!-- e2e:start -->`` and ``<!-- e2e:end -->``.
``--telemetry-rounds N`` also measures FraiseQL with an OpenTelemetry SDK installed
(no-op exporters; every request traced, and 1% traced) against without, in N rounds in
which each variant's server runs alone on the server CPU in turn (``--telemetry-method
together``: all variants' servers share that CPU and are loaded at once, in windows of
``--slice`` seconds), into its own section (``<!-- e2e-telemetry:start -->``); with
``--rounds 0`` only that section is measured and replaced.

Run::

    python benchmarks/e2e/bench_e2e.py --write           # 3 telemetry rounds: off, on, 1% traced
    make bench-e2e    # what RESULTS.md holds: 16 telemetry rounds of off, 1% traced, off again
    python benchmarks/e2e/bench_e2e.py --duration 3 --operations posts_20   # a quick look
    python benchmarks/e2e/bench_e2e.py --servers fraiseql --rounds 0 --write  # telemetry only
    python benchmarks/e2e/bench_e2e.py --from-json benchmarks/e2e/runs/<run>/results.json --write
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime
import json
import os
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from load import LoadResult, run_wrk  # noqa: E402
from queries import BENCH_TITLE, OPERATIONS, SERVERS, differences, normalise  # noqa: E402
from report import (  # noqa: E402
    DEFAULT_TELEMETRY_VARIANTS, TELEMETRY_END, TELEMETRY_START, TELEMETRY_VARIANTS, environment,
    render, render_telemetry, write_results,
)
from servers import (  # noqa: E402
    HERE, Pinning, Server, cpu_seconds, ensure_installed, ensure_running, load_average, postgres_cpu,
    running,
)

from examples.blog.database import init_database  # noqa: E402
from fraiseql.db.local import LocalPostgres  # noqa: E402

PORTS = {"fraiseql": 18601, "strawberry": 18602, "postgraphile": 18603}
TELEMETRY_PORT = 18611  # the telemetry variants' servers: 18611, 18612, ...


@dataclass
class Measurement:
    server: str
    variant: str  # "" or "telemetry on" / "telemetry off"
    operation: str
    round: int
    load_average: str
    result: LoadResult
    server_cpu_s: float
    postgres_cpu_s: float

    @property
    def server_cpu_us_per_request(self) -> float:
        return self.server_cpu_s / max(self.result.requests, 1) * 1e6

    @property
    def postgres_cpu_us_per_request(self) -> float:
        return self.postgres_cpu_s / max(self.result.requests, 1) * 1e6


def main() -> None:
    args = _arguments()
    # A kill (SIGTERM) unwinds like Ctrl-C, so the servers, wrk and PostgreSQL this run
    # started are stopped by their context managers instead of left running.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.from_json:
        _rewrite_from(Path(args.from_json), write=args.write)
        return
    ensure_installed(servers=tuple(args.servers))
    run_dir = HERE / "runs" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pinning = Pinning.split() if args.pin else None
    if pinning is not None:
        # PostgreSQL and wrk are started from here and inherit these CPUs; each server
        # is started on its own (``running(cpus=...)``).
        os.sched_setaffinity(0, pinning.rest)
        print(pinning.describe())
    args.server_cpus = pinning.server if pinning else None
    with LocalPostgres(dbname="blog") as pg:
        print(f"loading the blog example ({args.rows} posts) into {pg.url}")
        asyncio.run(init_database(pg.url, rows=args.rows, progress=None))
        postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
        ids = _pick_ids(pg.url)
        check_answers(args.servers, pg.url, ids, run_dir)
        measurements = []
        # Rounds interleave the servers, so that a burst of other work on the machine
        # falls on all of them; the report takes the median of the rounds.
        for round_number in range(1, args.rounds + 1):
            for server in args.servers:
                measurements += _measure_server(server, args, pg.url, ids, postmaster, run_dir, round_number)
        reads = [o for o in args.operations if not OPERATIONS[o].is_mutation]
        variants = [v for v in TELEMETRY_VARIANTS if _short(v[0]) in args.telemetry_variants]
        for round_number in range(1, args.telemetry_rounds + 1):
            if args.telemetry_method == "alone":
                measurements += _measure_telemetry_alone(
                    variants, args, pg.url, ids, postmaster, run_dir, round_number, reads
                )
            else:
                measurements += _measure_telemetry_round(
                    variants, args, pg.url, ids, run_dir, round_number, reads
                )
    settings = {
        "rows": args.rows, "connections": args.connections, "duration_s": args.duration,
        "rounds": args.rounds, "telemetry_rounds": args.telemetry_rounds,
        "telemetry_method": args.telemetry_method,
        "warmup_s": args.warmup, "slice_s": args.slice, "elapsed_s": round(time.monotonic() - started),
        "pinning": pinning.describe() if pinning else "none",
        "command": " ".join(["python", "benchmarks/e2e/bench_e2e.py", *sys.argv[1:]]),
    }
    env = environment()
    (run_dir / "results.json").write_text(json.dumps(
        {"settings": settings, "environment": env,
         "measurements": [{**asdict(m), "result": asdict(m.result)} for m in measurements]},
        indent=2,
    ))
    _report(measurements, settings, env, write=args.write)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _rewrite_from(path: Path, *, write: bool) -> None:
    """Render (and with ``write`` store) the report of an earlier run's results.json."""
    saved = json.loads(path.read_text())
    measurements = [
        Measurement(**{"round": 1, **m, "result": LoadResult(**m["result"])}) for m in saved["measurements"]
    ]
    _report(measurements, saved["settings"], saved["environment"], write=write)


def _report(measurements: list[Measurement], settings: dict, env: dict, *, write: bool) -> None:
    """Print (and with ``write`` store) the comparison and the telemetry sections that were
    measured: a run with ``--rounds 0`` replaces only the telemetry section."""
    compared = [m for m in measurements if not m.variant]
    telemetry = [m for m in measurements if m.variant]
    if compared:
        markdown = render(compared, settings, env)
        print(markdown)
        if write:
            write_results(markdown)
    if telemetry:
        markdown = render_telemetry(telemetry, {"telemetry_rounds": 1, **settings})
        print(markdown)
        if write:
            write_results(markdown, TELEMETRY_START, TELEMETRY_END)
    if write:
        print("written to benchmarks/RESULTS.md")


def _short(variant: str) -> str:
    """A telemetry variant's name on the command line: "telemetry sampled" -> "sampled"."""
    return variant.removeprefix("telemetry ")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="posts to seed (default 10000)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per operation")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all servers (median)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    parser.add_argument("--slice", type=int, default=2,
                        help="--telemetry-method together: seconds per window (the measured "
                             "--duration is split into windows in which every variant is loaded at once)")
    parser.add_argument("--servers", default=",".join(SERVERS), type=lambda s: s.split(","))
    parser.add_argument("--operations", default=",".join(OPERATIONS), type=lambda s: s.split(","))
    parser.add_argument("--telemetry-rounds", type=int, default=3,
                        help="FraiseQL telemetry off/on pairs to measure (0: none)")
    parser.add_argument("--telemetry-method", choices=("alone", "together"), default="alone",
                        help="alone (default): each variant's server in turn, alone on the server "
                             "CPU, as the servers above; together: all variants' servers share the "
                             "server CPU and are loaded at once (steadier on a busy machine, but a "
                             "variant with a larger working set pays for the sharing)")
    labels = [_short(variant) for variant, _, _ in TELEMETRY_VARIANTS]
    parser.add_argument("--telemetry-variants", default=",".join(DEFAULT_TELEMETRY_VARIANTS),
                        type=lambda s: s.split(","),
                        help=f"which telemetry variants to measure: {', '.join(labels)} (default "
                             f"{','.join(DEFAULT_TELEMETRY_VARIANTS)}; on: every request traced, "
                             "sampled: 1%% traced, unsampled: 0%% traced, metrics: meter provider only, control: off in a second server)")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="server on a CPU of its own, wrk and PostgreSQL on the others "
                             "(default; needs two CPUs)")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--from-json", metavar="PATH",
                        help="render an earlier run's results.json instead of measuring")
    args = parser.parse_args()
    for name in args.servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}; known: {', '.join(SERVERS)}")
    for label in args.telemetry_variants:
        if label not in labels:
            parser.error(f"unknown telemetry variant {label!r}; known: {', '.join(labels)}")
    if labels[0] not in args.telemetry_variants:
        parser.error(f"--telemetry-variants must include {labels[0]!r}: the others are compared with it")
    if args.telemetry_method == "together" and (args.slice < 1 or args.duration % args.slice):
        parser.error(f"--duration ({args.duration}) must be a whole number of --slice ({args.slice}) seconds")
    for name in args.operations:
        if name not in OPERATIONS:
            parser.error(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
    return args


def _pick_ids(url: str) -> dict[str, str]:
    """A post from the middle of the table (with comments) and an author for the mutation."""
    with psycopg.connect(url, gssencmode="disable") as conn:
        post_id = conn.execute(
            "SELECT p.id FROM tb_post p WHERE EXISTS (SELECT 1 FROM tb_comment c WHERE c.post_id = p.id)"
            " ORDER BY p.id OFFSET (SELECT count(*) / 2 FROM tb_post) LIMIT 1"
        ).fetchone()[0]
        author_id = conn.execute("SELECT id FROM tb_user ORDER BY id LIMIT 1").fetchone()[0]
    return {"post_id": str(post_id), "author_id": str(author_id)}


def _delete_bench_posts(url: str) -> int:
    with psycopg.connect(url, autocommit=True, gssencmode="disable") as conn:
        deleted = conn.execute("DELETE FROM tb_post WHERE title = %s", [BENCH_TITLE]).rowcount
        conn.execute("VACUUM ANALYZE tb_post, tv_post")  # tv_post: FraiseQL's projection
    return deleted


def _ask(server_url: str, body: bytes) -> dict:
    answer = httpx.post(
        server_url, content=body, timeout=30.0,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if answer.status_code != 200:
        raise AssertionError(f"{server_url}: HTTP {answer.status_code}: {answer.text[:500]}")
    return answer.json()


def check_answers(servers: list[str], url: str, ids: dict[str, str], run_dir: Path) -> None:
    """Every server answers every operation with the same data (the first server's)."""
    reference: dict[str, object] = {}
    for server in servers:
        with running(server, url, PORTS[server], log_path=run_dir / f"{server}.log") as handle:
            for op in OPERATIONS.values():
                data = normalise(op.extract(_ask(handle.url, op.body(server, ids))))
                if op.is_mutation:
                    data = {"title": data["title"], "author": data["author"]}
                elif op.is_list:
                    expected = 20 if op.name == "posts_20" else 100
                    assert len(data) == expected, f"{server} {op.name}: {len(data)} posts"
                else:
                    assert data is not None and data["id"] == ids["post_id"], f"{server}: {data}"
                if op.name not in reference:
                    reference[op.name] = data
                    continue
                found = differences(reference[op.name], data)
                if found:
                    raise AssertionError(f"{server} disagrees with {servers[0]} on {op.name}: {found}")
        _delete_bench_posts(url)
        print(f"answers checked: {server}")


def _measure_server(
    server: str, args: argparse.Namespace, url: str, ids: dict[str, str], postmaster: int,
    run_dir: Path, round_number: int, *, variant: str = "", env: dict[str, str] | None = None,
    operations: list[str] | None = None,
) -> list[Measurement]:
    """Start ``server`` alone on the server CPU (a telemetry ``variant`` with its ``env``)
    and measure each operation after its warm-up."""
    measured = []
    log_path = run_dir / f"{server}{'-' + variant.replace(' ', '-') if variant else ''}.log"
    port = TELEMETRY_PORT if variant else PORTS[server]
    with running(server, url, port, env=env, log_path=log_path, cpus=args.server_cpus) as handle:
        for name in operations or args.operations:
            op = OPERATIONS[name]
            body = op.body(server, ids)
            workdir = run_dir / "wrk"
            if args.warmup:
                run_wrk(handle.url, body, connections=args.connections, duration_s=args.warmup, workdir=workdir)
            load = load_average()
            server_before, pg_before = cpu_seconds(handle.pid), postgres_cpu(postmaster)
            result = run_wrk(handle.url, body, connections=args.connections, duration_s=args.duration, workdir=workdir)
            server_cpu = cpu_seconds(handle.pid) - server_before
            pg_cpu = postgres_cpu(postmaster) - pg_before
            measurement = Measurement(server, variant, name, round_number, load, result, server_cpu, pg_cpu)
            measured.append(measurement)
            print(
                f"{round_number} {variant or server:12} {name:12} {result.requests_per_s:8.0f} req/s "
                f"p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:6.2f} ms "
                f"cpu {measurement.server_cpu_us_per_request:7.0f} us/req "
                f"pg {measurement.postgres_cpu_us_per_request:6.0f} us/req errors {result.errors} load {load}",
                flush=True,
            )
            if op.is_mutation:
                _delete_bench_posts(url)
    return measured


def _measure_telemetry_alone(
    variants: list[tuple[str, str, dict[str, str]]], args: argparse.Namespace, url: str,
    ids: dict[str, str], postmaster: int, run_dir: Path, round_number: int, operations: list[str],
) -> list[Measurement]:
    """One round of the telemetry rows, ``--telemetry-method alone``: each variant's server
    in turn, alone on the server CPU as in the comparison above, in an order that rotates
    from round to round (so that no variant always follows the same one)."""
    shift = (round_number - 1) % len(variants)
    measured = []
    for variant, _, env in variants[shift:] + variants[:shift]:
        measured += _measure_server("fraiseql", args, url, ids, postmaster, run_dir, round_number,
                                    variant=variant, env=env, operations=operations)
    return measured


def _measure_telemetry_round(
    variants: list[tuple[str, str, dict[str, str]]], args: argparse.Namespace, url: str,
    ids: dict[str, str], run_dir: Path, round_number: int, operations: list[str],
) -> list[Measurement]:
    """One round of the telemetry rows, ``--telemetry-method together``. Every variant's
    server runs at once on the server
    CPU, and each operation is measured in windows of ``--slice`` seconds in which every
    variant is loaded at the same time by its own wrk: the machine's slow stretches (the
    same server's 2-second runs spread from 1,685 to 2,562 req/s here) fall on all variants
    alike, within the scheduler's time slices rather than seconds apart. The servers share
    that CPU, so each one's CPU per request, and its share of the requests, is what the
    variants are compared by."""
    windows = args.duration // args.slice
    # Which variant is started first, gets the first port and the first wrk rotates from
    # round to round: in one run without this, two servers of the same build differed by
    # +6.6% (paired median of 12 rounds), the first started the slower.
    shift = (round_number - 1) % len(variants)
    with contextlib.ExitStack() as stack:
        servers = {}
        for offset, (variant, _, env) in enumerate(variants[shift:] + variants[:shift]):
            log_path = run_dir / f"fraiseql-{variant.replace(' ', '-')}.log"
            servers[variant] = stack.enter_context(running(
                "fraiseql", url, TELEMETRY_PORT + offset, env=env, log_path=log_path, cpus=args.server_cpus,
            ))
        measured = []
        for name in operations:
            body = OPERATIONS[name].body("fraiseql", ids)
            load = load_average()
            taken: dict[str, list[tuple[LoadResult, float]]] = {v: [] for v in servers}
            busy = []
            for window in range(-1, windows):  # window -1: the unmeasured warm-up
                seconds = args.warmup if window < 0 else args.slice
                if not seconds:
                    continue
                before = {v: cpu_seconds(h.pid) for v, h in servers.items()}
                results = _load_at_once(servers, body, args.connections, seconds, run_dir / "wrk")
                if window >= 0:
                    used = {v: cpu_seconds(h.pid) - before[v] for v, h in servers.items()}
                    busy.append(sum(used.values()) / max(r.duration_s for r in results.values()))
                    for variant in servers:
                        taken[variant].append((results[variant], used[variant]))
            for variant, pieces in taken.items():
                result = combined([r for r, _ in pieces])
                # PostgreSQL served every variant at once: its CPU is not theirs to split.
                measurement = Measurement("fraiseql", variant, name, round_number, load, result,
                                          sum(c for _, c in pieces), 0.0)
                measured.append(measurement)
                print(
                    f"{round_number} {variant:19} {name:12} {result.requests_per_s:8.0f} req/s "
                    f"cpu {measurement.server_cpu_us_per_request:7.0f} us/req errors {result.errors} "
                    f"load {load}", flush=True,
                )
            print(f"{round_number} {'':19} {name:12} server CPU busy {statistics.median(busy):.0%} "
                  f"of one core ({windows} windows of {args.slice} s, all variants at once)", flush=True)
    return measured


def _load_at_once(servers: dict[str, Server], body: bytes, connections: int, seconds: int,
                  workdir: Path) -> dict[str, LoadResult]:
    """Load every server for ``seconds`` at the same time, each with its own wrk; then check
    that each server is still running (a dead one fails the run with its exit status)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(servers)) as pool:
        futures = {
            variant: pool.submit(run_wrk, handle.url, body, connections=connections, duration_s=seconds,
                                 workdir=workdir / variant.replace(" ", "-"))
            for variant, handle in servers.items()
        }
        results = {}
        for variant, future in futures.items():
            try:
                results[variant] = future.result()
            finally:  # a server that died is why its wrk failed: say that
                ensure_running(servers[variant])
    return results


def combined(results: list[LoadResult]) -> LoadResult:
    """The windows of one variant as one result: requests, time and errors added up; the
    latency percentiles are the windows' medians (p50, p90) and their worst (p99, max)."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        duration_s=sum(r.duration_s for r in results),
        errors=sum(r.errors for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p90_ms=statistics.median(r.p90_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as stopped:
        sys.exit(f"stopped ({stopped or 'interrupted'}); the servers and PostgreSQL it started were stopped")
