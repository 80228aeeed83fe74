"""RBAC benchmark: a cached permission check from Python, and a cold resolution in SQL.

Cases (a user who is ``editor`` -> ``author`` -> ``viewer``, with ``post:*``):

- ``PermissionSet.allows``: an exact grant, and one reached through ``post:*``
- ``check_access``: a ``requires_permission("post:delete")`` against the effective user
- ``PermissionCache.get``: the cache hit behind every request
- ``await resolver.resolve(user)``: the whole cached path (version confirmed)
- cold: the one resolution statement (recursive CTE) on a local cluster, for the blog's
  4-level hierarchy and for a 30-level chain; and ``resolve`` after ``invalidate()``
  (a version read plus the statement)

Each case's answer is checked before it is timed. Times are per call: the median over
7 rounds of the mean of a batch.

Run: ``python benchmarks/rbac/bench_rbac.py`` (writes the RBAC section of
``benchmarks/RESULTS.md`` between its markers; ``--no-write`` only prints).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import psycopg

from fraiseql.auth import UserContext
from fraiseql.auth.requirements import Requirement
from fraiseql.db.local import LocalPostgres
from fraiseql.db.pool import Database
from fraiseql.rbac import PermissionResolver, add_role, assign_role, check_access, ensure_rbac_schema
from fraiseql.rbac.effective_user import effective_user
from fraiseql.rbac.resolution import load_resolution

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
START, END = "<!-- rbac:start -->", "<!-- rbac:end -->"
ROUNDS = 7


def time_sync(call: Callable[[], Any], batch: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(batch):
            call()
        samples.append((time.perf_counter() - started) / batch)
    return statistics.median(samples) * 1e6


async def time_async(call: Callable[[], Awaitable[Any]], batch: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(batch):
            await call()
        samples.append((time.perf_counter() - started) / batch)
    return statistics.median(samples) * 1e6


async def prepare(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await ensure_rbac_schema(conn)
        await add_role(conn, "viewer", permissions=("post:read", "comment:read"))
        await add_role(conn, "author", inherits=("viewer",), permissions=("post:create",))
        await add_role(conn, "editor", inherits=("author",), permissions=("post:*",))
        await assign_role(conn, "alice", "editor")
        for level in range(30):  # a chain: level0 -> level1 -> ... -> level29
            await add_role(conn, f"level{level}", inherits=(f"level{level + 1}",) if level < 29 else (),
                           permissions=(f"area{level}:read",))
        await assign_role(conn, "deep", "level0")
        await conn.commit()


def user(user_id: str) -> UserContext:
    return UserContext(user_id, frozenset(), frozenset(), MappingProxyType({}), 2e9, "acme")


async def measure(url: str) -> list[dict[str, Any]]:
    await prepare(url)
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    rows: list[dict[str, Any]] = []

    def row(case: str, kind: str, us: float, correct: bool) -> None:
        rows.append({"case": case, "kind": kind, "us": us, "correct": correct})

    try:
        resolver = PermissionResolver(db, max_staleness_ms=60_000)  # keep the run on the cached path
        alice = user("alice")
        resolution = await resolver.resolve(alice)
        grants = resolution.grants
        effective = effective_user(alice, resolution)
        requirement = Requirement(permissions=frozenset({"post:delete"}))
        key = (alice.user_id, alice.tenant_id, alice.roles, alice.permissions)

        row("PermissionSet.allows, exact grant", "cached", time_sync(lambda: grants.allows("post:read"), 200_000),
            grants.allows("post:read"))
        row("PermissionSet.allows, through post:*", "cached", time_sync(lambda: grants.allows("post:delete"), 200_000),
            grants.allows("post:delete") and not grants.allows("user:delete"))
        row("check_access(requires_permission)", "cached", time_sync(lambda: check_access(requirement, effective), 200_000),
            check_access(requirement, effective) is None)
        row("PermissionCache.get, hit", "cached", time_sync(lambda: resolver.cache.get(key, 0.0), 200_000),
            resolver.cache.get(key, 0.0) is resolution)
        row("await resolver.resolve(user), cached", "cached", await time_async(lambda: resolver.resolve(alice), 20_000),
            (await resolver.resolve(alice)) is resolution)

        expected = {"editor", "author", "viewer"}
        row("resolution statement, 4-level hierarchy", "cold",
            await time_async(lambda: load_resolution(db, "alice", "acme", frozenset(), frozenset()), 300),
            (await load_resolution(db, "alice", "acme", frozenset(), frozenset())).roles == expected)
        deep = await load_resolution(db, "deep", "acme", frozenset(), frozenset())
        row("resolution statement, 30-level chain", "cold",
            await time_async(lambda: load_resolution(db, "deep", "acme", frozenset(), frozenset()), 300),
            len(deep.roles) == 30 and deep.grants.allows("area29:read"))

        async def cold() -> Any:
            resolver.invalidate()
            return await resolver.resolve(alice)

        row("resolve after invalidate() (version read + statement)", "cold", await time_async(cold, 300),
            (await cold()).roles == expected)
    finally:
        await db.close()
    return rows


def cpu_name() -> str:
    path = Path("/proc/cpuinfo")
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


def markdown(rows: list[dict[str, Any]], server_version: str) -> str:
    repo = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        START,
        "## RBAC (permission checks and resolution)",
        "",
        "A user who is editor -> author -> viewer (post:* among the grants), resolved by",
        "`PermissionResolver`; cold cases run the recursive-CTE statement on a local cluster",
        "over a loopback connection. Per call, median of 7 rounds.",
        "",
        f"- machine: {platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, Linux {platform.release()}",
        f"- load average {os.getloadavg()[0]:.1f} during the run (other builds share the machine: compare rows, not runs)",
        f"- Python {platform.python_version()}, PostgreSQL {server_version}, commit {commit}",
        "- reproduce: `python benchmarks/rbac/bench_rbac.py`",
        "",
        "| case | path | median us/call | correct |",
        "|---|---|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['kind']} | {r['us']:.2f} | {'yes' if r['correct'] else 'NO'} |")
    lines += ["", "Target (issue 7): a cached permission check under 1 us median from Python.", END]
    return "\n".join(lines)


def write(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    os.environ.setdefault("PGGSSENCMODE", "disable")
    with LocalPostgres(dbname="bench_rbac") as cluster:
        with psycopg.connect(cluster.url) as conn:
            server_version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        rows = asyncio.run(measure(cluster.url))
    section = markdown(rows, server_version)
    print(section)
    if not args.no_write:
        write(section)
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
