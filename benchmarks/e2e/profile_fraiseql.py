"""Profile the FraiseQL server under wrk load with py-spy; print the hottest frames.

Starts a throwaway PostgreSQL with the blog example, serves it as bench_e2e does, runs
wrk with one operation while ``py-spy record`` samples the server process, and prints
the functions with the most samples (self and total). py-spy comes from PyPI.

Run::

    python benchmarks/e2e/profile_fraiseql.py --operation posts_20 --duration 10 [--telemetry]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_e2e import PORTS, _pick_ids  # noqa: E402
from load import run_wrk  # noqa: E402
from queries import OPERATIONS  # noqa: E402
from servers import HERE, ensure_installed, running  # noqa: E402

from examples.blog.database import init_database  # noqa: E402
from fraiseql.db.local import LocalPostgres  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operation", default="posts_20", choices=list(OPERATIONS))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--telemetry", action="store_true", help="with the no-op OpenTelemetry SDK")
    args = parser.parse_args()
    ensure_installed()
    out_dir = HERE / "runs" / "profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f"{args.operation}.collapsed"
    with LocalPostgres(dbname="blog") as pg:
        asyncio.run(init_database(pg.url, rows=args.rows, progress=None))
        body = OPERATIONS[args.operation].body("fraiseql", _pick_ids(pg.url))
        port = PORTS["fraiseql"]
        env = {"E2E_TELEMETRY": "1" if args.telemetry else "0"}
        with running("fraiseql", pg.url, port, env=env, log_path=out_dir / "server.log") as server:
            run_wrk(server.url, body, connections=args.connections, duration_s=3, workdir=out_dir)
            spy = subprocess.Popen([
                "py-spy", "record", "--pid", str(server.pid), "--duration", str(args.duration),
                "--rate", "250", "--format", "raw", "--output", str(raw), "--nonblocking",
            ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            load = threading.Thread(target=run_wrk, args=(server.url, body), kwargs={
                "connections": args.connections, "duration_s": args.duration + 1, "workdir": out_dir})
            load.start()
            spy.wait(timeout=args.duration + 60)
            load.join()
    print_top(raw, args.top)


def print_top(raw: Path, top: int) -> None:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] + " " + frame.split(" (")[1].split(":")[0].rsplit("/", 2)[-1]
                  if " (" in frame else frame for frame in stack.split(";")]
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    print(f"{total} samples")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"--- {title}")
        for frame, samples in counter.most_common(top):
            print(f"{samples / total * 100:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
