"""The ``fraiseql`` command line, run as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import port_for
import psycopg
import pytest

from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

pytestmark = pytest.mark.integration


def fraiseql(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fraiseql.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.mark.parametrize("command", [[], ["serve"], ["db"], ["db", "init"], ["demo"]], ids=str)
def test_every_command_has_help(command: list[str]) -> None:
    result = fraiseql(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_db_init_without_a_database_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "DATABASE_URL"}
    result = fraiseql("db", "init", "--example", "blog", env=env)
    assert result.returncode == 2
    assert "--database-url" in result.stderr and "DATABASE_URL" in result.stderr


def test_serve_rejects_a_target_without_a_colon() -> None:
    result = fraiseql("serve", "examples.blog.app")
    assert result.returncode != 0 and "MODULE:APP" in result.stderr


def test_db_init_loads_the_example(pg_cluster: LocalPostgres) -> None:
    url = pg_cluster.create_database("cli_init")
    result = fraiseql("db", "init", "--example", "blog", "--rows", "40", "--database-url", url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM v_post").fetchone()[0] == 40


def test_demo_serves_the_example_and_prints_a_real_answer() -> None:
    result = fraiseql("demo", "--rows", "30", timeout=180)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    posts = answer["data"]["posts"]
    assert len(posts) == 2 and posts[0]["title"] <= posts[1]["title"]
    assert {"id", "title", "tags", "author", "comments"} == set(posts[0])


# -- fraiseql serve, as a real process ---------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE_ROWS = 25


@pytest.fixture(scope="module")
def served_database_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"cli_serve_{os.getpid()}")
    asyncio.run(init_database(url, rows=SERVE_ROWS, progress=None))
    return url


class Served:
    """``fraiseql serve`` running in its own process group, its output in a file."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", self.output())]


@pytest.fixture
def serve(served_database_url: str, tmp_path: Path) -> Iterator:
    started: list[Served] = []

    def start(*options: str) -> Served:
        port = port_for.select_random()
        log = tmp_path / f"serve-{port}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("DATABASE_URL", None)  # the command line says which database
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "fraiseql.cli", "serve", "examples.blog.app:app",
                 "--host", "127.0.0.1", "--port", str(port), "--database-url", served_database_url, *options],
                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        served = Served(process, port, log)
        started.append(served)
        return served

    yield start
    for served in started:  # a failed test must not leave servers behind
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait(timeout=10)


def wait_until_started(served: Served, workers: int, timeout_s: float = 60) -> None:
    """Every worker ran the app's start-up, and /ready answers."""
    deadline = time.monotonic() + timeout_s
    while served.output().count("Application startup complete.") < workers:
        assert served.process.poll() is None, f"fraiseql serve exited early:\n{served.output()}"
        assert time.monotonic() < deadline, f"fraiseql serve did not start:\n{served.output()}"
        time.sleep(0.1)


def stop(served: Served) -> int:
    served.process.send_signal(signal.SIGTERM)
    return served.process.wait(timeout=30)


def check_answers(served: Served, database_url: str) -> None:
    ready = httpx.get(f"{served.url}/ready", timeout=10)
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    with psycopg.connect(database_url) as conn:
        titles = [row[0] for row in conn.execute("SELECT data->>'title' FROM v_post ORDER BY data->>'title' LIMIT 3")]
    query = "{ postCount posts(limit: 3, orderBy: [{field: title, direction: ASC}]) { title } }"
    for _ in range(6):  # fresh connections: the kernel spreads them over the workers
        response = httpx.post(f"{served.url}/graphql", json={"query": query}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"postCount": SERVE_ROWS, "posts": [{"title": t} for t in titles]}}


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_serve_with_two_workers_answers_and_stops_cleanly_on_sigterm(
    serve, served_database_url: str
) -> None:
    served = serve("--workers", "2")
    wait_until_started(served, workers=2)
    workers = served.worker_pids()
    assert len(set(workers)) == 2 and served.process.pid not in workers
    assert all(is_alive(pid) for pid in workers)
    check_answers(served, served_database_url)
    assert stop(served) == 0, served.output()
    output = served.output()
    assert output.count("Application shutdown complete.") == 2  # each worker closed its pools
    assert "Traceback" not in output and "ERROR" not in output
    assert not any(is_alive(pid) for pid in workers)


def test_serve_with_the_default_single_worker_stops_cleanly_on_sigterm(
    serve, served_database_url: str
) -> None:
    served = serve()
    wait_until_started(served, workers=1)
    assert served.worker_pids() == [served.process.pid]  # no supervisor process: it serves itself
    check_answers(served, served_database_url)
    # uvicorn re-raises SIGTERM after a graceful shutdown (status -15); serve exits 0.
    assert stop(served) == 0, served.output()
    output = served.output()
    assert output.count("Application shutdown complete.") == 1
    assert "Traceback" not in output and "ERROR" not in output
