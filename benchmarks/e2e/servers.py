"""The three servers as child processes: installed, started, timed and stopped.

Each server is one process (one uvicorn worker, or one Node process) on a loopback
port. The Python servers run in their own virtual environments (Strawberry needs
graphql-core 3.3, FraiseQL pins 3.2) with the same uvicorn, uvloop and httptools;
PostGraphile runs from ``postgraphile/node_modules`` (``npm ci``).

``cpu_seconds(pid)`` reads utime + stime from ``/proc/<pid>/stat``; ``postgres_cpu``
adds up the cluster's processes, so the database's share of the work is visible too.

``Pinning.split()`` gives the server under test a CPU of its own and leaves the others to
everything else (wrk, PostgreSQL, this script): on a small machine the load tool and the
database otherwise take turns on the server's core, and that noise is larger than the
effects the telemetry rows measure. The servers run with ``PYTHONFAULTHANDLER=1``, and
``ensure_running`` says how one that died ended (its exit status and log).

Example::

    with running("fraiseql", database_url, port=8000) as server:
        before = cpu_seconds(server.pid)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PG_DIR = HERE / "postgraphile"
VENVS = {"fraiseql": HERE / ".venv-fraiseql", "strawberry": HERE / ".venv-strawberry"}
STRAWBERRY_PACKAGES = [
    "strawberry-graphql==0.341.2",
    "starlette==1.10.0",
    "uvicorn==0.54.0",
    "psycopg[binary]==3.3.9",
    "psycopg-pool==3.3.3",
]
UVICORN_EXTRAS = ["uvloop==0.23.0", "httptools==0.9.0"]
_TICKS = os.sysconf("SC_CLK_TCK")


def ensure_installed(log=print, servers: tuple[str, ...] = ("fraiseql", "strawberry", "postgraphile")) -> None:
    """Create the virtual environments and ``node_modules`` the servers need, when missing."""
    fraiseql_venv, strawberry_venv = VENVS["fraiseql"], VENVS["strawberry"]
    if "fraiseql" in servers and not (fraiseql_venv / "bin" / "python").exists():
        log("creating .venv-fraiseql (system site-packages + uvloop, httptools)")
        _run([sys.executable, "-m", "venv", "--system-site-packages", str(fraiseql_venv)])
        _run([str(fraiseql_venv / "bin" / "pip"), "install", "-q", *UVICORN_EXTRAS])
    if "strawberry" in servers and not (strawberry_venv / "bin" / "python").exists():
        log("creating .venv-strawberry")
        _run([sys.executable, "-m", "venv", str(strawberry_venv)])
        _run([str(strawberry_venv / "bin" / "pip"), "install", "-q", *STRAWBERRY_PACKAGES, *UVICORN_EXTRAS])
    if "postgraphile" in servers and not (PG_DIR / "node_modules" / "postgraphile").exists():
        log("installing PostGraphile (npm ci)")
        _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PG_DIR)


def _run(command: list[str], cwd: Path | None = None) -> None:
    subprocess.run(command, cwd=cwd, check=True, timeout=600)


def command_for(server: str, port: int) -> tuple[list[str], Path]:
    """The command line and working directory that start ``server`` on ``port``."""
    if server == "postgraphile":
        return ["node", "server.js"], PG_DIR
    module = {"fraiseql": "fraiseql_app:app", "strawberry": "strawberry_app:app"}[server]
    python = str(VENVS[server] / "bin" / "python")
    return [
        python, "-m", "uvicorn", "--app-dir", str(HERE), module,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ], ROOT


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


@dataclass(frozen=True)
class Pinning:
    """The CPUs of the server under test, and those of everything else."""

    server: frozenset[int]
    rest: frozenset[int]

    @classmethod
    def split(cls) -> Pinning | None:
        """The first CPU this process may use for the server, the others for the rest;
        None with fewer than two."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return None
        return cls(frozenset(cpus[:1]), frozenset(cpus[1:]))

    def describe(self) -> str:
        return (f"server on CPU {_cpus(self.server)}; wrk, PostgreSQL and the driver on "
                f"CPU {_cpus(self.rest)}")


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


@contextlib.contextmanager
def running(
    server: str, database_url: str, port: int, *, env: dict[str, str] | None = None, log_path: Path,
    cpus: frozenset[int] | None = None, prefix: tuple[str, ...] = (), ready_timeout_s: float = 90.0,
    stop_timeout_s: float = 15.0,
) -> Iterator[Server]:
    """Start ``server`` (on ``cpus`` when given, set before it executes, so all of its
    threads inherit them; under ``prefix``, e.g. valgrind, when given), wait until it
    answers ``{ __typename }``, stop it afterwards (SIGTERM, then its exit is waited for)."""
    command, cwd = command_for(server, port)
    command = [*prefix, *command]
    environment = {
        **os.environ, "DATABASE_URL": database_url, "PORT": str(port), "NODE_ENV": "production",
        "PGGSSENCMODE": "disable", "PYTHONFAULTHANDLER": "1", **(env or {}),
    }
    with open(log_path, "ab") as log:
        pin = None if cpus is None else lambda: os.sched_setaffinity(0, cpus)
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log, stderr=log,
                                   preexec_fn=pin)
    handle = Server(server, port, process, log_path)
    try:
        _wait_ready(handle, ready_timeout_s)
        if cpus is not None and os.sched_getaffinity(process.pid) != cpus:
            raise RuntimeError(f"{server} runs on CPUs {sorted(os.sched_getaffinity(process.pid))}, "
                               f"not {sorted(cpus)}")
        yield handle
    finally:
        _stop(process, stop_timeout_s)


def ensure_running(server: Server) -> None:
    """Raise, with its exit status and the end of its log, when ``server`` has exited."""
    status = server.process.poll()
    if status is not None:
        raise RuntimeError(f"{server.name} on port {server.port} exited with status {status}; the end of "
                           f"{server.log_path}:\n{server.log_path.read_text(errors='replace')[-2000:]}")


def _wait_ready(server: Server, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ensure_running(server)
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(server.url, json={"query": "{ __typename }"}, timeout=2.0)
            if answer.status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{server.name} did not answer within {timeout_s:.0f} s; see {server.log_path}")


def _stop(process: subprocess.Popen, timeout_s: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def postgres_cpu(postmaster_pid: int) -> float:
    """CPU time of the cluster: the postmaster, its live children and its reaped children."""
    own = Path(f"/proc/{postmaster_pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(own[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster_pid:  # ppid
                total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
