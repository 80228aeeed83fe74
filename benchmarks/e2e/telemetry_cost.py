"""The CPU a request costs the FraiseQL process with telemetry off, sampled and on.

The e2e benchmark measures telemetry's overhead as requests/s under wrk, where the
machine's other work moves a round by as much as the effect. This drives the same app
(``fraiseql_app``) in process instead, through ASGI without uvicorn or sockets, and reads
the process's CPU time (every thread: the SDK's export threads count) over a fixed number
of requests. Each variant runs in a fresh child process (an OpenTelemetry provider is
installed once per process); variants alternate round by round and the median per variant
is reported. What is left out (HTTP parsing, the socket) is the same with telemetry on or
off, so the added CPU divided by the e2e table's CPU per request is the overhead a
CPU-bound server sees.

``--instructions --server`` counts the real server instead (uvicorn, uvloop, httptools,
under callgrind with all its threads), driven over loopback HTTP by ``--concurrency``
clients: the request path of the wrk table, without its noise.

Run::

    python benchmarks/e2e/telemetry_cost.py --rounds 5 --requests 3000
    python benchmarks/e2e/telemetry_cost.py --instructions --server --rounds 1 --requests 1600
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from report import TELEMETRY_VARIANTS  # noqa: E402

OPERATIONS = ("post_by_id", "posts_20", "posts_100")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per variant and round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind instead of timing (slow, but steady)")
    parser.add_argument("--server", action="store_true",
                        help="with --instructions: the uvicorn server over HTTP, not the app in process")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: variant in a child process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server and not args.instructions:
        parser.error("--server needs --instructions (timings of the server are the wrk table's job)")
    if args.child:
        print(json.dumps(asyncio.run(_child(args))))
        return
    _parent(args)


def _parent(args: argparse.Namespace) -> None:
    from bench_e2e import _pick_ids

    from examples.blog.database import init_database
    from fraiseql.db.local import LocalPostgres

    operations = [name for name in args.operations.split(",") if name]
    unit = "instructions" if args.instructions else "us"
    samples: dict[tuple[str, str], list[float]] = {}
    with LocalPostgres(dbname="blog") as pg:
        asyncio.run(init_database(pg.url, rows=args.rows, progress=None))
        ids = json.dumps(_pick_ids(pg.url))
        for round_number in range(1, args.rounds + 1):
            for variant, _, env in TELEMETRY_VARIANTS:
                child = (lambda requests, ops: _run_child(args, variant, env, pg.url, ids, requests, ops))
                if args.server:
                    child = (lambda requests, ops: _run_server(variant, env, pg.url, ids, requests, ops,
                                                               args.concurrency))
                if args.instructions:
                    # Everything but the measured requests is the same in both runs: the
                    # difference of the totals is what `requests` requests executed.
                    measured = {op: (_instructions(child(args.requests, [op]))
                                     - _instructions(child(args.requests // 6, [op])))
                                / (args.requests - args.requests // 6) for op in operations}
                else:
                    measured = json.loads(child(args.requests, operations))
                for operation, value in measured.items():
                    samples.setdefault((variant, operation), []).append(value)
                print(f"round {round_number}/{args.rounds} {variant}: "
                      + ", ".join(f"{op} {measured[op]:,.0f} {unit}" for op in operations), flush=True)
    what = "instructions" if args.instructions else "CPU"
    print(f"\n{what} per request (median of {args.rounds} rounds, {args.requests} requests each, "
          f"{args.concurrency} concurrent)")
    off_label = TELEMETRY_VARIANTS[0][0]
    for operation in operations:
        off = statistics.median(samples[(off_label, operation)])
        cells = [f"{operation:>10}: off {off:,.0f} {unit}"]
        for variant, label, _ in TELEMETRY_VARIANTS[1:]:
            value = statistics.median(samples[(variant, operation)])
            cells.append(f"{label} {value:,.0f} {unit} ({(value - off) / off * 100:+.1f}%)")
        print("  " + "; ".join(cells))


def _run_child(args: argparse.Namespace, variant: str, env: dict[str, str], url: str, ids: str,
               requests: int, operations: list[str]) -> str:
    """Run one variant in a fresh process (under valgrind with ``--instructions``); its stdout,
    or its stderr too under valgrind (where the instruction total is)."""
    command = [sys.executable, __file__, "--child", variant, "--url", url, "--ids", ids,
               "--requests", str(requests), "--concurrency", str(args.concurrency),
               "--operations", ",".join(operations)]
    if args.instructions:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                   *command, "--warmup", "300"]
    child = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        sys.exit(f"{variant}: the child failed:\n{child.stderr[-3000:]}")
    return child.stderr if args.instructions else child.stdout


def _run_server(variant: str, env: dict[str, str], url: str, ids: str, requests: int,
                operations: list[str], concurrency: int) -> str:
    """Start the benchmark's FraiseQL server under callgrind, send ``requests`` POSTs of each
    operation over HTTP (``concurrency`` at a time), stop it; valgrind's output (its log)."""
    import tempfile

    import httpx
    from queries import OPERATIONS as BODIES
    from servers import running

    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "server.log"
        # Start-up and shutdown under valgrind take a minute or more.
        with running("fraiseql", url, 18690, env=env, log_path=log_path,
                     prefix=("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"),
                     ready_timeout_s=600, stop_timeout_s=600) as server:

            async def send_all() -> None:
                limits = httpx.Limits(max_connections=concurrency)
                async with httpx.AsyncClient(limits=limits, timeout=120) as client:
                    for operation in operations:
                        body = BODIES[operation].body("fraiseql", json.loads(ids))

                        async def post(body: bytes = body) -> int:
                            answer = await client.post(server.url, content=body,
                                                       headers={"content-type": "application/json"})
                            return answer.status_code

                        await _drive(post, requests=requests, concurrency=concurrency)

            asyncio.run(send_all())
        return log_path.read_text()


def _instructions(valgrind_stderr: str) -> int:
    """The total from callgrind's summary line (``==pid== Collected : N``)."""
    for line in valgrind_stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise RuntimeError(f"no instruction total in valgrind's output:\n{valgrind_stderr[-2000:]}")


async def _child(args: argparse.Namespace) -> dict[str, float]:
    os.environ["DATABASE_URL"] = args.url
    from queries import OPERATIONS as BODIES

    import fraiseql_app

    app = fraiseql_app.app
    ids = json.loads(args.ids)
    results: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        for operation in args.operations.split(","):
            body = BODIES[operation].body("fraiseql", ids)
            warmup = args.warmup if args.warmup >= 0 else max(args.requests // 5, 200)
            await _drive(lambda: _post(app, body), requests=warmup, concurrency=args.concurrency)
            started = time.process_time()
            await _drive(lambda: _post(app, body), requests=args.requests, concurrency=args.concurrency)
            results[operation] = (time.process_time() - started) / args.requests * 1e6
    return results


async def _drive(post: Callable[[], Awaitable[int]], *, requests: int, concurrency: int) -> None:
    """``requests`` calls of ``post`` (one request, its status), ``concurrency`` at a time;
    each must answer 200."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = await post()
            if status != 200:
                raise RuntimeError(f"the server answered {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _post(app, body: bytes) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }
    sent = False
    status = 0

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that stays connected
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


if __name__ == "__main__":
    main()
