"""The ``fraiseql`` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

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
